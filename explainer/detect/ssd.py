"""How SSD works, on the released model: every figure read from the ``.tflite`` file itself.

SSD (Single Shot MultiBox Detector, Liu et al. 2016) predicts from several
feature maps of decreasing size: at every cell of each map a few **default
boxes** (anchors) of fixed shapes sit centred on the cell; for each of them a
1×1 convolution predicts 4 box offsets and one score per class. Small maps
(coarse cells) find large objects, large maps small ones. All boxes of all maps
are scored at once; then **non-maximum suppression** (NMS), per class, drops a
box that overlaps a better-scoring one by more than an IoU threshold and keeps
at most a fixed number.

:func:`ssd_facts` reads, from the file's operator list
(:func:`explainer.litert.graph_operators`): which tensors feed the box
predictors (the feature maps, their sizes and channels), how many default boxes
each cell has (box predictor channels / 4), the ``anchors`` constant (their
number and shapes), the class count, and the options of the
``TFLite_Detection_PostProcess`` op (IoU threshold, how many detections it
keeps, the box-coding scales).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explainer.litert import constant_tensor, graph_operators

POSTPROCESS = "TFLite_Detection_PostProcess"
_PREDICTOR = re.compile(r"^BoxPredictor_(\d+)/(BoxEncodingPredictor|ClassPredictor)/")


@dataclass(frozen=True)
class FeatureMap:
    """One feature map the detector predicts from."""

    index: int  # BoxPredictor_<index>
    source: str  # the tensor's name in the graph, e.g. "FeatureExtractor/MobilenetV1/MobilenetV1/Conv2d_11_pointwise/Relu6"
    size: tuple[int, int]  # (H, W)
    channels: int
    boxes_per_cell: int  # box predictor channels / 4
    class_outputs: int  # class predictor channels / boxes_per_cell (classes + background)
    input_side: int  # the input's width, for cell_pixels

    @property
    def boxes(self) -> int:
        return self.size[0] * self.size[1] * self.boxes_per_cell

    @property
    def cell_pixels(self) -> float:
        """How many input pixels one cell spans (e.g. 300 / 19 ≈ 15.8 on the 300×300 input)."""
        return self.input_side / self.size[1]

    @property
    def layer(self) -> str:
        """A short name: the layer that made the map (``Conv2d_11_pointwise``, ``Conv2d_2_3x3_s2_384``, …)."""
        parts = self.source.split("/")
        return next((p for p in reversed(parts) if p.startswith("Conv2d")), parts[-1]).split("Conv2d_13_pointwise_2_")[-1]

    def as_dict(self) -> dict:
        return {"index": self.index, "layer": self.layer, "size": list(self.size), "channels": self.channels,
                "boxes_per_cell": self.boxes_per_cell, "boxes": self.boxes}


@dataclass(frozen=True)
class SsdFacts:
    """What the model file says about its SSD."""

    input_size: tuple[int, int]  # (H, W)
    feature_maps: tuple[FeatureMap, ...]
    anchors: np.ndarray  # [N, 4] default boxes as (y centre, x centre, h, w), normalised
    num_classes: int  # the post-processing op's classes (without background)
    max_detections: int
    iou_threshold: float
    score_threshold: float
    classes_per_detection: int
    scales: tuple[float, float, float, float]  # y, x, h, w scales of the box coding

    @property
    def boxes_scored(self) -> int:
        """Boxes scored before NMS: one per default box (their number equals the sum over the feature maps)."""
        return int(self.anchors.shape[0])

    @property
    def scores_before_nms(self) -> int:
        return self.boxes_scored * self.num_classes

    def anchors_of(self, feature_map: FeatureMap) -> np.ndarray:
        """The default boxes of one feature map, ``[H, W, k, 4]`` (y, x, h, w normalised)."""
        start = sum(f.boxes for f in self.feature_maps[:feature_map.index])
        block = self.anchors[start:start + feature_map.boxes]
        return block.reshape(feature_map.size[0], feature_map.size[1], feature_map.boxes_per_cell, 4)

    def as_dict(self) -> dict:
        return {"input": list(self.input_size), "feature_maps": [f.as_dict() for f in self.feature_maps],
                "boxes_scored": self.boxes_scored, "num_classes": self.num_classes,
                "scores_before_nms": self.scores_before_nms, "max_detections": self.max_detections,
                "iou_threshold": round(self.iou_threshold, 4), "score_threshold": self.score_threshold}


def ssd_facts(path: str | Path) -> SsdFacts:
    """Read the SSD's structure and post-processing settings from a ``.tflite`` detector."""
    ops = graph_operators(path)
    first = ops[0].inputs[0][1]  # the first operator reads the [1, H, W, 3] input image
    height, width = int(first[1]), int(first[2])
    maps: dict[int, dict] = {}
    for op in ops:
        if op.kind != "CONV_2D" or not op.outputs:
            continue
        match = _PREDICTOR.match(op.outputs[0][0])
        if not match:
            continue
        entry = maps.setdefault(int(match.group(1)), {})
        source, shape = op.inputs[0]
        entry["source"], entry["shape"] = source, shape
        entry[match.group(2)] = int(op.outputs[0][1][3])
    post = next(op for op in ops if op.kind == POSTPROCESS)
    feature_maps = []
    for index in sorted(maps):
        entry = maps[index]
        k = entry["BoxEncodingPredictor"] // 4
        _, h, w, c = entry["shape"]
        feature_maps.append(FeatureMap(index, entry["source"], (int(h), int(w)), int(c), k,
                                       entry["ClassPredictor"] // k, width))
    anchors = constant_tensor(path, post.inputs[2][0])
    if anchors.shape[0] != sum(f.boxes for f in feature_maps):
        raise ValueError("the anchors do not match the feature maps' default boxes")
    o = post.options
    return SsdFacts((height, width), tuple(feature_maps), anchors, int(o["num_classes"]), int(o["max_detections"]),
                    float(o["nms_iou_threshold"]), float(o["nms_score_threshold"]),
                    int(o.get("max_classes_per_detection", 1)),
                    (float(o["y_scale"]), float(o["x_scale"]), float(o["h_scale"]), float(o["w_scale"])))
