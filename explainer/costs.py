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
class SeparableCost:
    """Depthwise separable convolution: depthwise ``D_K×D_K`` then pointwise ``1×1``."""

    depthwise: Cost
    pointwise: Cost

    @property
    def total(self) -> Cost:
        return self.depthwise + self.pointwise

    @property
    def macs(self) -> int:
        return self.total.macs

    @property
    def params(self) -> int:
        return self.total.params


def depthwise_separable(d_k: int, m: int, n: int, d_f: int, stride: int = 1) -> SeparableCost:
    """Depthwise (stride ``s``, at ``D_F``) followed by pointwise (at ``ceil(D_F/s)``)."""
    return SeparableCost(
        depthwise=depthwise_conv(d_k, m, d_f, stride),
        pointwise=pointwise_conv(m, n, output_size(d_f, stride)),
    )


@dataclass(frozen=True)
class InvertedResidualCost:
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
    def macs(self) -> int:
        return self.total.macs

    @property
    def params(self) -> int:
        return self.total.params

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
