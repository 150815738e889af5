"""Google's released int8 MobileNetV2 (``mobilenet_v2_1.0_224_quant.tflite``) on LiteRT, beside our int8 model.

This is what a phone actually runs: TensorFlow's quantization-aware-trained MobileNetV2,
uint8 in and out. The file comes through :mod:`explainer.litert` (weights folder → cache →
pinned download).

Its conventions, read from the file: input ``uint8`` 1×224×224×3 with scale 1/128 and zero
point 128 (so the raw pixel values 0…255 *are* the quantized input, meaning −1…1); output
1001 classes, index 0 = "background", indices 1…1000 = ImageNet's 1000 classes in the same
(WordNet id) order as torchvision's. The photo is resized and center-cropped exactly as for
our float model (shorter side 256, central 224×224), so both see the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from explainer import stopwatch
from explainer.classify import trim_extreme_aspect

#: The key of Google's model in :data:`explainer.litert.TFLITE_MODELS`.
GOOGLE_MODEL = "mobilenet_v2_1.0_224_quant"


def google_input(image: Image.Image, loaded) -> np.ndarray:
    """``uint8`` ``[1, 224, 224, 3]``: the same resize and crop as ``loaded.transform``, without normalising."""
    import torchvision.transforms.functional as F

    transform = loaded.transform
    resized = F.resize(trim_extreme_aspect(image), list(transform.resize_size), interpolation=transform.interpolation,
                       antialias=transform.antialias)
    cropped = F.center_crop(resized, list(transform.crop_size))
    return np.asarray(cropped.convert("RGB"), dtype=np.uint8)[None]


def google_scores(model, image: Image.Image, loaded) -> tuple[np.ndarray, float]:
    """(the 1000 ImageNet scores in torchvision's order, dequantized; invoke time in ms)."""
    out, ms = model.run(google_input(image, loaded))
    scores = (out.reshape(-1).astype(np.float64) - model.output.zero_point) * model.output.scale
    return scores[1:], ms  # drop "background"


def google_latency_ms(model, runs: int = 10) -> float:
    """Median LiteRT invoke time of one 224×224 image after one warm-up (:mod:`explainer.stopwatch`)."""
    x = np.full(model.input.shape, 128, np.uint8)
    return stopwatch.time_call(lambda: model.run(x), runs=runs, warmup=1).median_ms


@dataclass(frozen=True)
class GoogleRow:
    file: str
    fp32_top1: str
    google_top5: list[str]
    fp32_index: int
    google_indices: list[int]

    @property
    def agrees(self) -> bool:
        return bool(self.google_indices) and self.google_indices[0] == self.fp32_index

    def as_dict(self) -> dict:
        return {"file": self.file, "fp32_top1": self.fp32_top1, "google_top5": self.google_top5}


@dataclass(frozen=True)
class GoogleAgreement:
    rows: list[GoogleRow]

    @property
    def n(self) -> int:
        return len(self.rows)

    @property
    def top1_agreement(self) -> float:
        return sum(r.agrees for r in self.rows) / self.n if self.n else 0.0

    @property
    def fp32_top1_in_top5(self) -> float:
        return sum(r.fp32_index in r.google_indices for r in self.rows) / self.n if self.n else 0.0


def compare_google(model, images: list[Image.Image], names: list[str], loaded, fp32_indices: list[int]) -> GoogleAgreement:
    """Google's top-5 on each image against our float model's top-1 (``fp32_indices``)."""
    rows = []
    for name, image, top1 in zip(names, images, fp32_indices):
        scores, _ = google_scores(model, image, loaded)
        # uint8 scores: most classes are exactly 0; a 0 is no prediction, so the list may be shorter than 5.
        top5 = [int(i) for i in np.argsort(-scores, kind="stable")[:5] if scores[i] > 0]
        rows.append(GoogleRow(name, loaded.categories[top1], [loaded.categories[i] for i in top5], top1, top5))
    return GoogleAgreement(rows)
