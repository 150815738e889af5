"""MobileNet as a backbone: how much of a segmentation or detection network's arithmetic is the MobileNet.

Every count comes from :func:`explainer.counting.count_module` on a real
``nn.Module`` (meta device: no weights, no memory):

* torchvision's ``lraspp_mobilenet_v3_large`` and ``deeplabv3_mobilenet_v3_large``
  at 520×520 (their weights' transform resizes to 520) — backbone ``backbone``,
  head ``classifier`` (DeepLabV3's auxiliary head, used only in training, is not built);
  the totals equal the parameters and GFLOPS torchvision publishes for the three
  released models (tests/test_segment_backbone.py);
* torchvision's ``ssdlite320_mobilenet_v3_large`` at 320×320 (its
  ``GeneralizedRCNNTransform`` has ``fixed_size=(320, 320)``: every photo is
  resized to exactly 320×320) — the MobileNet is ``backbone.features``; the
  extra feature layers ``backbone.extra`` and the box/class predictors
  ``head`` form the detection head; built with ``weights_backbone=None``, as torchvision builds its released
  COCO model, so the MobileNetV3 has the "reduced tail" (last stage halved, 480 channels out);
* Google's released int8 SSD-MobileNetV1 ×0.75 detector (COCO) at 300×300, rebuilt by
  :class:`explainer.detect.network.SSDMobileNetV1` and checked against its ``.tflite`` graph
  (tests/test_detect_network.py) — backbone ``backbone``, head ``extras`` + ``predictors``;
* Google's released DeepLabV3-MobileNetV2 (the ``.tflite`` models the page
  runs) at 513×513, rebuilt here by :class:`DeepLabV3MobileNetV2` from
  torchvision's MobileNetV2 blocks. Its layers were checked against the
  ``.tflite`` graph (tests/test_segment_backbone.py): the 1280-channel last
  convolution is dropped; output stride 16 — ``expanded_conv_13`` (torchvision's
  ``features[14]``) runs its depthwise convolution at stride 1 instead of 2 and
  the depthwise convolutions of the three blocks after it use dilation 2
  (atrous convolution); the head is DeepLab's ASPP without atrous branches
  (a 1×1 branch and an image-pooling branch of 256 channels each, concatenated,
  a 1×1 projection to 256, a 1×1 classifier to 21 classes with a bias); the
  ×0.5 model's channels are 0.5 × the standard ones rounded to the nearest
  integer (12 and 80 channels occur), not to multiples of 8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from explainer.counting import Count, build_on_meta, count_module

#: Input side of the released DeepLabV3-MobileNetV2 models.
DEEPLAB_SIDE = 513
#: Channels of DeepLab's ASPP branches and projection.
ASPP_CHANNELS = 256
NUM_CLASSES = 21


def tf_block_name(index: int) -> str:
    """TensorFlow's name of torchvision's ``features[index]`` in MobileNetV2 (``Conv``, ``expanded_conv``, ``expanded_conv_1``…)."""
    if index == 0:
        return "Conv"
    return "expanded_conv" if index == 1 else f"expanded_conv_{index - 1}"


def _depthwise(block: nn.Module) -> nn.Conv2d:
    conv = block.conv[-3][0]  # [expand,] depthwise (Conv2dNormActivation), project conv, project BN
    assert isinstance(conv, nn.Conv2d) and conv.groups == conv.in_channels
    return conv


class AsppLite(nn.Module):
    """DeepLabV3's head as released with MobileNetV2: a 1×1 branch and an image-pooling branch, no atrous branches."""

    def __init__(self, in_channels: int, channels: int = ASPP_CHANNELS, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        from torchvision.ops import Conv2dNormActivation

        self.aspp0 = Conv2dNormActivation(in_channels, channels, 1, activation_layer=nn.ReLU)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.image_pooling = Conv2dNormActivation(in_channels, channels, 1, activation_layer=nn.ReLU)
        self.concat_projection = Conv2dNormActivation(2 * channels, channels, 1, activation_layer=nn.ReLU)
        self.logits = nn.Conv2d(channels, num_classes, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch = self.aspp0(x)
        pooled = self.image_pooling(self.pool(x))
        pooled = F.interpolate(pooled, size=x.shape[-2:], mode="bilinear", align_corners=True)
        return self.logits(self.concat_projection(torch.cat([pooled, branch], dim=1)))


class DeepLabV3MobileNetV2(nn.Module):
    """Google's DeepLabV3-MobileNetV2 (PASCAL VOC) in PyTorch: ``backbone`` (MobileNetV2 blocks) + ``head``.

    ``output_stride=16`` is the released network; ``32`` is the same backbone
    as a classifier has it (every stride 2 kept, no dilation), for comparison.
    """

    def __init__(self, width: float = 1.0, output_stride: int = 16, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        from torchvision.models import mobilenet_v2

        if output_stride not in (16, 32):
            raise ValueError("output_stride must be 16 or 32")
        features = mobilenet_v2(width_mult=width, round_nearest=1).features[:-1]  # no 1280-channel last conv
        if output_stride == 16:
            rate = 1
            for index in range(1, len(features)):
                conv = _depthwise(features[index])
                if conv.stride == (2, 2) and _reached(features, index, 16):
                    conv.stride = (1, 1)  # this stride 2 would take the stride past 16: keep the map, dilate after it
                    rate *= 2
                    continue
                if rate > 1:
                    conv.dilation = (rate, rate)
                    conv.padding = (rate, rate)
        self.output_stride = output_stride
        self.backbone = features
        self.head = AsppLite(features[-1].out_channels, num_classes=num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.head(self.backbone(x))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=True)


def _reached(features: nn.Sequential, index: int, output_stride: int) -> bool:
    """Whether the blocks before ``features[index]`` already shrink the input by ``output_stride``."""
    stride = features[0][0].stride[0]
    for block in features[1:index]:
        stride *= _depthwise(block).stride[0]
    return stride >= output_stride


class _SSDTrunk(nn.Module):
    """SSDLite's backbone and head, without the resize/normalise transform and the box decoding around them."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.backbone = model.backbone
        self.head = model.head

    def forward(self, x: torch.Tensor) -> dict:
        return self.head(list(self.backbone(x).values()))


@dataclass(frozen=True)
class BackboneNet:
    """One network with a MobileNet inside, and which of its module paths are the MobileNet."""

    name: str
    display: str
    task: str  # "segmentation" or "detection"
    mobilenet: str  # "MobileNetV2", "MobileNetV2 ×0.5", "MobileNetV3-Large"
    resolution: int  # the input side the network really runs at
    resolution_source: str  # why that size
    backbone: tuple[str, ...]  # module path prefixes counted as the MobileNet
    head: tuple[str, ...]  # the rest
    build: Callable[[], nn.Module]  # on the meta device


def _deeplab_mnv2(width: float) -> Callable[[], nn.Module]:
    return lambda: build_on_meta(DeepLabV3MobileNetV2, width=width)


def _tv(builder_name: str, module: str) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        import importlib

        builder = getattr(importlib.import_module(module), builder_name)
        return build_on_meta(builder, weights=None, weights_backbone=None)

    return build


def _ssd() -> nn.Module:
    return _SSDTrunk(_tv("ssdlite320_mobilenet_v3_large", "torchvision.models.detection")())


def _ssd_v1() -> nn.Module:
    from explainer.detect.network import SSDMobileNetV1

    return build_on_meta(SSDMobileNetV1)


BACKBONE_NETS: dict[str, BackboneNet] = {
    n.name: n
    for n in (
        BackboneNet("deeplabv3_mobilenet_v2", "DeepLabV3-MobileNetV2", "segmentation", "MobileNetV2", DEEPLAB_SIDE,
                    "tflite", ("backbone",), ("head",), _deeplab_mnv2(1.0)),
        BackboneNet("deeplabv3_mobilenet_v2_dm05", "DeepLabV3-MobileNetV2 ×0.5", "segmentation", "MobileNetV2 ×0.5",
                    DEEPLAB_SIDE, "tflite", ("backbone",), ("head",), _deeplab_mnv2(0.5)),
        BackboneNet("lraspp_mobilenet_v3_large", "LR-ASPP-MobileNetV3-Large", "segmentation", "MobileNetV3-Large",
                    520, "weights_transform", ("backbone",), ("classifier",),
                    _tv("lraspp_mobilenet_v3_large", "torchvision.models.segmentation")),
        BackboneNet("deeplabv3_mobilenet_v3_large", "DeepLabV3-MobileNetV3-Large", "segmentation",
                    "MobileNetV3-Large", 520, "weights_transform", ("backbone",), ("classifier",),
                    _tv("deeplabv3_mobilenet_v3_large", "torchvision.models.segmentation")),
        BackboneNet("ssd_mobilenet_v1_coco", "SSD-MobileNetV1 ×0.75 (COCO)", "detection", "MobileNetV1 ×0.75",
                    300, "tflite", ("backbone",), ("extras", "predictors"), _ssd_v1),
        BackboneNet("ssdlite320_mobilenet_v3_large", "SSDLite320-MobileNetV3-Large", "detection",
                    "MobileNetV3-Large", 320, "fixed_size", ("backbone.features",), ("backbone.extra", "head"), _ssd),
    )
}


@dataclass(frozen=True)
class BackboneCost:
    """Backbone vs head of one network at its resolution."""

    net: BackboneNet
    count: Count
    backbone: Count
    head: Count
    feature_map: tuple[int, int, int]  # (C, H, W) the MobileNet hands to the head (its last layer's output)

    @property
    def backbone_share(self) -> float:
        return self.backbone.macs / self.count.macs

    @property
    def output_stride(self) -> int:
        """How much the MobileNet shrinks its input: the product of its layers' strides (dilated layers keep 1)."""
        stride = 1
        for layer in self.backbone.layers:
            stride *= layer.stride[0]
        return stride

    def as_dict(self) -> dict:
        return {"name": self.net.name, "task": self.net.task, "mobilenet": self.net.mobilenet,
                "resolution": self.net.resolution, "macs": self.count.macs, "params": self.count.params,
                "total_params": self.count.total_params, "backbone_macs": self.backbone.macs,
                "backbone_params": self.backbone.params, "head_macs": self.head.macs, "head_params": self.head.params,
                "backbone_share": self.backbone_share, "feature_map": list(self.feature_map),
                "output_stride": self.output_stride}


def _merge(count: Count, prefixes: tuple[str, ...]) -> Count:
    layers = tuple(layer for layer in count.layers
                   if any(layer.name == p or layer.name.startswith(p + ".") for p in prefixes))
    return Count(layers, sum(layer.params for layer in layers), count.input_shape)


def backbone_cost(name: str) -> BackboneCost:
    """Count network ``name`` of :data:`BACKBONE_NETS` at its resolution and split it into backbone and head."""
    net = BACKBONE_NETS[name]
    count = count_module(net.build(), (3, net.resolution, net.resolution))
    backbone, head = _merge(count, net.backbone), _merge(count, net.head)
    if backbone.macs + head.macs != count.macs:
        raise AssertionError(f"{name}: backbone and head do not cover every layer")
    last = backbone.layers[-1].out_shape
    return BackboneCost(net, count, backbone, head, (int(last[0]), int(last[1]), int(last[2])))


@dataclass(frozen=True)
class StageSize:
    """One MobileNetV2 block: its output size in the classifier (OS 32) and in DeepLab (OS 16)."""

    index: int  # torchvision's features[index]
    tf_name: str  # TensorFlow's name, as in the .tflite graph
    channels: int
    stride: int  # the block's own stride in the classifier
    classifier: tuple[int, int]  # (H, W) of its output at the same input size, output stride 32
    deeplab: tuple[int, int]  # (H, W) in DeepLab, output stride 16
    dilation: int  # of its depthwise convolution in DeepLab
    macs_classifier: int
    macs_deeplab: int


def stage_sizes(width: float = 1.0, resolution: int = DEEPLAB_SIDE) -> tuple[StageSize, ...]:
    """Per-block output sizes and MACs of the MobileNetV2 backbone with output stride 32 vs 16 (atrous)."""
    counts = {}
    for stride in (32, 16):
        model = build_on_meta(DeepLabV3MobileNetV2, width=width, output_stride=stride)
        counts[stride] = (model, count_module(model, (3, resolution, resolution)).under("backbone"))
    model32, count32 = counts[32]
    model16, count16 = counts[16]
    rows = []
    for index in range(len(model32.backbone)):
        part32, part16 = count32.under(f"backbone.{index}"), count16.under(f"backbone.{index}")
        out32, out16 = part32.layers[-1].out_shape, part16.layers[-1].out_shape
        if index == 0:
            stride, dilation = model32.backbone[0][0].stride[0], 1
        else:
            stride, dilation = _depthwise(model32.backbone[index]).stride[0], _depthwise(model16.backbone[index]).dilation[0]
        rows.append(StageSize(index, tf_block_name(index), int(out32[0]), stride, (int(out32[1]), int(out32[2])),
                              (int(out16[1]), int(out16[2])), dilation, part32.macs, part16.macs))
    return tuple(rows)


def classifier_cost(resolution: int = 224, width: float = 1.0) -> Count:
    """torchvision's MobileNetV2 classifier at ``resolution`` — what the same blocks cost when they classify."""
    from torchvision.models import mobilenet_v2

    return count_module(build_on_meta(mobilenet_v2, width_mult=width), (3, resolution, resolution))
