"""The Compression page's last section: structured pruning of MobileNetV2 — channels really removed, measured."""

from __future__ import annotations

import streamlit as st

from explainer import prune
from explainer.figures.classify import top_k_bar
from explainer.figures.quant import bars
from explainer.i18n import t
from pages.caches import prune as cached
from pages.ui import current_language, fmt_int, tr

KEEP_CODES = {"100": 1.0, "75": 0.75, "50": 0.5, "25": 0.25}
COLORS = {"original": "#1f77b4", "pruned": "#2ca02c", "masked": "#7f7f7f"}


def pruning_section(loaded, batch, digest: str, calibrate_on: str, choice) -> None:
    """Controls, the experiment on a button (cached per setting), and the results side by side."""
    lang = current_language()
    st.subheader(tr("prune.h_section"))
    st.markdown(tr("prune.intro"))
    c1, c2, c3, c4 = st.columns([1.3, 1.1, 1.1, 1.1])
    keep_code = c1.radio(tr("prune.keep"), list(KEEP_CODES), index=2, horizontal=True, key="pkeep",
                         format_func=lambda c: f"{c} %", help=tr("prune.keep_help"))
    scope = c2.radio(tr("prune.scope"), ("all", "one"), horizontal=True, key="pscope",
                     format_func=lambda s: t(f"prune.scope_{s}", lang))
    block = c3.selectbox(tr("prune.block"), prune.BLOCKS, index=2, key="pblock", disabled=scope == "all")
    recover = c4.toggle(tr("prune.recover"), value=True, key="precover", help=tr("prune.recover_help"))
    blocks = prune.BLOCKS if scope == "all" else (block,)
    keep = KEEP_CODES[keep_code]
    settings = (keep, blocks, bool(recover), digest, loaded.weights_id)
    if st.button(tr("prune.run"), key="prune_run"):
        st.session_state["prune_settings"] = settings
    if st.session_state.get("prune_settings") != settings:
        st.info(tr("prune.waiting"))
    else:
        with st.spinner(tr("prune.running")):
            result = cached.experiment(keep, blocks, bool(recover), digest, loaded.weights_id, loaded, batch)
        _results(result, loaded, settings, calibrate_on, choice)
    _published()


def _results(result: prune.Pruned, loaded, settings: tuple, calibrate_on: str, choice) -> None:
    lat = result.latency
    st.caption(tr("prune.made", seconds=f"{result.seconds:.1f}", runs=lat.runs, threads=lat.threads,
                  blocks=len(result.blocks)))
    names = {k: tr(f"prune.m_{k}") for k in ("original", "pruned", "masked")}
    st.table([
        {"": tr("prune.row_macs"), names["original"]: fmt_int(result.original_macs), names["pruned"]: fmt_int(result.macs),
         names["masked"]: fmt_int(result.original_macs)},
        {"": tr("prune.row_params"), names["original"]: fmt_int(result.original_params),
         names["pruned"]: fmt_int(result.params), names["masked"]: fmt_int(result.original_params)},
        {"": tr("prune.row_size"), names["original"]: f"{result.original_size_bytes / 2**20:.2f}",
         names["pruned"]: f"{result.size_bytes / 2**20:.2f}", names["masked"]: f"{result.masked_size_bytes / 2**20:.2f}"},
        {"": tr("prune.row_time"), names["original"]: f"{lat.original_ms:.1f}", names["pruned"]: f"{lat.pruned_ms:.1f}",
         names["masked"]: f"{lat.masked_ms:.1f}"},
    ])
    m1, m2, m3 = st.columns(3)
    m1.metric(tr("prune.macs_ratio"), f"{result.macs / result.original_macs:.2f}×")
    m2.metric(tr("prune.time_ratio"), f"{lat.pruned_ms / lat.original_ms:.2f}×")
    m3.metric(tr("prune.masked_ratio"), f"{lat.masked_ms / lat.original_ms:.2f}×")
    left, right = st.columns(2)
    colors = [COLORS[k] for k in names]
    left.plotly_chart(bars(list(names.values()), [lat.original_ms, lat.pruned_ms, lat.masked_ms], colors,
                           title=tr("prune.time_title"), unit="ms"), width="stretch", key="prune_times")
    right.plotly_chart(bars(list(names.values()), [result.original_size_bytes / 2**20, result.size_bytes / 2**20,
                                                   result.masked_size_bytes / 2**20], colors,
                            title=tr("prune.size_title"), unit="MB", digits=2), width="stretch", key="prune_sizes")
    st.markdown(tr("prune.masked_lesson", with_masks=f"{result.masked_with_masks_bytes / 2**20:.1f}"))

    agreement = cached.sample_agreement(settings, loaded, result.model)
    st.metric(tr("prune.agreement"), f"{agreement['top1_agreement']:.0%}", help=tr("prune.agreement_help"))
    st.caption(tr("prune.in_sample") if calibrate_on == "samples" and result.recovered else tr("prune.out_of_sample"))
    st.dataframe([{tr("prune.col_photo"): t(f"images.sample_{r['file']}", current_language()),
                   tr("prune.col_original"): r["original_top1"], tr("prune.col_pruned"): r["pruned_top5"][0],
                   tr("prune.col_same"): "✓" if r["agrees"] else "✗"} for r in agreement["images"]],
                 hide_index=True, width="stretch")
    if choice is not None:
        original, pruned = cached.predictions(choice.digest, settings, choice.image, loaded, result.model)
        st.markdown(tr("prune.your_photo"))
        a, b = st.columns(2)
        a.plotly_chart(top_k_bar(original, title=tr("prune.m_original"), prob_label=tr("classify.prob_axis"), height=260),
                       width="stretch", key="prune_top_original")
        b.plotly_chart(top_k_bar(pruned, title=tr("prune.m_pruned"), prob_label=tr("classify.prob_axis"), height=260),
                       width="stretch", key="prune_top_pruned")


def _published() -> None:
    st.markdown(tr("prune.published_intro"))
    st.table([{tr("prune.col_method"): p.method, tr("prune.col_network"): p.network,
                   tr("prune.col_macs"): "—" if p.macs_m is None else f"{p.macs_m:g} M",
                   tr("prune.col_top1"): "—" if p.top1 is None else f"{p.top1:g} %",
                   tr("prune.col_baseline"): p.baseline, tr("prune.col_source"): p.source} for p in prune.PUBLISHED])
    st.markdown(tr("prune.distillation"))
