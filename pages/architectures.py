"""Architectures: MobileNetV1, V2 and V3 layer by layer, checked against the papers."""

import streamlit as st

from explainer import architectures as arch
from explainer import published
from explainer.errors import ExplainerError
from explainer.figures import architecture as figs
from pages.charts import shared_chart
from pages.ui import fmt_int, fmt_millions, show_error, tr
from pages.url_state import coded
from pages.readable import result_bar

WIDTHS = [0.25, 0.35, 0.5, 0.75, 1.0, 1.25, 1.3, 1.4, 1.5, 2.0]
RESOLUTIONS = [96, 112, 128, 160, 192, 224, 256, 288, 320]

DEFAULT_MODEL, DEFAULT_WIDTH, DEFAULT_RESOLUTION = "mobilenet_v2", 1.0, 224

# A value no widget offers (a session from an older version of the page) falls back to the default: the page
# then shows what a fresh visit shows, never a network nobody chose. (A bad value in a link is dropped by the
# URL binding and named by pages/url_state.)
for key, default, options in (("model", DEFAULT_MODEL, arch.MODEL_NAMES), ("w", DEFAULT_WIDTH, WIDTHS),
                              ("res", DEFAULT_RESOLUTION, RESOLUTIONS)):
    if key in st.session_state and st.session_state[key] not in options:
        st.session_state[key] = default

st.title(tr("arch.title"))
st.markdown(tr("arch.intro"))
st.caption(tr("arch.conventions"))

# --- choice ------------------------------------------------------------------
cols = st.columns([2, 2, 2])
# The view is in the URL (pages/url_state.py): /architectures?model=mobilenet_v1&w=0.75&res=160&layer=b3.dw
model = cols[0].selectbox(tr("arch.model"), arch.MODEL_NAMES, index=arch.MODEL_NAMES.index(DEFAULT_MODEL),
                          format_func=arch.DISPLAY_NAMES.__getitem__, **coded("model", arch.MODEL_NAMES, DEFAULT_MODEL))
width = cols[1].select_slider(tr("arch.width"), options=WIDTHS, value=DEFAULT_WIDTH, key="w", bind="query-params",
                              help=tr("arch.width_help"))
resolution = cols[2].select_slider(tr("arch.resolution"), options=RESOLUTIONS, value=DEFAULT_RESOLUTION, key="res",
                                   bind="query-params", help=tr("arch.resolution_help"))

try:
    network = arch.build_network(model, width, resolution)
    twin = arch.build_network(model, width, resolution, twin=True)
except ExplainerError as error:
    show_error(error)
    st.stop()

# --- totals beside the paper ---------------------------------------------------
paper = next((p for p in published.PUBLISHED
              if p.model == model and p.width == width and p.resolution == resolution and not p.twin), None)
with result_bar("architectures"):  # on a phone: sticky while the choice above is on screen (pages/readable.py)
    m = st.columns(4)
    m[0].metric(tr("common.macs"), fmt_millions(network.macs), help=fmt_int(network.macs))
    m[1].metric(tr("common.params"), fmt_millions(network.params, 2), help=fmt_int(network.params))
    m[2].metric(tr("arch.bn_params"), fmt_int(network.bn_params), help=tr("arch.bn_params_help"))
    m[3].metric(tr("arch.layers"), str(len(network.layers)), help=tr("arch.blocks", n=network.num_blocks))
if paper is not None:
    st.info(tr("arch.paper_line", macs=f"{paper.macs_m:g}", params=f"{paper.params_m:g}", top1=f"{paper.top1:g}",
               source=published.CITATIONS[paper.paper], tables=paper.tables,
               exact_macs=fmt_millions(network.macs), exact_params=fmt_millions(network.params, 2),
               total=fmt_int(network.total_params)))
else:
    st.caption(tr("arch.no_paper_row"))
st.markdown(tr(f"arch.note_{model}"))

# --- layer table --------------------------------------------------------------
st.subheader(tr("arch.table_title"))
type_names = {kind: tr(f"arch.type_{kind}") for kind in arch.LAYER_TYPES}
activation_names = {None: "—", "relu": "ReLU", "relu6": "ReLU6", "hswish": "h-swish"}
rows = [
    {
        tr("arch.col_name"): layer.name,
        tr("arch.col_block"): layer.block,
        tr("arch.col_type"): type_names[layer.type],
        tr("arch.col_kernel"): f"{layer.kernel}×{layer.kernel} /{layer.stride}",
        tr("arch.col_input"): "×".join(map(str, layer.input)),
        tr("arch.col_output"): "×".join(map(str, layer.output)),
        tr("arch.col_activation"): activation_names[layer.activation],
        tr("arch.col_macs"): layer.macs,
        tr("arch.col_macs_pct"): round(100 * layer.macs / network.macs, 2),
        tr("arch.col_params"): layer.params,
    }
    for layer in network.layers
]
st.dataframe(rows, hide_index=True, width="stretch", height=320,
             column_config={tr("arch.col_macs"): st.column_config.NumberColumn(format="localized"),
                            tr("arch.col_params"): st.column_config.NumberColumn(format="localized")})

# --- one layer's formula --------------------------------------------------------
names = [layer.name for layer in network.layers]
default_layer = next((layer.name for layer in network.layers if layer.type == "depthwise"), names[0])
if st.session_state.get("layer") not in names:
    st.session_state["layer"] = default_layer
chosen = network.layer(st.selectbox(tr("arch.choose_layer"), names, index=names.index(default_layer), key="layer",
                                    bind="query-params"))
st.markdown(tr("arch.layer_line", name=chosen.name, type=type_names[chosen.type],
               input="×".join(map(str, chosen.input)), output="×".join(map(str, chosen.output)),
               stride=chosen.stride))
for part, formula in arch.layer_formulas(chosen):
    part_title = tr(f"arch.part_{part}")
    st.markdown(f"**{part_title}**")
    st.latex(rf"\text{{MACs}} = {formula.macs_symbolic} = {formula.macs_numbers}")
    st.latex(rf"\text{{params}} = {formula.params_symbolic} = {formula.params_numbers}")
block = arch.block_formula(network, chosen.block)
if block is not None:
    kind, formula = block
    st.markdown(tr(f"arch.block_{kind}", block=chosen.block))
    st.latex(rf"\text{{MACs}} = {formula.macs_numbers}")

# --- charts -----------------------------------------------------------------------
st.subheader(tr("arch.charts_title"))
labels = {**type_names, "macs": tr("common.macs"), "params": tr("common.params"),
          "cumulative": tr("arch.cumulative")}
st.plotly_chart(shared_chart(figs.layer_costs, network, labels, chosen.name), width="stretch")
st.markdown(f"**{tr('arch.breakdown_title')}**")
st.plotly_chart(shared_chart(figs.breakdown_bars, network, labels), width="stretch")
if model == "mobilenet_v1" and width == 1.0:
    shares = network.breakdown(weights_only=True)
    st.dataframe([
        {tr("arch.col_type"): type_names[kind], tr("arch.printed_macs_pct"): printed[0],
         tr("arch.exact_macs_pct"): round(shares[kind].macs_pct, 2), tr("arch.printed_params_pct"): printed[1],
         tr("arch.exact_params_pct"): round(shares[kind].params_pct, 2)}
        for kind, printed in published.V1_TABLE2.items()
    ], hide_index=True)
    st.caption(tr("arch.table2_note"))
st.markdown(f"**{tr('arch.strip_title')}**")
st.plotly_chart(shared_chart(figs.shape_strip, network, {"size": tr("arch.size"), "channels": tr("arch.channels")}),
                width="stretch")
st.caption(tr("arch.strip_caption", first=resolution, last=network.layers[-2].output[0],
              channels=network.layers[-2].output[2]))

# --- twin -----------------------------------------------------------------------------
st.subheader(tr("arch.twin_title"))
st.markdown(tr("arch.twin_intro"))
t = st.columns(3)
t[0].metric(tr("arch.twin_macs"), fmt_millions(twin.macs), help=fmt_int(twin.macs))
t[1].metric(tr("arch.twin_params"), fmt_millions(twin.params, 2), help=fmt_int(twin.params))
t[2].metric(tr("arch.twin_factor"), f"{twin.macs / network.macs:.1f}×")
st.plotly_chart(shared_chart(figs.twin_per_block, network, twin,
                             {"original": arch.DISPLAY_NAMES[model], "twin": tr("arch.twin"),
                              "macs": tr("common.macs"), "block": tr("arch.col_block")}),
                width="stretch")
if model == "mobilenet_v1" and width == 1.0 and resolution == 224:
    conv_macs = sum(share.macs for kind, share in twin.breakdown().items() if kind != "fc")
    st.caption(tr("arch.twin_paper", exact=fmt_int(twin.macs), conv=fmt_int(conv_macs),
                  params=fmt_millions(twin.params, 2)))

# --- published variants ------------------------------------------------------------------
st.subheader(tr("arch.published_title"))
display = {**arch.DISPLAY_NAMES, "twin": tr("arch.twin_v1")}
current_label = f"{arch.DISPLAY_NAMES[model]} α={width:g} · {resolution}"
scatter_labels = {"macs_m": tr("arch.macs_m"), "top1": tr("arch.top1"), "current": tr("arch.current"),
                  "table": tr("arch.table_word"), "params_m": tr("arch.params_m")}
show_twin = st.toggle(tr("arch.show_conv_v1"), key="arch_show_twin")
entries = [p for p in published.PUBLISHED if show_twin or not p.twin]
st.plotly_chart(shared_chart(figs.published_scatter, entries, (network.macs, current_label), scatter_labels, display),
                width="stretch")
st.caption(tr("arch.published_caption", v1=published.V1_PAPER, v2=published.V2_PAPER, v3=published.V3_PAPER))

with st.expander(tr("arch.check_title")):
    check_rows = []
    for p in published.PUBLISHED:
        exact = arch.build_network(p.model, p.width, p.resolution, p.twin)
        check_rows.append({
            tr("arch.col_variant"): p.label, tr("arch.col_source"): tr("arch.table_ref", paper=p.paper.upper(), tables=p.tables),
            tr("arch.printed_macs"): p.macs_m, tr("arch.exact_macs"): round(exact.macs / 1e6, 2),
            tr("arch.printed_params"): p.params_m, tr("arch.exact_params"): round(exact.params / 1e6, 3),
            tr("arch.col_why"): tr(f"arch.gap_{p.key}") if p.key in published.KNOWN_GAPS else tr("arch.gap_none"),
        })
    st.dataframe(check_rows, hide_index=True, width="stretch")

# --- memory --------------------------------------------------------------------------------


@st.fragment
def memory_section() -> None:
    """Activation memory of V1 vs V2; its two controls rerun only this part of the page."""
    st.subheader(tr("arch.memory_title"))
    st.markdown(tr("arch.memory_intro"))
    mc = st.columns(2)
    dtype = mc[0].radio(tr("arch.dtype"), ["float32", "int8"], horizontal=True, key="arch_dtype")
    streamed = mc[1].toggle(tr("arch.streamed"), key="arch_streamed", help=tr("arch.streamed_help"))
    profiles, peaks = {}, {}
    for name in ("mobilenet_v1", "mobilenet_v2"):
        steps = arch.memory_profile(arch.build_network(name, width, resolution), streamed=streamed)
        profiles[arch.DISPLAY_NAMES[name]] = steps
        peaks[arch.DISPLAY_NAMES[name]] = arch.peak(steps)
    memory_labels = {"step": tr("arch.step"), "memory": tr("arch.memory"), "peak": tr("arch.peak")}
    st.plotly_chart(shared_chart(figs.memory_chart, profiles, peaks, dtype, memory_labels), width="stretch")
    mem = st.columns(2)
    for column, (name, steps) in zip(mem, profiles.items()):
        top = steps[peaks[name]]
        column.metric(tr("arch.peak_metric", name=name), f"{top.bytes(dtype) / 1024:,.0f} KiB",
                      help=tr("arch.peak_help", step=top.label, elements=fmt_int(top.elements)))
    st.markdown(tr("arch.memory_streamed_note" if streamed else "arch.memory_naive_note"))
    v1_name, v1_shape = arch.largest_tensor(arch.build_network("mobilenet_v1"))
    v2_name, v2_shape = arch.largest_tensor(arch.build_network("mobilenet_v2"))
    st.caption(tr("arch.table3_note", v1="×".join(map(str, v1_shape)), v2="×".join(map(str, v2_shape)),
                  v1_kb=f"{arch.tensor_bytes(v1_shape, 'float16') / 1000:,.0f}",
                  v2_kb=f"{arch.tensor_bytes(v2_shape, 'float16') / 1000:,.0f}"))


memory_section()
