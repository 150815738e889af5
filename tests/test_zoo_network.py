"""Every registered model counted exactly (FlopCounterMode / 2, sum of numel) at 224 and one other resolution,
with memory traffic where the issue says it matters."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from explainer import architectures
from explainer import registry
from explainer.zoo.network import count_network

#: One other resolution per model (odd ones included: the counter must follow PyTorch's real output sizes).
OTHER = {"mobilenet_v1": 160, "mobilenet_v2": 193, "mobilenet_v3_large": 256, "mobilenet_v3_small": 96,
         "squeezenet1_0": 227, "squeezenet1_1": 129, "shufflenet_v2_x0_5": 160, "shufflenet_v2_x1_0": 97,
         "shufflenet_v2_x1_5": 288, "shufflenet_v2_x2_0": 128, "mnasnet0_5": 192, "mnasnet0_75": 320,
         "mnasnet1_0": 160, "mnasnet1_3": 100, "efficientnet_b0": 240, "resnet18": 256, "resnet50": 160,
         "vgg16": 64}


def flop_counter(model: torch.nn.Module, size: int, device: str) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, size, size, device=device))
    return counter.get_total_flops() // 2


@pytest.fixture(scope="module")
def meta_models():
    return {name: registry.build(name, meta=True) for name in registry.MODEL_NAMES}


@pytest.mark.parametrize("name", registry.MODEL_NAMES)
def test_counts_equal_pytorch_at_two_resolutions(name, meta_models):
    """FlopCounterMode on the meta device computes FLOPs from shapes with PyTorch's own formulas (as on the CPU,
    see the CPU tests below); our count walks modules with the cost engine's formulas."""
    model = meta_models[name]
    numel = sum(p.numel() for p in model.parameters())
    for size in (224, OTHER[name]):
        net = count_network(name, size)
        assert net.macs == flop_counter(model, size, "meta"), size
        assert net.total_params == numel
        assert net.params + net.other_params == numel


@pytest.mark.parametrize("name", ["squeezenet1_1", "shufflenet_v2_x0_5", "mnasnet0_5", "mobilenet_v3_small"])
def test_counts_equal_pytorch_on_the_cpu(name):
    model = registry.build(name, seed=0)
    assert count_network(name, OTHER[name]).macs == flop_counter(model, OTHER[name], "cpu")


@pytest.mark.slow
@pytest.mark.parametrize("name,size", [("vgg16", 224), ("resnet50", 224)])
def test_heavy_counts_on_the_cpu(name, size):
    model = registry.build(name, seed=0)
    assert count_network(name, size).macs == flop_counter(model, size, "cpu")
    assert count_network(name, size).total_params == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name,size", [("mobilenet_v1", 224), ("mobilenet_v2", 160), ("mobilenet_v3_large", 224),
                                       ("mobilenet_v3_small", 192)])
def test_counted_mobilenets_equal_their_layer_tables(name, size):
    table = architectures.build_network(name, 1.0, size)
    counted = count_network(name, size)
    assert counted.macs == table.macs and counted.params == table.params
    assert counted.total_params == table.total_params


def test_memory_rows_and_traffic():
    shuffle = count_network("shufflenet_v2_x1_0")
    rows = [layer for layer in shuffle.layers if layer.kind == "shuffle"]
    assert len(rows) == 16 and all(layer.macs == 0 for layer in rows)  # 4 + 8 + 4 units
    first = rows[0]
    assert first.out_shape == (116, 28, 28) and first.bytes_moved == 4 * 4 * 116 * 28 * 28
    fire = [layer for layer in count_network("squeezenet1_0").layers if layer.kind == "concat"]
    assert len(fire) == 8 and fire[0].out_shape == (128, 54, 54)
    se = [layer for layer in count_network("efficientnet_b0").layers if layer.kind == "se_scale"]
    assert len(se) == 16
    conv = shuffle.layers[0]
    assert conv.bytes_read == 4 * (3 * 224 * 224 + 24 * 3 * 9) and conv.bytes_written == 4 * 24 * 112 * 112


def test_depthwise_is_low_intensity_and_vgg_high():
    """The roofline's premise: depthwise layers do about D_K²/8 MACs per byte, VGG's 3×3 convolutions tens or more."""
    v2 = count_network("mobilenet_v2")
    depthwise = [layer.intensity for layer in v2.layers if layer.kind == "depthwise"]
    assert len(depthwise) == 17 and max(depthwise) < 1.2
    vgg = [layer.intensity for layer in count_network("vgg16").layers if layer.kind == "standard"]
    assert len(vgg) == 13 and sorted(vgg)[1] > 20
    fc = [layer.intensity for layer in count_network("vgg16").layers if layer.kind == "linear"]
    assert all(value < 0.26 for value in fc)  # every weight read once for one multiply-add


def test_bad_resolution_is_an_input_error():
    from explainer.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="resolution"):
        count_network("vgg16", 16)
    with pytest.raises(InvalidInputError, match="resolution"):
        count_network("vgg16", 224.5)
