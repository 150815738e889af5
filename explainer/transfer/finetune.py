"""Optional second stage: fine-tune the last k stages of the backbone together with the head.

What happens (deterministic for a given ``seed``):

* a **private copy** of the model is made (the shared one is never touched);
  the last ``blocks`` children of ``model.features`` become trainable (for
  MobileNetV2, ``blocks = 1`` is the final 1×1 convolution to 1280 channels,
  ``blocks = 2`` adds inverted-residual block 17, …); everything before stays
  frozen and runs without autograd; batch norm keeps its ImageNet statistics
  (eval mode), as is usual for a few dozen photos;
* the new classifier starts from the trained frozen-feature head;
* each epoch sees every training photo once, **augmented**: a random crop of
  50–100 % of the photo's area with aspect ratio 3/4…4/3, resized to the input
  size, flipped left-right with probability 1/2 (numpy generator, seeded);
* Adam, learning rate :data:`LR`, batches of :data:`BATCH_SIZE`, cross-entropy;
* after each epoch the held-out photos are classified (the weights' own
  centre-crop preprocessing) for the curve.

The photos are decoded once (at :data:`explainer.images.WORKING_MIN_SIDE`) and
kept only for the duration of the call; the copy is dropped at the end, only
the numbers are returned.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image
from torch import nn

from explainer.classify import preprocess, trim_extreme_aspect
from explainer.errors import ImageError, InvalidInputError
from explainer.images import WORKING_MIN_SIDE, load_image
from explainer.transfer.datasets import Photo
from explainer.transfer.head import Head
from explainer.weights import LoadedModel

#: Stages that may be fine-tuned, and epochs (the page's sliders use the same).
BLOCKS_RANGE = (1, 4)
EPOCHS_RANGE = (1, 5)
EPOCHS = 2
LR = 1e-4
BATCH_SIZE = 16
#: Random-crop area (fraction of the photo) and aspect-ratio range.
CROP_SCALE = (0.5, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)


@dataclass(frozen=True)
class EpochPoint:
    epoch: int
    loss: float  # mean training cross-entropy over the epoch
    holdout_accuracy: float


@dataclass(frozen=True)
class FineTuneResult:
    blocks: int
    epochs: int
    trainable_params: int
    holdout_accuracy: float
    seconds: float
    curve: tuple[EpochPoint, ...]

    def as_dict(self) -> dict:
        return {"blocks": self.blocks, "epochs": self.epochs, "trainable_params": self.trainable_params,
                "holdout_accuracy": self.holdout_accuracy, "seconds": round(self.seconds, 3)}


def check_range(value: int, name: str, bounds: tuple[int, int]) -> int:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidInputError("not_integer", name=name, value=value)
    if not low <= int(value) <= high:
        raise InvalidInputError("out_of_range", name=name, low=low, high=high, value=value)
    return int(value)


def _random_crop(image: Image.Image, size: int, rng: np.random.Generator) -> Image.Image:
    width, height = image.size
    area = width * height
    for _ in range(10):
        target = area * rng.uniform(*CROP_SCALE)
        ratio = math.exp(rng.uniform(math.log(CROP_RATIO[0]), math.log(CROP_RATIO[1])))
        w = int(round(math.sqrt(target * ratio)))
        h = int(round(math.sqrt(target / ratio)))
        if 0 < w <= width and 0 < h <= height:
            left = int(rng.integers(0, width - w + 1))
            top = int(rng.integers(0, height - h + 1))
            break
    else:  # fall back to the centred square
        w = h = min(width, height)
        left, top = (width - w) // 2, (height - h) // 2
    crop = image.resize((size, size), Image.BILINEAR, box=(left, top, left + w, top + h))
    if rng.random() < 0.5:
        crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
    return crop


def _to_tensor(image: Image.Image, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)
    return (pixels - mean) / std


def fine_tune(photos: Sequence[Photo], labels: Sequence[int] | np.ndarray, train_idx: np.ndarray,
              holdout_idx: np.ndarray, loaded: LoadedModel, head: Head, *, blocks: int = 1, epochs: int = EPOCHS,
              seed: int = 0, progress: Callable[[int, int], None] | None = None) -> FineTuneResult:
    """Fine-tune the last ``blocks`` stages + the head on ``train_idx``, score ``holdout_idx`` after each epoch."""
    blocks = check_range(blocks, "blocks", BLOCKS_RANGE)
    epochs = check_range(epochs, "epochs", EPOCHS_RANGE)
    labels = np.asarray(labels, dtype=np.int64)
    start = time.perf_counter()
    model = copy.deepcopy(loaded.model).eval()
    stages = list(model.features.children())
    frozen = nn.Sequential(*stages[:-blocks])
    tuned = nn.Sequential(*stages[-blocks:])
    for p in model.parameters():
        p.requires_grad_(False)
    for p in tuned.parameters():
        p.requires_grad_(True)
    classifier = nn.Linear(head.dim, len(head.classes))
    with torch.no_grad():
        classifier.weight.copy_(head.weight)
        classifier.bias.copy_(head.bias)
    params = [p for p in tuned.parameters()] + list(classifier.parameters())
    trainable = sum(p.numel() for p in params)
    optimizer = torch.optim.Adam(params, lr=LR)
    size = loaded.input_size
    mean = torch.tensor(loaded.transform.mean, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(loaded.transform.std, dtype=torch.float32).view(3, 1, 1)

    def decode(i: int) -> Image.Image | None:
        try:
            return trim_extreme_aspect(load_image(photos[i].read(), photos[i].name, min_side=WORKING_MIN_SIDE))
        except ImageError:
            return None

    train_images = [(decode(int(i)), int(labels[i])) for i in train_idx]
    train_images = [(im, y) for im, y in train_images if im is not None]
    holdout_batches = []
    for i in holdout_idx:
        image = decode(int(i))
        if image is not None:
            holdout_batches.append((preprocess(image, loaded)[0], int(labels[i])))
    rng = np.random.default_rng(seed)
    steps_total = epochs * max(1, math.ceil(len(train_images) / BATCH_SIZE))
    steps_done = 0
    curve: list[EpochPoint] = []

    def score() -> float:
        if not holdout_batches:
            return float("nan")
        correct = 0
        with torch.inference_mode():
            for first in range(0, len(holdout_batches), BATCH_SIZE):
                chunk = holdout_batches[first:first + BATCH_SIZE]
                x = torch.stack([t for t, _ in chunk])
                logits = classifier(tuned(frozen(x)).mean(dim=(2, 3)))
                correct += int((logits.argmax(1) == torch.tensor([y for _, y in chunk])).sum())
        return correct / len(holdout_batches)

    with torch.enable_grad():
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(train_images))
            losses = []
            for first in range(0, len(order), BATCH_SIZE):
                chunk = [train_images[int(k)] for k in order[first:first + BATCH_SIZE]]
                x = torch.stack([_to_tensor(_random_crop(im, size, rng), mean, std) for im, _ in chunk])
                y = torch.tensor([label for _, label in chunk])
                with torch.no_grad():
                    prefix = frozen(x)
                logits = classifier(tuned(prefix).mean(dim=(2, 3)))
                loss = nn.functional.cross_entropy(logits, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
                steps_done += 1
                if progress is not None:
                    progress(steps_done, steps_total)
            curve.append(EpochPoint(epoch, float(np.mean(losses)) if losses else float("nan"), score()))
    accuracy = curve[-1].holdout_accuracy if curve else float("nan")
    return FineTuneResult(blocks, epochs, trainable, accuracy, time.perf_counter() - start, tuple(curve))
