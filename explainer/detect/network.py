"""Google's SSD-MobileNetV1 (COCO) rebuilt in PyTorch, to count backbone and head exactly.

The released ``.tflite`` (TensorFlow's starter detector) was checked against
this build convolution by convolution — output channels, feature-map sizes,
kernels, strides (tests/test_detect_network.py, via
:func:`explainer.litert.graph_convolutions`). What the file shows:

* **backbone** — MobileNetV1 with depth multiplier **0.75** (24 channels in the
  stem, 768 at the end: the file's names say ``MobilenetV1``, its shapes say
  ×0.75), the blocks of :class:`explainer.models.MobileNetV1` without its
  pooling and classifier; batch norm is folded into the convolutions (they
  have biases, as in :class:`~explainer.models.MobileNetV1` with
  ``batch_norm=False``);
* **extra feature layers** — four pairs (1×1 convolution, then 3×3 stride-2
  convolution) on top of the last block: 10×10 → 5×5 → 3×3 → 2×2 → 1×1,
  with ``(512, 256, 256, 128) × 0.75`` channels (the 1×1 layer has half);
* **box predictors** — on six feature maps (block 11's 19×19 output, block
  13's 10×10 output and the four extra maps) two 1×1 convolutions each: ``4·k``
  box offsets and ``91·k`` class scores (90 COCO ids + background) for ``k``
  default boxes per cell (3 on the first map, 6 on the others).

Backbone = ``backbone``; head = ``extras`` + ``predictors`` (as for
torchvision's SSDLite, whose extra layers count as head too).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from explainer.models import MobileNetV1

#: Depth multiplier of the released detector's MobileNetV1 (from the file's channels).
WIDTH = 0.75
INPUT_SIDE = 300
#: Output channels of the 3×3 extra layers before the depth multiplier (TensorFlow's SSD feature-map layout).
EXTRA_DEPTHS = (512, 256, 256, 128)
#: The backbone blocks whose outputs are feature maps (``features.block11``, ``features.block13``).
SOURCE_BLOCKS = ("block11", "block13")
BOXES_PER_CELL = (3, 6, 6, 6, 6, 6)
CLASS_OUTPUTS = 91  # 90 COCO ids + background


class SSDMobileNetV1(nn.Module):
    """SSD on MobileNetV1: ``backbone`` (the MobileNet), ``extras`` and ``predictors`` (the detection head)."""

    def __init__(self, width: float = WIDTH, boxes_per_cell: tuple[int, ...] = BOXES_PER_CELL,
                 class_outputs: int = CLASS_OUTPUTS) -> None:
        super().__init__()
        self.backbone = MobileNetV1(width=width, batch_norm=False).features
        channels = [self.backbone.get_submodule(name).pointwise.conv.out_channels for name in SOURCE_BLOCKS]
        extras: OrderedDict[str, nn.Module] = OrderedDict()
        in_ch = channels[-1]
        for number, depth in enumerate(EXTRA_DEPTHS, start=2):
            out_ch = int(depth * width)
            extras[f"layer{number}"] = nn.Sequential(OrderedDict(
                reduce=nn.Sequential(nn.Conv2d(in_ch, out_ch // 2, 1), nn.ReLU6()),
                expand=nn.Sequential(nn.Conv2d(out_ch // 2, out_ch, 3, stride=2, padding=1), nn.ReLU6()),
            ))
            channels.append(out_ch)
            in_ch = out_ch
        self.extras = nn.Sequential(extras)
        self.predictors = nn.ModuleList(
            nn.ModuleDict({"box": nn.Conv2d(c, 4 * k, 1), "cls": nn.Conv2d(c, class_outputs * k, 1)})
            for c, k in zip(channels, boxes_per_cell))
        self.feature_channels = tuple(channels)
        self.class_outputs = class_outputs

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        maps = []
        for name, block in self.backbone.named_children():
            x = block(x)
            if name in SOURCE_BLOCKS:
                maps.append(x)
        for layer in self.extras:
            x = layer(x)
            maps.append(x)
        return maps

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Box offsets ``[N, boxes, 4]`` and class logits ``[N, boxes, 91]`` for every default box."""
        boxes, scores = [], []
        for feature, head in zip(self.feature_maps(x), self.predictors):
            n = feature.shape[0]
            boxes.append(head["box"](feature).permute(0, 2, 3, 1).reshape(n, -1, 4))
            scores.append(head["cls"](feature).permute(0, 2, 3, 1).reshape(n, -1, self.class_outputs))
        return torch.cat(boxes, 1), torch.cat(scores, 1)


def tf_name(layer_name: str) -> str:
    """The TensorFlow name prefix of one counted layer (``backbone.block3.pointwise.conv`` → ``Conv2d_3_pointwise``)."""
    parts = layer_name.split(".")
    if parts[0] == "backbone":
        if parts[1] == "stem":
            return "Conv2d_0"
        return f"Conv2d_{parts[1].removeprefix('block')}_{parts[2]}"
    if parts[0] == "extras":
        number = parts[1].removeprefix("layer")
        return f"Conv2d_{number}_{'1x1' if parts[2] == 'reduce' else '3x3_s2'}"
    if parts[0] == "predictors":
        return f"BoxPredictor_{parts[1]}/{'BoxEncodingPredictor' if parts[2] == 'box' else 'ClassPredictor'}"
    raise ValueError(layer_name)


def classifier_macs(width: float = WIDTH, resolution: int = 224) -> int:
    """MACs of the same MobileNetV1 as a classifier (pooling and the 1000-class layer included) at ``resolution``."""
    from explainer.counting import build_on_meta, count_module

    return count_module(build_on_meta(MobileNetV1, width=width), (3, resolution, resolution)).macs
