"""The cost engine is exact: every count equals what PyTorch measures on the real layers."""

from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models.mobilenetv2 import InvertedResidual as TorchvisionInvertedResidual

from explainer import costs
from explainer.errors import InvalidInputError


def measured_macs(module: nn.Module, x: torch.Tensor) -> int:
    """MACs as PyTorch counts them: FlopCounterMode's FLOPs / 2."""
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        module(x)
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


def conv_params(module: nn.Module) -> int:
    """Weights (and biases) of the conv/linear layers only; batch-norm parameters excluded."""
    return sum(p.numel() for layer in module.modules() if isinstance(layer, (nn.Conv2d, nn.Linear))
               for p in layer.parameters(recurse=False))


def same_conv(m: int, n: int, d_k: int, stride: int = 1, groups: int = 1, bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(m, n, d_k, stride=stride, padding=d_k // 2, groups=groups, bias=bias)


def check_standard(d_k: int, m: int, n: int, d_f: int, stride: int, bias: bool = False) -> None:
    layer = same_conv(m, n, d_k, stride, bias=bias)
    x = torch.zeros(1, m, d_f, d_f)
    cost = costs.standard_conv(d_k, m, n, d_f, stride, bias)
    assert layer(x).shape[-1] == costs.output_size(d_f, stride)
    assert cost.macs == measured_macs(layer, x)
    assert cost.params == sum(p.numel() for p in layer.parameters())


def check_separable(d_k: int, m: int, n: int, d_f: int, stride: int) -> None:
    block = nn.Sequential(same_conv(m, m, d_k, stride, groups=m), same_conv(m, n, 1))
    x = torch.zeros(1, m, d_f, d_f)
    cost = costs.depthwise_separable(d_k, m, n, d_f, stride)
    assert cost.depthwise.macs == measured_macs(block[0], x)
    assert cost.pointwise.macs == measured_macs(block[1], block[0](x))
    assert cost.macs == measured_macs(block, x)
    assert cost.depthwise.params == block[0].weight.numel()
    assert cost.params == sum(p.numel() for p in block.parameters())


def check_inverted(d_k: int, m: int, n: int, d_f: int, t: int, stride: int) -> None:
    hidden = t * m
    layers: list[nn.Module] = []
    if t != 1:
        layers += [same_conv(m, hidden, 1), nn.BatchNorm2d(hidden), nn.ReLU6()]
    layers += [same_conv(hidden, hidden, d_k, stride, groups=hidden), nn.BatchNorm2d(hidden), nn.ReLU6(),
               same_conv(hidden, n, 1), nn.BatchNorm2d(n)]
    block = nn.Sequential(*layers).eval()
    x = torch.zeros(1, m, d_f, d_f)
    cost = costs.inverted_residual(d_k, m, n, d_f, t, stride)
    assert cost.macs == measured_macs(block, x)
    assert cost.params == conv_params(block)
    assert (cost.expand is None) == (t == 1)
    out = block(x)
    shortcut_possible = stride == 1 and m == n
    assert cost.residual_adds == (out.numel() if shortcut_possible else 0)


GRID = list(itertools.product([1, 3, 5, 7], [1, 3, 16], [1, 8, 24], [1, 7, 14, 15], [1, 2]))


@pytest.mark.parametrize("d_k,m,n,d_f,stride", GRID)
def test_grid_matches_pytorch(d_k: int, m: int, n: int, d_f: int, stride: int) -> None:
    check_standard(d_k, m, n, d_f, stride)
    check_separable(d_k, m, n, d_f, stride)
    check_inverted(d_k, m, n, d_f, 6, stride)
    check_inverted(d_k, m, n, d_f, 1, stride)


def test_bias_counts_only_in_params() -> None:
    check_standard(3, 4, 5, 9, 1, bias=True)
    assert costs.standard_conv(3, 4, 5, 9, bias=True).params == 3 * 3 * 4 * 5 + 5
    assert costs.depthwise_conv(3, 4, 9, bias=True).params == 3 * 3 * 4 + 4
    layer = nn.Linear(7, 11)
    assert costs.linear(7, 11) == costs.Cost(measured_macs(layer, torch.zeros(1, 7)), 7 * 11 + 11)


@settings(max_examples=300, deadline=None)
@given(
    d_k=st.sampled_from([1, 3, 5, 7, 9, 11]),
    m=st.integers(1, 48),
    n=st.integers(1, 48),
    d_f=st.integers(1, 40),
    t=st.integers(1, 6),
    stride=st.sampled_from([1, 2]),
)
def test_random_shapes_match_pytorch(d_k: int, m: int, n: int, d_f: int, t: int, stride: int) -> None:
    check_standard(d_k, m, n, d_f, stride)
    check_separable(d_k, m, n, d_f, stride)
    check_inverted(d_k, m, n, d_f, t, stride)


@pytest.mark.parametrize("m,n,stride,t,d_f", [(32, 16, 1, 1, 112), (16, 24, 2, 6, 112), (24, 24, 1, 6, 56),
                                                (64, 96, 1, 6, 14), (160, 320, 1, 6, 7)])
def test_matches_torchvision_inverted_residual(m: int, n: int, stride: int, t: int, d_f: int) -> None:
    block = TorchvisionInvertedResidual(m, n, stride, t).eval()
    x = torch.zeros(1, m, d_f, d_f)
    cost = costs.inverted_residual(3, m, n, d_f, t, stride)
    assert cost.macs == measured_macs(block, x)
    assert cost.params == conv_params(block)
    assert cost.has_residual == block.use_res_connect


def test_v1_paper_table3() -> None:
    """MobileNetV1 paper, Table 3: a 3×3 layer, 512→512 channels on a 14×14 map."""
    def separable(alpha: float, rho: float) -> costs.Comparison:
        return costs.compare(costs.CostInputs.checked(3, 512, 512, 14, 1, 1, alpha, rho))

    full = separable(1.0, 1.0)
    assert round(full.standard.macs / 1e6) == 462 and round(full.standard.params / 1e6, 2) == 2.36
    assert round(full.separable.macs / 1e6, 1) == 52.3 and round(full.separable.params / 1e6, 2) == 0.27
    thin = separable(0.75, 1.0)
    assert round(thin.separable.macs / 1e6, 1) == 29.6 and round(thin.separable.params / 1e6, 2) == 0.15
    small = separable(0.75, 0.714)
    assert small.inputs.effective_d_f == 10
    assert round(small.separable.macs / 1e6, 1) == 15.1 and round(small.separable.params / 1e6, 2) == 0.15


def test_ratio_equals_paper_formula() -> None:
    for d_k, m, n, d_f, stride in GRID:
        exact = costs.separable_ratio_exact(d_k, m, n, d_f, stride)
        assert float(exact) == pytest.approx(costs.separable_ratio_approx(d_k, n), rel=1e-12)


def test_multipliers_round_like_the_paper() -> None:
    assert [costs.apply_width(c, 0.75) for c in (32, 64, 1024)] == [24, 48, 768]
    assert [costs.apply_width(c, 0.25) for c in (32, 1024, 1)] == [8, 256, 1]
    assert costs.apply_width(100, 0.29) == 29  # 0.29 * 100 is 28.999999999999996 in floating point
    assert costs.apply_resolution(224, 0.857) == 192 and costs.apply_resolution(224, 0.714) == 160
    assert costs.apply_resolution(1, 0.1) == 1


@pytest.mark.parametrize("kwargs,key", [
    ({"d_k": 4}, "even_kernel"), ({"d_k": 0}, "out_of_range"), ({"d_k": 13}, "out_of_range"),
    ({"m": 0}, "out_of_range"), ({"n": -3}, "out_of_range"), ({"m": 5000}, "out_of_range"),
    ({"d_f": 100000}, "out_of_range"), ({"t": 0}, "out_of_range"), ({"stride": 3}, "bad_stride"),
    ({"m": 2.5}, "not_integer"), ({"m": "x"}, "not_integer"), ({"alpha": 0.0}, "out_of_range"),
    ({"rho": float("nan")}, "out_of_range"), ({"alpha": "abc"}, "not_number"), ({"stride": True}, "not_integer"),
])
def test_invalid_inputs_are_rejected(kwargs: dict, key: str) -> None:
    values = {**costs.DEFAULT_INPUTS, **kwargs}
    with pytest.raises(InvalidInputError) as info:
        costs.CostInputs.checked(**values)
    assert info.value.key == key
    for lang in ("en", "zh"):
        message = info.value.message(lang)
        assert message and "\n" not in message and "{" not in message
