"""Inside a convolution: one output value of a real MobileNet layer, recomputed by hand.

Conventions (the same in the app, the CLI and the tests):

* A **stage** is a convolution row of the architecture table, named as in
  ``python -m explainer features --json`` (``stem``, ``b<k>.expand``,
  ``b<k>.dw``, ``b<k>.project``, V1's ``b<k>.pw``, ``head``). Its **kind** is
  ``standard`` (the K×K stem: every output channel sees all M input channels),
  ``depthwise`` (K×K, one filter per channel: output channel c sees only
  input channel c) or ``pointwise`` (1×1 over all M channels).
* The window of output ``(c, y, x)`` is ``[C_w, K, K]``, channels first like
  PyTorch: ``C_w = M`` (standard, pointwise) or ``1`` (depthwise). Its input
  rows are ``y·s − p … y·s − p + K − 1`` (same for columns), with
  ``p = K // 2``; positions outside the feature map are the convolution's zero
  **padding** (marked in :attr:`ConvTrace.padding_mask`).
* **Batch norm is folded** into the kernel and a bias, as inference engines do:
  with ``g = γ / sqrt(σ² + ε)``, ``kernel = W · g`` and
  ``bias = β − μ · g (+ conv bias · g)``. Layers without batch norm (released
  V1 weights) keep their own bias.
* ``multiplications`` = ``C_w · K · K`` — padding zeros are multiplied too, as
  every counter (and :mod:`explainer.costs`) counts them; times the layer's
  ``C · H · W`` outputs it is the layer's MACs.
* The arithmetic runs in float64 on the float32 tensors the network really
  saw; ``reference_output`` is the float32 value recorded by the forward hook
  of :func:`explainer.features.capture` (the same single forward pass the
  Feature-maps page uses, kept with ``keep_inputs=True``). ``abs_error`` is
  their difference: float rounding, about 1e-6.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from explainer.architectures import Layer, Network, build_network
from explainer.errors import InvalidInputError
from explainer import features as fm
from explainer.features import CONV_TYPES, FeatureMaps

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from explainer.weights import LoadedModel

KINDS: tuple[str, ...] = ("standard", "depthwise", "pointwise")
_KIND_OF_TYPE = {"conv": "standard", "depthwise": "depthwise", "pointwise": "pointwise"}
#: Activation names as the CLI prints them.
ACTIVATIONS: tuple[str, ...] = ("relu6", "none", "hardswish", "relu")
_ACTIVATION_MODULES: tuple[tuple[type, str], ...] = ((nn.ReLU6, "relu6"), (nn.Hardswish, "hardswish"),
                                                     (nn.ReLU, "relu"))


def activate(value: float, activation: str) -> float:
    """``activation`` applied to one number (exactly PyTorch's definitions)."""
    if activation == "relu6":
        return min(max(value, 0.0), 6.0)
    if activation == "relu":
        return max(value, 0.0)
    if activation == "hardswish":
        return value * min(max(value + 3.0, 0.0), 6.0) / 6.0
    if activation == "none":
        return value
    raise ValueError(f"unknown activation {activation!r}")


# --------------------------------------------------------------------------
# The layers that can be traced, and their folded weights
# --------------------------------------------------------------------------


def conv_layers(network: Network) -> list[Layer]:
    """The convolution rows of ``network`` in execution order (what can be traced)."""
    return [layer for layer in network.layers if layer.type in CONV_TYPES and layer.stage != "full_conv"]


def kind_of(layer: Layer) -> str:
    """``"standard"``, ``"depthwise"`` or ``"pointwise"``."""
    return _KIND_OF_TYPE[layer.type]


def conv_layer(network: Network, stage: str) -> Layer:
    """The convolution named ``stage``; :class:`InvalidInputError` naming the valid stages otherwise."""
    layers = conv_layers(network)
    for layer in layers:
        if layer.name == stage:
            return layer
    raise InvalidInputError("trace.not_conv", stage=stage, model=network.model,
                            choices=", ".join(layer.name for layer in layers))


@dataclass(frozen=True)
class FoldedConv:
    """One convolution with its batch norm folded in (float64), and the activation after it."""

    stage: str
    kind: str
    kernel: np.ndarray = field(repr=False)  # [N, C_in / groups, K, K]
    bias: np.ndarray = field(repr=False)  # [N]
    stride: int
    padding: int
    groups: int
    activation: str  # one of ACTIVATIONS
    batch_norm: bool  # whether a batch norm was folded in (else the conv's own bias)

    @property
    def kernel_size(self) -> int:
        return int(self.kernel.shape[-1])


def _following(model: nn.Module, module_name: str) -> list[nn.Module]:
    """The modules after ``module_name`` in its parent ``Sequential`` (the conv's BN and activation)."""
    parent_name, _, child = module_name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    names = [name for name, _ in parent.named_children()]
    if not isinstance(parent, nn.Sequential) or child not in names:
        return []
    return list(parent.children())[names.index(child) + 1:]


def fold(model: nn.Module, layer: Layer) -> FoldedConv:
    """``layer``'s convolution in ``model`` with the batch norm after it folded into kernel and bias.

    The activation is read from the modules that really follow the
    convolution (``none`` for a linear bottleneck's projection).
    """
    conv = model.get_submodule(layer.module)
    if not isinstance(conv, nn.Conv2d) or conv.dilation != (1, 1) or conv.kernel_size[0] != conv.kernel_size[1] \
            or conv.stride[0] != conv.stride[1] or conv.padding[0] != conv.padding[1]:
        raise InvalidInputError("trace.not_traceable", stage=layer.name)
    weight = conv.weight.detach().double().numpy()
    out_channels = weight.shape[0]
    bias = conv.bias.detach().double().numpy() if conv.bias is not None else np.zeros(out_channels)
    after = _following(model, layer.module)
    batch_norm = bool(after) and isinstance(after[0], nn.BatchNorm2d)
    if batch_norm:
        bn = after[0]
        scale = bn.weight.detach().double().numpy() / np.sqrt(bn.running_var.detach().double().numpy() + bn.eps)
        weight = weight * scale[:, None, None, None]
        bias = bn.bias.detach().double().numpy() - bn.running_mean.detach().double().numpy() * scale + bias * scale
        after = after[1:]
    activation = "none"
    if after:
        for kind, name in _ACTIVATION_MODULES:
            if isinstance(after[0], kind):
                activation = name
                break
    return FoldedConv(layer.name, kind_of(layer), weight, bias, int(conv.stride[0]), int(conv.padding[0]),
                      int(conv.groups), activation, batch_norm)


# --------------------------------------------------------------------------
# One output value
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ConvTrace:
    """How output ``(channel, y, x)`` of one convolution stage came about."""

    model: str
    stage: str
    kind: str  # one of KINDS
    kernel_size: int
    stride: int
    padding: int
    channel: int
    y: int
    x: int
    input_shape: tuple[int, int, int]  # (M, H_in, W_in)
    output_shape: tuple[int, int, int]  # (C, H, W)
    input_channels: tuple[int, ...]  # the input channels the window covers, in window order
    rows: tuple[int, ...]  # input row of every window row (outside 0..H_in-1: padding)
    cols: tuple[int, ...]
    window: np.ndarray = field(repr=False)  # [C_w, K, K] float64, padding as zeros
    kernel: np.ndarray = field(repr=False)  # [C_w, K, K] float64, batch norm folded in
    bias: float
    activation: str
    batch_norm: bool
    reference_output: float  # the forward pass's float32 value
    layer_macs: int  # the cost engine's MACs of the whole layer

    @property
    def products(self) -> np.ndarray:
        return self.window * self.kernel

    @property
    def running_sums(self) -> np.ndarray:
        """The running sum after each product, in window order (channel, row, column)."""
        return np.cumsum(self.products.ravel())

    @property
    def sum_of_products(self) -> float:
        return float(self.products.sum())

    @property
    def pre_activation(self) -> float:
        return self.sum_of_products + self.bias

    @property
    def output(self) -> float:
        return activate(self.pre_activation, self.activation)

    @property
    def abs_error(self) -> float:
        return abs(self.output - self.reference_output)

    @property
    def multiplications(self) -> int:
        """Multiplications for this one output: ``C_w · K · K``."""
        return int(self.window.size)

    @property
    def outputs(self) -> int:
        """Outputs of the whole layer: ``C · H · W``."""
        c, h, w = self.output_shape
        return c * h * w

    @property
    def padding_mask(self) -> np.ndarray:
        """``[K, K]`` True where the window lies on the zero padding."""
        _, h, w = self.input_shape
        rows = np.array([0 <= r < h for r in self.rows])
        cols = np.array([0 <= c < w for c in self.cols])
        return ~(rows[:, None] & cols[None, :])

    @property
    def padded_positions(self) -> int:
        """Window positions (per channel) on the padding."""
        return int(self.padding_mask.sum())

    def as_dict(self) -> dict[str, object]:
        """The JSON of ``python -m explainer trace --json``."""
        return {
            "model": self.model, "stage": self.stage, "kind": self.kind, "kernel_size": self.kernel_size,
            "stride": self.stride, "multiplications": self.multiplications,
            "window": self.window.tolist(), "kernel": self.kernel.tolist(),
            "sum_of_products": self.sum_of_products, "bias": self.bias, "pre_activation": self.pre_activation,
            "activation": self.activation, "output": self.output, "reference_output": self.reference_output,
            "abs_error": self.abs_error,
        }


def _check_index(name: str, value: object, size: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidInputError("not_integer", name=name, value=value)
    if not 0 <= int(value) < size:
        raise InvalidInputError("trace.index_range", name=name, value=value, high=size - 1)
    return int(value)


def check_index(layer: Layer, channel: int, y: int, x: int) -> tuple[int, int, int]:
    """``channel, y, x`` if they lie inside ``layer``'s output, else an error naming the valid range."""
    h, w, c = layer.output
    return _check_index("channel", channel, c), _check_index("y", y, h), _check_index("x", x, w)


def network_of(maps: FeatureMaps) -> Network:
    return build_network(maps.model, width=maps.width, resolution=maps.resolution)


def check_position(maps: FeatureMaps, stage: str, channel: int, y: int, x: int) -> tuple[Layer, int, int, int]:
    """The stage's table row and the checked channel, y, x (errors name the valid range)."""
    layer = conv_layer(network_of(maps), stage)
    return (layer, *check_index(layer, channel, y, x))


def trace(maps: FeatureMaps, model: nn.Module, stage: str, channel: int, y: int, x: int) -> ConvTrace:
    """Recompute output ``(channel, y, x)`` of ``stage`` from the input the convolution received in ``maps``.

    ``maps`` must come from :func:`explainer.features.capture` with
    ``keep_inputs=True`` and float32 tensors (not :meth:`FeatureMaps.compact`)
    of the same ``model``.
    """
    layer, channel, y, x = check_position(maps, stage, channel, y, x)
    record = next(r for r in maps.records if r.name == stage)
    if record.input is None or record.tensor.dtype != torch.float32:
        raise ValueError("trace() needs capture(..., keep_inputs=True) with float32 tensors")
    conv = folded(model, layer)
    k, s, p = conv.kernel_size, conv.stride, conv.padding
    source = record.input  # [M, H_in, W_in]
    m, h_in, w_in = (int(d) for d in source.shape)
    rows = tuple(y * s - p + i for i in range(k))
    cols = tuple(x * s - p + j for j in range(k))
    if conv.groups == 1:
        channels = tuple(range(m))
        kernel = conv.kernel[channel]
    elif conv.groups == m and conv.kernel.shape[0] == m:
        channels = (channel,)
        kernel = conv.kernel[channel]
    else:  # grouped convolutions other than depthwise do not occur in MobileNets
        raise InvalidInputError("trace.not_traceable", stage=stage)
    window = np.zeros((len(channels), k, k))
    r0, r1 = max(rows[0], 0), min(rows[-1] + 1, h_in)
    c0, c1 = max(cols[0], 0), min(cols[-1] + 1, w_in)
    if r0 < r1 and c0 < c1:
        picked = source[list(channels), r0:r1, c0:c1].double().numpy()
        window[:, r0 - rows[0]:r1 - rows[0], c0 - cols[0]:c1 - cols[0]] = picked
    return ConvTrace(
        model=maps.model, stage=stage, kind=conv.kind, kernel_size=k, stride=s, padding=p, channel=channel,
        y=y, x=x, input_shape=(m, h_in, w_in), output_shape=tuple(int(d) for d in record.tensor.shape),
        input_channels=channels, rows=rows, cols=cols, window=window, kernel=kernel.copy(),
        bias=float(conv.bias[channel]), activation=conv.activation, batch_norm=conv.batch_norm,
        reference_output=float(record.tensor[channel, y, x]), layer_macs=layer.macs,
    )


#: Folded weights per model object (weakly held) and stage (folding a 1280×320 layer takes milliseconds).
_FOLDED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def folded(model: nn.Module, layer: Layer) -> FoldedConv:
    """:func:`fold`, cached per model object (shared models are never mutated)."""
    per_model = _FOLDED.setdefault(model, {})
    conv = per_model.get(layer.name)
    if conv is None:
        conv = per_model[layer.name] = fold(model, layer)
    return conv


def capture_for_trace(image: Image.Image, loaded: LoadedModel) -> FeatureMaps:
    """The one forward pass a trace needs: every stage, and what every convolution received (float32)."""
    return fm.capture_image(image, loaded, keep_inputs=True)


def trace_image(image: Image.Image, loaded: LoadedModel, stage: str, channel: int, y: int, x: int) -> ConvTrace:
    """Check the stage and position, run the capture once and trace output ``(channel, y, x)``."""
    network = build_network(loaded.name, width=loaded.width, resolution=loaded.input_size)
    check_index(conv_layer(network, stage), channel, y, x)
    return trace(capture_for_trace(image, loaded), loaded.model, stage, channel, y, x)


# --------------------------------------------------------------------------
# What the page shows around one trace
# --------------------------------------------------------------------------


def main_input_channel(tr: ConvTrace) -> int:
    """The input channel the page draws under the window: the only one (depthwise), else the one whose
    products contribute most (largest |sum|) to this output."""
    if len(tr.input_channels) == 1:
        return tr.input_channels[0]
    contributions = np.abs(tr.products.sum(axis=(1, 2)))
    return tr.input_channels[int(np.argmax(contributions))]


#: A 1×1 convolution's channel view lists at most this many channels one by one; the rest are summarised.
TOP_CONTRIBUTIONS = 10


@dataclass(frozen=True)
class ChannelContributions:
    """A 1×1 convolution's output as the dot product it is: ``Σ_m input[m] · weight[m]`` over the M input
    channels at one position. The ``top`` channels with the largest |product| are listed (largest first); the
    other channels are summarised by their count and the sums of their positive and negative products."""

    channels: tuple[int, ...]  # input channel numbers of the listed products, largest |product| first
    inputs: tuple[float, ...]  # the input value of each listed channel at this position
    weights: tuple[float, ...]  # its weight (batch norm folded in)
    products: tuple[float, ...]
    rest_count: int  # channels not listed
    rest_positive: float  # sum of their positive products
    rest_negative: float  # sum of their negative products (≤ 0)
    total: float  # all M products summed (= ConvTrace.sum_of_products)

    @property
    def rest_sum(self) -> float:
        return self.rest_positive + self.rest_negative

    @property
    def listed_sum(self) -> float:
        return float(sum(self.products))


def channel_contributions(tr: ConvTrace, top: int = TOP_CONTRIBUTIONS) -> ChannelContributions:
    """The dot product of a 1×1 window (``kernel_size == 1``) channel by channel: the ``top`` largest
    |products| (all channels when there are at most ``top + 1``: a summary of one channel says less than the
    channel itself), the rest summarised. Ties keep channel order."""
    if tr.kernel_size != 1:
        raise ValueError("channel_contributions() is for 1×1 convolutions")
    inputs = tr.window.reshape(-1)
    weights = tr.kernel.reshape(-1)
    products = tr.products.reshape(-1)
    count = products.size if products.size <= top + 1 else top
    order = np.lexsort((np.arange(products.size), -np.abs(products)))
    shown, rest = order[:count], order[count:]
    rest_products = products[rest]
    return ChannelContributions(
        channels=tuple(int(tr.input_channels[i]) for i in shown),
        inputs=tuple(float(inputs[i]) for i in shown), weights=tuple(float(weights[i]) for i in shown),
        products=tuple(float(products[i]) for i in shown), rest_count=int(rest.size),
        rest_positive=float(rest_products[rest_products > 0].sum()),
        rest_negative=float(rest_products[rest_products < 0].sum()), total=float(products.sum()))


def padded_plane(maps: FeatureMaps, stage: str, input_channel: int, padding: int) -> np.ndarray:
    """One input channel of ``stage`` (float64) with ``padding`` rows/columns of zeros on every side."""
    record = next(r for r in maps.records if r.name == stage)
    assert record.input is not None
    plane = record.input[input_channel].double().numpy()
    return np.pad(plane, padding)


@dataclass(frozen=True)
class WindowStep:
    """One frame of the sliding window: output position and the window's top-left corner in input coordinates
    (negative: on the padding)."""

    y: int
    x: int
    top: int
    left: int
    value: float  # the forward pass's output at (y, x)


@dataclass(frozen=True)
class SlideBand:
    """What the animation shows: a band of output rows around ``tr.y`` and the input rows their windows read
    (zero padding included), the window's steps along row ``tr.y``."""

    input_band: np.ndarray = field(repr=False)  # [rows, W_in + 2p] float64, padding as zeros
    input_top: int  # input row of the band's first row (-p: the top padding)
    input_left: int  # input column of the band's first column (-p)
    output_band: np.ndarray = field(repr=False)  # [rows, W] of the output channel
    output_top: int
    steps: tuple[WindowStep, ...]
    input_channel: int


def slide_band(maps: FeatureMaps, tr: ConvTrace, input_channel: int, half: int = 5) -> SlideBand:
    """The window over every output position of row ``tr.y``, left to right, with ``half`` output rows above
    and below for context (the page's animation)."""
    record = next(r for r in maps.records if r.name == tr.stage)
    _, h, w = tr.output_shape
    k, s, p = tr.kernel_size, tr.stride, tr.padding
    out_top, out_end = max(0, tr.y - half), min(h, tr.y + half + 1)
    padded = padded_plane(maps, tr.stage, input_channel, p)
    in_top, in_end = out_top * s, (out_end - 1) * s + k  # rows of the padded plane
    output = record.tensor[tr.channel].double().numpy()
    steps = tuple(WindowStep(tr.y, x, tr.y * s - p, x * s - p, float(output[tr.y, x])) for x in range(w))
    return SlideBand(padded[in_top:in_end], in_top - p, -p, output[out_top:out_end], out_top, steps, input_channel)


@dataclass(frozen=True)
class Comparison:
    """One position, all N output channels: a standard K×K convolution M → N against depthwise K×K on M
    channels + pointwise 1×1 M → N (the depthwise results are shared by all N outputs)."""

    kernel_size: int  # K
    in_channels: int  # M
    out_channels: int  # N
    depthwise: str | None  # the stages of the real pair (None: the stem, compared with its own shape)
    pointwise: str | None

    @property
    def standard_per_position(self) -> int:
        return self.kernel_size ** 2 * self.in_channels * self.out_channels

    @property
    def separable_per_position(self) -> int:
        return self.kernel_size ** 2 * self.in_channels + self.in_channels * self.out_channels

    @property
    def standard_per_output(self) -> int:
        """One output value of a standard convolution: ``K² · M``."""
        return self.kernel_size ** 2 * self.in_channels

    @property
    def separable_per_output(self) -> Fraction:
        """One output value of the pair, the depthwise share spread over N: ``K² · M / N + M``."""
        return Fraction(self.separable_per_position, self.out_channels)

    @property
    def ratio(self) -> Fraction:
        """Separable / standard = ``1/N + 1/K²``."""
        return Fraction(self.separable_per_position, self.standard_per_position)


def comparison(network: Network, stage: str) -> Comparison | None:
    """Standard vs depthwise separable for ``stage``'s position: the block's own depthwise + pointwise pair
    (V1 ``dw``/``pw``, V2/V3 ``dw``/``project``; for an expansion the pair after it), the stem as if it
    were built separably, ``None`` for the last 1×1 convolution (no K×K convolution to replace)."""
    layer = conv_layer(network, stage)
    if layer.stage == "stem":
        h, w, n = layer.output
        return Comparison(layer.kernel, layer.input[2], n, None, None)
    block = [row for row in conv_layers(network) if row.block == layer.block]
    depthwise = next((row for row in block if row.type == "depthwise"), None)
    if depthwise is None:
        return None
    after = block[block.index(depthwise) + 1:]
    pointwise = next((row for row in after if row.type == "pointwise"), None)
    if pointwise is None:
        return None
    return Comparison(depthwise.kernel, depthwise.input[2], pointwise.output[2], depthwise.name, pointwise.name)


def cost_link(layer: Layer) -> dict[str, int]:
    """The Cost calculator's URL parameters for ``layer``'s shape (``/cost?dk=…&m=…&n=…&df=…&s=…``)."""
    return {"dk": layer.kernel, "m": layer.input[2], "n": layer.output[2], "df": layer.input[0], "s": layer.stride}
