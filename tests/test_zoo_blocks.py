"""The cost engine's family blocks equal the real torchvision modules: MACs = FlopCounterMode / 2, parameters
= sum of numel (batch norm apart), shapes and each step's tensors as they really are."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models.efficientnet import MBConv, MBConvConfig
from torchvision.models.mnasnet import _InvertedResidual as MnasBlock
from torchvision.models.shufflenetv2 import InvertedResidual as ShuffleUnit
from torchvision.models.squeezenet import Fire
from torchvision.ops import SqueezeExcitation

from explainer import costs
from explainer.architectures import make_divisible
from explainer.zoo import blocks


def measure(module: nn.Module, c: int, d_f: int) -> tuple[int, int, int, tuple[int, ...], list[tuple[int, int]]]:
    """(MACs, conv/linear params, other params, output shape (C, H, W), [(elements read, written)] per conv call)."""
    module.eval()
    calls: list[tuple[int, int]] = []

    def hook(layer, inputs, output):
        weights = sum(p.numel() for p in layer.parameters(recurse=False))
        calls.append((inputs[0].numel() + weights, output.numel()))

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.inference_mode(), FlopCounterMode(display=False) as counter:
            out = module(torch.randn(1, c, d_f, d_f))
    finally:
        for handle in handles:
            handle.remove()
    conv = sum(p.numel() for m in module.modules() if isinstance(m, nn.Conv2d) for p in m.parameters(recurse=False))
    total = sum(p.numel() for p in module.parameters())
    return counter.get_total_flops() // 2, conv, total - conv, tuple(out.shape[1:]), calls


def check(block: costs.BlockCost, module: nn.Module, c: int, d_f: int) -> None:
    macs, params, other, shape, calls = measure(module, c, d_f)
    assert block.macs == macs
    assert block.params == params
    assert block.bn_params == other
    assert block.out_shape == shape
    conv_parts = [(p.reads, p.writes) for p in block.parts if p.macs]
    assert conv_parts == calls  # each convolution's input + weights read, output written, in call order


@pytest.mark.parametrize("m,s,e1,e3,d_f", [(96, 16, 64, 64, 55), (512, 64, 256, 256, 13), (7, 3, 5, 2, 9)])
def test_fire_module(m, s, e1, e3, d_f):
    block = costs.fire_module(m, s, e1, e3, d_f)
    check(block, Fire(m, s, e1, e3), m, d_f)
    assert block.macs == d_f * d_f * (m * s + s * e1 + 9 * s * e3)
    concat = block.parts[-1]
    assert (concat.name, concat.macs, concat.reads, concat.writes) == ("concat", 0, (e1 + e3) * d_f**2, (e1 + e3) * d_f**2)


@pytest.mark.parametrize("m,n,d_f,stride", [(116, 116, 28, 1), (24, 116, 56, 2), (48, 48, 14, 1), (232, 464, 14, 2),
                                            (10, 6, 7, 2)])
def test_shufflenet_v2_unit(m, n, d_f, stride):
    block = costs.shufflenet_v2_unit(m, n, d_f, stride)
    check(block, ShuffleUnit(m, n, stride), m, d_f)
    d_g = costs.output_size(d_f, stride)
    memory = [p for p in block.parts if p.macs == 0]
    # split is a view (moves nothing); concat and shuffle each read and write the whole output once
    assert sum(p.reads + p.writes for p in memory) == 4 * n * d_g * d_g
    assert block.memory_only_bytes == 16 * n * d_g * d_g


def test_shufflenet_unit_rejects_impossible_shapes():
    with pytest.raises(ValueError):
        costs.shufflenet_v2_unit(24, 48, 28, 1)
    with pytest.raises(ValueError):
        costs.shufflenet_v2_unit(24, 47, 28, 2)


@pytest.mark.parametrize("c,s,d_f", [(72, 24, 28), (960, 240, 7), (5, 1, 3)])
def test_squeeze_excitation(c, s, d_f):
    parts = costs.squeeze_excitation_parts(c, s, d_f)
    block = costs.BlockCost("se", parts, (c, d_f, d_f), (c, d_f, d_f))
    check(block, SqueezeExcitation(c, s), c, d_f)
    assert block.macs == 2 * c * s and block.params == 2 * c * s + s + c


@pytest.mark.parametrize("m,n,k,stride,t,d_f", [(16, 24, 3, 2, 3, 112), (24, 24, 3, 1, 3, 56), (40, 80, 5, 2, 6, 28),
                                                (96, 96, 5, 1, 6, 7)])
def test_mnasnet_block(m, n, k, stride, t, d_f):
    check(costs.mbconv(k, m, n, d_f, t, stride), MnasBlock(m, n, k, stride, t), m, d_f)


@pytest.mark.parametrize("m,n,k,stride,t,d_f", [(32, 16, 3, 1, 1, 112), (16, 24, 3, 2, 6, 112), (40, 40, 5, 1, 6, 28),
                                                (112, 192, 5, 2, 6, 14), (24, 40, 3, 1, 4.5, 9)])
def test_efficientnet_mbconv_with_se(m, n, k, stride, t, d_f):
    config = MBConvConfig(t, k, stride, m, n, 1)
    module = MBConv(config, 0.0, nn.BatchNorm2d)
    block = costs.mbconv(k, m, n, d_f, t, stride, se_squeeze=max(1, m // 4), hidden=make_divisible(m * t))
    check(block, module, m, d_f)
    assert block.residual_adds == (n * d_f * d_f if stride == 1 and m == n else 0)


@pytest.mark.parametrize("d_k,m,n,d_f,t,stride", [(3, 32, 64, 112, 6, 1), (3, 24, 24, 56, 6, 1), (5, 40, 80, 28, 3, 2)])
def test_mbconv_without_se_is_the_inverted_residual(d_k, m, n, d_f, t, stride):
    assert costs.mbconv(d_k, m, n, d_f, t, stride).total == costs.inverted_residual(d_k, m, n, d_f, t, stride).total


def test_key_blocks_follow_the_student_shape():
    inputs = costs.CostInputs.checked(3, 32, 64, 28, 6, 2)
    found = blocks.key_blocks(inputs)
    assert set(found) == set(blocks.BLOCKS)
    assert found["fire"].parts[0].out_shape == (8, 28, 28)  # squeeze to N/8
    assert found["fire"].out_shape == (64, 28, 28)  # no stride in a Fire module
    assert found["shufflenet_v2"].in_shape == (32, 28, 28) and found["shufflenet_v2"].out_shape == (64, 14, 14)
    assert found["inverted_residual"].total == costs.inverted_residual(3, 32, 64, 28, 6, 2).total
    se = [p for p in found["mbconv_se"].parts if p.name == "se_reduce"][0]
    assert se.out_shape == (8, 1, 1)  # squeeze M/4
    # a stride-1 ShuffleNet unit keeps its channels: it takes N (rounded up to even) in and out
    odd = blocks.key_blocks(costs.CostInputs.checked(3, 32, 63, 28, 6, 1))["shufflenet_v2"]
    assert odd.in_shape[0] == odd.out_shape[0] == 64
    # at stride 1 Fire and ShuffleNet are far cheaper than one standard convolution of the same shape; an
    # inverted residual with t = 6 is not (it buys its accuracy with a 6× wider hidden tensor)
    same = costs.CostInputs.checked(3, 64, 64, 28, 6, 1)
    found, standard = blocks.key_blocks(same), blocks.standard_reference(same).macs
    assert found["fire"].macs < standard / 10 and found["shufflenet_v2"].macs < standard / 10
    assert found["inverted_residual"].macs > standard
