"""Page "Export to a phone": the student's MobileNetV2 as an ExecuTorch .pte (XNNPACK), run here beside eager."""

from __future__ import annotations

import hashlib

import streamlit as st

from explainer.deploy import pte as deploy
from explainer.errors import ExplainerError
from explainer.figures.classify import top_k_bar
from explainer.i18n import t
from explainer.images import working_copy
from explainer.labels import imagenet_label
from pages import url_state
from pages.caches import export as cached
from pages.image_input import image_source
from pages.setup_notes import for_lecturer
from pages.uploads import kept_copies
from pages.ui import current_language, show_error, tr

MODEL = "mobilenet_v2"
#: α and resolutions offered: the Architectures page's values inside MobileNetV2's published range.
WIDTHS = [0.35, 0.5, 0.75, 1.0, 1.25, 1.3, 1.4]
RESOLUTIONS = [96, 112, 128, 160, 192, 224]
DEFAULT_WIDTH, DEFAULT_RESOLUTION = 1.0, 224
CALIBRATION_SOURCES = ("samples", "uploads")
#: Seconds between two looks at a running export (the progress bar's refresh).
POLL_SECONDS = 1.0

lang = current_language()
st.title(tr("export.title"))
st.markdown(tr("export.intro"))
if not deploy.executorch_available():
    st.info(tr("errors.export.no_executorch"))
    st.stop()

# The Architectures page shares the keys w and res (?w=0.5&res=160 opens both pages on the same network); a
# value this page does not offer (α = 2 there) falls back to the default here.
for key, default, options in (("w", DEFAULT_WIDTH, WIDTHS), ("res", DEFAULT_RESOLUTION, RESOLUTIONS)):
    if key in st.session_state and st.session_state[key] not in options:
        st.session_state[key] = default
c1, c2, c3, c4 = st.columns([2, 2, 1.3, 1.5])
width = c1.select_slider(tr("export.width"), options=WIDTHS, value=DEFAULT_WIDTH, key="w", bind="query-params",
                         help=tr("export.width_help"))
resolution = c2.select_slider(tr("export.resolution"), options=RESOLUTIONS, value=DEFAULT_RESOLUTION, key="res",
                              bind="query-params", help=tr("export.resolution_help"))
dtype = c3.radio(tr("export.dtype"), deploy.DTYPES, horizontal=True, help=tr("export.dtype_help"),
                 format_func=lambda d: t(f"export.dtype_{d}", lang), **url_state.coded("dtype", deploy.DTYPES))
calibrate_on = "samples"
if dtype == "int8":
    calibrate_on = c4.radio(tr("export.calibration"), CALIBRATION_SOURCES, horizontal=True,
                            format_func=lambda s: t(f"export.calibration_{s}", lang),
                            **url_state.coded("cal", CALIBRATION_SOURCES))
settings = deploy.check_settings(MODEL, width, resolution, dtype)

# --- the network and its weights
loaded = None
if settings.pretrained_possible:
    from pages.resources import get_model

    loaded = get_model(MODEL)
weights_id = loaded.weights_id if loaded is not None and loaded.pretrained else "untrained"
network = cached.network(settings.width, settings.resolution, weights_id, settings, loaded)
if network.pretrained:
    st.caption(tr("export.weights_pretrained", weights=network.weights_id))
elif settings.pretrained_possible:
    st.warning(tr("export.weights_missing"), icon="⚠️")
    for_lecturer([loaded.problem] if loaded is not None and loaded.problem is not None else [])
else:
    st.warning(tr("export.weights_untrained"), icon="⚠️")

names, photos = cached.sample_photos(settings.resolution, network.weights_id, network)
calibration, digest = None, ""
if dtype == "int8" and calibrate_on == "uploads":
    # Taken in once as lossless working-size copies (any resolution preprocesses them exactly as the originals);
    # the originals leave the server at once (pages/uploads.py).
    files, problems = kept_copies("export_cal_upload", tr("export.calibration_upload"),
                                  tr("export.calibration_upload_help", n=deploy.MAX_CALIBRATION),
                                  deploy.MAX_CALIBRATION, working_copy)
    if not files:
        if problems:
            show_error(ExplainerError("quant.no_calibration"))
        else:
            st.info(tr("export.calibration_waiting"))
        st.stop()
    digest = hashlib.sha256(b"".join(hashlib.sha256(data).digest() for _, data in files)).hexdigest()
    calibration, skipped = cached.uploaded_photos(digest, settings.resolution, network.weights_id, files, network,
                                                  copies=True)
    for err in skipped:
        show_error(err)
    if calibration is None:
        show_error(ExplainerError("quant.no_calibration"))
        st.stop()
key = deploy.cache_key(settings, network.weights_id, digest)
exports = deploy.exports()


def _compute(progress):
    return deploy.export_and_measure(network, settings, photos, names, calibration, progress)


# --- the export: on the button only, in the background, once per key for the whole server
result = exports.peek(key)
if result is None:
    job = exports.job(key)
    if st.button(tr("export.button"), type="primary", key="export_go", help=tr("export.button_help")):
        job = exports.submit(key, _compute)
    if job is not None and job.finished and job.error is not None:
        error = job.error
        show_error(error if isinstance(error, ExplainerError) else ExplainerError("export.failed", detail=str(error)))
    elif job is not None and not job.finished:

        @st.fragment(run_every=POLL_SECONDS)
        def progress_panel() -> None:
            current = exports.job(key)
            if current is None or current.finished:
                st.rerun(scope="app")
            st.progress(current.fraction, text=tr(f"export.stage_{current.stage}") if current.stage in deploy.STAGES
                        else tr("export.waiting"))

        progress_panel()
        st.stop()
    else:
        st.caption(tr("export.press"))
        st.stop()
    result = exports.peek(key)
    if result is None:
        st.stop()

# --- the result
m, low, exported = result.measurement, result.exported.lowering, result.exported
st.subheader(tr("export.h_result"))
a, b, c, d = st.columns(4)
a.metric(tr("export.m_size"), f"{exported.size_bytes / 2**20:.2f} MB", help=tr("export.m_size_help"))
faster = m.eager_latency_ms >= m.latency_ms
ratio = m.eager_latency_ms / m.latency_ms if faster else m.latency_ms / m.eager_latency_ms
b.metric(tr("export.m_time"), f"{m.latency_ms:.1f} ms", help=tr("export.m_time_help"), delta_color="off",
         delta=tr("export.m_time_faster" if faster else "export.m_time_slower", ratio=f"{ratio:.1f}",
                  eager=f"{m.eager_latency_ms:.1f}"), delta_arrow="off")
c.metric(tr("export.m_diff"), f"{m.max_abs_diff:.2g}", help=tr("export.m_diff_help"))
d.metric(tr("export.m_agree"), f"{m.agreeing} / {len(m.photos)}", help=tr("export.m_agree_help"))
st.caption(tr("export.done", seconds=f"{exported.seconds:.1f}", runs=m.runs, threads=m.threads,
              rt_threads=m.runtime_threads))
st.download_button(tr("export.download"), data=exported.pte, file_name=settings.file_name(),
                   mime="application/octet-stream", key="export_download", help=tr("export.download_help"))

# --- why it is faster (read from the programs)
st.subheader(tr("export.h_why"))
lines = [tr("export.why_intro"),
         "- " + tr("export.why_delegated", xnn=low.delegated_nodes, calls=low.delegate_calls, portable=low.portable_count)]
if low.folded_batch_norms:
    lines.append("- " + tr("export.why_folded", bn=low.folded_batch_norms))
dtypes = ", ".join(f"{name} × {count}" for name, count in sorted(low.weight_dtypes.items()))
if low.fused_activations:
    (lo, hi), _ = low.clamp_ranges.most_common(1)[0]
    lines.append("- " + tr("export.why_fused", fused=low.fused_activations, low=f"{lo:g}", high=f"{hi:g}"))
if low.xnn_nodes.get("XNNClamp"):
    lines.append("- " + tr("export.why_int8", clamps=low.xnn_nodes["XNNClamp"], dtypes=dtypes or "—"))
elif dtypes:
    lines.append("- " + tr("export.why_weights", dtypes=dtypes))
if low.xnn_nodes.get("XNNStaticTranspose"):
    lines.append("- " + tr("export.why_layout", transposes=low.xnn_nodes["XNNStaticTranspose"]))
st.markdown("\n".join(lines))
left, right = st.columns(2)
left.dataframe([{tr("export.col_op"): op, tr("export.col_before"): n} for op, n in sorted(low.before.items())],
               hide_index=True, width="stretch")
right.dataframe([{tr("export.col_op"): op.removeprefix("XNN"), tr("export.col_after"): n}
                 for op, n in sorted(low.xnn_nodes.items())], hide_index=True, width="stretch")

# --- the sample photos
st.subheader(tr("export.h_photos"))
st.dataframe([{tr("export.col_photo"): t(f"images.sample_{r.name}", lang), tr("export.col_eager"): imagenet_label(r.eager_index, lang),
               tr("export.col_pte"): imagenet_label(r.pte_index, lang), tr("export.col_same"): "✓" if r.agrees else "✗"}
              for r in m.photos], hide_index=True, width="stretch")

# --- the student's photo
st.subheader(tr("export.h_photo"))
photo_col, result_col = st.columns([1, 2], gap="large")
with photo_col:
    choice = image_source("export")
    if choice is not None:
        st.image(choice.preview_uri(), width="stretch")
if choice is not None:
    with result_col:
        if not result.pretrained:
            st.caption(tr("export.photo_untrained"))
        top = cached.photo_top5(choice.digest, key, choice.image, network, result.runner)
        st.plotly_chart(top_k_bar(top, title=tr("export.top_title"), prob_label=tr("classify.prob_axis"), height=280,
                                  names=[imagenet_label(p.index, lang) for p in top]),
                        width="stretch", key="export_top5")
