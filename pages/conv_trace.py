"""Page "Inside a convolution": one output value of a real MobileNet layer, computed step by step.

The network runs once per (photo bytes, model, weights) — the feature-capture pass, keeping what every
convolution received — and the result is shared read-only by every session (``pages/caches/conv_trace.py``,
``st.cache_resource``: the float32 tensors a trace needs are about 30 MB for V2, too many to copy on every
rerun as ``st.cache_data`` would). The position, channel and animation live in an ``st.fragment``: moving
them reruns only that part and never the network.
"""

from __future__ import annotations

import streamlit as st

from explainer.safe_text import markdown_text
from explainer import trace as T
from explainer.errors import ExplainerError
from explainer.features import FeatureMaps, top_channels
from explainer.figures import trace as figs
from explainer.i18n import t
from explainer.models import DISPLAY_NAMES
from pages.caches.conv_trace import capture
from pages.image_input import image_source
from pages.readable import result_bar
from pages.resources import get_model, source_text, untrained_banner
from pages.setup_notes import not_installed, runnable_models
from pages.ui import current_language, fmt_int, show_error, tr

#: The models of this page, those with ImageNet weights on this server offered (V2 with random weights if none).
MODELS = ("mobilenet_v2", "mobilenet_v1")
#: How the layer list is grouped, in this order.
GROUPS = ("standard", "expand", "depthwise", "pointwise", "project", "head")
DEFAULT_STAGE = {"mobilenet_v2": "b3.dw", "mobilenet_v1": "b2.dw"}


_DEFAULTS = "_conv_trace_defaults"  # URL key -> its default in this view (left out of the URL)


def _group(layer) -> str:
    return {"stem": "standard", "expand": "expand", "depthwise": "depthwise", "pointwise": "pointwise",
            "project": "project", "head": "head"}[layer.stage]


def _shape(h: int, w: int, c: int) -> str:
    return f"{h}×{w}×{c}"


def _valid(key: str, valid: list, default) -> None:
    """Put a usable value in ``st.session_state[key]`` before its widget is drawn (a URL or an earlier layer may
    hold one that does not exist here); remember ``default`` so that :func:`_in_url` leaves it out of the URL."""
    st.session_state.setdefault(_DEFAULTS, {})[key] = default
    value = st.session_state.get(key, st.query_params.get(key))
    if isinstance(valid, range) and value is not None:
        try:
            value = int(value)
        except (TypeError, ValueError):
            value = None
        if value is not None:
            value = min(max(value, valid.start), valid.stop - 1)
    if value not in valid:
        value = default
    st.session_state[key] = value


def _in_url(**values) -> None:
    """Keep the view in the URL (``?model=…&stage=b4.dw&ch=81&y=10&x=12``) so a lecturer's link opens it;
    a value equal to its default (given to :func:`_valid`) stays out, as everywhere in the app.

    Written by hand rather than with ``bind="query-params"``: a bound selectbox stores its translated label
    (``stage=Depthwise+·+b4.dw+·+…``), and a bound number omits a value equal to its minimum, which this page
    does not use as the default."""
    defaults = st.session_state.get(_DEFAULTS, {})
    for key, value in values.items():
        if key in defaults and value == defaults[key]:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != str(value):
            st.query_params[key] = str(value)


def _clicked() -> None:
    """A click on the output map: its cell becomes the position."""
    state = st.session_state.get("trace_map")
    points = (state or {}).get("selection", {}).get("points", []) if state else []
    if points:
        st.session_state["y"] = int(round(points[0]["y"]))
        st.session_state["x"] = int(round(points[0]["x"]))


def _num(value: float) -> str:
    return f"{value:.6f}"


def _short(value: float) -> str:
    return f"{value:.4f}"


st.title(tr("conv_trace.title"))
st.markdown(tr("conv_trace.intro"))
lang = current_language()

available, missing = runnable_models(MODELS)
models = available or ["mobilenet_v2"]
left, right = st.columns([1, 2], gap="large")
with left:
    choice = image_source("trace")
    _valid("model", models, models[0])
    name = st.selectbox(tr("conv_trace.model"), models, key="model", format_func=DISPLAY_NAMES.__getitem__)
    not_installed(len(MODELS) - len(available) if available else 0)
    if choice is not None:
        st.image(choice.preview_uri(), caption=markdown_text(choice.name), width="stretch")

if choice is None:
    st.stop()

loaded = get_model(name)
try:
    maps = capture(choice, loaded)
except ExplainerError as err:
    show_error(err)
    st.stop()
network = T.network_of(maps)
layers = sorted(T.conv_layers(network), key=lambda layer: GROUPS.index(_group(layer)))
by_name = {layer.name: layer for layer in layers}

with right:
    untrained_banner(loaded, [problem for m, problem in missing.items() if m not in models])
    st.caption(tr("conv_trace.forward_note", ms=f"{maps.forward_ms:.0f}", source=source_text(loaded)))
    _valid("stage", list(by_name), DEFAULT_STAGE[name])

    def layer_label(stage: str) -> str:
        layer = by_name[stage]
        return t("conv_trace.layer_option", lang, group=t(f"conv_trace.group_{_group(layer)}", lang), name=stage,
                 inp=_shape(*layer.input), out=_shape(*layer.output))

    stage = st.selectbox(tr("conv_trace.layer"), list(by_name), key="stage", format_func=layer_label,
                         help=tr("conv_trace.layer_help"))
    layer = by_name[stage]
    _in_url(model=name, stage=stage)


@st.fragment
def position_view(maps: FeatureMaps, model, stage: str, lang: str) -> None:
    """Channel and position (controls or a click on the map), the trace, the count, the animation."""
    layer = T.conv_layer(T.network_of(maps), stage)
    record = next(r for r in maps.records if r.name == stage)
    c, h, w = record.shape
    _valid("ch", range(c), top_channels(record, 1)[0])
    _valid("y", range(h), h // 2)
    _valid("x", range(w), w // 2)
    controls = st.columns(3)
    channel = controls[0].number_input(tr("conv_trace.channel", high=c - 1), 0, c - 1, step=1, key="ch")
    y = controls[1].number_input(tr("conv_trace.y", high=h - 1), 0, h - 1, step=1, key="y",
                                 help=tr("conv_trace.position_help"))
    x = controls[2].number_input(tr("conv_trace.x", high=w - 1), 0, w - 1, step=1, key="x",
                                 help=tr("conv_trace.position_help"))
    _in_url(ch=int(channel), y=int(y), x=int(x))
    try:
        result = T.trace(maps, model, stage, int(channel), int(y), int(x))
    except ExplainerError as err:
        show_error(err)
        return
    plane = record.tensor[result.channel].numpy()

    map_col, steps_col = st.columns([2, 3], gap="medium")
    with map_col:
        title = tr("conv_trace.map_title", name=stage, channel=result.channel, h=h, w=w)
        st.plotly_chart(figs.output_map(plane, result.y, result.x, title, tr("conv_trace.map_hover")),
                        key="trace_map", on_select=_clicked, selection_mode=("points",), width="stretch")
        st.caption(tr("conv_trace.map_caption"))
    with steps_col:
        k, m = result.kernel_size, result.input_shape[0]
        if result.kind == "standard":
            st.markdown(tr("conv_trace.window_standard", k=k, m=m))
        elif result.kind == "depthwise":
            st.markdown(tr("conv_trace.window_depthwise", k=k, channel=result.channel))
        else:
            st.markdown(tr("conv_trace.window_pointwise", m=m))
        if k == 1:  # a 1×1 convolution is a dot product over the channels: one row per channel
            contrib = T.channel_contributions(result)
            st.plotly_chart(figs.channel_bars(contrib, m, {
                "channel": tr("conv_trace.dot_channel"), "rest": tr("conv_trace.dot_rest"),
                "total": tr("conv_trace.dot_total"), "x": tr("conv_trace.dot_x")}), key="trace_steps",
                width="stretch")
            if contrib.rest_count:
                st.caption(tr("conv_trace.dot_rest_note", n=contrib.rest_count, top=len(contrib.channels),
                              pos=_short(contrib.rest_positive), neg=_short(contrib.rest_negative),
                              rest=_short(contrib.rest_sum)))
        else:
            shape = "×".join(str(d) for d in (k, k, len(result.input_channels)))
            titles = [tr("conv_trace.panel_window", shape=shape), tr("conv_trace.panel_kernel"),
                      tr("conv_trace.panel_products")]
            hover = [tr("conv_trace.hover_window"), tr("conv_trace.hover_kernel"), tr("conv_trace.hover_products")]
            st.plotly_chart(figs.step_panels(result, titles, tr("conv_trace.pad"), hover), key="trace_steps",
                            width="stretch")
        if result.padded_positions:
            st.caption(tr("conv_trace.padding_note", n=result.padded_positions, kk=k * k,
                          h=result.input_shape[1], w=result.input_shape[2]))
        st.caption(tr("conv_trace.fold_bn") if result.batch_norm else tr("conv_trace.fold_none"))

    act = tr(f"conv_trace.act_{result.activation}")
    # two rows of three: a row of six cut values such as "none (linear)" at presenter size
    cells = st.columns(3)
    with result_bar("conv_trace"):  # on a phone: sticky while the map above is on screen (pages/readable.py)
        cells += st.columns(3)
    cells[0].metric(tr("conv_trace.m_sum"), _short(result.sum_of_products))
    cells[1].metric(tr("conv_trace.m_bias"), _short(result.bias))
    cells[2].metric(tr("conv_trace.m_pre"), _short(result.pre_activation))
    cells[3].metric(tr("conv_trace.m_act"), act)
    cells[4].metric(tr("conv_trace.m_output"), _short(result.output))
    cells[5].metric(tr("conv_trace.m_reference"), _short(result.reference_output))
    st.markdown(tr("conv_trace.equation", sum=_num(result.sum_of_products), bias=_num(result.bias),
                   pre=_num(result.pre_activation), act=act, out=_num(result.output),
                   ref=_num(result.reference_output), err=f"{result.abs_error:.1e}"))
    if result.activation == "none":
        st.info(tr("conv_trace.linear_note", value=_num(result.output)))
    elif result.activation == "relu6" and result.pre_activation < 0:
        st.caption(tr("conv_trace.clipped_low", value=_num(result.pre_activation)))
    elif result.activation == "relu6" and result.pre_activation > 6:
        st.caption(tr("conv_trace.clipped_high", value=_num(result.pre_activation)))
    st.plotly_chart(figs.running_sum(result, {
        "running": tr("conv_trace.sum_running"), "bias": tr("conv_trace.sum_bias"),
        "activation": tr("conv_trace.sum_activation"), "reference": tr("conv_trace.sum_reference"),
        "x": tr("conv_trace.sum_x")}), key="trace_sum", width="stretch")

    st.subheader(tr("conv_trace.count_title"))
    formula = {"standard": f"{k}·{k}·{m}", "depthwise": f"{k}·{k}", "pointwise": f"{m}"}[result.kind]
    st.markdown(tr("conv_trace.count", k=result.multiplications, formula=formula, c=c, h=h, w=w,
                   outputs=fmt_int(result.outputs), macs=fmt_int(layer.macs)))
    link = T.cost_link(layer)
    query = "&".join(f"{key}={value}" for key, value in link.items())
    label = tr("conv_trace.cost_link", **link).replace("_", "\\_")  # D_K, not an italic K
    st.markdown(f"[{label}](cost?{query})")

    st.subheader(tr("conv_trace.compare_title"))
    pair = T.comparison(T.network_of(maps), stage)
    if pair is None:
        st.markdown(tr("conv_trace.compare_none"))
    else:
        kk, n = pair.kernel_size ** 2, pair.out_channels
        if pair.depthwise is None:
            st.markdown(tr("conv_trace.compare_stem", k=pair.kernel_size, m=pair.in_channels, n=n))
        else:
            st.markdown(tr("conv_trace.compare_pair", dw=pair.depthwise, pw=pair.pointwise, k=pair.kernel_size,
                           m=pair.in_channels, n=n))
        per_out = pair.separable_per_output
        per_out_text = f"{per_out.numerator}" if per_out.denominator == 1 else f"{float(per_out):,.4g}"
        st.markdown("- " + tr("conv_trace.compare_standard", k=pair.kernel_size, n=n,
                              per_out=fmt_int(pair.standard_per_output), std=fmt_int(pair.standard_per_position)))
        st.markdown("- " + tr("conv_trace.compare_separable", n=n, dw=fmt_int(kk * pair.in_channels),
                              pw=fmt_int(pair.in_channels * n), sep=fmt_int(pair.separable_per_position),
                              per_out=per_out_text))
        st.markdown("- " + tr("conv_trace.compare_ratio", sep=fmt_int(pair.separable_per_position),
                              std=fmt_int(pair.standard_per_position), n=n, kk=kk, ratio=f"{float(pair.ratio):.4f}",
                              times=f"{1 / float(pair.ratio):.1f}"))

    st.subheader(tr("conv_trace.anim_title"))
    band = T.slide_band(maps, result, T.main_input_channel(result))
    labels = {"input": tr("conv_trace.anim_input", channel=band.input_channel),
              "output": tr("conv_trace.anim_output", channel=result.channel),
              "play": tr("conv_trace.anim_play"), "pause": tr("conv_trace.anim_pause"),
              "step": tr("conv_trace.anim_step")}
    st.plotly_chart(figs.slide_animation(band, k, result.x, result.input_shape[1:], labels), key="trace_anim",
                    width="stretch")
    st.caption(tr("conv_trace.anim_caption", y=result.y, s=result.stride))
    if len(result.input_channels) > 1:
        st.caption(tr("conv_trace.anim_channel_note", channel=band.input_channel, m=m))


position_view(maps, loaded.model, stage, lang)
