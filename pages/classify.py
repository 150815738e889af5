"""Page "Classify": a photo, a MobileNet, its top-5 ImageNet classes, and what that cost."""

from __future__ import annotations

import streamlit as st

from explainer.safe_text import markdown_text
from explainer.classify import REFERENCE_RUNS, Classification
from explainer.labels import imagenet_label
from explainer.models import MODEL_NAMES
from pages.caches.classify import classified, cost_of, top_chart
from pages.image_input import image_source
from pages.resources import get_model, model_choice, source_text, untrained_banner
from pages.setup_notes import for_lecturer, not_installed, runnable_models
from explainer.i18n import t
from pages.ui import current_language, fmt_millions, tr
from pages.url_state import coded

TOP = 5


def _chart(choice, loaded, result: Classification, title: str, height: int = 300):
    return top_chart(choice, loaded, result, current_language(), title, tr("classify.prob_axis"), height)


st.title(tr("classify.title"))
st.markdown(tr("classify.intro"))

lang = current_language()
left, right = st.columns([1, 2], gap="large")
with left:
    choice = image_source("classify")
    view = st.radio(
        tr("classify.view"), ("single", "compare"), horizontal=True,
        format_func=lambda v: t(f"classify.view_{v}", lang), **coded("view", ("single", "compare"), key="classify_view"),
    )
    if view == "single":
        name, not_offered = model_choice(tr("classify.model"), key="classify_model")
    if choice is not None:
        st.image(choice.preview_uri(), caption=tr("classify.photo_caption", name=markdown_text(choice.name), width=choice.image.width,
                                          height=choice.image.height), width="stretch")

if choice is not None and view == "single":
    loaded = get_model(name)
    with right:
        untrained_banner(loaded, not_offered)
        result, fed_uri, crop = classified(choice, loaded, TOP)
        macs, params, cost_source = cost_of(loaded)
        resize = int(loaded.transform.resize_size[0])
        m1, m2, m3 = st.columns(3)
        m1.metric(tr("classify.inference", runs=REFERENCE_RUNS), f"{loaded.reference_ms:.1f} ms",
                  help=tr("classify.inference_help", crop=crop, runs=REFERENCE_RUNS))
        m2.metric(tr("classify.macs"), fmt_millions(macs),
                  help=tr(f"classify.cost_help_{cost_source}", size=loaded.input_size))
        m3.metric(tr("classify.params"), fmt_millions(params, 2),
                  help=tr(f"classify.cost_help_{cost_source}", size=loaded.input_size))
        st.caption(tr("classify.this_photo", preprocess=f"{result.preprocess_ms:.1f}",
                      forward=f"{result.forward_ms:.1f}") + " · "
                   + tr("classify.weights_source", source=source_text(loaded)))
        chart, fed = st.columns([3, 2])
        with chart:
            st.plotly_chart(_chart(choice, loaded, result, tr("classify.top_title", k=TOP)), width="stretch",
                            key="classify_top")
        with fed:
            st.markdown(f"**{tr('classify.fed')}**")
            st.image(fed_uri, width="stretch")
            st.caption(tr("classify.fed_caption", crop=crop, resize=resize))
        if st.toggle(tr("classify_cam.toggle"), key="classify_cam", help=tr("classify_cam.help")):
            from explainer.images import data_uri, jpeg_bytes
            from explainer.transfer.cam import imagenet_cam, overlay

            looked = imagenet_cam(choice.image, loaded, result.predictions[0].index)
            st.image(data_uri(jpeg_bytes(overlay(looked.input_image, looked.cam, 0.5))), width=320,
                     caption=tr("classify_cam.caption", label=imagenet_label(result.predictions[0].index, lang)))

elif choice is not None:
    # Only the models this server can run with ImageNet weights (a download, when allowed, happens once).
    available, problems = runnable_models(MODEL_NAMES)
    compared = []  # (loaded model, result, macs, params)
    for model_name in available:
        loaded = get_model(model_name)
        if loaded.pretrained:
            macs, params, _ = cost_of(loaded)
            compared.append((loaded, classified(choice, loaded, TOP)[0], macs, params))
        elif loaded.problem is not None:
            problems[model_name] = loaded.problem
    with right:
        st.markdown(tr("classify.compare_intro"))
        if not compared:
            st.info(tr("classify.compare_none"))
        else:
            rows = [
                {
                    tr("classify.col_model"): loaded.display_name,
                    tr("classify.col_top1"): imagenet_label(result.predictions[0].index, lang),
                    tr("classify.col_prob"): round(result.predictions[0].prob, 4),
                    tr("classify.col_macs"): round(macs / 1e6, 1),
                    tr("classify.col_params"): round(params / 1e6, 2),
                    tr("classify.col_time"): round(loaded.reference_ms, 1),
                    tr("classify.col_input"): f"{loaded.input_size}×{loaded.input_size}",
                }
                for loaded, result, macs, params in compared
            ]
            st.dataframe(rows, hide_index=True, width="stretch", column_config={
                tr("classify.col_time"): st.column_config.NumberColumn(
                    help=tr("classify.col_time_help", runs=REFERENCE_RUNS)),
            })
            st.caption(tr("classify.tradeoff"))
        not_installed(len(MODEL_NAMES) - len(compared) if compared else 0)
        for_lecturer(list(problems.values()))
    if compared:
        for column, (loaded, result, _, _) in zip(st.columns(len(compared)), compared):
            with column:
                st.plotly_chart(_chart(choice, loaded, result, loaded.display_name, height=280), width="stretch",
                                key=f"classify_compare_{loaded.name}")
