"""The Applications page's detection caches: the LiteRT detector, a photo's detections, the SSD facts read from the
model file, the backbone counts and the three-task timing — shared by all sessions."""

from __future__ import annotations

import streamlit as st

from explainer.detect import detector as det
from explainer import stopwatch
from explainer.images import preview

REFERENCE_RUNS = stopwatch.DEFAULT_RUNS
TASK_RUNS = 5


@st.cache_resource(show_spinner=False, max_entries=2)
def load(weights_dir: str, kind: str):
    """One LiteRT detector per process (1 thread: many students' invokes side by side), timed once."""
    import numpy as np

    detector = det.load_detector(weights_dir or None, threads=1, download=False)
    blank = np.full(detector.model.input.shape, 128, dtype=np.uint8)
    # the warm-up invoke packs the weights for the CPU kernels
    return detector, stopwatch.time_call(lambda: detector.model.run_all(blank), runs=REFERENCE_RUNS, warmup=1).median_ms


@st.cache_data(show_spinner=False, max_entries=32)
def _detect(digest: str, _image, _detector) -> dict:
    """The detector on one photo (cached by the file's SHA-256): every box it kept, and the preview to draw on."""
    result = det.detect_image(_image, _detector)
    return {"result": result, "preview": preview(_image)}


def detected(choice, detector) -> dict:
    """``choice``'s photo through the detector, once per photo content (the threshold never re-runs it)."""
    return _detect(choice.digest, choice.image, detector)


@st.cache_resource(show_spinner=False, max_entries=2)
def facts(path: str):
    """What the model file says about its SSD (feature maps, default boxes, NMS settings), read once."""
    from explainer.detect.ssd import ssd_facts

    return ssd_facts(path)


@st.cache_resource(show_spinner=False)
def counts() -> dict:
    """Backbone/head counts of the rebuilt detector and the same MobileNetV1 ×0.75 classifying at 224."""
    from explainer.detect.network import classifier_macs
    from explainer.segment.backbone import backbone_cost

    return {"cost": backbone_cost("ssd_mobilenet_v1_coco").as_dict(), "classifier_224": classifier_macs()}


@st.cache_data(show_spinner=False, max_entries=16)
def _tasks(digest: str, _image, _classifier, _detector, _segmenter) -> list[dict]:
    from explainer.detect.tasks import three_tasks

    return [t.as_dict() for t in three_tasks(_image, _classifier, _detector, _segmenter, runs=TASK_RUNS)]


def tasks(choice, classifier, detector, segmenter) -> list[dict]:
    """The photo classified, detected and segmented, timed in turns — once per photo content per process."""
    return _tasks(choice.digest, choice.image, classifier, detector, segmenter)
