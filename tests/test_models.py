"""The four MobileNets: V1 checked against the V1 paper's tables, V2/V3 against torchvision's own
metadata, and the V1 implementation proven with released ImageNet weights on real photos."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from explainer.errors import InvalidInputError, WeightsError
from explainer.models import MODEL_NAMES, MobileNetV1, build_model, v1_state_from_npz

V1_NPZ = "mobilenet_v1_0.75_192_imagenet.npz"


def macs(model: nn.Module, size: int) -> int:
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model(torch.zeros(1, 3, size, size))
    return counter.get_total_flops() // 2


def weight_params(model: nn.Module) -> int:
    """Conv and FC weights and biases (no batch norm), as the V1 paper counts them."""
    return sum(p.numel() for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) for p in m.parameters())


def test_model_names_are_the_public_interface() -> None:
    assert MODEL_NAMES == ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_build_model_is_untrained_eval_and_classifies_1000(name: str) -> None:
    model = build_model(name)
    assert not model.training
    with torch.inference_mode():
        assert model(torch.zeros(2, 3, 224, 224)).shape == (2, 1000)
    assert build_model(name, num_classes=10)(torch.zeros(1, 3, 224, 224)).shape == (1, 10)


# V1 paper (Howard et al. 2017), Table 6 (width α at 224) and Table 7 (resolution at α = 1):
# million mult-adds and million parameters, as printed.
@pytest.mark.parametrize(
    "width,size,paper_macs,paper_params",
    [(1.0, 224, 569, 4.2), (0.75, 224, 325, 2.6), (0.5, 224, 149, 1.3), (0.25, 224, 41, 0.5),
     (1.0, 192, 418, 4.2), (1.0, 160, 290, 4.2), (1.0, 128, 186, 4.2)],
)
def test_v1_matches_the_paper(width: float, size: int, paper_macs: int, paper_params: float) -> None:
    model = build_model("mobilenet_v1", width=width)
    # Within the paper's last printed digit (it prints 290 for 290.68 M, 569 for 568.74 M).
    assert abs(macs(model, size) / 1e6 - paper_macs) < 1.0
    assert round(weight_params(model) / 1e6, 1) == paper_params


def test_v1_layers_follow_table_1() -> None:
    model = build_model("mobilenet_v1")
    assert isinstance(model, MobileNetV1)
    stem = model.features.stem.conv
    assert (stem.in_channels, stem.out_channels, stem.kernel_size, stem.stride) == (3, 32, (3, 3), (2, 2))
    blocks = [getattr(model.features, f"block{i}") for i in range(1, 14)]
    strides = [b.depthwise.conv.stride[0] for b in blocks]
    assert strides == [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]
    assert [b.pointwise.conv.out_channels for b in blocks] == [64, 128, 128, 256, 256] + [512] * 6 + [1024, 1024]
    for block in blocks:
        dw, pw = block.depthwise.conv, block.pointwise.conv
        assert dw.groups == dw.in_channels == dw.out_channels and dw.kernel_size == (3, 3)
        assert pw.kernel_size == (1, 1) and pw.groups == 1
        assert isinstance(block.depthwise.bn, nn.BatchNorm2d) and isinstance(block.pointwise.act, nn.ReLU6)
    # Spatial sizes: 224 -> 112 after the stem, 7×7 at the end.
    with torch.inference_mode():
        assert model.features(torch.zeros(1, 3, 224, 224)).shape == (1, 1024, 7, 7)
    assert model.classifier.in_features == 1024


def test_v1_without_batch_norm_has_conv_biases() -> None:
    model = build_model("mobilenet_v1", width=0.75, batch_norm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert all(m.bias is not None for m in model.modules() if isinstance(m, nn.Conv2d))
    assert model.features.stem.conv.out_channels == 24 and model.classifier.in_features == 768


# torchvision's own metadata: "_ops" is GFLOPs as torchvision counts them (multiply-adds) and num_params.
@pytest.mark.parametrize(
    "name,enum",
    [("mobilenet_v2", "MobileNet_V2_Weights"), ("mobilenet_v3_large", "MobileNet_V3_Large_Weights"),
     ("mobilenet_v3_small", "MobileNet_V3_Small_Weights")],
)
def test_torchvision_models_match_their_metadata(name: str, enum: str) -> None:
    import torchvision.models as tv

    meta = getattr(tv, enum).IMAGENET1K_V1.meta
    model = build_model(name)
    assert sum(p.numel() for p in model.parameters()) == meta["num_params"]
    assert round(macs(model, 224) / 1e9, 3) == pytest.approx(meta["_ops"], abs=0.002)


def test_width_multiplier_changes_torchvision_models() -> None:
    small = build_model("mobilenet_v2", width=0.5)
    assert sum(p.numel() for p in small.parameters()) < sum(p.numel() for p in build_model("mobilenet_v2").parameters())


@pytest.mark.parametrize("bad", [{"name": "resnet50"}, {"name": "mobilenet_v2", "width": 0}, {"name": "mobilenet_v2", "width": 5}])
def test_bad_requests_raise_one_line_errors(bad: dict) -> None:
    name = bad.pop("name")
    with pytest.raises(InvalidInputError) as info:
        build_model(name, **bad)
    assert "\n" not in info.value.message("zh")


# --------------------------------------------------------------------------
# The proof: released V1 weights (α = 0.75, 192×192) in this V1 get the shared photos right.
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def v1_loaded(weights_dir: Path, v1_npz: Path):
    from explainer.weights import load_pretrained

    return load_pretrained("mobilenet_v1", weights_dir)


def test_npz_maps_onto_v1(v1_npz: Path) -> None:
    path = v1_npz
    state, width = v1_state_from_npz(path)
    assert width == 0.75
    model = build_model("mobilenet_v1", width=width, batch_norm=False)
    assert set(state) == set(model.state_dict())
    model.load_state_dict(state, strict=True)


def test_v1_with_released_weights_classifies_the_shared_photos(v1_loaded, shared_images) -> None:
    from explainer.classify import classify_source

    assert v1_loaded.pretrained and v1_loaded.width == 0.75 and v1_loaded.input_size == 192
    assert list(v1_loaded.transform.resize_size) == [219] and list(v1_loaded.transform.crop_size) == [192]
    for path, entry in shared_images.items():
        result = classify_source(path, v1_loaded, top=5)
        labels = [p.label for p in result.predictions]
        assert set(labels) & set(entry["top5_any"]), f"{Path(path).name}: {labels}"
        recorded = entry.get("converted_mobilenet_v1_0.75_192", {}).get("top5")
        if recorded:  # the converter's own run of these weights: same labels, same probabilities
            assert labels[0] == recorded[0][0]
            assert result.predictions[0].prob == pytest.approx(recorded[0][1], abs=0.02)


def test_corrupt_npz_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / V1_NPZ
    bad.write_bytes(b"not a zip")
    with pytest.raises(WeightsError) as info:
        v1_state_from_npz(bad)
    assert str(bad) in info.value.message("en")
