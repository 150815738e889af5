"""Page "Compression": quantize MobileNetV2 to int8 live — the win (smaller, faster) and the trap (depthwise layers)."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from explainer.errors import ExplainerError
from explainer.figures.classify import top_k_bar
from explainer.figures.quant import COLORS, bars, sensitivity_bars, weight_view
from explainer.i18n import t
from explainer.labels import imagenet_label
from explainer.quant.compare import MAX_CALIBRATION_PHOTOS, calibration_copy
from explainer.quant.int8 import SCHEMES
from explainer.quant.ptq import OBSERVERS
from explainer.samples import available_samples, sample_bytes
from pages.caches import quantize as cached
from pages.image_input import image_source
from pages.readable import result_bar
from pages.resources import get_model, untrained_banner
from pages.setup_notes import missing_file
from pages.uploads import kept_copies
from pages.ui import current_language, show_error, tr

MODEL = "mobilenet_v2"
#: At most this many uploaded calibration photos are used (calibration time grows with them).
MAX_CALIBRATION_UPLOADS = MAX_CALIBRATION_PHOTOS


# ------------------------------------------------------------------ the page

def _url_choice(key: str, options, default):
    """Start the widget ``key`` from ``?key=<code>`` in the URL (stable codes, not translated labels)."""
    if key not in st.session_state:
        raw = st.query_params.get(key)
        codes = {str(o): o for o in options}
        st.session_state[key] = codes.get(raw, default) if raw is not None else default


def _to_url(key: str, value, default) -> None:
    """Write ``?key=<code>``; a value equal to its default stays out of the URL (as everywhere in the app)."""
    if value == default:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != str(value):
        st.query_params[key] = str(value)


lang = current_language()
st.title(tr("quant.title"))
st.markdown(tr("quant.intro"))

loaded = get_model(MODEL)
untrained_banner(loaded)

# The view-defining choices live in the URL as stable codes (?scheme=per-tensor&obs=minmax&cle=1&cal=samples),
# so a lecturer's link opens the same view in either language.
CALIBRATION_SOURCES = ("samples", "uploads")
_url_choice("scheme", SCHEMES, SCHEMES[0])
_url_choice("obs", OBSERVERS, OBSERVERS[0])
_url_choice("cal", CALIBRATION_SOURCES, CALIBRATION_SOURCES[0])
if "cle" not in st.session_state:
    st.session_state["cle"] = st.query_params.get("cle") == "1"
c1, c2, c3, c4 = st.columns([1.1, 1.1, 1.4, 1.1])
scheme = c1.radio(tr("quant.scheme"), SCHEMES, key="scheme", horizontal=True,
                  format_func=lambda s: t(f"quant.scheme_{s}", lang), help=tr("quant.scheme_help"))
observer = c2.radio(tr("quant.observer"), OBSERVERS, key="obs", horizontal=True,
                    format_func=lambda s: t(f"quant.observer_{s}", lang), help=tr("quant.observer_help"))
equalize = c3.toggle(tr("quant.equalize"), key="cle", help=tr("quant.equalize_help"))
calibrate_on = c4.radio(tr("quant.calibration"), CALIBRATION_SOURCES, key="cal",
                        horizontal=True, format_func=lambda s: t(f"quant.calibration_{s}", lang))
for url_key, url_value, url_default in (("scheme", scheme, SCHEMES[0]), ("obs", observer, OBSERVERS[0]),
                                        ("cle", int(bool(equalize)), 0), ("cal", calibrate_on, CALIBRATION_SOURCES[0])):
    _to_url(url_key, url_value, url_default)

if calibrate_on == "uploads":
    # The uploads are taken in once: each becomes a small lossless copy at the size preprocessing crops from
    # (explainer.quant.compare.calibration_copy: the same tensors as the originals), and the originals leave
    # the server (pages/uploads.py). Up to MAX_CALIBRATION_UPLOADS copies stay in the session, ~100-150 KB each.
    files, problems = kept_copies("quant_cal_upload", tr("quant.calibration_upload"),
                                  tr("quant.calibration_upload_help", n=MAX_CALIBRATION_UPLOADS),
                                  MAX_CALIBRATION_UPLOADS, lambda data, name: calibration_copy(data, name, loaded))
    if not files:
        if problems:
            show_error(ExplainerError("quant.no_calibration"))
        else:
            st.info(tr("quant.calibration_waiting"))
        st.stop()
else:
    files = tuple((key, sample_bytes(key)[0]) for key in available_samples())
digest = cached.files_digest(files)
batch, cal_kept, cal_skipped = cached.calibration(digest, files, loaded.weights_id, loaded,
                                                  copies=calibrate_on == "uploads")
# The cache is shared by content: the file names shown are this session's own (another student may have
# uploaded the same bytes under other names).
cal_names = [files[i][0] for i in cal_kept]
for i, err in cal_skipped:
    show_error(type(err)(err.key, **{**err.params, "name": files[i][0]}))
if batch is None:
    show_error(ExplainerError("quant.no_calibration"))
    st.stop()

settings_key = (scheme, observer, bool(equalize), digest, loaded.weights_id)
with st.spinner(tr("quant.quantizing", n=len(cal_names))):
    quantized, latency, fp32_bytes, int8_bytes = cached.quantized(scheme, observer, bool(equalize), digest,
                                                                  loaded.weights_id, loaded, batch)
google_model, google_error, google_ms = cached.google()
st.caption(tr("quant.made", n=quantized.calibration_images, seconds=f"{quantized.seconds:.1f}",
              engine=quantized.engine, threads=latency.threads))

# --- the lesson first: the same model quantized with one scale per tensor and with one per channel
st.subheader(tr("quant.h_lesson"))
st.markdown(tr("quant.lesson_intro"))


def _lesson() -> None:
    from explainer.quant.layers import list_layers

    layers = list_layers(quantized.fused)
    first_dw = next(info for info in layers if info.kind == "depthwise")
    view = cached.layer_view(settings_key, first_dw.name, quantized.fused, batch, first_dw)
    sides = st.columns(2, gap="large")
    for side, lesson_scheme in zip(sides, ("per-tensor", "per-channel")):
        with st.spinner(tr("quant.quantizing", n=len(cal_names))):
            model, *_ = cached.quantized(lesson_scheme, observer, bool(equalize), digest, loaded.weights_id, loaded,
                                         batch)
        key = ("lesson", lesson_scheme, observer, bool(equalize), digest, loaded.weights_id)  # no Google column
        agree, _ = cached.sample_agreement(key, digest, loaded, model.model, None)
        with side:
            st.markdown(f"**{t(f'quant.lesson_{lesson_scheme}', lang)}**")
            a, b = st.columns(2)
            a.metric(tr("quant.lesson_agree"), f"{agree.top1_agreement:.0%}", help=tr("quant.agreement_help",
                                                                                      n=agree.n))
            b.metric(tr("quant.lesson_sqnr", layer=first_dw.name), f"{view.sqnr_db[lesson_scheme]:.1f} dB",
                     help=tr("quant.sqnr_help"))
    st.caption(tr("quant.lesson_caption"))


_lesson()

# --- sizes and times
st.subheader(tr("quant.h_win"))
names = [tr("quant.m_fp32"), tr("quant.m_int8")]
sizes = [fp32_bytes / 2**20, int8_bytes / 2**20]
times = [latency.fp32_ms, latency.int8_ms]
colors = [COLORS["fp32"], COLORS["int8"]]
if google_model is not None:
    names.append(tr("quant.m_google"))
    sizes.append(google_model.size_bytes / 2**20)
    times.append(google_ms)
    colors.append(COLORS["google"])
with result_bar("quantize"):  # on a phone: sticky while the settings above are on screen (pages/readable.py)
    m1, m2, m3 = st.columns(3)
m1.metric(tr("quant.size_ratio"), f"{int8_bytes / fp32_bytes:.2f}×", help=tr("quant.size_help"))
m2.metric(tr("quant.speedup"), f"{latency.fp32_ms / latency.int8_ms:.1f}×", help=tr("quant.speed_help"))
left, right = st.columns(2)
left.plotly_chart(bars(names, sizes, colors, title=tr("quant.size_title"), unit="MB", digits=2), width="stretch",
                  key="quant_sizes")
right.plotly_chart(bars(names, times, colors, title=tr("quant.time_title", runs=latency.runs), unit="ms"), width="stretch",
                   key="quant_times")
if google_error is not None:  # one line for students; what to set up for the lecturer (presenter mode)
    missing_file("setup.google_missing", google_error)
# Honest about the times: on this x86 server int8 may well be slower than float32.
slower = latency.int8_ms >= latency.fp32_ms or (google_model is not None and google_ms >= latency.fp32_ms)
st.markdown(tr("quant.time_note_slower", engine=quantized.engine) if slower else tr("quant.time_note"))

# --- agreement on the sample photos
agreement, google_agreement = cached.sample_agreement(settings_key, digest, loaded, quantized.model, google_model)
m3.metric(tr("quant.agreement"), f"{agreement.top1_agreement:.0%}",
          help=tr("quant.agreement_help", n=agreement.n))
st.subheader(tr("quant.h_samples"))
st.caption(tr("quant.samples_note_samples") if calibrate_on == "samples" else tr("quant.samples_note_uploads"))
google_rows = {r.file: r for r in google_agreement.rows} if google_agreement is not None else {}
rows = []
for r in agreement.images:
    row = {tr("quant.col_photo"): t(f"images.sample_{r.file}", lang), tr("quant.col_fp32"): imagenet_label(r.fp32_index, lang),
           tr("quant.col_int8"): imagenet_label(r.int8_indices[0], lang), tr("quant.col_same"): "✓" if r.agrees else "✗",
           tr("quant.col_in_top5"): "✓" if r.fp32_in_int8_top5 else "✗"}
    if google_rows:
        g = google_rows[r.file]
        row[tr("quant.col_google")] = imagenet_label(g.google_indices[0], lang) if g.google_indices else "—"
    rows.append(row)
st.dataframe(rows, hide_index=True, width="stretch")

# --- the student's photo
st.subheader(tr("quant.h_photo"))
photo_col, result_col = st.columns([1, 2], gap="large")
with photo_col:
    choice = image_source("quant")
    if choice is not None:
        st.image(choice.preview_uri(), width="stretch")
if choice is not None:
    fp32, int8, google = cached.predictions(choice.digest, settings_key, choice.image, loaded, quantized.model,
                                            google_model)
    # ImageNet names in the user's language (the classifier's own labels are English), as on Classify
    fp32, int8 = ([replace(p, label=imagenet_label(p.index, lang)) for p in top] for top in (fp32, int8))
    if google is not None:
        google = [replace(p, label=imagenet_label(p.index, lang)) for p in google]
    with result_col:
        columns = st.columns(3 if google is not None else 2)
        columns[0].plotly_chart(top_k_bar(fp32, title=tr("quant.m_fp32"), prob_label=tr("classify.prob_axis"), height=280),
                                width="stretch", key="quant_top_fp32")
        columns[1].plotly_chart(top_k_bar(int8, title=tr("quant.m_int8"), prob_label=tr("classify.prob_axis"), height=280),
                                width="stretch", key="quant_top_int8")
        if google is not None:
            columns[2].plotly_chart(top_k_bar(google, title=tr("quant.m_google"), prob_label=tr("classify.prob_axis"),
                                              height=280), width="stretch", key="quant_top_google")

# --- the lesson: one layer
st.subheader(tr("quant.h_layer"))
st.markdown(tr("quant.layer_intro"))


@st.fragment
def layer_section() -> None:
    from explainer.quant.layers import list_layers

    layers = list_layers(quantized.fused)
    default = next(i for i, info in enumerate(layers) if info.kind == "depthwise")
    _url_choice("layer", range(len(layers)), default)  # ?layer=<index>, 0 = the stem
    index = st.selectbox(tr("quant.layer"), range(len(layers)), key="layer",
                         format_func=lambda i: layers[i].label)
    _to_url("layer", index, default)
    info = layers[index]
    view = cached.layer_view(settings_key, info.name, quantized.fused, batch, info)
    a, b, c = st.columns(3)
    a.metric(tr("quant.sqnr_tensor"), f"{view.sqnr_db['per-tensor']:.1f} dB", help=tr("quant.sqnr_help"))
    b.metric(tr("quant.sqnr_channel"), f"{view.sqnr_db['per-channel']:.1f} dB", help=tr("quant.sqnr_help"))
    ratio = view.stats.range_ratio
    c.metric(tr("quant.range_ratio"), f"{ratio:.3g}", help=tr("quant.range_ratio_help"))
    st.plotly_chart(weight_view(view.stats, hist_title=tr("quant.hist_title"), ranges_title=tr("quant.ranges_title"),
                                value_label=tr("quant.weight_value"), count_label=tr("quant.count"),
                                channel_label=tr("quant.channel"), tensor_step_label=tr("quant.tensor_step")),
                    width="stretch", key="quant_layer_fig")


layer_section()

# --- which layers hurt
st.subheader(tr("quant.h_sensitivity"))
st.markdown(tr("quant.sensitivity_intro"))
if st.button(tr("quant.sensitivity_run"), key="quant_sens"):
    st.session_state["quant_sens_on"] = True
if st.session_state.get("quant_sens_on"):
    with st.spinner(tr("quant.sensitivity_running")):
        drift = cached.sensitivity(settings_key, digest, quantized.fused, batch)
    st.plotly_chart(sensitivity_bars(drift, {s: t(f"quant.scheme_{s}", lang) for s in drift},
                                     title=tr("quant.sensitivity_title"), axis_label=tr("quant.sensitivity_axis")),
                    width="stretch", key="quant_sens_fig")
    worst = min(drift["per-tensor"], key=lambda r: r.logits_sqnr_db)
    st.caption(tr("quant.sensitivity_worst", layer=worst.info.label, db=f"{worst.logits_sqnr_db:.1f}"))

# --- pruning: channels really removed (its own module, pages/prune_section.py)
from pages.prune_section import pruning_section  # noqa: E402

pruning_section(loaded, batch, digest, calibrate_on, choice)
