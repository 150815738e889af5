"""MobileNet Explainer — the Streamlit entry point.

Run with ``streamlit run app.py``. This file only sets up the page, the
language selector and the navigation; each page lives in ``pages/`` and
all computing happens in the ``explainer`` package.
"""

import streamlit as st

from explainer.threads import configure_torch_threads
from pages.resources import freeze_startup_heap
from pages.ui import language_selector, tr

st.set_page_config(page_title="MobileNet Explainer", page_icon="📱", layout="wide")
configure_torch_threads()

language_selector()

PAGES = [
    st.Page("pages/home.py", title=tr("nav.home"), icon="🏠", default=True, url_path="home"),
    st.Page("pages/cost.py", title=tr("nav.cost"), icon="🧮", url_path="cost"),
    st.Page("pages/architectures.py", title=tr("nav.architectures"), icon="🏗️", url_path="architectures"),
    st.Page("pages/classify.py", title=tr("nav.classify"), icon="🔍", url_path="classify"),
    st.Page("pages/feature_maps.py", title=tr("nav.feature_maps"), icon="🗺️", url_path="feature_maps"),
]

st.navigation(PAGES).run()
freeze_startup_heap()  # after the first page: its libraries (plotly, …) are loaded by then
