"""Any registered model layer by layer: exact MACs and parameters, memory traffic, arithmetic intensity.

Counting is :func:`explainer.counting.count_module` (one pass on the meta device, one count rule per layer
type): MACs = ``FlopCounterMode`` FLOPs / 2, ``total_params`` = ``sum(p.numel())``. On top of its
convolution and linear rows this module adds the 0-MAC steps whose data movement the issue is about:

* ``concat`` after each SqueezeNet Fire module (``torch.cat`` copies the expand outputs once);
* ``shuffle`` after each ShuffleNet V2 unit (``torch.cat`` + ``channel_shuffle``: two copies of the output);
* ``se_scale`` for each squeeze-and-excitation (MobileNetV3, EfficientNet): the global pool reads the map,
  the scaling reads it again and writes it.

Memory traffic follows the rule of :mod:`explainer.costs` (the block formulas): each step reads its input
and weights once and writes its output once, float32 (4 bytes a value). Batch norm, activations, pooling
and residual additions are not listed (a deployed model folds BN into the convolution and fuses the
activation); their MACs are 0 by our convention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from explainer import architectures
from explainer.costs import FLOAT32_BYTES, Cost, CountedTotals
from explainer.errors import InvalidInputError
from explainer import registry

#: Row kinds, in the order of breakdowns.
KINDS: tuple[str, ...] = ("standard", "grouped", "depthwise", "pointwise", "linear", "concat", "shuffle", "se_scale")
#: The kinds that compute nothing (their MACs are 0) but move data.
MEMORY_KINDS: tuple[str, ...] = ("concat", "shuffle", "se_scale")


@dataclass(frozen=True)
class NetLayer:
    """One step of a counted network with its shapes (C, H, W), cost and memory traffic (elements)."""

    name: str
    kind: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    macs: int
    params: int
    reads: int  # elements: input(s) + weights
    writes: int  # elements: output
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    groups: int = 1
    weight_reads: int = 0  # the part of ``reads`` that is weights and biases (the rest is activations)

    @property
    def activation_moves(self) -> int:
        """Activation elements read and written (``reads + writes - weight_reads``)."""
        return self.reads + self.writes - self.weight_reads

    @property
    def bytes_read(self) -> int:
        return self.reads * FLOAT32_BYTES

    @property
    def bytes_written(self) -> int:
        return self.writes * FLOAT32_BYTES

    @property
    def bytes_moved(self) -> int:
        return self.bytes_read + self.bytes_written

    @property
    def intensity(self) -> float:
        """MACs per byte moved (float32); 0 for the memory-only steps."""
        return self.macs / self.bytes_moved if self.bytes_moved else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "kind": self.kind, "input": _hwc(self.in_shape), "output": _hwc(self.out_shape),
                "macs": self.macs, "params": self.params, "bytes_read": self.bytes_read,
                "bytes_written": self.bytes_written, "intensity": self.intensity, "kernel": list(self.kernel),
                "stride": list(self.stride), "groups": self.groups}


def _hwc(shape: tuple[int, ...]) -> list[int]:
    """(C, H, W) → [H, W, C] as the MobileNet tables print shapes; (F,) stays [F]."""
    return [shape[1], shape[2], shape[0]] if len(shape) == 3 else list(shape)


@dataclass(frozen=True)
class CountedNetwork(CountedTotals):
    """A registered model at one resolution, layer by layer, with totals."""

    model: str
    resolution: int
    layers: tuple[NetLayer, ...]
    total_params: int  # sum(p.numel())
    buffers: int  # elements of float buffers (batch norm running statistics) stored with the weights
    width: float | None = None  # MobileNets: the width multiplier α counted (None: the registered model as is)

    @property
    def spec(self) -> registry.ModelSpec:
        return registry.get(self.model)

    # macs, params (convolution and linear weights and biases) and other_params: CountedTotals

    @property
    def bytes_moved(self) -> int:
        return sum(layer.bytes_moved for layer in self.layers)

    @property
    def weight_reads(self) -> int:
        """Weight and bias elements read, every layer once per call (a module called twice reads them twice)."""
        return sum(layer.weight_reads for layer in self.layers)

    @property
    def activation_moves(self) -> int:
        """Activation elements read and written by all layers (inputs read, outputs written)."""
        return sum(layer.activation_moves for layer in self.layers)

    @property
    def size_mb(self) -> float:
        """float32 size of the stored model (parameters + buffers, 4 bytes each), in MB (10⁶ bytes)."""
        return (self.total_params + self.buffers) * FLOAT32_BYTES / 1e6

    @property
    def int8_size_mb(self) -> float:
        """int8 estimate: every conv/linear weight at 1 byte, batch norm folded into the convolutions, and per
        output channel a 4-byte bias and a 4-byte scale (per-channel quantization), in MB."""
        weights = 0
        channels = 0
        for layer in self.layers:
            if layer.kind in MEMORY_KINDS or layer.params == 0:
                continue
            out_channels = layer.out_shape[0]
            bias = out_channels if layer.params > _weight_count(layer) else 0
            weights += layer.params - bias
            channels += out_channels
        return (weights + 8 * channels) / 1e6

    def breakdown(self) -> dict[str, dict[str, float]]:
        """MACs, params and bytes per row kind, with shares of the totals (kinds absent are left out)."""
        out: dict[str, dict[str, float]] = {}
        for kind in KINDS:
            chosen = [layer for layer in self.layers if layer.kind == kind]
            if not chosen:
                continue
            macs = sum(layer.macs for layer in chosen)
            params = sum(layer.params for layer in chosen)
            moved = sum(layer.bytes_moved for layer in chosen)
            out[kind] = {"macs": macs, "params": params, "bytes_moved": moved,
                         "macs_pct": 100.0 * macs / self.macs if self.macs else 0.0,
                         "params_pct": 100.0 * params / self.params if self.params else 0.0,
                         "bytes_pct": 100.0 * moved / self.bytes_moved if self.bytes_moved else 0.0}
        return out

    def as_dict(self) -> dict[str, object]:
        """The JSON of ``python -m explainer network <model> --json`` for a counted model."""
        spec = self.spec
        return {"model": self.model, "display": spec.display, "family": spec.family, "width": spec.width,
                "resolution": self.resolution, "counted": True, "macs": self.macs, "params": self.params,
                "other_params": self.other_params, "total_params": self.total_params,
                "bytes_moved": self.bytes_moved, "size_mb": self.size_mb, "int8_size_mb": self.int8_size_mb,
                "layers": [layer.as_dict() for layer in self.layers], "breakdown": self.breakdown()}


def _weight_count(layer: NetLayer) -> int:
    if layer.kind == "linear":
        return layer.in_shape[-1] * layer.out_shape[-1]
    k_h, k_w = layer.kernel
    return k_h * k_w * (layer.in_shape[0] // layer.groups) * layer.out_shape[0]


def _memory_rules() -> dict[type, object]:
    """Count rules for the 0-MAC blocks whose copies we list (see the module docstring)."""
    from torchvision.models.shufflenetv2 import InvertedResidual as ShuffleUnit
    from torchvision.models.squeezenet import Fire
    from torchvision.ops import SqueezeExcitation

    from explainer.counting import COUNT_RULES

    def fire(module, in_shape, out_shape):
        return "concat", Cost(0, 0)

    def shuffle(module, in_shape, out_shape):
        return "shuffle", Cost(0, 0)

    def se(module, in_shape, out_shape):
        return "se_scale", Cost(0, 0)

    return {**COUNT_RULES, Fire: fire, ShuffleUnit: shuffle, SqueezeExcitation: se}


def _traffic(kind: str, in_shape: tuple[int, ...], out_shape: tuple[int, ...], weights: int) -> tuple[int, int]:
    inp, out = math.prod(in_shape), math.prod(out_shape)
    if kind == "concat":  # torch.cat: read the branch outputs, write the concatenation
        return out, out
    if kind == "shuffle":  # torch.cat, then channel_shuffle's transpose().contiguous(): two copies
        return 2 * out, 2 * out
    if kind == "se_scale":  # pool reads the map, writes C; scaling reads the map and C scales, writes the map
        channels = in_shape[0]
        return 2 * inp + channels, out + channels
    return inp + weights, out


def check_resolution(resolution: object) -> int:
    low, high = architectures.RESOLUTION_RANGE
    if isinstance(resolution, float) and resolution.is_integer():
        resolution = int(resolution)
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not low <= resolution <= high:
        raise InvalidInputError("arch.resolution_range", value=resolution, low=low, high=high)
    return resolution


@lru_cache(maxsize=128)
def _count(model: str, resolution: int, width: float | None = None) -> CountedNetwork:
    from explainer.counting import count_module

    module = registry.build(model, meta=True, width=width)
    try:
        count = count_module(module, (3, resolution, resolution), rules=_memory_rules())
    except RuntimeError as error:  # a map shrinks below the kernel (e.g. SqueezeNet at a tiny input)
        raise InvalidInputError("zoo.too_small", name=model, resolution=resolution) from error
    layers = []
    for row in count.layers:
        weights = row.params
        if row.kind not in MEMORY_KINDS and weights == 0:  # a module called a second time: its weights are read again
            weights = _weight_count(NetLayer(row.name, row.kind, row.in_shape, row.out_shape, 0, 0, 0, 0,
                                             row.kernel, row.stride, row.groups))
        reads, writes = _traffic(row.kind, row.in_shape, row.out_shape, weights)
        layers.append(NetLayer(row.name, row.kind, row.in_shape, row.out_shape, row.macs, row.params, reads, writes,
                               row.kernel, row.stride, row.groups, 0 if row.kind in MEMORY_KINDS else weights))
    buffers = sum(b.numel() for b in module.buffers() if b.is_floating_point())
    return CountedNetwork(model, resolution, tuple(layers), count.total_params, buffers, width)


def count_network(model: str, resolution: int = 224, width: float | None = None) -> CountedNetwork:
    """``model`` (any registered name) counted at ``resolution``×``resolution``; cached (the result is immutable).

    ``width`` is the width multiplier α of a MobileNet (:data:`explainer.architectures.WIDTH_RANGE`; ``None``
    or 1.0: the registered network); for the other models it must be ``None`` or the variant's own width
    (:func:`check_width`). Raises :class:`InvalidInputError` for an unknown model, a width or a resolution
    outside its range, or a resolution too small for the model.
    """
    alpha = check_width(model, width)
    return _count(model, check_resolution(resolution), alpha)


def check_width(model: str, width: object) -> float | None:
    """``width`` for ``model``: what :func:`count_network` counts at (``None``: the registered network as is).

    A MobileNet takes any α in :data:`explainer.architectures.WIDTH_RANGE` (1.0 gives ``None``). For the
    other models the variant's own width is accepted, anything else is an error that names the family's
    variants (their widths are fixed tables, not a free multiplier)."""
    spec = registry.get(model)
    if width is None:
        return None
    try:
        value = float(width)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = float("nan")
    if spec.is_mobilenet:
        low, high = architectures.WIDTH_RANGE
        if isinstance(width, bool) or not low <= value <= high:  # NaN fails the comparison too
            raise InvalidInputError("out_of_range", name="α", low=low, high=high, value=width)
        return None if value == 1.0 else value
    if spec.width is not None and value == spec.width:
        return None
    family = registry.variants(spec.family)
    if spec.width is None or len(family) < 2:
        raise InvalidInputError("zoo.no_width", name=model, value=width)
    choices = ", ".join(f"{v.name} ({v.width:g})" for v in family)
    raise InvalidInputError("zoo.fixed_width", name=model, value=width, own=f"{spec.width:g}", choices=choices)
