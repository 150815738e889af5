"""Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization Through Weight Equalization and Bias Correction").

Two convolutions in a row with a ReLU between them compute the same function if
output channel ``i`` of the first is divided by ``s_i > 0`` and input channel ``i``
of the second is multiplied by ``s_i`` (ReLU is positively homogeneous:
``relu(x / s) = relu(x) / s``). Choosing ``s_i = sqrt(r1_i / r2_i)``, where ``r1_i`` is
the largest ``|w|`` of output channel ``i`` of the first layer and ``r2_i`` that of input
channel ``i`` of the second, gives both the same range ``sqrt(r1_i · r2_i)``: a depthwise
layer whose channels spanned ranges a billion times apart ends up with similar
ranges, and one scale per tensor serves it again.

In MobileNetV2 we equalize, inside every inverted residual block, expand → depthwise and
depthwise → project, and the stem → the first depthwise layer; pairs across a residual
addition are left alone (scaling would change what is added). The sweeps are repeated
until the scales settle (each layer of a chain belongs to two pairs).

The model must be the *fused* float model (batch norm folded into the weights, ReLU6
replaced by ReLU, as :func:`explainer.quant.ptq.fused_float_model` builds it): ReLU6 is not
positively homogeneous, ReLU is.

Two additions of ours (not in the paper). Channels that cannot matter (never read by the
next layer, or always zero after the ReLU) get zero weights first (:func:`clear_dead_channels`):
their ranges could not be equalized (a zero range) and they would keep setting the scale.
And a guard: a nearly dead channel (tiny weights, non-zero bias)
would get a tiny ``s_i`` and so a huge constant activation, which then ruins the
*activation* scale of its whole tensor. ``s_i`` is therefore never smaller than
``|b1_i| / max_j |b1_j|``: no bias grows beyond the largest bias the layer already had.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

#: Equalization sweeps over all pairs (the scales have settled well before).
SWEEPS = 16


@dataclass(frozen=True)
class Pair:
    """Two consecutive convolutions (by module name) whose shared channels can be rescaled."""

    first: str
    second: str


def mobilenet_v2_pairs(model: nn.Module) -> list[Pair]:
    """The equalizable pairs of a fused (quantizable) torchvision MobileNetV2."""
    convs = {id(m): name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    features = model.features
    pairs: list[Pair] = []
    stem = next(m for m in features[0].modules() if isinstance(m, nn.Conv2d))
    first_block = [m for m in features[1].conv.modules() if isinstance(m, nn.Conv2d)]
    pairs.append(Pair(convs[id(stem)], convs[id(first_block[0])]))
    for block in features[1:-1]:
        chain = [m for m in block.conv.modules() if isinstance(m, nn.Conv2d)]
        pairs.extend(Pair(convs[id(a)], convs[id(b)]) for a, b in zip(chain, chain[1:]))
    return pairs


def _out_ranges(conv: nn.Conv2d) -> torch.Tensor:
    return conv.weight.detach().abs().reshape(conv.out_channels, -1).amax(dim=1)


def _in_ranges(conv: nn.Conv2d) -> torch.Tensor:
    w = conv.weight.detach().abs()
    if conv.groups == conv.in_channels and conv.groups > 1:  # depthwise: channel i in is channel i out
        return w.reshape(conv.out_channels, -1).amax(dim=1)
    if conv.groups != 1:
        raise ValueError("grouped convolutions other than depthwise are not equalized")
    return w.transpose(0, 1).reshape(conv.in_channels, -1).amax(dim=1)


@torch.no_grad()
def clear_dead_channels(first: nn.Conv2d, second: nn.Conv2d) -> int:
    """Zero the weights of channels that cannot matter; return how many channels were cleared.

    * a channel of ``first`` that ``second`` never reads (all its weights there are 0):
      its weights and bias in ``first`` are set to 0;
    * a channel of ``first`` that is always 0 (zero weights, bias ≤ 0, then ReLU): the weights
      reading it in ``second`` are set to 0.

    Both keep the function exactly. MobileNetV2's first depthwise layer has six such channels
    whose weights (up to 56) are 30 times larger than any live channel's: they alone set the
    per-tensor scale.
    """
    r1, r2 = _out_ranges(first), _in_ranges(second)
    unread = r2 == 0
    first.weight[unread] = 0
    if first.bias is not None:
        first.bias[unread] = 0
    silent = (r1 == 0) & ((first.bias <= 0) if first.bias is not None else torch.ones_like(unread))
    if second.groups == second.in_channels and second.groups > 1:
        second.weight[silent] = 0
    else:
        second.weight[:, silent] = 0
    return int(unread.sum()) + int((silent & ~unread).sum())


@torch.no_grad()
def equalize_pair(first: nn.Conv2d, second: nn.Conv2d) -> torch.Tensor:
    """Rescale the channels shared by ``first`` and ``second`` in place; return the scales ``s``."""
    clear_dead_channels(first, second)
    r1, r2 = _out_ranges(first), _in_ranges(second)
    scales = torch.ones_like(r1)
    ok = (r1 > 0) & (r2 > 0)
    scales[ok] = torch.sqrt(r1[ok] / r2[ok])
    if first.bias is not None:
        bias = first.bias.detach().abs()
        top = float(bias.max())
        if top > 0:
            scales = torch.maximum(scales, bias / top)
    first.weight.div_(scales.reshape(-1, 1, 1, 1))
    if first.bias is not None:
        first.bias.div_(scales)
    if second.groups == second.in_channels and second.groups > 1:
        second.weight.mul_(scales.reshape(-1, 1, 1, 1))
    else:
        second.weight.mul_(scales.reshape(1, -1, 1, 1))
    return scales


def equalize(model: nn.Module, pairs: list[Pair] | None = None, sweeps: int = SWEEPS) -> nn.Module:
    """Cross-layer-equalize ``model`` (fused float MobileNetV2) in place; returns it."""
    modules = dict(model.named_modules())
    for _ in range(sweeps):
        for pair in pairs if pairs is not None else mobilenet_v2_pairs(model):
            equalize_pair(modules[pair.first], modules[pair.second])
    return model
