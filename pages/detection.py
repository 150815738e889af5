"""The detection part of the Applications page (called by ``pages/segment.py``): detect objects on the chosen photo
with int8 SSD-MobileNetV1 on LiteRT, how SSD finds its boxes (numbers read from the model file), and one photo
through classification, detection and segmentation, timed."""

from __future__ import annotations

import os

import streamlit as st

from explainer.catalogue import WEIGHTS_DIR_ENV, missing
from explainer.detect.detector import DEFAULT_THRESHOLD, load_detector, where_is
from explainer.detect.labels import coco_names
from explainer.errors import AssetError, ExplainerError
from explainer.figures.detect import draw_boxes, feature_maps_figure, funnel_figure
from explainer.images import data_uri, jpeg_bytes
from pages.caches import detect as cached
from pages.downloads import download
from pages.setup_notes import missing_file
from pages.ui import fmt_millions, show_error, tr

#: What the progress bar names: the zip TensorFlow publishes the model and its label map in.
ZIP_NAME = "coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.zip"


def detector():
    """(detector, reference ms) or ``None`` with the reason shown; downloads once with a progress bar."""
    weights_dir = os.environ.get(WEIGHTS_DIR_ENV, "").strip()
    try:
        places = where_is(weights_dir or None)
        if any(p.kind == "download" for p in places):
            problem = download(ZIP_NAME, lambda progress: load_detector(weights_dir or None, progress, download=True))
            if problem is not None:
                raise problem
            places = where_is(weights_dir or None)
        absent = [p for p in places if p.kind == "missing"]
        if absent:  # not on this server: one line for students, every missing file for the lecturer
            missing_file("setup.detector_missing", [missing(p.asset) for p in absent])
            return None
        with st.spinner(tr("segment.loading", model="SSD-MobileNetV1")):
            return cached.load(weights_dir, "+".join(p.kind for p in places))
    except AssetError as err:  # not on this server: one line for students, the set-up for the lecturer
        missing_file("setup.detector_missing", err)
        return None
    except ExplainerError as err:
        show_error(err)
        return None


@st.fragment
def boxes_view(data: dict, labels: tuple[str, ...], reference_ms: float, size_bytes: int, lang: str) -> None:
    """The part that changes often (the threshold): reruns alone, from the cached detections — never invokes."""
    result = data["result"]
    shown_image = data["preview"]
    threshold = st.slider(tr("detect.threshold"), 0.05, 0.95, DEFAULT_THRESHOLD, step=0.05, key="score",
                          bind="query-params", help=tr("detect.threshold_help"))  # a lecturer's link keeps it
    found = result.above(threshold)
    scale_x, scale_y = shown_image.width / result.size[0], shown_image.height / result.size[1]
    names = [d.name(labels, lang) for d in found]
    boxed = draw_boxes(shown_image, [(d.box[0] * scale_x, d.box[1] * scale_y, d.box[2] * scale_x, d.box[3] * scale_y)
                                     for d in found],
                       [f"{n} {d.score:.2f}" for n, d in zip(names, found)], [d.index for d in found],
                       [f"{d.label} {d.score:.2f}" for d in found])
    left, right = st.columns([3, 2], gap="medium")
    with left:
        st.image(data_uri(jpeg_bytes(boxed)), width="stretch",
                 caption=tr("detect.boxed_caption", w=result.size[0], h=result.size[1], n=len(found),
                            kept=len(result.detections), threshold=f"{threshold:.2f}"))
    with right:
        m1, m2 = st.columns(2)
        m1.metric(tr("detect.size_on_disk"), f"{size_bytes / 1e6:.2f} MB")
        m2.metric(tr("detect.invoke"), f"{reference_ms:.1f} ms", help=tr("detect.invoke_help", runs=cached.REFERENCE_RUNS))
        st.caption(tr("detect.this_photo", ms=f"{result.latency_ms:.1f}"))
        st.markdown(f"**{tr('detect.objects')}**")
        if found:
            st.dataframe([{tr("detect.col_object"): n, tr("detect.col_score"): round(d.score, 3),
                           tr("detect.col_box"): ", ".join(f"{v:.0f}" for v in d.box)} for n, d in zip(names, found)],
                         hide_index=True, width="stretch", key="detect_objects")
        else:
            st.info(tr("detect.nothing", threshold=f"{threshold:.2f}"))


def detect_section(choice, lang: str):
    """Section "Detect objects" on ``choice``'s photo; returns the loaded detector (or ``None``)."""
    st.header(tr("detect.header"))
    st.markdown(tr("detect.intro"))
    st.caption(tr("detect.how"))
    loaded = detector()
    if loaded is None:
        return None
    model, reference_ms = loaded
    if choice is not None:
        boxes_view(cached.detected(choice, model), model.labels, reference_ms, model.model.size_bytes, lang)
    st.caption(tr("detect.coco_note"))
    with st.expander(tr("detect.coco_classes")):
        st.write(", ".join(zh if lang == "zh" else en for en, zh in coco_names()))
    return model


def ssd_section(model, lang: str) -> None:
    """Section "How SSD finds the boxes": feature maps, default boxes, NMS — from the model file."""
    st.header(tr("detect.ssd_header"))
    facts = cached.facts(str(model.model.path))
    maps = facts.feature_maps
    sizes = ", ".join(f"{f.size[0]}×{f.size[1]}" for f in maps)
    per_cell = " / ".join(str(f.boxes_per_cell) for f in maps)
    st.markdown(tr("detect.ssd_text", n=len(maps), sizes=sizes, per_cell=per_cell, classes=maps[0].class_outputs,
                   num_classes=facts.num_classes, boxes=f"{facts.boxes_scored:,}",
                   scores=f"{facts.scores_before_nms:,}", iou=f"{facts.iou_threshold:.2g}",
                   kept=facts.max_detections))
    side = facts.input_size[1]
    middle = [facts.anchors_of(f)[f.size[0] // 2, f.size[1] // 2] for f in maps]
    st.plotly_chart(feature_maps_figure([(f.size[0], f.size[1], f.boxes_per_cell) for f in maps], middle, side,
                                        [tr("detect.map_label", h=f.size[0], w=f.size[1], k=f.boxes_per_cell)
                                         for f in maps], title=tr("detect.maps_title")),
                    width="stretch", key="detect_maps_chart")
    stages = [tr("detect.stage_maps", i=f.index, h=f.size[0], w=f.size[1], k=f.boxes_per_cell) for f in maps]
    stages += [tr("detect.stage_scored", classes=facts.num_classes), tr("detect.stage_kept")]
    st.plotly_chart(funnel_figure(stages, [f.boxes for f in maps] + [facts.boxes_scored, facts.max_detections],
                                  title=tr("detect.funnel_title"), axis_label=tr("detect.funnel_axis")),
                    width="stretch", key="detect_funnel_chart")
    st.dataframe([{
        tr("detect.col_map"): f.index,
        tr("detect.col_layer"): f.layer,
        tr("detect.col_size"): f"{f.size[0]}×{f.size[1]}",
        tr("detect.col_channels"): f.channels,
        tr("detect.col_cell"): f"{f.cell_pixels:.1f} px",
        tr("detect.col_per_cell"): f.boxes_per_cell,
        tr("detect.col_boxes"): f.boxes,
    } for f in maps], hide_index=True, width="stretch", key="detect_maps_table")
    st.caption(tr("detect.maps_note", boxes=f"{facts.boxes_scored:,}", iou=f"{facts.iou_threshold:.2g}",
                  kept=facts.max_detections))


def backbone_note() -> None:
    """The sentence about the detector's row of the backbone table."""
    numbers = cached.counts()
    cost = numbers["cost"]
    st.markdown(tr("detect.backbone_note", backbone=fmt_millions(cost["backbone_macs"]),
                   total=fmt_millions(cost["macs"]), share=f"{100 * cost['backbone_share']:.1f} %",
                   head_params=fmt_millions(cost["head_params"], 2), params=fmt_millions(cost["params"], 2),
                   classifier=fmt_millions(numbers["classifier_224"])))


def tasks_section(choice, model, segmenter, lang: str) -> None:
    """Section "One photo, three tasks": on a button, the photo classified, detected and segmented, timed in turns."""
    from explainer.labels import imagenet_label
    from explainer.segment.labels import VOC_CLASSES
    from pages.caches import quantize as quant_cache

    st.header(tr("detect.tasks_header"))
    st.markdown(tr("detect.tasks_intro"))
    if choice is None or model is None or segmenter is None:
        return
    if not st.button(tr("detect.tasks_button"), key="detect_tasks"):
        return
    classifier, error, _ = quant_cache.google()
    if classifier is None:
        show_error(error)
        return
    with st.spinner(tr("detect.tasks_button")):
        rows = cached.tasks(choice, classifier, model, segmenter)
    from pages.caches import segment as seg_cache

    seg_costs = {c["name"]: c["macs"] for c in seg_cache.costs()}
    macs = {"classify": seg_cache.stages()[1], "detect": seg_costs["ssd_mobilenet_v1_coco"],
            "segment": seg_costs["deeplabv3_mobilenet_v2"]}
    out = []
    for row in rows:
        answer = row["answer"]
        if row["task"] == "classify":
            text = f"{imagenet_label(answer[0], lang)} {answer[1]:.2f}"
        elif row["task"] == "detect":
            text = ", ".join(f"{(dict(coco_names()).get(label, label) if lang == 'zh' else label)} {score:.2f}"
                             for label, score in answer) or tr("detect.answer_none")
        else:
            text = ", ".join(f"{VOC_CLASSES[i].name(lang)} {100 * share:.0f} %" for i, share in answer[:3])
        out.append({tr("detect.col_task"): tr(f"detect.task_{row['task']}"), tr("detect.col_model"): row["model"],
                    tr("detect.col_input"): f"{row['input']}×{row['input']}", tr("detect.col_answer"): text,
                    tr("detect.col_macs"): fmt_millions(macs[row["task"]]),
                    tr("detect.col_total_ms"): round(row["median_ms"], 1),
                    tr("detect.col_invoke_ms"): round(row["invoke_ms"], 1)})
    st.dataframe(out, hide_index=True, width="stretch", key="detect_tasks_table")
    st.caption(tr("detect.tasks_caption", runs=cached.TASK_RUNS))
