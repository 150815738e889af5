"""Every model the app knows, one registered record each: the four MobileNets it teaches and the lightweight family.

A :class:`ModelSpec` holds everything the app knows of a model in one place: how to build it (a torchvision
builder, or :class:`explainer.models.MobileNetV1`), its display name and family, its width variant, the
weights the app loads for it (a :mod:`explainer.catalogue` record) and their preprocessing, its label set, and
its published ImageNet-1k top-1 with the source. Every page, the command line and the zoo read it; adding a
model is adding one record here.

For torchvision's models the top-1, the parameter count and the file size are copied from the weight enum's
metadata (``weights``, the DEFAULT ones): ``meta["_metrics"]["ImageNet-1K"]["acc@1"]``, ``num_params``,
``_file_size`` (MiB); ``tests/test_zoo_registry.py`` checks every copied figure against torchvision. V1 has no
torchvision weights: its top-1 is the V1 paper's (:mod:`explainer.published`).

This module imports neither torch nor torchvision.
"""

from __future__ import annotations

from dataclasses import dataclass

from explainer import published
from explainer.errors import InvalidInputError


@dataclass(frozen=True)
class ModelSpec:
    """One model: identity, how to build it, its weights and preprocessing, and its published figures."""

    name: str  # torchvision builder name (our own for V1)
    display: str
    family: str  # key of FAMILIES
    width: float | None  # the variant's width multiplier, None when the family has none
    top1: float | None  # published ImageNet-1k top-1, %
    top1_source: str  # where top1 comes from (a weights enum member or a paper)
    weights: str | None  # torchvision weights enum member whose metadata (and preprocessing) we use
    num_params: int  # sum(p.numel()) of the model (torchvision's meta["num_params"])
    file_size_mib: float | None  # torchvision's meta["_file_size"] (MiB of the .pth file)
    reference: bool = False  # a heavy reference network, not a lightweight one
    builder: str = "torchvision"  # "torchvision" | "mobilenet_v1"
    taught: bool = False  # one of the MobileNets every page teaches (layer tables, classify, feature maps …)
    weights_asset: str | None = None  # the catalogue record of the pretrained weights the app loads
    local_transform: str | None = None  # the preprocessing of a user's own <name>.pth (a weights enum member)
    labels: str = "imagenet-1k"  # the label set of its outputs
    short: str = ""  # a taught MobileNet's short label in charts, e.g. "V3-L"
    color: str = ""  # a taught MobileNet's colour in charts

    @property
    def is_mobilenet(self) -> bool:
        return self.taught


#: Families in the order of tables and legends; each has one key block (:mod:`explainer.zoo.blocks`).
FAMILIES: dict[str, str] = {
    "squeezenet": "SqueezeNet",
    "shufflenet_v2": "ShuffleNet V2",
    "mobilenet": "MobileNet",
    "mnasnet": "MnasNet",
    "efficientnet": "EfficientNet",
    "resnet": "ResNet",
    "vgg": "VGG",
}

MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to :data:`MODELS`; a second record of the same name is an error."""
    if MODELS.setdefault(spec.name, spec) is not spec:
        raise ValueError(f"{spec.name} registered twice")
    if spec.family not in FAMILIES:
        raise ValueError(f"{spec.name}: unknown family {spec.family!r}")
    return spec


def _tv(name: str, display: str, family: str, width: float | None, weights: str, top1: float, num_params: int,
        file_size_mib: float, reference: bool = False, **taught) -> ModelSpec:
    return register(ModelSpec(name, display, family, width, top1, f"torchvision {weights}", weights, num_params,
                              file_size_mib, reference, **taught))


def _taught(v1_weights: str, short: str, color: str) -> dict:
    """What a taught MobileNet adds: a user's own ``<name>.pth`` is preprocessed as torchvision's
    ``v1_weights`` (``IMAGENET1K_V1``: Resize 256, CenterCrop 224); its short label and colour in charts."""
    return {"taught": True, "local_transform": v1_weights, "short": short, "color": color}


_v1 = published.headline("mobilenet_v1")
register(ModelSpec("mobilenet_v1", "MobileNetV1", "mobilenet", 1.0, _v1.top1,
                   f"{published.V1_PAPER}, Table {_v1.tables}", None, 4_231_976, None, builder="mobilenet_v1",
                   weights_asset="mobilenet_v1", **_taught("MobileNet_V2_Weights.IMAGENET1K_V1", "V1", "#2e86ab")))
# Copied from torchvision 0.29's weight enums (DEFAULT weights); tests/test_zoo_registry.py compares.
_tv("mobilenet_v2", "MobileNetV2", "mobilenet", 1.0, "MobileNet_V2_Weights.IMAGENET1K_V2", 72.154, 3_504_872, 13.598,
    weights_asset="mobilenet_v2", **_taught("MobileNet_V2_Weights.IMAGENET1K_V1", "V2", "#66a182"))
_tv("mobilenet_v3_large", "MobileNetV3-Large", "mobilenet", 1.0, "MobileNet_V3_Large_Weights.IMAGENET1K_V2", 75.274,
    5_483_032, 21.107, weights_asset="mobilenet_v3_large",
    **_taught("MobileNet_V3_Large_Weights.IMAGENET1K_V1", "V3-L", "#d1495b"))
_tv("mobilenet_v3_small", "MobileNetV3-Small", "mobilenet", 1.0, "MobileNet_V3_Small_Weights.IMAGENET1K_V1", 67.668,
    2_542_856, 9.829, weights_asset="mobilenet_v3_small",
    **_taught("MobileNet_V3_Small_Weights.IMAGENET1K_V1", "V3-S", "#edae49"))
_tv("squeezenet1_0", "SqueezeNet 1.0", "squeezenet", None, "SqueezeNet1_0_Weights.IMAGENET1K_V1", 58.092,
    1_248_424, 4.778)
_tv("squeezenet1_1", "SqueezeNet 1.1", "squeezenet", None, "SqueezeNet1_1_Weights.IMAGENET1K_V1", 58.178,
    1_235_496, 4.729)
_tv("shufflenet_v2_x0_5", "ShuffleNet V2 0.5×", "shufflenet_v2", 0.5, "ShuffleNet_V2_X0_5_Weights.IMAGENET1K_V1",
    60.552, 1_366_792, 5.282)
_tv("shufflenet_v2_x1_0", "ShuffleNet V2 1.0×", "shufflenet_v2", 1.0, "ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1",
    69.362, 2_278_604, 8.791)
_tv("shufflenet_v2_x1_5", "ShuffleNet V2 1.5×", "shufflenet_v2", 1.5, "ShuffleNet_V2_X1_5_Weights.IMAGENET1K_V1",
    72.996, 3_503_624, 13.557)
_tv("shufflenet_v2_x2_0", "ShuffleNet V2 2.0×", "shufflenet_v2", 2.0, "ShuffleNet_V2_X2_0_Weights.IMAGENET1K_V1",
    76.23, 7_393_996, 28.433)
_tv("mnasnet0_5", "MnasNet 0.5", "mnasnet", 0.5, "MNASNet0_5_Weights.IMAGENET1K_V1", 67.734, 2_218_512, 8.591)
_tv("mnasnet0_75", "MnasNet 0.75", "mnasnet", 0.75, "MNASNet0_75_Weights.IMAGENET1K_V1", 71.18, 3_170_208, 12.303)
_tv("mnasnet1_0", "MnasNet 1.0", "mnasnet", 1.0, "MNASNet1_0_Weights.IMAGENET1K_V1", 73.456, 4_383_312, 16.915)
_tv("mnasnet1_3", "MnasNet 1.3", "mnasnet", 1.3, "MNASNet1_3_Weights.IMAGENET1K_V1", 76.506, 6_282_256, 24.246)
_tv("efficientnet_b0", "EfficientNet-B0", "efficientnet", None, "EfficientNet_B0_Weights.IMAGENET1K_V1", 77.692,
    5_288_548, 20.451)
_tv("resnet18", "ResNet-18", "resnet", None, "ResNet18_Weights.IMAGENET1K_V1", 69.758, 11_689_512, 44.661,
    reference=True)
_tv("resnet50", "ResNet-50", "resnet", None, "ResNet50_Weights.IMAGENET1K_V2", 80.858, 25_557_032, 97.79,
    reference=True)
_tv("vgg16", "VGG-16", "vgg", None, "VGG16_Weights.IMAGENET1K_V1", 71.592, 138_357_544, 527.796, reference=True)

#: Every registered model name, in the order above (MobileNets first, as the rest of the app).
MODEL_NAMES: tuple[str, ...] = tuple(MODELS)
#: The MobileNets the pages teach, in the order the app offers them.
TAUGHT: tuple[str, ...] = tuple(name for name, spec in MODELS.items() if spec.taught)
#: Their display names.
DISPLAY_NAMES: dict[str, str] = {name: MODELS[name].display for name in TAUGHT}
#: The taught MobileNets with published ImageNet weights (the backbones a new head can be trained on).
PRETRAINED: tuple[str, ...] = tuple(name for name in TAUGHT if MODELS[name].weights)


def get(name: str) -> ModelSpec:
    """The record of ``name``; :class:`InvalidInputError` (``zoo.unknown_model``) for an unknown name."""
    spec = MODELS.get(name)
    if spec is None:
        raise InvalidInputError("zoo.unknown_model", name=name, choices=", ".join(MODEL_NAMES))
    return spec


def variants(family: str) -> tuple[ModelSpec, ...]:
    """The registered models of one family, in registry order."""
    return tuple(spec for spec in MODELS.values() if spec.family == family)


def build(name: str, *, meta: bool = False, seed: int | None = None, width: float | None = None):
    """An untrained ``name`` in eval mode: on the meta device (shapes only, instant) or on the CPU.

    Random weights are fine for counting and timing (the arithmetic does not depend on the values).
    ``width`` (MobileNets only) builds the network at width multiplier α (:func:`explainer.models.build_model`).
    """
    import torch

    spec = get(name)
    from explainer.models import build_registered

    def make():
        if width is not None:
            if not spec.is_mobilenet:
                raise InvalidInputError("zoo.no_width", name=name, value=width)
            from explainer.models import build_model

            return build_model(name, width=width)
        return build_registered(name)

    if meta:
        with torch.device("meta"):
            return make().eval()
    if seed is not None:
        torch.manual_seed(seed)
    return make().eval()
