"""Home: the three ideas behind MobileNets, each with a small block diagram."""

import streamlit as st

from explainer import diagrams
from pages.setup_notes import server_status
from pages.ui import tr

st.title(tr("app.title"))
st.caption(tr("app.tagline"))
st.markdown(tr("home.intro"))

labels = {key: tr(f"diagram.{key}") for key in ("input", "output", "conv", "depthwise", "pointwise")}
ir_labels = {
    "input": tr("diagram.ir_input"), "output": tr("diagram.ir_output"), "expand": tr("diagram.expand"),
    "depthwise": tr("diagram.ir_depthwise"), "project": tr("diagram.project"), "add": tr("diagram.add"),
    "shortcut": tr("diagram.shortcut"),
}

st.subheader(tr("home.standard_title"))
st.markdown(tr("home.standard_text"))
st.graphviz_chart(diagrams.standard_block(labels))

st.subheader(tr("home.separable_title"))
st.markdown(tr("home.separable_text"))
st.graphviz_chart(diagrams.separable_block(labels))

st.subheader(tr("home.linear_title"))
st.markdown(tr("home.linear_text"))
st.subheader(tr("home.inverted_title"))
st.markdown(tr("home.inverted_text"))
st.graphviz_chart(diagrams.inverted_residual_block(ir_labels))
st.markdown(tr("home.v3_text"))

st.subheader(tr("home.next_steps"))
for key in ("next_cost", "next_arch", "next_classify", "next_features"):
    st.markdown(f"- {tr('home.' + key)}")

# For the lecturer: which files this server has, and what to set up before the lecture (pages/setup_notes.py).
server_status()
