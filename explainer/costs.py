"""Exact cost of the convolutions MobileNets are built from.

Counting conventions (the same everywhere in the app, the CLI and the tests):

* **MACs** are the multiply-accumulates of the convolution / linear weights:
  one per weight per output position. Bias additions, batch norm,
  activations, pooling and the residual additions are *not* MACs (the
  residual additions of an inverted residual block are reported apart).
  This is exactly half of what ``torch.utils.flop_counter.FlopCounterMode``
  reports for ``Conv2d`` and ``Linear``.
* **params** are the weights, plus one bias per output channel where the
  layer has a bias (``bias=True``). MobileNets put batch norm after every
  convolution and use no conv bias; BN parameters are not counted here.
* ``D_F`` is the *input* feature map height = width; padding is "same", so
  a layer with stride ``s`` produces ``ceil(D_F / s)`` × ``ceil(D_F / s)``
  outputs (PyTorch: ``padding = D_K // 2`` for odd ``D_K``).
* In the inverted residual block the 1×1 expansion runs at the input
  resolution ``D_F``; the depthwise convolution (stride ``s``) and the
  linear 1×1 projection run at the output resolution ``ceil(D_F / s)``.
* Width multiplier α: ``M → floor(α·M)`` and ``N → floor(α·N)`` (at least 1),
  as in the V1 paper's TensorFlow reference (``int(d * depth_multiplier)``).
  Resolution multiplier ρ: ``D_F → round(ρ·D_F)`` (at least 1); the V1
  paper's ρ = 0.714 turns 14 into 10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from explainer.errors import InvalidInputError

# --------------------------------------------------------------------------
# Limits shared by the cost page's widgets and the command line.
# --------------------------------------------------------------------------

#: Inclusive ranges of every input (the page's sliders use the same).
LIMITS: dict[str, tuple[float, float]] = {
    "d_k": (1, 11),
    "m": (1, 2048),
    "n": (1, 2048),
    "d_f": (1, 512),
    "t": (1, 10),
    "alpha": (0.1, 2.0),
    "rho": (0.1, 2.0),
}
STRIDES: tuple[int, ...] = (1, 2)
#: How each input is written in messages and formulas.
SYMBOLS: dict[str, str] = {"d_k": "D_K", "m": "M", "n": "N", "d_f": "D_F", "t": "t", "stride": "stride", "alpha": "α", "rho": "ρ"}


@dataclass(frozen=True)
class Cost:
    """Multiply-accumulates and parameters of one layer or a group of layers."""

    macs: int
    params: int

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.macs + other.macs, self.params + other.params)

    def as_dict(self) -> dict[str, int]:
        return {"macs": self.macs, "params": self.params}


ZERO = Cost(0, 0)


class CostTotals:
    """``macs`` and ``params`` of a record whose :attr:`total` is the :class:`Cost` of its parts."""

    total: Cost  # a property of the record

    @property
    def macs(self) -> int:
        return self.total.macs

    @property
    def params(self) -> int:
        return self.total.params


class LayerTotals:
    """``macs`` and ``params`` of a whole network: the sums over its ``layers`` (each has ``macs`` and
    ``params``). Shared by :class:`explainer.architectures.Network` (the tables),
    :class:`explainer.counting.Count` and :class:`explainer.zoo.network.CountedNetwork` (a counted module)."""

    layers: tuple[Any, ...]

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def params(self) -> int:
        """Convolution and linear weights plus biases (batch norm and every other parameter apart)."""
        return sum(layer.params for layer in self.layers)


class CountedTotals(LayerTotals):
    """:class:`LayerTotals` of a counted module, which also knows ``total_params`` = ``sum(p.numel())``."""

    total_params: int

    @property
    def other_params(self) -> int:
        """Every other parameter (batch norm scale and shift, …): ``total_params - params``."""
        return self.total_params - self.params


def output_size(d_f: int, stride: int = 1) -> int:
    """Output height/width of a "same"-padded convolution: ``ceil(D_F / s)``."""
    return -(-d_f // stride)


def standard_conv(d_k: int, m: int, n: int, d_f: int, stride: int = 1, bias: bool = False) -> Cost:
    """A full ``D_K×D_K`` convolution from ``M`` to ``N`` channels.

    MACs = D_K·D_K·M·N·D_G·D_G with D_G = ceil(D_F / s); params = D_K·D_K·M·N (+N).
    """
    d_g = output_size(d_f, stride)
    return Cost(d_k * d_k * m * n * d_g * d_g, d_k * d_k * m * n + (n if bias else 0))


def depthwise_conv(d_k: int, m: int, d_f: int, stride: int = 1, bias: bool = False) -> Cost:
    """One ``D_K×D_K`` filter per input channel (``groups = M``).

    MACs = D_K·D_K·M·D_G·D_G; params = D_K·D_K·M (+M).
    """
    d_g = output_size(d_f, stride)
    return Cost(d_k * d_k * m * d_g * d_g, d_k * d_k * m + (m if bias else 0))


def pointwise_conv(m: int, n: int, d_f: int, bias: bool = False) -> Cost:
    """A ``1×1`` convolution from ``M`` to ``N`` channels at ``D_F×D_F``.

    MACs = M·N·D_F·D_F; params = M·N (+N).
    """
    return Cost(m * n * d_f * d_f, m * n + (n if bias else 0))


def conv2d(k_h: int, k_w: int, m: int, n: int, out_h: int, out_w: int, groups: int = 1, bias: bool = False) -> Cost:
    """Any 2-D convolution, counted at its real output size (grouped, rectangular, any padding or dilation).

    Each of the ``g`` groups maps ``M/g`` input to ``N/g`` output channels, so one output value takes
    ``k_h·k_w·M/g`` MACs: MACs = k_h·k_w·(M/g)·N·H_out·W_out; params = k_h·k_w·(M/g)·N (+N).
    ``groups = 1`` is :func:`standard_conv`, ``groups = M = N`` :func:`depthwise_conv` (at "same" padding).
    """
    if groups < 1 or m % groups or n % groups:
        raise ValueError(f"groups={groups} must divide M={m} and N={n}")
    per_output = k_h * k_w * (m // groups)
    return Cost(per_output * n * out_h * out_w, per_output * n + (n if bias else 0))


def linear(in_features: int, out_features: int, bias: bool = True) -> Cost:
    """A fully connected layer applied once: MACs = in·out; params = in·out (+out)."""
    return Cost(in_features * out_features, in_features * out_features + (out_features if bias else 0))


@dataclass(frozen=True)
class SeparableCost(CostTotals):
    """Depthwise separable convolution: depthwise ``D_K×D_K`` then pointwise ``1×1``."""

    depthwise: Cost
    pointwise: Cost

    @property
    def total(self) -> Cost:
        return self.depthwise + self.pointwise


def depthwise_separable(d_k: int, m: int, n: int, d_f: int, stride: int = 1) -> SeparableCost:
    """Depthwise (stride ``s``, at ``D_F``) followed by pointwise (at ``ceil(D_F/s)``)."""
    return SeparableCost(
        depthwise=depthwise_conv(d_k, m, d_f, stride),
        pointwise=pointwise_conv(m, n, output_size(d_f, stride)),
    )


@dataclass(frozen=True)
class InvertedResidualCost(CostTotals):
    """MobileNetV2's block: expand ``1×1`` → depthwise ``D_K×D_K`` → linear project ``1×1``.

    ``expand`` is ``None`` when the expansion factor is 1 (MobileNetV2's first
    block has no expansion layer). ``residual_adds`` counts the element-wise
    additions of the shortcut (``N·D_G·D_G`` when ``s = 1`` and ``M = N``,
    else 0); they are not MACs and not part of :attr:`total`.
    """

    expand: Cost | None
    depthwise: Cost
    project: Cost
    residual_adds: int
    hidden: int = field(default=0)

    @property
    def total(self) -> Cost:
        return (self.expand or ZERO) + self.depthwise + self.project

    @property
    def has_residual(self) -> bool:
        return self.residual_adds > 0


def inverted_residual(d_k: int, m: int, n: int, d_f: int, t: int, stride: int = 1) -> InvertedResidualCost:
    """Cost of an inverted residual block with expansion factor ``t``.

    The hidden width is ``t·M``. Expansion runs at ``D_F``; depthwise (stride
    ``s``) and projection at ``D_G = ceil(D_F / s)``. The shortcut exists
    only when ``s = 1`` and ``M = N``.
    """
    hidden = t * m
    d_g = output_size(d_f, stride)
    expand = pointwise_conv(m, hidden, d_f) if t != 1 else None
    return InvertedResidualCost(
        expand=expand,
        depthwise=depthwise_conv(d_k, hidden, d_f, stride),
        project=pointwise_conv(hidden, n, d_g),
        residual_adds=n * d_g * d_g if (stride == 1 and m == n) else 0,
        hidden=hidden,
    )


# --------------------------------------------------------------------------
# Multipliers and ratios
# --------------------------------------------------------------------------


def apply_width(channels: int, alpha: float) -> int:
    """Width multiplier: ``floor(α·channels)``, at least 1 (V1 reference code)."""
    return max(1, int(math.floor(alpha * channels + 1e-9)))


def apply_resolution(d_f: int, rho: float) -> int:
    """Resolution multiplier: ``round(ρ·D_F)``, at least 1 (ρ = 0.714 maps 14 → 10)."""
    return max(1, int(math.floor(rho * d_f + 0.5)))


def separable_ratio_exact(d_k: int, m: int, n: int, d_f: int, stride: int = 1) -> Fraction:
    """Separable MACs divided by standard MACs, as an exact fraction."""
    return Fraction(depthwise_separable(d_k, m, n, d_f, stride).macs, standard_conv(d_k, m, n, d_f, stride).macs)


def separable_ratio_approx(d_k: int, n: int) -> float:
    """The V1 paper's reduction ``1/N + 1/D_K²``.

    With "same" padding and both layers at the same output size it equals the
    exact MAC ratio; it stops being exact once bias or batch-norm work is
    counted, or when the two layers run at different resolutions.
    """
    return 1.0 / n + 1.0 / (d_k * d_k)


# --------------------------------------------------------------------------
# Validation and the full comparison (used by the page and the CLI)
# --------------------------------------------------------------------------


def _as_int(name: str, value: object) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError("not_integer", name=SYMBOLS[name], value=value)
    return value


def _check_int(name: str, value: object) -> int:
    number = _as_int(name, value)
    low, high = LIMITS[name]
    if not low <= number <= high:
        raise InvalidInputError("out_of_range", name=SYMBOLS[name], value=value, low=int(low), high=int(high))
    return number


def _check_float(name: str, value: object) -> float:
    low, high = LIMITS[name]
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInputError("not_number", name=SYMBOLS[name], value=value) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise InvalidInputError("out_of_range", name=SYMBOLS[name], value=value, low=low, high=high)
    return number


@dataclass(frozen=True)
class CostInputs:
    """The validated inputs of the cost calculator, before multipliers."""

    d_k: int
    m: int
    n: int
    d_f: int
    t: int = 6
    stride: int = 1
    alpha: float = 1.0
    rho: float = 1.0

    @classmethod
    def checked(cls, d_k: object, m: object, n: object, d_f: object, t: object = 6, stride: object = 1,
                alpha: object = 1.0, rho: object = 1.0) -> "CostInputs":
        """Validate raw values; raises :class:`InvalidInputError` with a user message."""
        d_k_i = _check_int("d_k", d_k)
        if d_k_i % 2 == 0:
            raise InvalidInputError("even_kernel", value=d_k_i)
        stride_i = _as_int("stride", stride)
        if stride_i not in STRIDES:
            raise InvalidInputError("bad_stride", value=stride)
        return cls(
            d_k=d_k_i,
            m=_check_int("m", m),
            n=_check_int("n", n),
            d_f=_check_int("d_f", d_f),
            t=_check_int("t", t),
            stride=stride_i,
            alpha=_check_float("alpha", alpha),
            rho=_check_float("rho", rho),
        )

    @property
    def effective_m(self) -> int:
        return apply_width(self.m, self.alpha)

    @property
    def effective_n(self) -> int:
        return apply_width(self.n, self.alpha)

    @property
    def effective_d_f(self) -> int:
        return apply_resolution(self.d_f, self.rho)

    @property
    def output_d_f(self) -> int:
        return output_size(self.effective_d_f, self.stride)


@dataclass(frozen=True)
class Comparison:
    """Standard vs depthwise separable vs inverted residual for one set of inputs."""

    inputs: CostInputs
    standard: Cost
    separable: SeparableCost
    inverted: InvertedResidualCost

    @property
    def ratio_exact(self) -> float:
        return float(Fraction(self.separable.macs, self.standard.macs))

    @property
    def ratio_approx(self) -> float:
        return separable_ratio_approx(self.inputs.d_k, self.inputs.effective_n)

    @property
    def separable_reduction(self) -> float:
        """How many times fewer MACs than the standard convolution."""
        return self.standard.macs / self.separable.macs

    @property
    def inverted_reduction(self) -> float:
        return self.standard.macs / self.inverted.macs

    def as_dict(self) -> dict[str, object]:
        """The JSON shape printed by ``python -m explainer cost --json``."""
        i = self.inputs
        inv = self.inverted
        return {
            "inputs": {
                "dk": i.d_k, "m": i.m, "n": i.n, "df": i.d_f, "t": i.t, "stride": i.stride,
                "alpha": i.alpha, "rho": i.rho,
                "effective_m": i.effective_m, "effective_n": i.effective_n,
                "effective_df": i.effective_d_f, "output_df": i.output_d_f,
            },
            "standard": self.standard.as_dict(),
            "depthwise_separable": {
                **self.separable.total.as_dict(),
                "depthwise": self.separable.depthwise.as_dict(),
                "pointwise": self.separable.pointwise.as_dict(),
            },
            "inverted_residual": {
                **inv.total.as_dict(),
                "expand": inv.expand.as_dict() if inv.expand else None,
                "depthwise": inv.depthwise.as_dict(),
                "project": inv.project.as_dict(),
                "residual_adds": inv.residual_adds,
                "hidden_channels": inv.hidden,
            },
            "ratio_exact": self.ratio_exact,
            "ratio_approx": self.ratio_approx,
        }


def compare(inputs: CostInputs) -> Comparison:
    """All three designs for ``inputs`` after applying α and ρ."""
    m, n, d_f = inputs.effective_m, inputs.effective_n, inputs.effective_d_f
    return Comparison(
        inputs=inputs,
        standard=standard_conv(inputs.d_k, m, n, d_f, inputs.stride),
        separable=depthwise_separable(inputs.d_k, m, n, d_f, inputs.stride),
        inverted=inverted_residual(inputs.d_k, m, n, d_f, inputs.t, inputs.stride),
    )


#: The calculator's starting point (a MobileNetV2-style layer at 112×112), shared by page and CLI.
DEFAULT_INPUTS: dict[str, float] = {"d_k": 3, "m": 32, "n": 64, "d_f": 112, "t": 6, "stride": 1, "alpha": 1.0, "rho": 1.0}

# Presets a lecturer can click on the cost page (values before α and ρ).
PRESETS: dict[str, dict[str, float]] = {
    "v1_table3": {"d_k": 3, "m": 512, "n": 512, "d_f": 14, "t": 1, "stride": 1, "alpha": 1.0, "rho": 1.0},
    "v1_table3_alpha": {"d_k": 3, "m": 512, "n": 512, "d_f": 14, "t": 1, "stride": 1, "alpha": 0.75, "rho": 1.0},
    "v1_table3_alpha_rho": {"d_k": 3, "m": 512, "n": 512, "d_f": 14, "t": 1, "stride": 1, "alpha": 0.75, "rho": 0.714},
    "v2_block_early": {"d_k": 3, "m": 24, "n": 24, "d_f": 56, "t": 6, "stride": 1, "alpha": 1.0, "rho": 1.0},
    "v2_block_down": {"d_k": 3, "m": 32, "n": 64, "d_f": 28, "t": 6, "stride": 2, "alpha": 1.0, "rho": 1.0},
    "v2_block_late": {"d_k": 3, "m": 160, "n": 160, "d_f": 7, "t": 6, "stride": 1, "alpha": 1.0, "rho": 1.0},
}


@dataclass(frozen=True)
class SweepPoint:
    """One point of a ratio sweep: the exact ratios and the paper's approximation."""

    x: int
    separable_exact: float
    approx: float
    inverted_exact: float


def _sweep_point(x: int, d_k: int, m: int, n: int, d_f: int, t: int, stride: int) -> SweepPoint:
    std = standard_conv(d_k, m, n, d_f, stride).macs
    return SweepPoint(
        x=x,
        separable_exact=depthwise_separable(d_k, m, n, d_f, stride).macs / std,
        approx=separable_ratio_approx(d_k, n),
        inverted_exact=inverted_residual(d_k, m, n, d_f, t, stride).macs / std,
    )


def sweep_output_channels(d_k: int, m: int, d_f: int, t: int, stride: int, ns: list[int]) -> list[SweepPoint]:
    """Separable/standard and inverted-residual/standard MAC ratios for each N in ``ns``."""
    return [_sweep_point(n, d_k, m, n, d_f, t, stride) for n in ns]


def sweep_kernel_size(m: int, n: int, d_f: int, t: int, stride: int, kernels: list[int]) -> list[SweepPoint]:
    """The same ratios for each odd kernel size D_K in ``kernels``."""
    return [_sweep_point(d_k, d_k, m, n, d_f, t, stride) for d_k in kernels]


# --------------------------------------------------------------------------
# The lightweight family's building blocks, part by part, with memory traffic
# --------------------------------------------------------------------------
#
# Memory traffic (the roofline's denominator) follows one rule everywhere:
# a step reads its input tensor(s) and its weights once and writes its output
# once (elements; × 4 bytes in float32). That is the least any implementation
# must move when nothing stays in cache between steps. Steps that compute
# nothing still move data: ShuffleNet's concatenation and channel shuffle are
# 0 MACs but copy every value (``torch.cat``; ``transpose(...).contiguous()``),
# SE's pooling reads the whole map and its scaling reads and writes it again.
# A channel split (``chunk``) is a view: it moves nothing.

#: Bytes per value in float32 (the app's and torchvision's models).
FLOAT32_BYTES = 4


@dataclass(frozen=True)
class Part:
    """One step of a block: a convolution (``macs`` > 0) or a pure data movement (0 MACs)."""

    name: str  # e.g. "squeeze", "expand3x3", "depthwise", "concat", "shuffle", "se_reduce"
    kind: str  # "standard" | "pointwise" | "depthwise" | "memory" (computes nothing, moves data)
    macs: int
    params: int  # weights + biases (batch norm apart, in ``bn_params``)
    reads: int  # elements read: input tensor(s) + weights
    writes: int  # elements written: the output tensor
    out_shape: tuple[int, int, int]  # (C, H, W)
    bn_params: int = 0

    @property
    def bytes_moved(self) -> int:
        return (self.reads + self.writes) * FLOAT32_BYTES

    @property
    def intensity(self) -> float:
        """Arithmetic intensity: MACs per byte moved (float32)."""
        return self.macs / self.bytes_moved if self.bytes_moved else 0.0


def conv_part(name: str, k: int, m: int, n: int, d_f: int, stride: int = 1, groups: int = 1, bias: bool = False,
              bn: bool = True) -> Part:
    """A ``k×k`` convolution M → N at input ``D_F`` ("same" padding, stride ``s``) as a :class:`Part`."""
    d_g = output_size(d_f, stride)
    cost = conv2d(k, k, m, n, d_g, d_g, groups=groups, bias=bias)
    if groups > 1 and groups == m:
        kind = "depthwise"
    else:
        kind = "pointwise" if k == 1 else "standard"
    return Part(name, kind, cost.macs, cost.params, m * d_f * d_f + cost.params, n * d_g * d_g, (n, d_g, d_g),
                2 * n if bn else 0)


def copy_part(name: str, c: int, h: int, w: int | None = None) -> Part:
    """A step that reads and writes a C×H×W tensor once and computes nothing (concat, shuffle)."""
    w = h if w is None else w
    return Part(name, "memory", 0, 0, c * h * w, c * h * w, (c, h, w))


@dataclass(frozen=True)
class BlockCost(CostTotals):
    """A whole block: its parts in order, its tensors and its totals."""

    name: str  # "fire" | "shufflenet_v2" | "inverted_residual" | "mbconv_se"
    parts: tuple[Part, ...]
    in_shape: tuple[int, int, int]  # (C, H, W)
    out_shape: tuple[int, int, int]
    residual_adds: int = 0  # element-wise additions of a shortcut (not MACs)

    @property
    def total(self) -> Cost:
        return Cost(sum(p.macs for p in self.parts), sum(p.params for p in self.parts))

    @property
    def bn_params(self) -> int:
        return sum(p.bn_params for p in self.parts)

    @property
    def bytes_moved(self) -> int:
        return sum(p.bytes_moved for p in self.parts)

    @property
    def memory_only_bytes(self) -> int:
        """Bytes moved by the steps that compute nothing (concat, shuffle, SE pooling and scaling)."""
        return sum(p.bytes_moved for p in self.parts if p.macs == 0)

    @property
    def intensity(self) -> float:
        return self.macs / self.bytes_moved if self.bytes_moved else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "block": self.name, "in_shape": list(self.in_shape), "out_shape": list(self.out_shape),
            "macs": self.macs, "params": self.params, "bn_params": self.bn_params,
            "bytes_moved": self.bytes_moved, "residual_adds": self.residual_adds,
            "parts": [{"name": p.name, "kind": p.kind, "macs": p.macs, "params": p.params,
                       "bytes_moved": p.bytes_moved, "out_shape": list(p.out_shape)} for p in self.parts],
        }


def fire_module(m: int, squeeze: int, expand1x1: int, expand3x3: int, d_f: int) -> BlockCost:
    """SqueezeNet's Fire module: squeeze 1×1 (M → s), then expand 1×1 (s → e1) ‖ expand 3×3 (s → e3), concat.

    All three convolutions have a bias and no batch norm; stride 1 ("same"), so the map stays D_F×D_F.
    MACs = D_F²·(M·s + s·e1 + 9·s·e3); params = M·s + s + s·e1 + e1 + 9·s·e3 + e3.
    """
    out = expand1x1 + expand3x3
    parts = (
        conv_part("squeeze", 1, m, squeeze, d_f, bias=True, bn=False),
        conv_part("expand1x1", 1, squeeze, expand1x1, d_f, bias=True, bn=False),
        conv_part("expand3x3", 3, squeeze, expand3x3, d_f, bias=True, bn=False),
        copy_part("concat", out, d_f),
    )
    return BlockCost("fire", parts, (m, d_f, d_f), (out, d_f, d_f))


def shufflenet_v2_unit(m: int, n: int, d_f: int, stride: int = 1) -> BlockCost:
    """ShuffleNet V2's unit (Ma et al., 2018, Fig. 3c/d) as in torchvision.

    * stride 1 (M = N): split the channels in halves (a view, free); the second half goes through
      1×1 → depthwise 3×3 → 1×1 (N/2 channels each); concat with the untouched half; shuffle.
    * stride 2: branch 1 = depthwise 3×3 /2 on all M channels → 1×1 (M → N/2); branch 2 = 1×1 (M → N/2)
      → depthwise 3×3 /2 → 1×1; concat; shuffle.

    Split, concat and shuffle are 0 MACs; concat and shuffle each copy the N×D_G×D_G output once.
    Every convolution is followed by batch norm (no bias).
    """
    if n % 2:
        raise ValueError(f"a ShuffleNet V2 unit needs an even number of output channels, got N={n}")
    if stride == 1 and m != n:
        raise ValueError(f"a stride-1 ShuffleNet V2 unit keeps its channels: M={m} must equal N={n}")
    half = n // 2
    d_g = output_size(d_f, stride)
    if stride == 1:
        parts = [
            Part("split", "memory", 0, 0, 0, 0, (half, d_f, d_f)),
            conv_part("branch2_1x1", 1, half, half, d_f),
            conv_part("branch2_depthwise", 3, half, half, d_f, groups=half),
            conv_part("branch2_1x1_out", 1, half, half, d_f),
        ]
    else:
        parts = [
            conv_part("branch1_depthwise", 3, m, m, d_f, stride, groups=m),
            conv_part("branch1_1x1", 1, m, half, d_g),
            conv_part("branch2_1x1", 1, m, half, d_f),
            conv_part("branch2_depthwise", 3, half, half, d_f, stride, groups=half),
            conv_part("branch2_1x1_out", 1, half, half, d_g),
        ]
    parts += [copy_part("concat", n, d_g), copy_part("shuffle", n, d_g)]
    return BlockCost("shufflenet_v2", tuple(parts), (m, d_f, d_f), (n, d_g, d_g))


def squeeze_excitation_parts(c: int, squeeze: int, d_f: int) -> tuple[Part, ...]:
    """Squeeze-and-excitation (Hu et al., 2018) on a C×D_F×D_F map, as torchvision's ``SqueezeExcitation``.

    Global average pool (0 MACs, reads the map) → 1×1 conv C → s with bias → 1×1 conv s → C with bias →
    scale the map channel by channel (0 MACs: reads the map and the C scales, writes the map).
    MACs = 2·C·s; params = 2·C·s + s + C.
    """
    area = d_f * d_f
    return (
        Part("se_pool", "memory", 0, 0, c * area, c, (c, 1, 1)),
        conv_part("se_reduce", 1, c, squeeze, 1, bias=True, bn=False),
        conv_part("se_expand", 1, squeeze, c, 1, bias=True, bn=False),
        Part("se_scale", "memory", 0, 0, c * area + c, c * area, (c, d_f, d_f)),
    )


def mbconv(d_k: int, m: int, n: int, d_f: int, expand: float, stride: int = 1, se_squeeze: int | None = None,
           hidden: int | None = None) -> BlockCost:
    """MBConv (MnasNet, EfficientNet): expand 1×1 → depthwise k×k /s → [SE] → linear project 1×1.

    ``hidden`` defaults to ``expand·M`` (MnasNet; EfficientNet rounds it to a multiple of 8); no expansion
    layer when ``hidden == M``. ``se_squeeze`` adds squeeze-and-excitation on the hidden tensor (EfficientNet:
    ``max(1, M // 4)``; MnasNet as released in torchvision has none). Without SE and with k = 3 this is
    MobileNetV2's inverted residual (:func:`inverted_residual`). The shortcut exists when s = 1 and M = N.
    """
    hidden = int(round(m * expand)) if hidden is None else hidden
    d_g = output_size(d_f, stride)
    parts: list[Part] = []
    if hidden != m:
        parts.append(conv_part("expand", 1, m, hidden, d_f))
    parts.append(conv_part("depthwise", d_k, hidden, hidden, d_f, stride, groups=hidden))
    if se_squeeze:
        parts += squeeze_excitation_parts(hidden, se_squeeze, d_g)
    parts.append(conv_part("project", 1, hidden, n, d_g))
    adds = n * d_g * d_g if (stride == 1 and m == n) else 0
    name = "mbconv_se" if se_squeeze else "inverted_residual"
    return BlockCost(name, tuple(parts), (m, d_f, d_f), (n, d_g, d_g), residual_adds=adds)
