"""One layer at a time: what its weights look like, how much int8 hurts its output, which layers hurt the model.

All of it works on the *fused* float model (batch norm folded into the weights, as the int8
model has them), so the numbers are about the weights that really get quantized.

* :func:`layer_view` — a histogram of one layer's weights, the range of every output channel,
  and the SQNR of that layer's output when its weights are rounded per-tensor vs per-channel
  (its input rounded to 8 bits in both cases, the same way).
* :func:`sensitivity` — round the weights of *one* layer (per-tensor or per-channel), keep the
  rest float, and measure how far the model's logits drift (SQNR in dB) and how many top-1
  answers change. Depthwise layers dominate the per-tensor list.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass

import torch
from torch import nn

from explainer.quant import toolchain
from explainer.quant.int8 import SCHEMES, WeightStats, fake_quantize_activation, fake_quantize_weight, sqnr_db, weight_stats

#: Layer kinds, in the words the page uses (locale keys ``quant.kind_<kind>``).
KINDS: tuple[str, ...] = ("stem", "expand", "depthwise", "project", "last", "classifier")


@dataclass(frozen=True)
class LayerInfo:
    """One weight layer of the fused model."""

    index: int
    name: str  # module name in the fused float model, e.g. "features.2.conv.1.0.0"
    block: int  # index in model.features (18 for the last 1×1 convolution, 19 for the classifier)
    kind: str  # one of KINDS
    shape: tuple[int, ...]

    @property
    def label(self) -> str:
        """A short readable name, e.g. ``"block 2 · depthwise 3×3 · 96 ch"``."""
        if self.kind == "classifier":
            return f"classifier · {self.shape[1]}→{self.shape[0]}"
        k = f" {self.shape[2]}×{self.shape[3]}" if len(self.shape) == 4 else ""
        return f"{self.block} · {self.kind}{k} · {self.shape[0]} ch"


def list_layers(fused: nn.Module) -> list[LayerInfo]:
    """Every convolution and the classifier of a fused MobileNetV2, in forward order."""
    layers: list[LayerInfo] = []
    last_block = len(fused.features) - 1
    for name, module in fused.named_modules():
        if not isinstance(module, (nn.Conv2d, nn.Linear)):
            continue
        parts = name.split(".")
        if parts[0] == "classifier":
            block, kind = last_block + 1, "classifier"
        else:
            block = int(parts[1])
            if block == 0:
                kind = "stem"
            elif block == last_block:
                kind = "last"
            elif module.groups > 1:
                kind = "depthwise"
            elif module.kernel_size == (1, 1) and module.out_channels > module.in_channels:
                kind = "expand"
            else:
                kind = "project"
        layers.append(LayerInfo(len(layers), name, block, kind, tuple(module.weight.shape)))
    return layers


def _module(fused: nn.Module, name: str) -> nn.Module:
    return dict(fused.named_modules())[name]


def layer_input(fused: nn.Module, name: str, batch: torch.Tensor) -> torch.Tensor:
    """The input the layer ``name`` receives when ``batch`` runs through ``fused``."""
    module = _module(fused, name)
    seen: list[torch.Tensor] = []
    me = threading.get_ident()

    def hook(_module, inputs):
        if threading.get_ident() == me:
            seen.append(inputs[0].detach().clone())

    handle = module.register_forward_pre_hook(hook)
    try:
        with torch.inference_mode(), toolchain.quiet():
            fused(batch)
    finally:
        handle.remove()
    if not seen:
        raise RuntimeError(f"layer {name} did not run")
    return seen[0]


def _apply(module: nn.Module, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    if isinstance(module, nn.Linear):
        return nn.functional.linear(x, weight, module.bias)
    return nn.functional.conv2d(x, weight, module.bias, module.stride, module.padding, module.dilation, module.groups)


@dataclass(frozen=True)
class LayerView:
    info: LayerInfo
    stats: WeightStats
    sqnr_db: dict[str, float]  # scheme -> SQNR of the layer's output (dB)


def layer_view(fused: nn.Module, info: LayerInfo, batch: torch.Tensor) -> LayerView:
    """Weights and output error of one layer, on the input ``batch`` gives it."""
    module = _module(fused, info.name)
    x = layer_input(fused, info.name, batch)
    with torch.inference_mode():
        reference = _apply(module, x, module.weight)
        xq = fake_quantize_activation(x)
        sqnr = {scheme: sqnr_db(reference, _apply(module, xq, fake_quantize_weight(module.weight, scheme)))
                for scheme in SCHEMES}
    return LayerView(info, weight_stats(module.weight), sqnr)


@dataclass(frozen=True)
class Sensitivity:
    """Output drift with the weights of one layer rounded to int8 (all other layers float)."""

    info: LayerInfo
    scheme: str
    logits_sqnr_db: float
    top1_changed: float  # share of the batch whose top-1 changes


def sensitivity(fused: nn.Module, batch: torch.Tensor, scheme: str,
                layers: list[LayerInfo] | None = None) -> list[Sensitivity]:
    """For every layer: quantize its weights alone (``scheme``), measure the logits' drift on ``batch``."""
    work = copy.deepcopy(fused)  # the caller's model is never touched
    infos = layers if layers is not None else list_layers(work)
    with torch.inference_mode(), toolchain.quiet():
        reference = work(batch)
        top1 = reference.argmax(dim=1)
        results = []
        for info in infos:
            module = _module(work, info.name)
            original = module.weight.detach().clone()
            module.weight.copy_(fake_quantize_weight(original, scheme))
            try:
                out = work(batch)
            finally:
                module.weight.copy_(original)
            changed = float((out.argmax(dim=1) != top1).float().mean())
            results.append(Sensitivity(info, scheme, sqnr_db(reference, out), changed))
    return results
