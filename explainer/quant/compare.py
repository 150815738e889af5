"""Float vs int8 on real photos: top-1 agreement, "float top-1 within int8 top-5", per-image predictions.

Agreement is measured against *our float model* (torchvision's MobileNetV2 with the same
weights, ReLU6 and all), not against ImageNet labels: the question is how much the
compression changes the answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from torch import nn

from explainer.classify import preprocess
from explainer.errors import ExplainerError, InvalidInputError
from explainer.images import WORKING_MIN_SIDE, load_image
from explainer.quant import toolchain


@dataclass(frozen=True)
class Photo:
    """One decoded photo and the name it is reported by (its path relative to the folder)."""

    name: str
    image: Image.Image


@dataclass(frozen=True)
class PhotoFolder:
    """Every file under a folder: the photos that decoded and the files that did not (with why)."""

    photos: list[Photo]
    skipped: list[tuple[str, str]]  # (relative path, one-line reason)
    not_read: int = 0  # files left unread because ``limit`` photos were already decoded


#: Most calibration photos used, on the page and on the command line (each is a 224×224×3 float tensor in the
#: stacked batch; calibration time grows with them, its result hardly after a few dozen photos).
MAX_CALIBRATION_PHOTOS = 32
#: Most photos ``quantize --eval`` compares (their batch is stacked too: 256 photos are about 150 MB).
MAX_EVAL_PHOTOS = 256


def collect_photos(folder: str | Path, *, limit: int | None = None) -> PhotoFolder:
    """Decode the files under ``folder`` (recursively, sorted, hidden files ignored), at most ``limit`` photos
    (the files after them are counted in ``not_read``, never opened).

    Files that are not usable photos are skipped and listed with the reason. Raises
    :class:`InvalidInputError` when ``folder`` is not a folder or holds no usable photo.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InvalidInputError("quant.no_folder", dir=str(folder))
    photos: list[Photo] = []
    skipped: list[tuple[str, str]] = []
    not_read = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if limit is not None and len(photos) >= limit:
            not_read += 1
            continue
        try:
            photos.append(Photo(relative.as_posix(), load_image(path, relative.as_posix(), min_side=WORKING_MIN_SIDE)))
        except ExplainerError as err:
            skipped.append((relative.as_posix(), err.message("en")))
    if not photos:
        raise InvalidInputError("quant.no_images", dir=str(folder))
    return PhotoFolder(photos, skipped, not_read)


def calibration_copy(data: bytes, name: str, loaded) -> bytes:
    """What a page keeps of an uploaded calibration photo instead of the upload: a lossless PNG of the image
    the weights' preprocessing crops its centre from (decoded at :data:`WORKING_MIN_SIDE` as every upload,
    trimmed and resized as :func:`explainer.classify.preprocess` does; about 100–150 KB for a photo of any
    size). Decoded again with ``load_image(copy)`` (no ``min_side``) and preprocessed, it gives exactly the
    tensor the original gives. Raises :class:`~explainer.errors.ImageError` for a file that is not a photo."""
    from explainer.classify import resized_for_crop
    from explainer.images import png_bytes

    return png_bytes(resized_for_crop(load_image(data, name, min_side=WORKING_MIN_SIDE), loaded.transform))


def batch_of(images: list[Image.Image], loaded) -> torch.Tensor:
    """The images preprocessed with the weights' own transform, stacked to ``[N, 3, 224, 224]``."""
    if not images:
        raise InvalidInputError("quant.no_calibration")
    return torch.cat([preprocess(image, loaded) for image in images])


def logits_of(model: nn.Module, batch: torch.Tensor, chunk: int = 16) -> torch.Tensor:
    """Logits of ``model`` on ``batch`` in chunks (float or int8 model)."""
    with torch.inference_mode(), toolchain.quiet():
        return torch.cat([model(part) for part in batch.split(chunk)])


@dataclass(frozen=True)
class ImageResult:
    file: str
    fp32_top1: str
    int8_top5: list[str]
    fp32_index: int
    int8_indices: list[int]

    @property
    def agrees(self) -> bool:
        return self.int8_indices[0] == self.fp32_index

    @property
    def fp32_in_int8_top5(self) -> bool:
        return self.fp32_index in self.int8_indices

    def as_dict(self) -> dict:
        return {"file": self.file, "fp32_top1": self.fp32_top1, "int8_top5": self.int8_top5}


@dataclass(frozen=True)
class Agreement:
    """How often the int8 model answers like the float model."""

    images: list[ImageResult]

    @property
    def n(self) -> int:
        return len(self.images)

    @property
    def top1_agreement(self) -> float:
        return sum(r.agrees for r in self.images) / self.n if self.n else 0.0

    @property
    def fp32_top1_in_int8_top5(self) -> float:
        return sum(r.fp32_in_int8_top5 for r in self.images) / self.n if self.n else 0.0

    def as_dict(self) -> dict:
        return {
            "n": self.n,
            "top1_agreement": round(self.top1_agreement, 4),
            "fp32_top1_in_int8_top5": round(self.fp32_top1_in_int8_top5, 4),
            "images": [r.as_dict() for r in self.images],
        }


def agreement(fp32_logits: torch.Tensor, int8_logits: torch.Tensor, names: list[str],
              categories: list[str]) -> Agreement:
    """Compare two rows of logits per image (float first)."""
    if fp32_logits.shape != int8_logits.shape or fp32_logits.shape[0] != len(names):
        raise ValueError("logits and names do not match")
    results = []
    for name, f, q in zip(names, fp32_logits, int8_logits):
        top1 = int(f.argmax())
        top5 = [int(i) for i in torch.topk(q, 5).indices]
        results.append(ImageResult(name, categories[top1], [categories[i] for i in top5], top1, top5))
    return Agreement(results)


def compare_models(float_model: nn.Module, int8_model: nn.Module, batch: torch.Tensor, names: list[str],
                   categories: list[str]) -> Agreement:
    """Run both models on ``batch`` and compare their answers image by image."""
    return agreement(logits_of(float_model, batch), logits_of(int8_model, batch), names, categories)
