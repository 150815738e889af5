"""The lightweight family: SqueezeNet, ShuffleNet V2, MobileNets, MnasNet, EfficientNet — measured, and how to choose."""

import streamlit as st

from explainer import costs
from explainer.errors import ExplainerError
from explainer.figures import zoo as figs
from explainer import registry
from explainer.zoo import blocks, choose
from explainer.zoo.latency import DEFAULT_REPEATS
from explainer.zoo.network import count_network
from explainer.zoo.roofline import roofline_points, summarise, time_layers
from pages.caches.zoo import LATENCY_ENV, latency_runner, layer_time_store, live_rows, machine_now, static_rows
from pages.setup_notes import for_lecturer
from pages.tables import placeholder_table
from pages.ui import fmt_int, show_error, tr

POLL_SECONDS = 3


def family_labels() -> dict[str, str]:
    return {family: tr(f"zoo.family_{family}") for family in registry.FAMILIES}


DISPLAY = {name: spec.display for name, spec in registry.MODELS.items()}

st.title(tr("zoo.title"))
st.markdown(tr("zoo.intro"))

try:
    with st.spinner(tr("zoo.counting")):
        static_rows()
except ExplainerError as error:
    show_error(error)
    st.stop()

st.selectbox(tr("zoo.pick"), registry.MODEL_NAMES, index=registry.MODEL_NAMES.index("mobilenet_v2"),
             format_func=DISPLAY.__getitem__, key="pick", bind="query-params", help=tr("zoo.pick_help"))
_, _, _, measuring = live_rows()


# --- the table and the two scatters (refresh themselves while the latencies are being measured) ----------------
@st.fragment(run_every=POLL_SECONDS if measuring else None)
def table_and_scatters(was_measuring: bool) -> None:
    rows, done, total, still = live_rows()
    runner = latency_runner()
    if runner is None:
        st.info(tr("setup.latency_off"))  # students: one line; the switch is for the lecturer (presenter mode)
        for_lecturer([tr("zoo.latency_off", env=LATENCY_ENV)])
    elif runner.error:
        st.warning(tr("zoo.latency_failed", detail=runner.error))
    elif still:
        st.progress(done / total if total else 0.0, text=tr("zoo.measuring", done=done, total=total))
    st.subheader(tr("zoo.table_title"))
    cols = {key: tr(f"zoo.col_{key}") for key in ("model", "family", "macs", "params", "size", "int8", "top1",
                                                    "latency", "ms_per_gmac", "source")}
    table = [{
        cols["model"]: row.display, cols["family"]: tr(f"zoo.family_{row.family}"),
        cols["macs"]: round(row.macs / 1e6, 1), cols["params"]: round(row.total_params / 1e6, 2),
        cols["size"]: round(row.size_mb, 1), cols["int8"]: round(row.int8_size_mb, 1),
        cols["top1"]: row.top1, cols["latency"]: None if row.latency_ms is None else round(row.latency_ms, 1),
        cols["ms_per_gmac"]: None if row.ms_per_gmac is None else round(row.ms_per_gmac),
        cols["source"]: row.top1_source,
    } for row in rows]
    # a latency not measured yet reads "measuring…" (or "—" when it will not be), never "None"
    missing = tr("tables.measuring") if still else tr("tables.missing")
    st.dataframe(placeholder_table(table, {cols["top1"]: "{:.1f}", cols["latency"]: "{:.1f}",
                                           cols["ms_per_gmac"]: "{:.0f}"}, missing),
                 hide_index=True, width="stretch", height=420)
    threads = next((row.threads for row in rows if row.threads), None)
    st.caption(tr("zoo.table_notes", threads=threads or "—", runs=DEFAULT_REPEATS))
    pick = st.session_state.get("pick")
    labels = {**family_labels(), "y": tr("zoo.axis_top1"), "front": tr("zoo.front"), "pick": tr("zoo.your_pick")}
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{tr('zoo.scatter_macs')}**")
        front = choose.pareto(rows, lambda r: r.macs / 1e6)
        st.plotly_chart(figs.accuracy_scatter(rows, lambda r: r.macs / 1e6, front, pick,
                                              {**labels, "x": tr("zoo.axis_macs")}), width="stretch", key="sc_macs")
        st.caption(tr("zoo.front_list", models=", ".join(r.display for r in front)))
    with right:
        st.markdown(f"**{tr('zoo.scatter_latency')}**")
        timed = [r for r in rows if r.latency_ms is not None]
        if timed:
            front = choose.pareto(rows, lambda r: r.latency_ms)
            st.plotly_chart(figs.accuracy_scatter(rows, lambda r: r.latency_ms, front, pick,
                                                  {**labels, "x": tr("zoo.axis_latency")}), width="stretch",
                            key="sc_latency")
            st.caption(tr("zoo.front_list", models=", ".join(r.display for r in front)))
        elif runner is not None:
            st.info(tr("zoo.no_latency_yet"))
    if sum(r.ms_per_gmac is not None for r in rows) >= 2:
        slowest = max((r for r in rows if r.ms_per_gmac is not None), key=lambda r: r.ms_per_gmac)
        fastest = min((r for r in rows if r.ms_per_gmac is not None), key=lambda r: r.ms_per_gmac)
        st.markdown(tr("zoo.ms_per_gmac_text", slow=slowest.display, slow_v=f"{slowest.ms_per_gmac:.0f}",
                       fast=fastest.display, fast_v=f"{fastest.ms_per_gmac:.0f}",
                       ratio=f"{slowest.ms_per_gmac / fastest.ms_per_gmac:.1f}"))
    if was_measuring and not still:
        st.rerun()  # all measured: one full rerun draws the page without polling


table_and_scatters(measuring)

# --- the key blocks --------------------------------------------------------------------------------------------
st.subheader(tr("zoo.blocks_title"))
st.markdown(tr("zoo.blocks_intro"))
lim = costs.LIMITS
ODD_KERNELS = [k for k in range(int(lim["d_k"][0]), int(lim["d_k"][1]) + 1) if k % 2 == 1]


@st.fragment
def key_blocks() -> None:
    c = st.columns(6)
    c[0].number_input("M", int(lim["m"][0]), int(lim["m"][1]), 32, key="m", bind="query-params",
                      help=tr("zoo.m_help"))
    c[1].number_input("N", int(lim["n"][0]), int(lim["n"][1]), 32, key="n", bind="query-params",
                      help=tr("zoo.n_help"))
    c[2].number_input("D_F", int(lim["d_f"][0]), int(lim["d_f"][1]), 28, key="df", bind="query-params",
                      help=tr("zoo.df_help"))
    c[3].number_input("t", int(lim["t"][0]), int(lim["t"][1]), 6, key="t", bind="query-params", help=tr("zoo.t_help"))
    c[4].selectbox(tr("zoo.stride"), list(costs.STRIDES), key="s", bind="query-params")
    c[5].selectbox("D_K", ODD_KERNELS, index=ODD_KERNELS.index(3), key="k", bind="query-params")
    try:
        inputs = costs.CostInputs.checked(st.session_state["k"], st.session_state["m"], st.session_state["n"],
                                          st.session_state["df"], st.session_state["t"], st.session_state["s"])
        found = blocks.key_blocks(inputs)
    except ExplainerError as error:
        show_error(error)
        return
    standard = blocks.standard_reference(inputs)
    st.caption(tr("zoo.standard_line", macs=fmt_int(standard.macs), params=fmt_int(standard.params),
                  k=inputs.d_k, m=inputs.m, n=inputs.n, df=inputs.d_f, s=inputs.stride))
    part_labels = {name: tr(f"zoo.part_{name}") for name in (
        "squeeze", "expand1x1", "expand3x3", "concat", "split", "shuffle", "branch1_depthwise", "branch1_1x1",
        "branch2_1x1", "branch2_depthwise", "branch2_1x1_out", "expand", "depthwise", "project", "se_pool",
        "se_reduce", "se_expand", "se_scale")}
    part_labels.update({"in": tr("zoo.block_in"), "out": tr("zoo.block_out"), "macs": tr("common.macs"),
                        "residual": tr("zoo.residual")})
    columns = st.columns(2)
    for index, key in enumerate(blocks.BLOCKS):
        block = found[key]
        with columns[index % 2]:
            with st.container(border=True):
                family = blocks.BLOCK_FAMILY[key]
                st.markdown(f"**{tr(f'zoo.block_{key}')}** · {tr(f'zoo.family_{family}')}")
                st.graphviz_chart(figs.block_dot(block, part_labels))
                m1, m2, m3 = st.columns([3, 2, 2])
                if block.macs <= standard.macs:
                    delta = tr("zoo.vs_standard", factor=f"{standard.macs / block.macs:.1f}")
                else:
                    delta = tr("zoo.vs_standard_more", factor=f"{block.macs / standard.macs:.1f}")
                m1.metric(tr("common.macs"), fmt_int(block.macs), delta=delta, delta_color="off")
                m2.metric(tr("common.params"), fmt_int(block.params))
                m3.metric(tr("zoo.bytes_moved"), f"{block.bytes_moved / 1e6:.2f} MB",
                          help=tr("zoo.bytes_help"))
                st.caption(tr(f"zoo.idea_{key}", intensity=f"{block.intensity:.1f}",
                              copies=f"{block.memory_only_bytes / 1e6:.2f}",
                              share=f"{100 * block.memory_only_bytes / block.bytes_moved:.0f}"))


key_blocks()


# --- how to choose -----------------------------------------------------------------------------------------------
st.subheader(tr("zoo.choose_title"))
st.markdown(tr("zoo.choose_intro"))


@st.fragment(run_every=POLL_SECONDS if measuring else None)
def how_to_choose() -> None:
    rows, done, total, still = live_rows()
    c = st.columns(3)
    budget_ms = c[0].slider(tr("zoo.budget_ms"), 5, 1000, 50, step=5, key="lat", bind="query-params",
                            help=tr("zoo.budget_ms_help"))
    budget_mb = c[1].slider(tr("zoo.budget_mb"), 1, 600, 20, key="mb", bind="query-params")
    int8 = c[2].toggle(tr("zoo.int8"), key="int8", bind="query-params", help=tr("zoo.int8_help"))
    result = choose.within_budget(rows, budget_ms, budget_mb, int8=int8)
    if result.best is not None:
        best = result.best
        st.success(tr("zoo.best", model=best.display, top1=f"{best.top1:.1f}" if best.top1 else "—",
                      ms=f"{best.latency_ms:.1f}", mb=f"{(best.int8_size_mb if int8 else best.size_mb):.1f}"))
        st.markdown(tr("zoo.also_fit", models=", ".join(r.display for r in result.fitting[1:]) or "—"))
    else:
        st.warning(tr("zoo.nothing_fits"))
    if result.unmeasured:
        st.caption(tr("zoo.unmeasured", n=len(result.unmeasured)))
    factor = choose.phone_factor(rows)
    if factor is not None:
        st.info(tr("zoo.phone", phone_ms=f"{choose.PHONE_REFERENCE['ms']:g}", phone=choose.PHONE_REFERENCE["phone"],
                   here_ms=f"{next(r.latency_ms for r in rows if r.model == 'mobilenet_v2'):.1f}",
                   factor=f"{factor:.1f}", source=choose.PHONE_REFERENCE["source"]))
    else:
        st.info(tr("zoo.phone_pending"))
    st.markdown(tr("zoo.phone_differs"))


how_to_choose()

# --- the roofline ------------------------------------------------------------------------------------------------
st.subheader(tr("zoo.roof_title"))
st.markdown(tr("zoo.roof_intro"))
roof_model = st.selectbox(tr("zoo.roof_model"), registry.MODEL_NAMES,
                          index=registry.MODEL_NAMES.index("mobilenet_v2"), format_func=DISPLAY.__getitem__,
                          key="roof", bind="query-params")
runner = latency_runner()
machine = runner.wait_roofs(30) if runner is not None else None
if machine is None:
    with st.spinner(tr("zoo.roof_measuring_machine")):
        machine = machine_now()
store = layer_time_store()
times = store.results()
if roof_model not in times and st.button(tr("zoo.roof_measure", model=DISPLAY[roof_model]), key="roof_time"):
    if store.running(roof_model) or store.running("vgg16"):
        st.caption(tr("limits.waiting"))
    with st.spinner(tr("zoo.roof_timing", model=DISPLAY[roof_model])):
        # Once per process: a click while another student's measurement runs waits for it.
        store.run(roof_model, lambda: time_layers(roof_model, repeats=7))
        store.run("vgg16", lambda: time_layers("vgg16", repeats=3))
    st.rerun()  # draw the measured rates (and drop the button)
timings = times.get(roof_model)
points = roofline_points(count_network(roof_model), machine, timings)
reference = roofline_points(count_network("vgg16"), machine, times.get("vgg16")) if roof_model != "vgg16" else []
if timings is None:
    st.caption(tr("zoo.roof_unmeasured"))
kind_labels = {kind: tr(f"zoo.kind_{kind}") for kind in figs.KIND_COLORS}
st.plotly_chart(figs.roofline(points, machine, {
    **kind_labels, "x": tr("zoo.axis_intensity"), "y": tr("zoo.axis_rate"), "memory_roof": tr("zoo.memory_roof"),
    "compute_roof": tr("zoo.compute_roof"), "reference": tr("zoo.reference_vgg")}, reference), width="stretch",
    key="roofline")
st.caption(tr("zoo.roof_machine", peak=f"{machine.peak_gflops:.1f}", peak_macs=f"{machine.peak_gmacs:.1f}",
              bw=f"{machine.bandwidth_gbs:.1f}", ridge=f"{machine.ridge:.1f}", threads=machine.threads))
summary_rows = [{
    tr("zoo.col_kind"): kind_labels.get(s.kind, s.kind), tr("zoo.col_layers"): s.layers,
    tr("zoo.col_memory_bound"): s.memory_bound,
    tr("zoo.col_intensity"): f"{s.min_intensity:.2f} – {s.max_intensity:.2f}",
    tr("zoo.col_macs_share"): round(100 * s.macs / max(1, sum(p.macs for p in points)), 1),
    tr("zoo.col_rate"): None if s.median_gmacs is None else round(s.median_gmacs, 2),
} for s in summarise(points)]
st.dataframe(placeholder_table(summary_rows, {tr("zoo.col_rate"): "{:.2f}", tr("zoo.col_macs_share"): "{:.1f}"},
                               tr("tables.missing")), hide_index=True, width="stretch")
st.markdown(tr("zoo.roof_explain"))
