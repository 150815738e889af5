"""The Applications page's caches: the two LiteRT segmenters, a photo's masks, and the backbone tables,
shared by all sessions."""

from __future__ import annotations

import streamlit as st

from explainer import stopwatch
from explainer.images import preview
from explainer.segment import backbone, deeplab
from explainer.segment.masks import compare_masks

REFERENCE_RUNS = stopwatch.DEFAULT_RUNS


@st.cache_resource(show_spinner=False, max_entries=4)
def load(name: str, weights_dir: str, kind: str):
    """One LiteRT interpreter per model and process (1 thread: many students' invokes side by side), timed once."""
    model = deeplab.load_segmenter(name, weights_dir or None, threads=1, download=False)
    import numpy as np

    blank = np.full(model.input.shape, 128, dtype=np.uint8)  # the first invoke (the warm-up) packs the weights
    return model, stopwatch.time_call(lambda: model.run(blank), runs=REFERENCE_RUNS, warmup=1).median_ms


@st.cache_data(show_spinner=False, max_entries=32)
def _segment(digest: str, names: tuple[str, ...], _image, _models) -> dict:
    """Both models on one photo (cached by the file's SHA-256): masks at preview size, shares, times, comparison."""
    # The model sees 513 pixels across anyway: segment the preview (longer side at most 1024), so that a
    # 40-megapixel upload does not hold 40 MB masks per model in a server shared by a whole lecture hall.
    shown = preview(_image)
    out: dict = {"preview": shown, "size": _image.size, "models": {}}
    masks = {}
    for name in names:
        result = deeplab.segment_image(shown, _models[name], name)
        masks[name] = result.mask
        out["models"][name] = {"mask": result.mask, "latency_ms": result.latency_ms, "fitted": result.fitted,
                               "shares": [(c.index, c.fraction) for c in result.classes]}
    if len(names) == 2:
        out["comparison"] = compare_masks(masks[names[0]], masks[names[1]])
    return out


def segmented(choice, names: tuple[str, ...], models: dict) -> dict:
    """``choice``'s photo through the ``models`` named ``names``, once per photo content and set of models."""
    return _segment(choice.digest, names, choice.image, models)


@st.cache_resource(show_spinner=False)
def costs() -> list[dict]:
    """Backbone and head cost of every backbone network (counted once per process)."""
    return [backbone.backbone_cost(name).as_dict() for name in backbone.BACKBONE_NETS]


@st.cache_resource(show_spinner=False)
def stages():
    """MobileNetV2's stage sizes at output stride 32 and 16, and the 224-pixel classifier's MACs."""
    return backbone.stage_sizes(), backbone.classifier_cost(224).macs
