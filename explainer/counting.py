"""Exact MACs and parameters of any PyTorch network, counted where each layer runs.

The layer tables in :mod:`explainer.architectures` teach MobileNets row by
row; this module counts a real ``nn.Module`` tree instead (SqueezeNet's
parallel expand branches, ShuffleNet's split units, ResNet's shortcut
convolutions, a segmentation head, …). One forward pass on PyTorch's
``meta`` device (shapes only: no memory, no arithmetic) records every
``Conv2d`` and ``Linear`` call with its real input and output shapes; a
**count rule** per layer type turns each call into a :class:`~explainer.costs.Cost`
with the cost engine's own formulas (:func:`explainer.costs.conv2d`).

Conventions are those of :mod:`explainer.costs`: MACs = ``FlopCounterMode``
FLOPs / 2 of the convolutions and linear layers; params = their weights and
biases; every other parameter (batch norm, …) is reported apart in
:attr:`Count.other_params`, so ``params + other_params`` = ``sum(p.numel())``.
A module called twice is counted twice (its parameters once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from explainer.costs import Cost, CountedTotals, conv2d, linear

#: ``rule(module, input shape, output shape) -> (kind, Cost)``; shapes without the batch dimension.
CountRule = Callable[[nn.Module, tuple[int, ...], tuple[int, ...]], tuple[str, Cost]]
COUNT_RULES: dict[type, CountRule] = {}


def count_rule(kind: type) -> Callable[[CountRule], CountRule]:
    """Register the rule for one layer type (a second rule for the same type is an error)."""

    def add(rule: CountRule) -> CountRule:
        if COUNT_RULES.setdefault(kind, rule) is not rule:
            raise ValueError(f"two count rules for {kind.__name__}")
        return rule

    return add


def conv_kind(module: nn.Conv2d) -> str:
    """``"depthwise"``, ``"pointwise"``, ``"grouped"`` or ``"standard"``."""
    if module.groups > 1 and module.groups == module.in_channels:
        return "depthwise"
    if module.groups > 1:
        return "grouped"
    if module.kernel_size == (1, 1):
        return "pointwise"
    return "standard"


@count_rule(nn.Conv2d)
def _conv(module: nn.Module, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> tuple[str, Cost]:
    assert isinstance(module, nn.Conv2d)
    k_h, k_w = module.kernel_size
    cost = conv2d(k_h, k_w, module.in_channels, module.out_channels, out_shape[-2], out_shape[-1],
                  groups=module.groups, bias=module.bias is not None)
    return conv_kind(module), cost


@count_rule(nn.Linear)
def _linear(module: nn.Module, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> tuple[str, Cost]:
    assert isinstance(module, nn.Linear)
    positions = 1
    for size in in_shape[:-1]:
        positions *= size
    one = linear(module.in_features, module.out_features, bias=module.bias is not None)
    return "linear", Cost(one.macs * positions, one.params)


@dataclass(frozen=True)
class CountedLayer:
    """One call of a counted layer: where it sits, its shapes and its cost."""

    name: str  # module path, e.g. "features.3.conv.1.0"
    kind: str  # "standard", "depthwise", "pointwise", "grouped" or "linear"
    in_shape: tuple[int, ...]  # (C, H, W) for a convolution, (F,) for a linear layer
    out_shape: tuple[int, ...]
    macs: int
    params: int  # 0 for a repeated call of the same module
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    groups: int = 1
    dilation: tuple[int, int] = (1, 1)

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "in_shape": list(self.in_shape),
                "out_shape": list(self.out_shape), "macs": self.macs, "params": self.params,
                "kernel": list(self.kernel), "stride": list(self.stride), "groups": self.groups,
                "dilation": list(self.dilation)}


@dataclass(frozen=True)
class Count(CountedTotals):
    """Every counted layer of one network at one input size, and the totals."""

    layers: tuple[CountedLayer, ...]
    total_params: int  # sum(p.numel()) of the whole model
    input_shape: tuple[int, ...]  # (C, H, W)

    # macs, params (convolutions and linear layers) and other_params (batch norm, …): CountedTotals

    def under(self, prefix: str) -> "Count":
        """The layers whose module path starts with ``prefix`` (e.g. ``"backbone"``); totals of those only."""
        chosen = tuple(layer for layer in self.layers
                       if layer.name == prefix or layer.name.startswith(prefix + "."))
        return Count(chosen, sum(layer.params for layer in chosen), self.input_shape)

    def by_kind(self) -> dict[str, Cost]:
        out: dict[str, Cost] = {}
        for layer in self.layers:
            out[layer.kind] = out.get(layer.kind, Cost(0, 0)) + Cost(layer.macs, layer.params)
        return out


def _shape(value: object) -> tuple[int, ...]:
    while isinstance(value, (tuple, list)):
        value = value[0]
    assert isinstance(value, torch.Tensor)
    return tuple(int(s) for s in value.shape[1:])


def count_module(model: nn.Module, input_shape: tuple[int, int, int] = (3, 224, 224),
                 *, device: str | torch.device = "meta", rules: dict[type, CountRule] | None = None) -> Count:
    """Count ``model`` on one input of ``input_shape`` (C, H, W), batch 1.

    The forward pass runs on ``device`` (``"meta"``: shapes only, instant even
    for VGG-16; the model is moved there with ``to_empty`` on a copy when it
    is not there yet, so the caller's model is untouched). The model is put in
    eval mode for the pass and restored afterwards. ``rules`` replaces
    :data:`COUNT_RULES` for this call (e.g. to add a 0-MAC row for a block
    whose data movement matters, as :mod:`explainer.zoo.network` does for
    ShuffleNet's concat + shuffle).
    """
    rules = COUNT_RULES if rules is None else rules
    device = torch.device(device)
    total = sum(p.numel() for p in model.parameters())
    first = next(iter(model.parameters()), None)
    if first is not None and first.device != device:
        import copy

        model = copy.deepcopy(model).to_empty(device=device)
    names = {module: name for name, module in model.named_modules()}
    layers: list[CountedLayer] = []
    seen: set[int] = set()

    def hook(module: nn.Module, inputs: tuple, output: object) -> None:
        rule = rules.get(type(module))
        if rule is None:
            for kind, candidate in rules.items():
                if isinstance(module, kind):
                    rule = candidate
                    break
        if rule is None:
            return
        in_shape, out_shape = _shape(inputs), _shape(output)
        kind, cost = rule(module, in_shape, out_shape)
        params = cost.params if id(module) not in seen else 0
        seen.add(id(module))
        extra = {}
        if isinstance(module, nn.Conv2d):
            extra = {"kernel": tuple(module.kernel_size), "stride": tuple(module.stride), "groups": module.groups,
                     "dilation": tuple(module.dilation)}
        layers.append(CountedLayer(names.get(module, type(module).__name__), kind, in_shape, out_shape,
                                   cost.macs, params, **extra))

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if any(isinstance(m, kind) for kind in rules)]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.empty((1, *input_shape), device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return Count(tuple(layers), total, tuple(input_shape))


def build_on_meta(builder: Callable[..., nn.Module], **kwargs) -> nn.Module:
    """``builder(**kwargs)`` with its parameters on the meta device (no memory, no random init time)."""
    with torch.device("meta"):
        return builder(**kwargs)
