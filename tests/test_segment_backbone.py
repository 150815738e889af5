"""Backbone vs head of segmentation/detection networks: exact counts against PyTorch and the .tflite graph."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from explainer.counting import build_on_meta
from explainer.litert import graph_convolutions
from explainer.segment.backbone import (BACKBONE_NETS, DeepLabV3MobileNetV2, backbone_cost, stage_sizes,
                                        tf_block_name)


def flop_counter_macs(module: torch.nn.Module, size: int) -> int:
    """PyTorch's own count (FlopCounterMode FLOPs / 2) of one pass on the meta device (shapes only)."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module.eval()(torch.empty(1, 3, size, size, device="meta"))
    return counter.get_total_flops() // 2


@pytest.fixture(scope="module")
def costs():
    return {name: backbone_cost(name) for name in BACKBONE_NETS}


@pytest.mark.parametrize("name", list(BACKBONE_NETS))
def test_totals_equal_pytorch(costs, name: str) -> None:
    cost = costs[name]
    model = cost.net.build()
    assert cost.count.macs == flop_counter_macs(model, cost.net.resolution)
    assert cost.count.total_params == sum(p.numel() for p in model.parameters())
    assert cost.backbone.macs + cost.head.macs == cost.count.macs
    assert cost.backbone.params + cost.head.params == cost.count.params


@pytest.mark.parametrize("name,path", [("lraspp_mobilenet_v3_large", "backbone"),
                                       ("deeplabv3_mobilenet_v3_large", "backbone"),
                                       ("ssdlite320_mobilenet_v3_large", "backbone.features"),
                                       ("deeplabv3_mobilenet_v2", "backbone")])
def test_backbone_equals_pytorch_on_the_submodule(costs, name: str, path: str) -> None:
    """The MobileNet part alone, run by itself under FlopCounterMode, costs what the split says."""
    cost = costs[name]
    module = cost.net.build().get_submodule(path)
    assert cost.backbone.macs == flop_counter_macs(module, cost.net.resolution)
    conv_params = sum(m.weight.numel() + (m.bias.numel() if m.bias is not None else 0)
                      for m in module.modules() if isinstance(m, torch.nn.Conv2d))
    assert cost.backbone.params == conv_params


def test_resolutions_are_the_ones_the_models_run_at() -> None:
    from torchvision.models import detection, segmentation

    assert segmentation.LRASPP_MobileNet_V3_Large_Weights.DEFAULT.transforms().resize_size == [520]
    assert segmentation.DeepLabV3_MobileNet_V3_Large_Weights.DEFAULT.transforms().resize_size == [520]
    ssd = build_on_meta(detection.ssdlite320_mobilenet_v3_large, weights=None, weights_backbone=None)
    assert ssd.transform.fixed_size == (320, 320)
    assert BACKBONE_NETS["lraspp_mobilenet_v3_large"].resolution == 520
    assert BACKBONE_NETS["ssdlite320_mobilenet_v3_large"].resolution == 320


def test_known_figures(costs) -> None:
    """Output stride 16 for the segmentation backbones, 32 for the detector; the numbers the page quotes."""
    assert costs["deeplabv3_mobilenet_v2"].feature_map == (320, 33, 33)
    assert costs["deeplabv3_mobilenet_v2_dm05"].feature_map == (160, 33, 33)
    assert costs["lraspp_mobilenet_v3_large"].feature_map == (960, 33, 33)
    assert costs["ssdlite320_mobilenet_v3_large"].feature_map == (480, 10, 10)
    assert [costs[n].output_stride for n in BACKBONE_NETS] == [16, 16, 16, 16, 32, 32]
    assert costs["deeplabv3_mobilenet_v2"].count.macs == 2_740_709_056
    assert costs["deeplabv3_mobilenet_v2"].backbone.macs == 2_502_824_384
    # DeepLabV3-MobileNetV3's ASPP (3×3 atrous branches on 960 channels) costs more than its backbone.
    assert costs["deeplabv3_mobilenet_v3_large"].backbone_share < 0.2 < costs["lraspp_mobilenet_v3_large"].backbone_share


@pytest.mark.parametrize("filename,width", [("deeplabv3_mnv2_pascal_quant.tflite", 1.0),
                                            ("deeplabv3_mnv2_dm05_pascal_quant.tflite", 0.5)])
def test_pytorch_build_matches_the_tflite_graph(weights_dir: Path, filename: str, width: float) -> None:
    """Same convolutions in the same order: channels, feature-map sizes, kernels, strides, dilations."""
    graph = graph_convolutions(weights_dir / filename)
    cost = backbone_cost("deeplabv3_mobilenet_v2" if width == 1.0 else "deeplabv3_mobilenet_v2_dm05")
    ours = cost.count.layers
    assert len(ours) == len(graph) == 55
    for layer, op in zip(ours, graph):
        assert (layer.out_shape, layer.kernel, layer.stride, layer.dilation) == \
               (op.out_shape, op.kernel, op.stride, op.dilation), (layer.name, op.name)
        assert (layer.kind == "depthwise") == (op.kind == "depthwise"), (layer.name, op.name)
        assert op.same_padding
    # Block names line up too: backbone.<i> is TensorFlow's MobilenetV2/<tf_block_name(i)>.
    for layer, op in zip(ours, graph):
        if layer.name.startswith("backbone."):
            index = int(layer.name.split(".")[1])
            assert op.name.startswith(f"MobilenetV2/{tf_block_name(index)}/"), (layer.name, op.name)
    heads = [op.name.split("/")[0] for op in graph if not op.name.startswith("MobilenetV2/")]
    assert heads == ["aspp0", "image_pooling", "concat_projection", "logits"]


def test_output_stride_sizes() -> None:
    rows = stage_sizes()
    assert [r.classifier for r in rows][-1] == (17, 17) and [r.deeplab for r in rows][-1] == (33, 33)
    assert [r.index for r in rows if r.dilation == 2] == [15, 16, 17]
    changed = [r.tf_name for r in rows if r.classifier != r.deeplab]
    assert changed == ["expanded_conv_13", "expanded_conv_14", "expanded_conv_15", "expanded_conv_16"]
    # The same blocks, four times the positions: the last stage costs about 4× as much.
    assert sum(r.macs_deeplab for r in rows) == backbone_cost("deeplabv3_mobilenet_v2").backbone.macs
    assert rows[-1].macs_deeplab > 3.5 * rows[-1].macs_classifier


def test_output_stride_32_is_the_classifier_backbone() -> None:
    """With output stride 32 the backbone is torchvision's MobileNetV2 features without the last 1×1 conv."""
    from torchvision.models import mobilenet_v2

    ours = build_on_meta(DeepLabV3MobileNetV2, output_stride=32).backbone
    reference = build_on_meta(mobilenet_v2).features[:-1]
    assert flop_counter_macs(ours, 224) == flop_counter_macs(reference, 224)


@pytest.mark.parametrize("name,weights", [
    ("lraspp_mobilenet_v3_large", "LRASPP_MobileNet_V3_Large_Weights"),
    ("deeplabv3_mobilenet_v3_large", "DeepLabV3_MobileNet_V3_Large_Weights"),
    ("ssdlite320_mobilenet_v3_large", "SSDLite320_MobileNet_V3_Large_Weights"),
])
def test_totals_equal_torchvisions_published_figures(costs, name: str, weights: str) -> None:
    """torchvision's weights record the released network's parameters and GFLOPS (= G multiply-adds here).

    DeepLabV3's released weights also hold the auxiliary FCN head used only in training (on the 40-channel
    stride-8 features: a 3×3 conv to 10 channels with batch norm, a 1×1 conv to 21 classes with a bias);
    our count, of the network that segments, leaves it out.
    """
    from torchvision.models import detection, segmentation

    meta = getattr(segmentation, weights, None) or getattr(detection, weights)
    meta = meta.DEFAULT.meta
    count = costs[name].count
    aux_params, aux_macs = 0, 0
    if name.startswith("deeplabv3"):
        aux_params = 40 * 10 * 9 + 2 * 10 + 10 * 21 + 21
        aux_macs = (40 * 10 * 9 + 10 * 21) * 65 * 65
    assert count.total_params + aux_params == meta["num_params"]
    assert round((count.macs + aux_macs) / 1e9, 3) == meta["_ops"]
