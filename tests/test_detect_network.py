"""SSD-MobileNetV1 rebuilt in PyTorch: every convolution against the released .tflite graph, counts against PyTorch."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from explainer.counting import build_on_meta
from explainer.detect.network import SSDMobileNetV1, classifier_macs, tf_name
from explainer.detect.ssd import ssd_facts
from explainer.litert import graph_convolutions
from explainer.segment.backbone import backbone_cost
from tests.conftest import require_shared
from tests.test_segment_backbone import flop_counter_macs

MODEL_FILE = "ssd_mobilenet_v1_coco_quant.tflite"


@pytest.fixture(scope="module")
def cost():
    return backbone_cost("ssd_mobilenet_v1_coco")


def test_every_convolution_matches_the_tflite_graph(weights_dir: Path, cost) -> None:
    """Same 47 convolutions in the same order: output channels and sizes, kernels, strides, names, kinds."""
    graph = graph_convolutions(require_shared(weights_dir / MODEL_FILE, MODEL_FILE))
    ours = cost.count.layers
    assert len(ours) == len(graph) == 47
    for layer, op in zip(ours, graph):
        assert (layer.out_shape, layer.kernel, layer.stride, layer.dilation) == \
               (op.out_shape, op.kernel, op.stride, op.dilation), (layer.name, op.name)
        assert (layer.kind == "depthwise") == (op.kind == "depthwise"), (layer.name, op.name)
        assert tf_name(layer.name) in op.name, (layer.name, op.name)
        assert op.same_padding
    backbone = [op for op in graph if op.name.startswith("FeatureExtractor/MobilenetV1/MobilenetV1/")]
    assert len(backbone) == len(cost.backbone.layers) == 27
    assert backbone[0].out_shape == (24, 150, 150) and backbone[-1].out_shape == (768, 10, 10)  # ×0.75


def test_feature_maps_and_predictors_are_the_files(weights_dir: Path) -> None:
    facts = ssd_facts(require_shared(weights_dir / MODEL_FILE, MODEL_FILE))
    model = build_on_meta(SSDMobileNetV1, boxes_per_cell=tuple(f.boxes_per_cell for f in facts.feature_maps),
                          class_outputs=facts.feature_maps[0].class_outputs)
    maps = model.feature_maps(torch.empty(1, 3, 300, 300, device="meta"))
    assert [(m.shape[1], m.shape[2], m.shape[3]) for m in maps] == \
           [(f.channels, *f.size) for f in facts.feature_maps]
    boxes, scores = model(torch.empty(1, 3, 300, 300, device="meta"))
    assert boxes.shape == (1, facts.boxes_scored, 4) and scores.shape == (1, facts.boxes_scored, 91)


def test_counts_are_exact(cost) -> None:
    model = cost.net.build()
    assert cost.count.macs == flop_counter_macs(model, 300) == 728_036_496
    assert cost.backbone.macs == flop_counter_macs(model.backbone, 300) == 603_146_448
    assert cost.head.macs == 124_890_048 and cost.backbone.macs + cost.head.macs == cost.count.macs
    assert cost.count.total_params == sum(p.numel() for p in model.parameters()) == 4_101_231
    assert cost.backbone.params == sum(p.numel() for p in model.backbone.parameters()) == 1_808_352
    assert cost.head.params == 2_292_879  # the class predictors: 91 scores per default box
    assert cost.feature_map == (768, 10, 10) and cost.output_stride == 32


def test_params_match_the_int8_file_size(weights_dir: Path, cost) -> None:
    """One byte per int8 weight: the file holds the 4.1 M parameters plus 32-bit biases and its graph."""
    size = require_shared(weights_dir / MODEL_FILE, MODEL_FILE).stat().st_size
    assert cost.count.params < size < cost.count.params * 1.05


def test_classifier_of_the_same_backbone() -> None:
    from explainer.models import MobileNetV1

    assert classifier_macs() == flop_counter_macs(build_on_meta(MobileNetV1, width=0.75), 224)
