"""MobileNetV1, V2 and V3 as layer tables, expanded layer by layer with exact costs.

The tables are data, written as in the papers:

* **MobileNetV1** (Howard et al., 2017, Table 1): a 3×3 stride-2 convolution,
  13 depthwise separable blocks, global average pooling, one fully connected
  layer. The paper prints the second-to-last depthwise layer ("Conv dw / s2"
  at 7×7) with stride 2, but the feature map stays 7×7 and only stride 1
  gives the paper's 569M mult-adds: the released models use stride 1, and so
  do we. Width α: ``max(8, int(α·c))`` channels, as TF-slim's ``mobilenet_v1``
  (and :mod:`explainer.models`).
* **MobileNetV2** (Sandler et al., 2018, Table 2): rows of (t, c, n, s); a row
  repeats its block n times, only the first with stride s. The text speaks of
  "19 residual bottleneck layers"; the table has 17 bottleneck blocks (plus the
  stem and the 1×1 head convolution) and that is what we count.
* **MobileNetV3-Large/-Small** (Howard et al., 2019, Tables 1 and 2): rows of
  (kernel, expansion size, #out, SE, NL, s), as released in TensorFlow and
  torchvision. V3-Small differs from the printed table: see
  :data:`V3_SMALL_NOTE` and :mod:`explainer.published`.

Channels for V2/V3 under a width multiplier are rounded to multiples of 8 like
the reference implementations (``_make_divisible``). Every layer's MACs and
params come from :mod:`explainer.costs`; the conventions are those of that
module (MACs = weight multiply-accumulates; BN, activations, pooling, the SE
scaling and residual additions are not MACs).

Parameters: :attr:`Layer.params` counts convolution/linear weights plus their
biases (V3's SE convolutions and the classifiers have biases; convolutions
followed by batch norm have none). Batch norm's scale and shift (2 per
channel) are counted apart in :attr:`Layer.bn_params`, so that
``Network.params + Network.bn_params`` equals ``sum(p.numel())`` of the
PyTorch model (e.g. 3,504,872 for torchvision's MobileNetV2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterable

from explainer import costs, formulas, registry
from explainer.costs import Cost, LayerTotals
from explainer.errors import InvalidInputError

#: The networks, in the order the app offers them, and their display names: the taught records of the registry.
MODEL_NAMES: tuple[str, ...] = registry.TAUGHT
DISPLAY_NAMES: dict[str, str] = registry.DISPLAY_NAMES
#: Layer types, in the order of legends and breakdowns.
LAYER_TYPES: tuple[str, ...] = ("conv", "depthwise", "pointwise", "se", "fc")
#: Inclusive limits of the multipliers (page sliders and CLI use the same).
WIDTH_RANGE: tuple[float, float] = (0.1, 2.0)
RESOLUTION_RANGE: tuple[int, int] = (32, 512)
NUM_CLASSES = 1000

# --------------------------------------------------------------------------
# The tables
# --------------------------------------------------------------------------

#: V1 paper Table 1: stem channels, then (output channels, depthwise stride) of the 13 separable blocks.
V1_STEM = 32
V1_BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
    (1024, 2),
    (1024, 1),  # printed "s2" in Table 1; stride 1 keeps 7×7 and gives the paper's 569M
)
V1_MIN_DEPTH = 8

#: V2 paper Table 2: stem 32 channels, rows (t, c, n, s), head 1×1 conv to 1280.
V2_STEM = 32
V2_ROWS: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)
V2_LAST = 1280


@dataclass(frozen=True)
class V3Row:
    """One V3 bottleneck: kernel, expansion size, output channels, squeeze-and-excite, non-linearity, stride."""

    kernel: int
    exp: int
    out: int
    se: bool
    nl: str  # "relu" (RE) or "hswish" (HS)
    stride: int


def _rows(spec: Iterable[tuple[int, int, int, bool, str, int]]) -> tuple[V3Row, ...]:
    return tuple(V3Row(k, e, o, se, {"RE": "relu", "HS": "hswish"}[nl], s) for k, e, o, se, nl, s in spec)


#: V3 paper Table 1 (Large): stem 16 (h-swish), 15 bnecks, 1×1 conv 960, pool, 1×1 NBN 1280, 1×1 NBN k.
V3_LARGE_ROWS = _rows([
    (3, 16, 16, False, "RE", 1), (3, 64, 24, False, "RE", 2), (3, 72, 24, False, "RE", 1),
    (5, 72, 40, True, "RE", 2), (5, 120, 40, True, "RE", 1), (5, 120, 40, True, "RE", 1),
    (3, 240, 80, False, "HS", 2), (3, 200, 80, False, "HS", 1), (3, 184, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1), (3, 480, 112, True, "HS", 1), (3, 672, 112, True, "HS", 1),
    (5, 672, 160, True, "HS", 2), (5, 960, 160, True, "HS", 1), (5, 960, 160, True, "HS", 1),
])
#: V3-Small as released (TF-slim ``V3_SMALL``, torchvision ``mobilenet_v3_small``).
V3_SMALL_ROWS = _rows([
    (3, 16, 16, True, "RE", 2), (3, 72, 24, False, "RE", 2), (3, 88, 24, False, "RE", 1),
    (5, 96, 40, True, "HS", 2), (5, 240, 40, True, "HS", 1), (5, 240, 40, True, "HS", 1),
    (5, 120, 48, True, "HS", 1), (5, 144, 48, True, "HS", 1), (5, 288, 96, True, "HS", 2),
    (5, 576, 96, True, "HS", 1), (5, 576, 96, True, "HS", 1),
])
V3_STEM = 16
V3_LAST = {"mobilenet_v3_large": 1280, "mobilenet_v3_small": 1024}

# --------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------

Shape = tuple[int, int, int]


@dataclass(frozen=True)
class Layer:
    """One layer: where it sits, its tensor shapes (h, w, c) and its exact cost.

    ``block`` is 0 for the stem, 1..k for the separable / bottleneck blocks in
    order and k+1 for the head (last 1×1 convolution and classifier).
    ``module`` is the dotted name of the matching module in the PyTorch model
    (:mod:`explainer.models` for V1, torchvision for V2/V3): a ``Conv2d``,
    a ``Linear`` or (for ``se``) the whole ``SqueezeExcitation``.
    """

    name: str
    type: str  # "conv" | "depthwise" | "pointwise" | "fc" | "se"
    block: int
    stage: str  # "stem", "expand", "depthwise", "pointwise" (V1), "se", "project", "full_conv", "head", "classifier"
    input: Shape
    output: Shape
    macs: int
    params: int
    stride: int = 1
    kernel: int = 1
    activation: str | None = None  # "relu" | "relu6" | "hswish" | None (linear)
    bias_params: int = 0  # the part of ``params`` that is biases
    bn_params: int = 0  # batch norm scale + shift after this layer (not in ``params``)
    module: str = ""
    groups: int = 1
    residual: bool = False  # the block's shortcut adds its input after this layer
    squeeze: int = 0  # SE only: channels of the squeeze (reduce) convolution

    @property
    def weights(self) -> int:
        """Parameters without biases (what the V1 paper's Table 2 counts)."""
        return self.params - self.bias_params

    @property
    def input_elements(self) -> int:
        return math.prod(self.input)

    @property
    def output_elements(self) -> int:
        return math.prod(self.output)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "type": self.type, "block": self.block, "stage": self.stage,
            "input": list(self.input), "output": list(self.output), "macs": self.macs, "params": self.params,
            "stride": self.stride, "kernel": self.kernel, "activation": self.activation,
        }


@dataclass(frozen=True)
class Share:
    """One layer type's total and its share of the network."""

    macs: int
    params: int
    macs_pct: float
    params_pct: float


@dataclass(frozen=True)
class Network(LayerTotals):
    """A network expanded into layers, with totals."""

    model: str
    width: float
    resolution: int
    twin: bool
    layers: tuple[Layer, ...]

    # macs, params (convolution and linear weights plus biases; batch norm apart, in bn_params): LayerTotals

    @property
    def weights(self) -> int:
        """Parameters without biases and batch norm (the V1 paper's count)."""
        return sum(layer.weights for layer in self.layers)

    @property
    def bn_params(self) -> int:
        return sum(layer.bn_params for layer in self.layers)

    @property
    def total_params(self) -> int:
        """``params + bn_params``: what ``sum(p.numel() for p in model.parameters())`` reports."""
        return self.params + self.bn_params

    @property
    def num_blocks(self) -> int:
        return max(layer.block for layer in self.layers) - 1

    @property
    def display_name(self) -> str:
        return DISPLAY_NAMES[self.model] + (" (standard-convolution twin)" if self.twin else "")

    def breakdown(self, weights_only: bool = False) -> dict[str, Share]:
        """MACs and params per layer type, with percentages of the totals.

        ``weights_only`` counts parameters without biases, as the V1 paper's
        Table 2 does. Types absent from the network are left out.
        """
        total_macs = self.macs
        total_params = self.weights if weights_only else self.params
        result: dict[str, Share] = {}
        for kind in LAYER_TYPES:
            chosen = [layer for layer in self.layers if layer.type == kind]
            if not chosen:
                continue
            macs = sum(layer.macs for layer in chosen)
            params = sum(layer.weights if weights_only else layer.params for layer in chosen)
            result[kind] = Share(macs, params, 100.0 * macs / total_macs, 100.0 * params / total_params)
        return result

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of ``python -m explainer network --json``."""
        return {
            "model": self.model,
            "width": self.width,
            "resolution": self.resolution,
            "twin": self.twin,
            "macs": self.macs,
            "params": self.params,
            "bn_params": self.bn_params,
            "total_params": self.total_params,
            "layers": [layer.as_dict() for layer in self.layers],
            "breakdown": {
                kind: {"macs": s.macs, "params": s.params, "macs_pct": s.macs_pct, "params_pct": s.params_pct}
                for kind, s in self.breakdown().items()
            },
        }


# --------------------------------------------------------------------------
# Channel rules
# --------------------------------------------------------------------------


def v1_channels(channels: int, width: float) -> int:
    """V1 width multiplier as TF-slim: ``max(8, int(α·c))``."""
    return max(V1_MIN_DEPTH, int(channels * width))


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round to the nearest multiple of ``divisor`` (at least ``divisor``), never more than 10 % down.

    The rule of the V2/V3 reference implementations (TF-slim, torchvision).
    """
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


# --------------------------------------------------------------------------
# Expansion
# --------------------------------------------------------------------------


class _Builder:
    """Appends layers while tracking the current feature map (h = w, c)."""

    def __init__(self, resolution: int, channels: int = 3) -> None:
        self.size = resolution
        self.channels = channels
        self.layers: list[Layer] = []

    def _add(self, cost: Cost, *, name: str, type: str, block: int, stage: str, out_channels: int, stride: int,
             kernel: int, activation: str | None, bias: int, bn: bool, module: str, groups: int = 1,
             out_size: int | None = None) -> None:
        size_out = costs.output_size(self.size, stride) if out_size is None else out_size
        self.layers.append(Layer(
            name=name, type=type, block=block, stage=stage,
            input=(self.size, self.size, self.channels), output=(size_out, size_out, out_channels),
            macs=cost.macs, params=cost.params, stride=stride, kernel=kernel, activation=activation,
            bias_params=bias, bn_params=2 * out_channels if bn else 0, module=module, groups=groups,
        ))
        self.size, self.channels = size_out, out_channels

    def conv(self, n: int, kernel: int, stride: int, **kw) -> None:
        cost = costs.standard_conv(kernel, self.channels, n, self.size, stride)
        self._add(cost, type="conv", out_channels=n, stride=stride, kernel=kernel, bias=0, bn=True, **kw)

    def depthwise(self, kernel: int, stride: int, **kw) -> None:
        m = self.channels
        cost = costs.depthwise_conv(kernel, m, self.size, stride)
        self._add(cost, type="depthwise", out_channels=m, stride=stride, kernel=kernel, bias=0, bn=True,
                  groups=m, **kw)

    def pointwise(self, n: int, bn: bool = True, **kw) -> None:
        cost = costs.pointwise_conv(self.channels, n, self.size)
        self._add(cost, type="pointwise", out_channels=n, stride=1, kernel=1, bias=0, bn=bn, **kw)

    def squeeze_excite(self, squeeze: int, **kw) -> None:
        """SE: global pool, 1×1 conv c→squeeze (+bias), ReLU, 1×1 conv squeeze→c (+bias), hard-sigmoid, scale."""
        c = self.channels
        cost = costs.pointwise_conv(c, squeeze, 1, bias=True) + costs.pointwise_conv(squeeze, c, 1, bias=True)
        self._add(cost, type="se", out_channels=c, stride=1, kernel=1, bias=squeeze + c, bn=False,
                  activation=None, **kw)
        self.layers[-1] = replace(self.layers[-1], squeeze=squeeze)

    def linear(self, n: int, **kw) -> None:
        cost = costs.linear(self.channels, n, bias=True)
        self._add(cost, type="fc", out_channels=n, stride=1, kernel=1, bias=n, bn=False, out_size=1, **kw)

    def pool(self) -> None:
        """Global average pooling: no MACs, no record; the next layer sees 1×1."""
        self.size = 1

    def mark_residual(self) -> None:
        self.layers[-1] = replace(self.layers[-1], residual=True)


def _check(model: str, width: float, resolution: int) -> tuple[str, float, int]:
    if model not in MODEL_NAMES:
        raise InvalidInputError("arch.unknown_model", name=model, choices=", ".join(MODEL_NAMES))
    low, high = WIDTH_RANGE
    try:
        w = float(width)
    except (TypeError, ValueError):
        raise InvalidInputError("arch.width_range", value=width, low=low, high=high) from None
    if isinstance(width, bool) or not math.isfinite(w) or not low <= w <= high:
        raise InvalidInputError("arch.width_range", value=width, low=low, high=high)
    low_r, high_r = RESOLUTION_RANGE
    if isinstance(resolution, float) and resolution.is_integer():
        resolution = int(resolution)
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not low_r <= resolution <= high_r:
        raise InvalidInputError("arch.resolution_range", value=resolution, low=low_r, high=high_r)
    return model, w, resolution


def _merged_conv(b: _Builder, n: int, kernel: int, stride: int, block: int, name: str, module: str,
                 activation: str | None) -> None:
    """The twin's full k×k convolution standing in for a depthwise + 1×1 pair."""
    b.conv(n, kernel, stride, name=name, block=block, stage="full_conv", activation=activation, module=module)


def _v1(width: float, resolution: int, twin: bool) -> list[Layer]:
    b = _Builder(resolution)
    b.conv(v1_channels(V1_STEM, width), 3, 2, name="stem", block=0, stage="stem", activation="relu6",
           module="features.stem.conv")
    for i, (out, stride) in enumerate(V1_BLOCKS, start=1):
        n = v1_channels(out, width)
        if twin:
            _merged_conv(b, n, 3, stride, i, f"b{i}.conv", f"features.block{i}", "relu6")
            continue
        b.depthwise(3, stride, name=f"b{i}.dw", block=i, stage="depthwise", activation="relu6",
                    module=f"features.block{i}.depthwise.conv")
        b.pointwise(n, name=f"b{i}.pw", block=i, stage="pointwise", activation="relu6",
                    module=f"features.block{i}.pointwise.conv")
    b.pool()
    b.linear(NUM_CLASSES, name="fc", block=len(V1_BLOCKS) + 1, stage="classifier", activation=None,
             module="classifier")
    return b.layers


def _v2(width: float, resolution: int, twin: bool) -> list[Layer]:
    b = _Builder(resolution)
    b.conv(make_divisible(V2_STEM * width), 3, 2, name="stem", block=0, stage="stem", activation="relu6",
           module="features.0.0")
    block = 0
    for t, c, n, s in V2_ROWS:
        out = make_divisible(c * width)
        for repeat in range(n):
            block += 1
            stride = s if repeat == 0 else 1
            m = b.channels
            hidden = int(round(m * t))
            prefix = f"features.{block}.conv"
            if t != 1:
                b.pointwise(hidden, name=f"b{block}.expand", block=block, stage="expand", activation="relu6",
                            module=f"{prefix}.0.0")
            dw_index, pr_index = (0, 1) if t == 1 else (1, 2)
            if twin:
                _merged_conv(b, out, 3, stride, block, f"b{block}.conv", f"{prefix}.{dw_index}", None)
            else:
                b.depthwise(3, stride, name=f"b{block}.dw", block=block, stage="depthwise", activation="relu6",
                            module=f"{prefix}.{dw_index}.0")
                b.pointwise(out, name=f"b{block}.project", block=block, stage="project", activation=None,
                            module=f"{prefix}.{pr_index}")
            if stride == 1 and m == out:
                b.mark_residual()
    head = block + 1
    last = make_divisible(V2_LAST * max(1.0, width))
    b.pointwise(last, name="head", block=head, stage="head", activation="relu6", module=f"features.{head}.0")
    b.pool()
    b.linear(NUM_CLASSES, name="fc", block=head, stage="classifier", activation=None, module="classifier.1")
    return b.layers


def _v3(model: str, width: float, resolution: int, twin: bool) -> list[Layer]:
    rows = V3_LARGE_ROWS if model == "mobilenet_v3_large" else V3_SMALL_ROWS
    b = _Builder(resolution)
    b.conv(make_divisible(V3_STEM * width), 3, 2, name="stem", block=0, stage="stem", activation="hswish",
           module="features.0.0")
    for block, row in enumerate(rows, start=1):
        m = b.channels
        exp = make_divisible(row.exp * width)
        out = make_divisible(row.out * width)
        prefix = f"features.{block}.block"
        index = 0
        if exp != m:
            b.pointwise(exp, name=f"b{block}.expand", block=block, stage="expand", activation=row.nl,
                        module=f"{prefix}.{index}.0")
            index += 1
        if twin:
            # expand → SE on the expanded tensor → one full k×k convolution (replaces depthwise + project)
            if row.se:
                b.squeeze_excite(make_divisible(exp // 4), name=f"b{block}.se", block=block, stage="se",
                                 module=f"{prefix}.{index + 1}")
            _merged_conv(b, out, row.kernel, row.stride, block, f"b{block}.conv", f"{prefix}.{index}", None)
        else:
            b.depthwise(row.kernel, row.stride, name=f"b{block}.dw", block=block, stage="depthwise",
                        activation=row.nl, module=f"{prefix}.{index}.0")
            index += 1
            if row.se:
                b.squeeze_excite(make_divisible(exp // 4), name=f"b{block}.se", block=block, stage="se",
                                 module=f"{prefix}.{index}")
                index += 1
            b.pointwise(out, name=f"b{block}.project", block=block, stage="project", activation=None,
                        module=f"{prefix}.{index}.0")
        if row.stride == 1 and m == out:
            b.mark_residual()
    head = len(rows) + 1
    b.pointwise(6 * b.channels, name="head", block=head, stage="head", activation="hswish",
                module=f"features.{head}.0")
    b.pool()
    b.linear(make_divisible(V3_LAST[model] * width), name="fc1", block=head, stage="classifier",
             activation="hswish", module="classifier.0")
    b.linear(NUM_CLASSES, name="fc2", block=head, stage="classifier", activation=None, module="classifier.3")
    return b.layers


@lru_cache(maxsize=256)
def _build(model: str, width: float, resolution: int, twin: bool) -> Network:
    if model == "mobilenet_v1":
        layers = _v1(width, resolution, twin)
    elif model == "mobilenet_v2":
        layers = _v2(width, resolution, twin)
    else:
        layers = _v3(model, width, resolution, twin)
    return Network(model=model, width=width, resolution=resolution, twin=twin, layers=tuple(layers))


def build_network(name: str, width: float = 1.0, resolution: int = 224, twin: bool = False) -> Network:
    """Expand ``name`` at width multiplier α = ``width`` and input ``resolution``×``resolution``.

    ``twin=True`` gives the standard-convolution twin: every depthwise
    convolution and the 1×1 convolution that follows it (V1's pointwise,
    V2/V3's projection) are replaced by one full k×k convolution with the same
    input channels, output channels and stride (the V1 paper's "Conv
    MobileNet"). V2/V3 expansion layers stay; a V3 SE block then acts on the
    expanded tensor (same cost). Raises :class:`InvalidInputError` for an
    unknown name or values outside :data:`WIDTH_RANGE` / :data:`RESOLUTION_RANGE`.
    The result is cached: it is immutable.
    """
    model, w, res = _check(name, width, resolution)
    return _build(model, w, res, bool(twin))


# --------------------------------------------------------------------------
# Activation memory (the V2 paper's argument, Section 5)
# --------------------------------------------------------------------------

#: Bytes per stored value.
BYTES = {"float32": 4, "float16": 2, "int8": 1}


@dataclass(frozen=True)
class MemoryStep:
    """The tensors alive while one layer (or one whole block) runs."""

    label: str
    block: int
    input_elements: int
    output_elements: int

    @property
    def elements(self) -> int:
        return self.input_elements + self.output_elements

    def bytes(self, dtype: str = "float32") -> int:
        return self.elements * BYTES[dtype]


def memory_profile(network: Network, streamed: bool = False) -> list[MemoryStep]:
    """Activation memory step by step: input + output tensor of each layer.

    With ``streamed=False`` every layer's output is materialised (the naive
    schedule). With ``streamed=True`` each separable / bottleneck block counts
    only its input and output: the V2 paper (Section 5, "memory efficient
    inference") notes that the expanded tensor inside an inverted residual
    can be computed in slices and never held whole, so only the thin
    bottleneck tensors must be stored. SE layers change no tensor size and
    the classifier's tensors are tiny; they are kept as they are.
    """
    steps: list[MemoryStep] = []
    if not streamed:
        for layer in network.layers:
            steps.append(MemoryStep(layer.name, layer.block, layer.input_elements, layer.output_elements))
        return steps
    last_block = max(layer.block for layer in network.layers)
    for block in range(0, last_block + 1):
        chosen = [layer for layer in network.layers if layer.block == block]
        if block in (0, last_block):
            steps.extend(MemoryStep(l.name, l.block, l.input_elements, l.output_elements) for l in chosen)
        else:
            steps.append(MemoryStep(f"b{block}", block, chosen[0].input_elements, chosen[-1].output_elements))
    return steps


def peak(steps: list[MemoryStep]) -> int:
    """Index of the step with the most live activation elements (the first one on ties)."""
    return max(range(len(steps)), key=lambda i: (steps[i].elements, -i))


def tensor_bytes(shape: Shape, dtype: str = "float32") -> int:
    """Bytes of one activation tensor of ``shape`` stored as ``dtype``."""
    return math.prod(shape) * BYTES[dtype]


def largest_tensor(network: Network) -> tuple[str, Shape]:
    """The biggest tensor passed between blocks (a block's output): ``(block's last layer name, (h, w, c))``.

    The V2 paper's Table 3 compares exactly this, at 16 bits per value: 1600K
    for V1 (its 64×112×112 block output) against 400K for V2 (16×112×112; the
    stem's output is fused into the first bottleneck, so it is never stored).
    """
    last_block = max(layer.block for layer in network.layers)
    outputs = {}
    for layer in network.layers:
        if 0 < layer.block < last_block:
            outputs[layer.block] = layer  # the last layer of each block wins
    best = max(outputs.values(), key=lambda layer: math.prod(layer.output))
    return best.name, best.output


# --------------------------------------------------------------------------
# Formulas of one layer or block (the same functions as the cost page)
# --------------------------------------------------------------------------


def layer_formulas(layer: Layer) -> list[tuple[str, formulas.Formula]]:
    """The cost formula(s) of ``layer`` with its numbers: ``[(part, Formula)]``.

    ``part`` is the layer type, or ``se_reduce`` / ``se_expand`` for the two
    1×1 convolutions (with bias, on the pooled 1×1 map) of an SE block.
    """
    h, _, m = layer.input
    n = layer.output[2]
    if layer.type == "conv":
        return [("conv", formulas.standard(layer.kernel, m, n, h, layer.stride))]
    if layer.type == "depthwise":
        return [("depthwise", formulas.depthwise(layer.kernel, m, h, layer.stride))]
    if layer.type == "pointwise":
        return [("pointwise", formulas.pointwise(m, n, h))]
    if layer.type == "fc":
        return [("fc", formulas.linear(m, n))]
    return [
        ("se_reduce", formulas.pointwise(m, layer.squeeze, 1, bias=True)),
        ("se_expand", formulas.pointwise(layer.squeeze, m, 1, bias=True)),
    ]


def block_formula(network: Network, block: int) -> tuple[str, formulas.Formula] | None:
    """The whole block as one formula where the cost page has one: V1's separable block
    (``separable``) and V2's inverted residual (``inverted``); ``None`` otherwise."""
    if network.twin:
        return None
    layers = [layer for layer in network.layers if layer.block == block]
    kinds = [layer.stage for layer in layers]
    if network.model == "mobilenet_v1" and kinds == ["depthwise", "pointwise"]:
        dw, pw = layers
        return "separable", formulas.separable(dw.kernel, dw.input[2], pw.output[2], dw.input[0], dw.stride)
    if network.model == "mobilenet_v2" and kinds[-2:] == ["depthwise", "project"]:
        first, dw = layers[0], layers[-2]
        m = first.input[2]
        hidden = dw.input[2]
        if hidden % m:
            return None
        return "inverted", formulas.inverted_residual(dw.kernel, m, layers[-1].output[2], first.input[0],
                                                      hidden // m, dw.stride)
    return None
