"""Classify a photo with a MobileNet: preprocess, forward pass, top-k labels, timings.

The same functions serve the Classify page, ``python -m explainer classify``
and the benchmark, so the app and the CLI never compute a prediction two
ways. Preprocessing is the transform that belongs to the weights
(``LoadedModel.transform``: torchvision's ``weights.transforms()`` — resize
the shorter side, center-crop, scale to [0, 1], normalise with the ImageNet
mean and std).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from explainer import stopwatch
from explainer.errors import InvalidInputError
from explainer.images import WORKING_MIN_SIDE, load_image
from explainer.weights import LoadedModel

#: Most labels one request may ask for.
MAX_TOP = 20
#: Photos longer than this many times their width (or the reverse) are centre-trimmed before resizing:
#: the crop only ever keeps the central square, and a 10000×2 strip resized to a shorter side of 256
#: would otherwise become a 1,280,000-pixel-wide tensor.
MAX_ASPECT = 3.0


@dataclass(frozen=True)
class Prediction:
    """One of the top-k classes: ImageNet index, human-readable label, softmax probability."""

    index: int
    label: str
    prob: float

    def as_dict(self) -> dict:
        return {"index": self.index, "label": self.label, "prob": self.prob}


@dataclass
class Classification:
    """The result of one classification and what it cost."""

    model: str
    weights: str
    pretrained: bool
    predictions: list[Prediction]
    forward_ms: float
    preprocess_ms: float
    decode_ms: float = 0.0
    input_tensor: torch.Tensor | None = field(default=None, repr=False)  # [1, 3, H, W], normalised

    @property
    def latency_ms(self) -> float:
        """Inference time: the forward pass of the network on the prepared tensor."""
        return self.forward_ms

    @property
    def total_ms(self) -> float:
        return self.decode_ms + self.preprocess_ms + self.forward_ms

    def as_dict(self) -> dict:
        return {
            "model": self.model,
            "weights": self.weights,
            "pretrained": self.pretrained,
            "predictions": [p.as_dict() for p in self.predictions],
            "latency_ms": round(self.forward_ms, 3),
            "timing_ms": {
                "decode": round(self.decode_ms, 3),
                "preprocess": round(self.preprocess_ms, 3),
                "forward": round(self.forward_ms, 3),
                "total": round(self.total_ms, 3),
            },
        }


def check_top(top: int) -> int:
    """``top`` if it is a whole number in 1…MAX_TOP, else :class:`InvalidInputError`."""
    if isinstance(top, bool) or not isinstance(top, int):
        raise InvalidInputError("not_integer", name="top", value=top)
    if not 1 <= top <= MAX_TOP:
        raise InvalidInputError("out_of_range", name="top", low=1, high=MAX_TOP, value=top)
    return top


def trim_extreme_aspect(image: Image.Image, max_aspect: float = MAX_ASPECT) -> Image.Image:
    """Centre-crop the long side of a very thin image to 2× its short side (the centre crop never needs more)."""
    width, height = image.size
    short, long = min(width, height), max(width, height)
    if long <= max_aspect * short:
        return image
    keep = 2 * short
    offset = (long - keep) // 2
    box = (offset, 0, offset + keep, height) if width > height else (0, offset, width, offset + keep)
    return image.crop(box)


def resized_for_crop(image: Image.Image, transform) -> Image.Image:
    """The image ``transform`` (a torchvision ``ImageClassification`` preset) takes its centre crop from:
    trimmed like :func:`preprocess`, resized to the transform's ``resize_size`` the same way. Its shorter side is
    exactly ``resize_size``, so preprocessing it again trims nothing and resizes nothing (torchvision returns an
    image already at the target size untouched): ``preprocess`` gives the very same tensor for it as for
    ``image``. A transform without ``resize_size`` gets the trimmed image."""
    from torchvision.transforms import functional as F

    trimmed = trim_extreme_aspect(image)
    size = getattr(transform, "resize_size", None)
    if size is None:
        return trimmed
    return F.resize(trimmed, size, interpolation=transform.interpolation, antialias=transform.antialias)


def preprocess(image: Image.Image, loaded: LoadedModel) -> torch.Tensor:
    """The batch ``[1, 3, H, W]`` fed to the network: the weights' own transform of ``image``."""
    return loaded.transform(trim_extreme_aspect(image)).unsqueeze(0)


def top_k(logits: torch.Tensor, categories: list[str], top: int = 5) -> list[Prediction]:
    """The ``top`` most probable classes of one row of logits (softmax over all classes)."""
    probs = torch.softmax(logits.reshape(-1).double(), dim=0)
    values, indices = torch.topk(probs, k=min(top, probs.numel()))
    return [Prediction(int(i), categories[int(i)], float(v)) for v, i in zip(values, indices)]


def forward(loaded: LoadedModel, batch: torch.Tensor) -> torch.Tensor:
    """Logits of the model on ``batch``, in eval mode without autograd."""
    with torch.inference_mode():
        return loaded.model(batch)


#: Forward passes timed for a model's reference latency (their median counts).
REFERENCE_RUNS = 10


def warm_up(loaded: LoadedModel) -> None:
    """One untimed forward pass (the first call of a fresh process allocates memory and chooses kernels)."""
    forward(loaded, torch.zeros(1, 3, loaded.input_size, loaded.input_size))


def reference_latency_ms(loaded: LoadedModel, runs: int = REFERENCE_RUNS) -> float:
    """The median of ``runs`` forward passes on one ``1×3×S×S`` input (after one warm-up), in ms: the project's
    one stopwatch (:mod:`explainer.stopwatch`), the same figure as the zoo's for the same model."""
    batch = torch.zeros(1, 3, loaded.input_size, loaded.input_size)
    return stopwatch.time_call(lambda: forward(loaded, batch), runs=runs, warmup=1).median_ms


def classify_image(image: Image.Image, loaded: LoadedModel, top: int = 5) -> Classification:
    """Preprocess ``image``, run the model, and return the top-``top`` classes with timings."""
    check_top(top)
    start = time.perf_counter()
    batch = preprocess(image, loaded)
    prepared = time.perf_counter()
    logits = forward(loaded, batch)
    done = time.perf_counter()
    return Classification(
        model=loaded.name,
        weights=loaded.weights,
        pretrained=loaded.pretrained,
        predictions=top_k(logits, loaded.categories, top),
        forward_ms=(done - prepared) * 1000.0,
        preprocess_ms=(prepared - start) * 1000.0,
        input_tensor=batch,
    )


def classify_source(source: bytes | str | Path, loaded: LoadedModel, top: int = 5, name: str | None = None) -> Classification:
    """Decode ``source`` safely (:func:`explainer.images.load_image`, draft mode) and classify it."""
    check_top(top)
    start = time.perf_counter()
    image = load_image(source, name, min_side=WORKING_MIN_SIDE)
    decoded = time.perf_counter()
    result = classify_image(image, loaded, top)
    result.decode_ms = (decoded - start) * 1000.0
    return result


def tensor_to_image(batch: torch.Tensor, loaded: LoadedModel) -> np.ndarray:
    """The network's input made visible again: undo the normalisation, ``uint8`` ``H×W×3``."""
    mean = torch.tensor(loaded.transform.mean).view(3, 1, 1)
    std = torch.tensor(loaded.transform.std).view(3, 1, 1)
    pixels = (batch.reshape(3, *batch.shape[-2:]) * std + mean).clamp(0, 1)
    return (pixels.permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)


@dataclass(frozen=True)
class ModelCost:
    """MACs and parameters of a model at its input size, and where they were counted.

    ``params`` follows the app's convention (see :mod:`explainer.costs`): convolution and
    fully connected weights and biases, batch norm excluded.
    """

    macs: int
    params: int
    input_size: int
    source: str  # "architectures" (the architecture tables) or "counted" (PyTorch counters on the module)


def model_cost(loaded: LoadedModel) -> ModelCost:
    """MACs/params of ``loaded`` — from :mod:`explainer.architectures` when it is available, else counted.

    The fallback counts with ``torch.utils.flop_counter.FlopCounterMode`` (MACs =
    FLOPs / 2 of convolutions and linear layers) and ``numel`` of the
    convolution and linear parameters.
    """
    size = loaded.input_size
    try:
        from explainer.architectures import build_network
    except ImportError:
        build_network = None
    if build_network is not None:
        network = build_network(loaded.name, width=loaded.width, resolution=size)
        return ModelCost(int(network.macs), int(network.params), size, "architectures")
    return counted_cost(loaded.model, size)


def counted_cost(model: torch.nn.Module, size: int) -> ModelCost:
    """MACs and conv/linear parameters of ``model`` at ``size``×``size``, counted by PyTorch."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model(torch.zeros(1, 3, size, size))
    layers = (torch.nn.Conv2d, torch.nn.Linear)
    params = sum(p.numel() for m in model.modules() if isinstance(m, layers) for p in m.parameters(recurse=False))
    return ModelCost(counter.get_total_flops() // 2, params, size, "counted")
