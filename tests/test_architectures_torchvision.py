"""Layer by layer: our tables against what PyTorch measures on the real modules.

For every layer record, the module it names (torchvision's ``Conv2d``,
``Linear`` or ``SqueezeExcitation`` for V2/V3; our own ``MobileNetV1`` in
:mod:`explainer.models` for V1) is run on the input it received in a real
forward pass, under ``FlopCounterMode``: FLOPs / 2 must equal our MACs,
``numel`` of its parameters our params, and the captured output shape our
output shape. Batch norm parameters must equal ``bn_params``.
"""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from explainer import architectures as arch
from explainer.models import build_model


def measure(model: torch.nn.Module, resolution: int) -> dict[str, tuple[int, tuple[int, int, int], int]]:
    """``{module name: (MACs, (h, w, c) output, params)}`` for every Conv2d, Linear and SE module."""
    names = {module: name for name, module in model.named_modules()}
    kinds = (torch.nn.Conv2d, torch.nn.Linear)
    from torchvision.ops.misc import SqueezeExcitation

    seen: dict[str, tuple[torch.nn.Module, torch.Tensor, torch.Tensor]] = {}

    def hook(module, inputs, output):
        seen[names[module]] = (module, inputs[0].detach().clone(), output.detach())

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, kinds + (SqueezeExcitation,))]
    with torch.inference_mode():
        model(torch.zeros(1, 3, resolution, resolution))
    for handle in handles:
        handle.remove()
    result = {}
    for name, (module, x, out) in seen.items():
        counter = FlopCounterMode(display=False)
        with torch.inference_mode(), counter:
            module(x)
        shape = (out.shape[2], out.shape[3], out.shape[1]) if out.dim() == 4 else (1, 1, out.shape[1])
        result[name] = (counter.get_total_flops() // 2, shape, sum(p.numel() for p in module.parameters()))
    return result


def bn_numel(model: torch.nn.Module) -> int:
    return sum(p.numel() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d) for p in m.parameters())


CASES = [(name, 1.0, 224) for name in arch.MODEL_NAMES] + [
    ("mobilenet_v1", 0.5, 160),
    ("mobilenet_v2", 0.35, 192),
    ("mobilenet_v2", 1.4, 224),
    ("mobilenet_v3_large", 0.75, 160),
    ("mobilenet_v3_small", 0.5, 96),
    ("mobilenet_v3_small", 1.25, 257),
]


@pytest.mark.parametrize("name, width, resolution", CASES)
def test_every_layer_equals_pytorch(name, width, resolution):
    torch.manual_seed(0)
    model = build_model(name, width=width)
    measured = measure(model, resolution)
    network = arch.build_network(name, width, resolution)
    covered = set()
    for layer in network.layers:
        assert layer.module in measured, (layer.name, layer.module)
        macs, shape, params = measured[layer.module]
        assert (layer.macs, layer.params, layer.output) == (macs, params, shape), layer.name
        covered.add(layer.module)
    # nothing measured is missing from the table (SE convolutions are inside the SE module)
    rest = {m for m in measured if m not in covered and not any(m.startswith(c + ".") for c in covered)}
    assert not rest
    total = sum(p.numel() for p in model.parameters())
    assert network.bn_params == bn_numel(model)
    assert network.total_params == total
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model(torch.zeros(1, 3, resolution, resolution))
    assert network.macs == counter.get_total_flops() // 2


@pytest.mark.parametrize("name", ["mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"])
def test_totals_equal_torchvision_metadata(name):
    """torchvision's published weight metadata: parameter count exactly, GFLOPs (= GMACs) to its 3 decimals."""
    from torchvision.models import get_model_weights

    meta = get_model_weights(name).IMAGENET1K_V1.meta
    network = arch.build_network(name)
    assert network.total_params == meta["num_params"]
    assert round(network.macs / 1e9, 3) == meta["_ops"]


def test_twin_equals_pytorch_full_convolutions():
    """The V1 twin built as real PyTorch convolutions measures what the table says."""
    from torch import nn

    twin = arch.build_network("mobilenet_v1", twin=True)
    layers = []
    for layer in twin.layers:
        if layer.type == "conv":
            layers.append(nn.Conv2d(layer.input[2], layer.output[2], layer.kernel, layer.stride, layer.kernel // 2,
                                    bias=False))
    body = nn.Sequential(*layers)
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        out = body(torch.zeros(1, 3, 224, 224))
    fc = twin.layers[-1]
    assert out.shape[1:] == (1024, 7, 7)
    assert counter.get_total_flops() // 2 + fc.macs == twin.macs
    assert sum(p.numel() for p in body.parameters()) + fc.params == twin.params
