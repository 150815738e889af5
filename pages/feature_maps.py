"""Page "Feature maps": one photo through every block of a MobileNet.

The forward pass runs once per (photo bytes, model, weights) and is shared
read-only by all sessions (``pages/caches/feature_maps.py``: float16 tensors, a
few entries, not copied on a rerun); the block slider, k, the stage, the colour
scale and the enlarged channel only choose what to draw, and each view's
figures are drawn once per process (a hall following the lecturer's slider
shares them).
"""

from __future__ import annotations

import streamlit as st

from explainer.safe_text import markdown_text
from explainer import features as fm
from explainer.errors import ExplainerError
from explainer.figures import features as figs
from explainer.i18n import t
from pages.caches.feature_maps import capture, channel_figure, channel_grid, journey, path_strip
from pages.image_input import image_source
from pages.resources import get_model, model_choice, source_text, untrained_banner
from pages.ui import current_language, fmt_int, show_error, tr
from pages.url_state import coded

K_MIN, K_MAX, K_STEP, K_DEFAULT = 8, 64, 8, 16


def _block_label(block: int, maps: fm.FeatureMaps, lang: str) -> str:
    if block == 0:
        return f"0 · {t('features.block_stem', lang)}"
    if maps.block_output(block).stage == "head":
        return f"{block} · {t('features.block_head', lang)}"
    return str(block)


def _activation(record: fm.StageRecord, lang: str) -> str:
    return t(f"features.act_{record.activation or 'none'}", lang)


def _num(value: float) -> str:
    return f"{value:.4g}"


st.title(tr("features.title"))
st.markdown(tr("features.intro"))
lang = current_language()

left, right = st.columns([1, 2], gap="large")
with left:
    choice = image_source("features")
    name, not_offered = model_choice(tr("features.model"), key="features_model")
    if choice is not None:
        st.image(choice.preview_uri(), caption=markdown_text(choice.name), width="stretch")

if choice is not None:
    loaded = get_model(name)
    try:
        maps = capture(choice, loaded)
    except ExplainerError as err:
        show_error(err)
        st.stop()
    with right:
        untrained_banner(loaded, not_offered)
        st.caption(tr("features.forward_note", ms=f"{maps.forward_ms:.0f}", n=len(maps.records),
                      mb=f"{maps.nbytes / 2**20:.1f}") + " · " + source_text(loaded))
        blocks = maps.blocks
        default_block = 3 if 3 in blocks else blocks[min(1, len(blocks) - 1)]
        block = st.select_slider(
            tr("features.block"), options=blocks, value=default_block,
            **coded("block", blocks, default_block, key=f"features_block_{name}"),
            format_func=lambda b: _block_label(b, maps, lang), help=tr("features.block_help"),
        )
        records = maps.block(block)
        first = records[0]
        st.caption(tr("features.block_cost", macs=fmt_int(first.block_macs), params=fmt_int(first.block_params)))

        # the path through the block: expand → depthwise → (SE) → project → (+ residual)
        st.subheader(tr("features.path_title"))
        counts = figs.channel_counts(records)
        if counts is not None:
            m, tm, n = counts
            if name == "mobilenet_v1":
                st.markdown(f"**{tr('features.counts_v1', m=m, n=n)}**")
            else:
                st.markdown(f"**{tr('features.counts', m=m, tm=tm, n=n, t=f'{tm / m:.3g}')}**")
        st.plotly_chart(path_strip(choice, loaded, maps, block, lang), width="stretch", key="features_path")
        if counts is not None:
            panels = figs.path_panels(records)
            dw_channel = next(p.channel for p in panels if p.record.stage == "depthwise")
            if name == "mobilenet_v1":
                st.caption(tr("features.path_caption_v1", m=counts[0], n=counts[2]))
            else:
                st.caption(tr("features.path_caption", channel=dw_channel, tm=counts[1], n=counts[2]))

        st.subheader(tr("features.stats_title"))
        rows = []
        for record in records:
            stats = record.summary()
            rows.append({
                tr("features.col_stage"): figs.stage_label(record, lang),
                tr("features.col_shape"): figs.shape_label(record.shape),
                tr("features.col_activation"): _activation(record, lang),
                tr("features.col_zeros"): round(100.0 * stats.zero_fraction, 1),
                tr("features.col_mean"): _num(stats.mean),
                tr("features.col_min"): _num(stats.min),
                tr("features.col_max"): _num(stats.max),
                tr("features.col_macs"): fmt_int(record.macs),
                tr("features.col_params"): fmt_int(record.params),
            })
        st.dataframe(rows, hide_index=True, width="stretch", column_config={
            tr("features.col_zeros"): st.column_config.NumberColumn(help=tr("features.zeros_help"), format="%.1f"),
        })

    # the k clearest channels of one stage
    st.divider()
    controls, grid_col = st.columns([1, 3], gap="large")
    stages = [r.stage for r in records]
    default_stage = "depthwise" if "depthwise" in stages else stages[0]
    with controls:
        stage = st.radio(tr("features.stage"), stages, index=stages.index(default_stage),
                         format_func=lambda s: t(f"features.stage_{s}", lang),
                         **coded("stage", stages, default_stage, key=f"features_stage_{name}_{block}"))
        record = maps.record(block, stage)
        k = st.slider(tr("features.k"), K_MIN, K_MAX, K_DEFAULT, K_STEP, key="features_k", help=tr("features.k_help"))
        normalise = st.radio(tr("features.normalise"), figs.NORMALISATIONS, key="features_norm", horizontal=True,
                             format_func=lambda v: t(f"features.norm_{v}", lang), help=tr("features.normalise_help"))
    with grid_col:
        shown = fm.top_channels(record, min(k, record.channels))
        title = tr("features.grid_title", stage=figs.stage_label(record, lang), shape=figs.shape_label(record.shape),
                   k=len(shown), c=record.channels)
        st.plotly_chart(channel_grid(choice, loaded, record, shown, normalise, title), width="stretch",
                        key="features_grid")
        st.caption(tr("features.grid_caption"))

    # one channel enlarged
    st.subheader(tr("features.enlarge_title"))
    ranked = fm.top_channels(record, min(fm.K_RANGE[1], record.channels))
    activity = fm.channel_activity(record)
    pick, big = st.columns([1, 3], gap="large")
    with pick:
        channel = st.selectbox(tr("features.channel"), ranked,
                               **coded("ch", ranked, ranked[0], key=f"features_channel_{name}_{block}_{stage}"),
                               format_func=lambda c: t("features.channel_option", lang, c=c,
                                                       activity=f"{activity[c]:.3g}"))
        overlay = st.toggle(tr("features.overlay"), value=True, key="features_overlay", help=tr("features.overlay_help"))
    with big:
        st.plotly_chart(channel_figure(choice, loaded, maps, record, int(channel), overlay,
                                       title=f"{record.name} #{channel} · {figs.shape_label(record.shape)}"),
                        width="stretch", key="features_channel")

    # the journey from the photo to the last convolution
    st.subheader(tr("features.journey_title"))
    st.plotly_chart(journey(choice, loaded, lang, maps), width="stretch", key="features_journey")
    st.caption(tr("features.journey_caption"))
