"""The four MobileNets as PyTorch modules: V1 written here, V2 and V3 from torchvision.

* :class:`MobileNetV1` follows the V1 paper (Howard et al., 2017, Table 1):
  a 3×3 stride-2 stem convolution, then 13 depthwise separable blocks
  (depthwise 3×3 → BN → ReLU6, pointwise 1×1 → BN → ReLU6), global average
  pooling and one fully connected layer. As in Google's released models the
  penultimate depthwise layer has stride 2 and the last one stride 1, and
  the activation is ReLU6. The width multiplier α thins every layer like the
  TensorFlow reference: ``max(8, int(α·channels))``. The resolution is
  free (the pooling is global); the paper uses 224, 192, 160 or 128.
* ``mobilenet_v2``, ``mobilenet_v3_large`` and ``mobilenet_v3_small`` are
  torchvision's own architectures, so torchvision's ImageNet weights load
  into them unchanged.

:func:`build_model` returns an *untrained* network in eval mode; pretrained
weights come from :mod:`explainer.weights`.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from explainer.errors import InvalidInputError, WeightsError

# The catalogue of models and the V1 table are data of the architecture tables (one source for both).
from explainer.architectures import (
    DISPLAY_NAMES,
    MODEL_NAMES,
    V1_BLOCKS,
    V1_MIN_DEPTH,
    WIDTH_RANGE,
    v1_channels,
)
from explainer.architectures import V1_STEM as V1_STEM_CHANNELS

__all__ = ["DISPLAY_NAMES", "MODEL_NAMES", "V1_BLOCKS", "V1_MIN_DEPTH", "V1_STEM_CHANNELS", "WIDTH_RANGE",
           "MobileNetV1", "build_model", "check_model_name", "v1_channels", "v1_state_from_npz"]


class ConvBNAct(nn.Sequential):
    """``conv → bn → act`` (children named so), or ``conv (with bias) → act`` when ``batch_norm=False``."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1, batch_norm: bool = True):
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["conv"] = nn.Conv2d(
            in_ch, out_ch, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=not batch_norm
        )
        if batch_norm:
            layers["bn"] = nn.BatchNorm2d(out_ch)
        layers["act"] = nn.ReLU6(inplace=False)
        super().__init__(layers)


class DepthwiseSeparable(nn.Sequential):
    """One V1 block: a depthwise 3×3 convolution (one filter per channel) then a pointwise 1×1 convolution."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, batch_norm: bool = True):
        super().__init__(
            OrderedDict(
                depthwise=ConvBNAct(in_ch, in_ch, 3, stride=stride, groups=in_ch, batch_norm=batch_norm),
                pointwise=ConvBNAct(in_ch, out_ch, 1, batch_norm=batch_norm),
            )
        )
        self.stride = stride


class MobileNetV1(nn.Module):
    """MobileNetV1 with width multiplier ``width`` (α).

    Layers: ``features.stem`` (3×3 conv, stride 2), ``features.block1`` …
    ``features.block13`` (each ``.depthwise`` and ``.pointwise``, each
    ``conv``/``bn``/``act``), ``pool`` (global average) and ``classifier``
    (``Linear``). With ``batch_norm=False`` every convolution has a bias
    instead of a batch norm (the form of released weights with BN folded in).
    """

    def __init__(self, width: float = 1.0, num_classes: int = 1000, batch_norm: bool = True, dropout: float = 0.0):
        super().__init__()
        self.width = width
        stem = v1_channels(V1_STEM_CHANNELS, width)
        layers: OrderedDict[str, nn.Module] = OrderedDict(stem=ConvBNAct(3, stem, 3, stride=2, batch_norm=batch_norm))
        in_ch = stem
        for i, (out, stride) in enumerate(V1_BLOCKS, start=1):
            out_ch = v1_channels(out, width)
            layers[f"block{i}"] = DepthwiseSeparable(in_ch, out_ch, stride, batch_norm=batch_norm)
            in_ch = out_ch
        self.features = nn.Sequential(layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.classifier = nn.Linear(in_ch, num_classes)
        self.out_channels = in_ch
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(self.pool(x), 1)
        return self.classifier(self.dropout(x))


def _check_width(width: float) -> float:
    try:
        value = float(width)
    except (TypeError, ValueError):
        raise InvalidInputError("not_number", name="α", value=width) from None
    low, high = WIDTH_RANGE
    if not low <= value <= high:
        raise InvalidInputError("out_of_range", name="α", low=low, high=high, value=width)
    return value


def check_model_name(name: str) -> str:
    """``name`` if it is one of :data:`MODEL_NAMES`, else :class:`InvalidInputError`."""
    if name not in MODEL_NAMES:
        raise InvalidInputError("weights.unknown_model", name=name, choices=", ".join(MODEL_NAMES))
    return name


def build_model(name: str, *, width: float = 1.0, num_classes: int = 1000, batch_norm: bool = True) -> nn.Module:
    """An untrained MobileNet ``name`` (one of :data:`MODEL_NAMES`) in eval mode (``batch_norm``: V1 only)."""
    check_model_name(name)
    return build_registered(name, width=width, num_classes=num_classes, batch_norm=batch_norm)


def build_registered(name: str, *, width: float = 1.0, num_classes: int = 1000, batch_norm: bool = True) -> nn.Module:
    """An untrained ``name`` (any :mod:`explainer.registry` record) in eval mode, by its record's builder;
    ``width`` for the taught MobileNets only."""
    from explainer import registry

    spec = registry.get(name)
    width = _check_width(width)
    if spec.builder == "mobilenet_v1":
        model: nn.Module = MobileNetV1(width=width, num_classes=num_classes, batch_norm=batch_norm)
    else:
        from torchvision import models as tv

        options = {"width_mult": width} if spec.taught else {}
        model = tv.get_model(name, weights=None, num_classes=num_classes, **options)
    return model.eval()


# --------------------------------------------------------------------------
# Released MobileNetV1 weights with batch norm folded in (``.npz``, see the shared weights README).
# --------------------------------------------------------------------------


def v1_state_from_npz(path: str | Path) -> tuple[dict[str, torch.Tensor], float]:
    """Map a V1 ``.npz`` (``layer00``…``layer26``, ``fc``; conv biases, no BN) to a state dict of
    ``MobileNetV1(width, batch_norm=False)``; returns ``(state_dict, width)``.

    ``layer00`` is the stem, odd layers the depthwise and even layers the
    pointwise convolutions of blocks 1–13. The width α is read from the stem
    (``channels / 32``). Raises :class:`WeightsError` naming the file when the
    arrays do not have this layout.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: np.asarray(npz[key]) for key in npz.files}
    except Exception as err:  # noqa: BLE001 - any reader failure means a broken file
        raise WeightsError("weights.corrupt", file=str(path)) from err
    expected = ["layer00"] + [f"layer{i:02d}" for i in range(1, 27)] + ["fc"]
    missing = [f"{k}_{part}" for k in expected for part in ("weight", "bias") if f"{k}_{part}" not in arrays]
    if missing:
        raise WeightsError("weights.mismatch", file=str(path), detail=f"missing {len(missing)} arrays ({missing[0]})")
    stem_out = arrays["layer00_weight"].shape[0]
    width = stem_out / V1_STEM_CHANNELS
    targets = ["features.stem.conv"]
    for i in range(1, len(V1_BLOCKS) + 1):
        targets += [f"features.block{i}.depthwise.conv", f"features.block{i}.pointwise.conv"]
    state: dict[str, torch.Tensor] = {}
    for index, target in enumerate(targets):
        for part in ("weight", "bias"):
            state[f"{target}.{part}"] = torch.from_numpy(arrays[f"layer{index:02d}_{part}"].astype(np.float32))
    state["classifier.weight"] = torch.from_numpy(arrays["fc_weight"].astype(np.float32))
    state["classifier.bias"] = torch.from_numpy(arrays["fc_bias"].astype(np.float32))
    return state, width
