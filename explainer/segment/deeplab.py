"""Run Google's released int8 DeepLabV3-MobileNetV2 on a photo, with LiteRT, and map the mask back onto the photo.

The model (``.tflite``, PASCAL VOC's 21 classes) takes one 513×513 uint8 RGB
image and returns one class index per pixel (the arg-max is inside the
model). What :func:`segment_image` does around it:

1. **resize** the photo so its longer side is 513 (the other side
   ``513 · short / long`` rounded half up, at least 1), bilinear with antialiasing;
2. **pad** bottom and right up to 513×513 with the value 128 — the model
   maps uint8 ``q`` to ``(q − 128) / 128``, so the padding is 0.0, which is
   how DeepLab pads (with the mean pixel) during training;
3. **run** it (:meth:`explainer.litert.TFLiteModel.run`: output and invoke time);
4. **crop** the padding away (the top-left ``new_h × new_w`` block: the
   model's 513×513 output is pixel-aligned with its input, its last resize
   uses ``align_corners`` on a 33×33 → 513×513 grid);
5. **map back** to the photo's size with nearest-neighbour resampling
   (centre-aligned like the resize in step 1), so mask pixel (x, y) belongs
   to photo pixel (x, y).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from explainer.catalogue import Progress, locate
from explainer.litert import TFLITE_MODELS, TFLiteModel, load_tflite
from explainer.segment.masks import ClassShare, class_shares

#: Side of the square input the released models take.
INPUT_SIDE = 513
#: uint8 value used for the padding (the model's zero point: real value 0.0).
PAD_VALUE = 128


@dataclass(frozen=True)
class Segmenter:
    """One released segmentation model the app offers."""

    name: str  # CLI / URL name, e.g. "deeplabv3_mobilenet_v2"
    asset: str  # key in explainer.litert.TFLITE_MODELS
    display: str
    depth_multiplier: float

    @property
    def filename(self) -> str:
        return TFLITE_MODELS[self.asset].filename

    @property
    def size_bytes(self) -> int:
        return TFLITE_MODELS[self.asset].size


SEGMENTERS: dict[str, Segmenter] = {
    s.name: s
    for s in (
        Segmenter("deeplabv3_mobilenet_v2", "deeplabv3_mnv2_pascal_quant", "DeepLabV3-MobileNetV2 (int8)", 1.0),
        Segmenter("deeplabv3_mobilenet_v2_dm05", "deeplabv3_mnv2_dm05_pascal_quant",
                  "DeepLabV3-MobileNetV2 ×0.5 (int8)", 0.5),
    )
}
SEGMENTER_NAMES: tuple[str, ...] = tuple(SEGMENTERS)
DEFAULT_SEGMENTER = "deeplabv3_mobilenet_v2"


def load_segmenter(name: str, folder: str | Path | None = None, progress: Progress | None = None, *,
                   threads: int = 1, download: bool = True) -> TFLiteModel:
    """The LiteRT model behind ``name`` (weights folder → cache → pinned download; :class:`AssetError` otherwise)."""
    return load_tflite(SEGMENTERS[name].asset, folder, progress, threads=threads, download=download)


def warm_up(model: TFLiteModel) -> None:
    """One untimed invoke: the first one packs the weights for the CPU kernels and is several times slower."""
    model.run(np.full(model.input.shape, PAD_VALUE, dtype=np.uint8))


def where_is(name: str, folder: str | Path | None = None, *, download: bool = True):
    """Where the model file would come from (:class:`explainer.catalogue.Located`), without downloading."""
    return locate(TFLITE_MODELS[SEGMENTERS[name].asset], folder, download=download)


def fitted_size(width: int, height: int, side: int = INPUT_SIDE) -> tuple[int, int]:
    """(w, h) of the photo resized so that its longer side is ``side``."""
    if width >= height:
        return side, max(1, min(side, int(height * side / width + 0.5)))
    return max(1, min(side, int(width * side / height + 0.5))), side


def prepare(image: Image.Image, side: int = INPUT_SIDE) -> tuple[np.ndarray, tuple[int, int]]:
    """The model's input ``[1, side, side, 3]`` uint8 and the (w, h) the photo occupies in its top-left corner."""
    width, height = fitted_size(image.width, image.height, side)
    resized = image.convert("RGB").resize((width, height), Image.BILINEAR)
    canvas = np.full((1, side, side, 3), PAD_VALUE, dtype=np.uint8)
    canvas[0, :height, :width] = np.asarray(resized, dtype=np.uint8)
    return canvas, (width, height)


def restore(output: np.ndarray, fitted: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """The model's ``[1, side, side]`` class map → an ``[h, w]`` uint8 mask at the photo's ``size`` (w, h)."""
    width, height = fitted
    cropped = np.asarray(output).reshape(output.shape[-2], output.shape[-1])[:height, :width].astype(np.uint8)
    if (width, height) == tuple(size):
        return cropped
    return np.asarray(Image.fromarray(cropped, "L").resize(tuple(size), Image.NEAREST))


@dataclass(frozen=True)
class SegmentResult:
    """One photo segmented by one model."""

    model: str
    mask: np.ndarray = field(repr=False)  # [h, w] uint8 class indices, aligned with the photo
    size: tuple[int, int]  # the photo's (w, h)
    fitted: tuple[int, int]  # (w, h) of the photo inside the 513×513 input
    latency_ms: float  # the model's invoke time
    classes: tuple[ClassShare, ...]  # every class present, largest share first

    @property
    def main_object(self) -> ClassShare | None:
        """The largest class that is not background, or ``None``."""
        return next((c for c in self.classes if c.index != 0), None)

    def as_dict(self) -> dict:
        return {"model": self.model, "size": list(self.size), "fitted": list(self.fitted),
                "classes": [c.as_dict() for c in self.classes], "latency_ms": round(self.latency_ms, 3)}


def segment_image(image: Image.Image, model: TFLiteModel, name: str | None = None) -> SegmentResult:
    """Segment ``image`` (RGB) with ``model``; the mask has the photo's size and is aligned with it."""
    batch, fitted = prepare(image, model.input.shape[1])
    output, elapsed = model.run(batch)
    mask = restore(output, fitted, image.size)
    return SegmentResult(name or model.key, mask, tuple(image.size), fitted, elapsed, class_shares(mask))
