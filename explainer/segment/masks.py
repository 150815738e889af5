"""What a segmentation mask says: the classes found and their shares, the overlay, and how two masks differ."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from explainer.segment.labels import BACKGROUND, NUM_CLASSES, VOC_CLASSES, voc_color


@dataclass(frozen=True)
class ClassShare:
    """One class present in a mask: how many pixels, and which fraction of the image."""

    index: int
    pixels: int
    fraction: float

    @property
    def label(self) -> str:
        """PASCAL VOC's identifier (e.g. ``"cat"``, ``"pottedplant"``)."""
        return VOC_CLASSES[self.index].voc

    def name(self, lang: str = "en") -> str:
        return VOC_CLASSES[self.index].name(lang)

    def as_dict(self) -> dict:
        return {"label": self.label, "index": self.index, "fraction": self.fraction}


def class_shares(mask: np.ndarray) -> tuple[ClassShare, ...]:
    """Every class present in ``mask``, largest first (ties: lower index first); fractions sum to 1."""
    counts = np.bincount(np.asarray(mask).ravel(), minlength=NUM_CLASSES)
    total = int(counts.sum())
    present = [(int(n), i) for i, n in enumerate(counts) if n > 0]
    present.sort(key=lambda item: (-item[0], item[1]))
    return tuple(ClassShare(i, n, n / total) for n, i in present)


def color_mask(mask: np.ndarray) -> np.ndarray:
    """``[h, w, 3]`` uint8: each pixel in its class's PASCAL VOC colour."""
    lut = np.array([voc_color(i) for i in range(256)], dtype=np.uint8)
    return lut[np.asarray(mask, dtype=np.uint8)]


def overlay(image: Image.Image, mask: np.ndarray, opacity: float) -> Image.Image:
    """The photo with every non-background pixel tinted in its class colour (``opacity`` 0…1).

    ``mask`` must have the photo's size or be resized to it by the caller.
    """
    if not 0.0 <= opacity <= 1.0:
        raise ValueError("opacity must be between 0 and 1")
    photo = np.asarray(image.convert("RGB"), dtype=np.float32)
    mask = np.asarray(mask)
    if mask.shape != photo.shape[:2]:
        raise ValueError(f"mask {mask.shape} does not match the photo {photo.shape[:2]}")
    colors = color_mask(mask).astype(np.float32)
    alpha = np.where(mask != BACKGROUND, np.float32(opacity), np.float32(0.0))[..., None]
    blended = photo * (1.0 - alpha) + colors * alpha
    return Image.fromarray(np.clip(np.rint(blended), 0, 255).astype(np.uint8), "RGB")


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``mask`` resampled (nearest) to ``size`` (w, h), e.g. to a preview of the photo."""
    mask = np.asarray(mask, dtype=np.uint8)
    if (mask.shape[1], mask.shape[0]) == tuple(size):
        return mask
    return np.asarray(Image.fromarray(mask, "L").resize(tuple(size), Image.NEAREST))


def mask_png(mask: np.ndarray) -> Image.Image:
    """A palette PNG of the mask: pixel value = class index, shown in the VOC colours (like VOC's own PNGs)."""
    from explainer.segment.labels import palette

    picture = Image.fromarray(np.asarray(mask, dtype=np.uint8), "P")
    picture.putpalette(palette())
    return picture


@dataclass(frozen=True)
class MaskComparison:
    """How two masks of the same photo differ."""

    agreement: float  # fraction of pixels with the same class
    iou: tuple[tuple[int, float], ...]  # (class index, intersection over union) for every class in either mask
    foreground_iou: float  # IoU of "not background" (1.0 when both masks are all background)

    @property
    def mean_iou(self) -> float:
        return float(np.mean([v for _, v in self.iou])) if self.iou else 1.0

    def as_dict(self) -> dict:
        return {"agreement": self.agreement, "mean_iou": self.mean_iou, "foreground_iou": self.foreground_iou,
                "iou": [{"index": i, "label": VOC_CLASSES[i].voc, "iou": v} for i, v in self.iou]}


def compare_masks(first: np.ndarray, second: np.ndarray) -> MaskComparison:
    """Pixel agreement and per-class IoU of two masks of the same size."""
    a, b = np.asarray(first), np.asarray(second)
    if a.shape != b.shape:
        raise ValueError(f"masks differ in size: {a.shape} vs {b.shape}")
    agreement = float(np.mean(a == b))
    # Joint histogram: confusion[i, j] = pixels with class i in a and j in b.
    confusion = np.bincount(a.astype(np.int64).ravel() * NUM_CLASSES + b.astype(np.int64).ravel(),
                            minlength=NUM_CLASSES * NUM_CLASSES).reshape(NUM_CLASSES, NUM_CLASSES)
    ious = []
    for index in range(NUM_CLASSES):
        union = int(confusion[index, :].sum() + confusion[:, index].sum() - confusion[index, index])
        if union:
            ious.append((index, float(confusion[index, index]) / union))
    fa, fb = a != BACKGROUND, b != BACKGROUND
    fg_union = int(np.count_nonzero(fa | fb))
    fg = float(np.count_nonzero(fa & fb)) / fg_union if fg_union else 1.0
    return MaskComparison(agreement, tuple(ious), fg)
