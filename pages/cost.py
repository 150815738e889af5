"""Cost calculator: standard vs depthwise separable vs inverted residual, live."""

import streamlit as st

from explainer import costs, formulas
from explainer.errors import ExplainerError
from explainer.figures import cost as cost_figures
from explainer.timing import time_convolutions
from pages.charts import shared_chart
from pages.readable import result_bar
from pages.ui import fmt_int, show_error, tr

KEYS = ("d_k", "m", "n", "d_f", "t", "stride", "alpha", "rho")
#: Each input's widget key, which is also its URL parameter: /cost?dk=5&m=64&n=128&df=56&t=6&s=2
URL_KEYS = {"d_k": "dk", "m": "m", "n": "n", "d_f": "df", "t": "t", "stride": "s", "alpha": "alpha", "rho": "rho"}
ODD_KERNELS = [k for k in range(int(costs.LIMITS["d_k"][0]), int(costs.LIMITS["d_k"][1]) + 1) if k % 2 == 1]
#: Presets in rows: each row's buttons stay together, in order, when a phone stacks the columns.
PRESET_ROWS = (("v1_table3", "v1_table3_alpha", "v1_table3_alpha_rho"),
               ("v2_block_early", "v2_block_down", "v2_block_late"))


def widget_key(name: str) -> str:
    return URL_KEYS[name]


def typed(name: str, value: float) -> float | int:
    return float(value) if name in ("alpha", "rho") else int(value)


def apply_preset(values: dict[str, float]) -> None:
    for name, value in values.items():
        st.session_state[widget_key(name)] = typed(name, value)


def presets() -> None:
    """A row of known layers (a preset sets the controls above)."""
    st.markdown(f"**{tr('cost.presets')}**")
    for row in PRESET_ROWS:
        for column, preset in zip(st.columns(3), row):
            column.button(tr(f"cost.preset_{preset}"), key=f"preset_{preset}", on_click=apply_preset,
                          args=(costs.PRESETS[preset],), width="stretch")


default = {name: typed(name, value) for name, value in costs.DEFAULT_INPUTS.items()}
bound = {"bind": "query-params"}  # each input's value lives in the URL (pages/url_state.py)

st.title(tr("cost.title"))
st.markdown(tr("cost.intro"))

# --- inputs ------------------------------------------------------------------
lim = costs.LIMITS
row1 = st.columns(4)
row1[0].select_slider(tr("cost.d_k"), options=ODD_KERNELS, value=default["d_k"], key=widget_key("d_k"),
                      help=tr("cost.d_k_help"), **bound)
row1[1].number_input(tr("cost.m"), min_value=int(lim["m"][0]), max_value=int(lim["m"][1]), value=default["m"], step=1,
                     key=widget_key("m"), **bound)
row1[2].number_input(tr("cost.n"), min_value=int(lim["n"][0]), max_value=int(lim["n"][1]), value=default["n"], step=1,
                     key=widget_key("n"), **bound)
row1[3].slider(tr("cost.d_f"), min_value=int(lim["d_f"][0]), max_value=int(lim["d_f"][1]), value=default["d_f"],
               key=widget_key("d_f"), help=tr("cost.d_f_help"), **bound)
row2 = st.columns(4)
row2[0].slider(tr("cost.t"), min_value=int(lim["t"][0]), max_value=int(lim["t"][1]), value=default["t"],
               key=widget_key("t"), help=tr("cost.t_help"), **bound)
row2[1].radio(tr("cost.stride"), options=list(costs.STRIDES), index=list(costs.STRIDES).index(default["stride"]),
              horizontal=True, key=widget_key("stride"), **bound)
row2[2].number_input(tr("cost.alpha"), min_value=lim["alpha"][0], max_value=lim["alpha"][1], value=default["alpha"],
                     step=0.05, format="%.3f", key=widget_key("alpha"), help=tr("cost.alpha_help"), **bound)
row2[3].number_input(tr("cost.rho"), min_value=lim["rho"][0], max_value=lim["rho"][1], value=default["rho"],
                     step=0.05, format="%.3f", key=widget_key("rho"), help=tr("cost.rho_help"), **bound)

try:
    inputs = costs.CostInputs.checked(*(st.session_state[widget_key(name)] for name in KEYS))
except ExplainerError as error:
    show_error(error)
    presets()  # a way back to a known layer
    st.stop()

result = costs.compare(inputs)
m, n, d_f, d_g = inputs.effective_m, inputs.effective_n, inputs.effective_d_f, inputs.output_d_f

# --- headline numbers --------------------------------------------------------


def reduction_text(macs: int) -> str:
    factor = result.standard.macs / macs
    return tr("cost.fewer", factor=f"{factor:.2f}") if factor >= 1 else tr("cost.more", factor=f"{1 / factor:.2f}")


designs = [
    ("standard", result.standard.macs, result.standard.params, None),
    ("separable", result.separable.macs, result.separable.params, reduction_text(result.separable.macs)),
    ("inverted", result.inverted.macs, result.inverted.params, reduction_text(result.inverted.macs)),
]
# right after the controls (on the projector's first screen; on a phone sticky at the bottom while the controls are
# on screen: pages/readable.py)
with result_bar("cost"):
    for column, (design, macs, params, delta) in zip(st.columns(3), designs):
        column.metric(f"{tr('cost.' + design)} · {tr('common.macs')}", fmt_int(macs), delta=delta,
                      delta_color="normal" if delta is None or macs <= result.standard.macs else "inverse")
for column, (design, macs, params, delta) in zip(st.columns(3), designs):
    column.caption(tr("cost.params_line", params=fmt_int(params)))

inv = result.inverted
if inv.has_residual:
    st.caption(tr("cost.residual_yes", adds=fmt_int(inv.residual_adds)))
else:
    st.caption(tr("cost.residual_no"))
if inv.expand is None:
    st.caption(tr("cost.t_one"))
st.info(tr("cost.effective", alpha=f"{inputs.alpha:g}", rho=f"{inputs.rho:g}", m=m, n=n, d_f=d_f, d_g=d_g))

# --- presets (below the result, so the result is on the projector's first screen) --------------------------------
presets()

st.caption(tr("cost.conventions"))

# --- chart -------------------------------------------------------------------
st.subheader(tr("cost.chart_title"))
log_scale = st.toggle(tr("cost.log_scale"), key="cost_log")
bar_labels = {key: tr(f"cost.{key}") for key in ("standard", "separable", "inverted", "depthwise", "pointwise",
                                                 "expand", "project")}
bar_labels.update(macs=tr("common.macs"), params=tr("common.params"))
st.plotly_chart(shared_chart(cost_figures.cost_bars, result, bar_labels, log_scale), width="stretch")

# --- formulas ----------------------------------------------------------------
st.subheader(tr("cost.formulas_title"))
st.latex(formulas.output_size_note(d_f, inputs.stride))
formula_rows = [
    ("standard", formulas.standard(inputs.d_k, m, n, d_f, inputs.stride)),
    ("separable", formulas.separable(inputs.d_k, m, n, d_f, inputs.stride)),
    ("inverted", formulas.inverted_residual(inputs.d_k, m, n, d_f, inputs.t, inputs.stride)),
]
for design, formula in formula_rows:
    st.markdown(f"**{tr('cost.' + design)}**")
    st.latex(formulas.aligned("MACs", formula.macs_symbolic, formula.macs_numbers))
    st.latex(formulas.aligned("params", formula.params_symbolic, formula.params_numbers))

st.markdown(f"**{tr('cost.ratio_title')}**")
ratio_symbolic, ratio_numbers = formulas.ratio(inputs.d_k, m, n, d_f, inputs.stride)
st.latex(ratio_symbolic)
st.latex(ratio_numbers)
st.caption(tr("cost.ratio_exact_note"))
share = result.separable.pointwise.macs / result.separable.macs
st.markdown(tr("cost.why_pointwise", n=n, dk2=inputs.d_k ** 2, share=f"{share:.1%}"))

# --- sweeps ------------------------------------------------------------------
st.subheader(tr("cost.sweep_title"))
curve_labels = {"exact": tr("cost.curve_exact"), "approx": tr("cost.curve_approx"),
                "inverted": tr("cost.curve_inverted"), "ratio": tr("cost.axis_ratio"), "current": tr("cost.current")}
sweep_n_values = sorted({2 ** k for k in range(0, 12)} | {n})
sweep_k_values = ODD_KERNELS
left, right = st.columns(2)
with left:
    st.caption(tr("cost.sweep_n", d_k=inputs.d_k, m=m, d_f=d_f))
    points = costs.sweep_output_channels(inputs.d_k, m, d_f, inputs.t, inputs.stride, sweep_n_values)
    st.plotly_chart(shared_chart(cost_figures.ratio_sweep, points, n, {**curve_labels, "x": tr("cost.axis_n")},
                                 log_x=True),
                    width="stretch")
with right:
    st.caption(tr("cost.sweep_dk", m=m, n=n, d_f=d_f))
    points = costs.sweep_kernel_size(m, n, d_f, inputs.t, inputs.stride, sweep_k_values)
    st.plotly_chart(shared_chart(cost_figures.ratio_sweep, points, inputs.d_k,
                                 {**curve_labels, "x": tr("cost.axis_dk")}),
                    width="stretch")

# --- theory vs this machine --------------------------------------------------
st.subheader(tr("cost.machine_title"))
st.markdown(tr("cost.machine_intro"))
shape = (inputs.d_k, m, n, d_f, inputs.stride)
if st.button(tr("cost.machine_button"), key="cost_time"):
    try:
        with st.spinner(tr("cost.machine_running")):
            st.session_state["cost_timing"] = (shape, time_convolutions(*shape))
    except ExplainerError as error:
        st.session_state.pop("cost_timing", None)
        show_error(error)
stored = st.session_state.get("cost_timing")
if stored is not None and stored[0] == shape:
    timing = stored[1]
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("cost.machine_standard"), f"{timing.standard.median_ms:.3f} ms")
    c2.metric(tr("cost.machine_separable"), f"{timing.separable_ms:.3f} ms")
    c3.metric(tr("cost.machine_speedup"), f"{timing.measured_speedup:.2f}×",
              delta=tr("cost.machine_mac_reduction", factor=f"{timing.mac_reduction:.2f}"), delta_color="off")
    st.caption(tr("cost.machine_rates", std=f"{timing.standard.gmacs_per_second:.1f}",
                  dw=f"{timing.depthwise.gmacs_per_second:.1f}", pw=f"{timing.pointwise.gmacs_per_second:.1f}",
                  threads=timing.threads, reps=timing.standard.repeats))
    st.markdown(tr("cost.machine_explain"))
st.caption(tr("zoo.cost_link_text"))
try:
    st.page_link("pages/zoo.py", label=tr("zoo.cost_link"), icon="🦁")
except st.errors.StreamlitAPIException:  # this page run on its own, without app.py's navigation
    st.markdown(f"🦁 [{tr('zoo.cost_link')}](zoo)")
