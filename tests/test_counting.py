"""The module-walking counter equals PyTorch's own counters (FlopCounterMode / 2, sum of numel)."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from torchvision import models as tv

from explainer.costs import conv2d, depthwise_conv, standard_conv
from explainer.counting import build_on_meta, count_module


def flop_counter_macs(model: torch.nn.Module, size: int) -> int:
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    return counter.get_total_flops() // 2


@pytest.mark.parametrize("name,size", [("mobilenet_v2", 224), ("squeezenet1_0", 160), ("shufflenet_v2_x0_5", 192),
                                       ("resnet18", 128)])
def test_counts_equal_pytorch(name: str, size: int) -> None:
    model = tv.get_model(name, weights=None)
    count = count_module(build_on_meta(tv.get_model, name=name, weights=None), (3, size, size))
    assert count.macs == flop_counter_macs(model, size)
    assert count.total_params == sum(p.numel() for p in model.parameters())
    assert count.params + count.other_params == count.total_params
    assert count.other_params == sum(p.numel() for m in model.modules()
                                     if isinstance(m, torch.nn.BatchNorm2d) for p in m.parameters())


def test_cpu_model_is_left_untouched() -> None:
    model = tv.squeezenet1_1(weights=None)
    before = model.features[0].weight.clone()
    count = count_module(model.train(), (3, 96, 96))
    assert model.training and torch.equal(model.features[0].weight, before)
    assert count.layers[0].kind == "standard" and count.layers[0].out_shape == (64, 47, 47)


def test_grouped_conv_formula() -> None:
    assert conv2d(3, 3, 32, 64, 10, 10, groups=1) == standard_conv(3, 32, 64, 10)
    assert conv2d(3, 3, 32, 32, 5, 5, groups=32) == depthwise_conv(3, 32, 10, stride=2)
    # ResNeXt-style: 4 groups of 8 → 16 channels
    assert conv2d(3, 3, 32, 64, 7, 7, groups=4).macs == 3 * 3 * 8 * 64 * 7 * 7
    with pytest.raises(ValueError):
        conv2d(3, 3, 30, 64, 7, 7, groups=4)
