"""Run Google's int8 SSD-MobileNetV1 (COCO) on a photo with LiteRT, and put its boxes on the photo's own pixels.

The model (``.tflite``, TensorFlow's starter detector) takes one 300×300
uint8 RGB image and ends in the built-in ``TFLite_Detection_PostProcess`` op,
so non-maximum suppression happens inside it. What :func:`detect_image` does
around it:

1. **stretch** the photo (already upright: :func:`explainer.images.load_image`
   applies the EXIF rotation) to 300×300, bilinear — no padding, no crop; the
   model maps uint8 ``q`` to ``(q − 128) / 128`` itself;
2. **run** it (:meth:`explainer.litert.TFLiteModel.run_all`): boxes
   ``[1, 10, 4]`` as normalised ``[ymin, xmin, ymax, xmax]``, class ids
   ``[1, 10]``, scores ``[1, 10]`` and the number of valid rows ``[1]``;
3. **map back**: the stretch is separable, so a normalised coordinate is the
   same fraction of the photo: ``x = xmin · width``, ``y = ymin · height``
   (clipped to the photo). Class id ``c`` is line ``c + 1`` of the label map.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from explainer import catalogue
from explainer.catalogue import Located, Progress, locate, require
from explainer.detect.labels import UNUSED, class_name, read_labelmap
from explainer.litert import TFLiteModel, load_tflite

MODEL_ASSET = "ssd_mobilenet_v1_coco_quant"
LABELS_ASSET = "coco_labelmap"
#: What the CLI and the JSON call this model.
MODEL_NAME = "ssd_mobilenet_v1_coco"
DISPLAY = "SSD-MobileNetV1 (COCO, int8)"
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Detector:
    """The loaded model and its label map (entry ``c + 1`` names class id ``c``)."""

    model: TFLiteModel
    labels: tuple[str, ...]

    @property
    def side(self) -> tuple[int, int]:
        """(w, h) of the model's input."""
        return int(self.model.input.shape[2]), int(self.model.input.shape[1])


def where_is(folder: str | Path | None = None, *, download: bool = True) -> list[Located]:
    """Where the model file and the label map would come from, without downloading."""
    return [locate(catalogue.get(key), folder, download=download) for key in (MODEL_ASSET, LABELS_ASSET)]


def load_detector(folder: str | Path | None = None, progress: Progress | None = None, *, threads: int = 1,
                  download: bool = True) -> Detector:
    """The model and its label map (weights folder → cache → pinned download; :class:`AssetError` otherwise)."""
    labels_path = require(catalogue.get(LABELS_ASSET), folder, progress, download=download)
    model = load_tflite(MODEL_ASSET, folder, progress, threads=threads, download=download)
    return Detector(model, read_labelmap(labels_path))


def warm_up(detector: Detector) -> None:
    """One untimed invoke: the first one packs the weights for the CPU kernels and is several times slower."""
    detector.model.run_all(np.full(detector.model.input.shape, 128, dtype=np.uint8))


def prepare(image: Image.Image, side: tuple[int, int] = (300, 300)) -> np.ndarray:
    """The model's input ``[1, h, w, 3]`` uint8: the whole photo stretched to ``side`` (w, h), bilinear."""
    resized = image.convert("RGB").resize(side, Image.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)[None]


@dataclass(frozen=True)
class Detection:
    """One object found: the model's class id, its English name, the score and the box in photo pixels."""

    index: int  # the model's class id (0-based; the label map's line index - 1)
    label: str  # English name from the label map
    score: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the photo's pixels (after EXIF rotation)

    def name(self, labels: tuple[str, ...], lang: str = "en") -> str:
        return class_name(labels, self.index, lang)

    def as_dict(self) -> dict:
        return {"label": self.label, "index": self.index, "score": round(self.score, 4),
                "box": [round(v, 1) for v in self.box]}


def decode(outputs: dict[str, np.ndarray], size: tuple[int, int], labels: tuple[str, ...]) -> tuple[Detection, ...]:
    """The post-processing op's four outputs → detections in photo pixels, highest score first."""
    width, height = size
    boxes = np.asarray(outputs["boxes"]).reshape(-1, 4)
    classes = np.asarray(outputs["classes"]).reshape(-1)
    scores = np.asarray(outputs["scores"]).reshape(-1)
    count = int(np.asarray(outputs["count"]).reshape(-1)[0])
    found = []
    for row in range(min(count, len(scores))):
        ymin, xmin, ymax, xmax = (float(v) for v in np.clip(boxes[row], 0.0, 1.0))
        class_id = int(classes[row])
        found.append(Detection(class_id, class_name(labels, class_id), float(scores[row]),
                               (xmin * width, ymin * height, xmax * width, ymax * height)))
    found.sort(key=lambda d: -d.score)
    return tuple(d for d in found if d.label != UNUSED)


def named_outputs(model: TFLiteModel, outputs: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The op's outputs by meaning: ``TFLite_Detection_PostProcess`` (:1, :2, :3) = boxes, classes, scores, count."""
    meaning = {"": "boxes", ":1": "classes", ":2": "scores", ":3": "count"}
    named = {}
    for name, value in zip(model.output_names, outputs):
        suffix = name[name.rfind(":"):] if ":" in name else ""
        named[meaning.get(suffix, name)] = value
    missing = {"boxes", "classes", "scores", "count"} - set(named)
    if missing:
        raise ValueError(f"{model.key} has no detection outputs {sorted(missing)}")
    return named


@dataclass(frozen=True)
class DetectResult:
    """One photo through the detector: every detection the model kept (up to 10), highest score first."""

    model: str
    size: tuple[int, int]  # the photo's (w, h)
    detections: tuple[Detection, ...]
    latency_ms: float  # the model's invoke time

    def above(self, threshold: float) -> tuple[Detection, ...]:
        """The detections scoring at least ``threshold``."""
        return tuple(d for d in self.detections if d.score >= threshold)

    def as_dict(self, threshold: float = DEFAULT_THRESHOLD) -> dict:
        return {"model": self.model, "size": list(self.size), "threshold": threshold,
                "detections": [d.as_dict() for d in self.above(threshold)], "latency_ms": round(self.latency_ms, 3)}


def detect_image(image: Image.Image, detector: Detector, name: str = MODEL_NAME) -> DetectResult:
    """Detect objects on ``image`` (upright RGB); boxes are in its pixels."""
    batch = prepare(image, detector.side)
    outputs, elapsed = detector.model.run_all(batch)
    return DetectResult(name, tuple(image.size), decode(named_outputs(detector.model, outputs), image.size,
                                                        detector.labels), elapsed)


def check_threshold(threshold: float) -> float:
    """``threshold`` if it is a score between 0 and 1, else :class:`~explainer.errors.InvalidInputError`."""
    from explainer.errors import InvalidInputError

    if not 0.0 <= float(threshold) <= 1.0:
        raise InvalidInputError("detect.bad_threshold", value=threshold)
    return float(threshold)
