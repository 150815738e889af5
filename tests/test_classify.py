"""Classification core: real weights on real photos, preprocessing identical to torchvision's, top-k,
the thin-image guard, the de-normalised input, and model costs against independent counters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.transforms.functional as F
from PIL import Image

from explainer.classify import (
    MAX_TOP,
    check_top,
    classify_image,
    classify_source,
    model_cost,
    preprocess,
    tensor_to_image,
    top_k,
    trim_extreme_aspect,
)
from explainer.errors import ImageError, InvalidInputError
from explainer.weights import load_pretrained, untrained

CATS = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}


@pytest.fixture(scope="session")
def v2(weights_dir: Path):
    return load_pretrained("mobilenet_v2", weights_dir)


@pytest.fixture(scope="module")
def random_v3() -> object:
    return untrained("mobilenet_v3_small")


def _photo(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (max(1, height // 8), max(1, width // 8), 3), dtype=np.uint8)
    return Image.fromarray(base).resize((width, height), Image.BILINEAR)


def test_every_shared_photo_has_an_acceptable_class_in_the_top5(v2, shared_images) -> None:
    for path, entry in shared_images.items():
        result = classify_source(path, v2, top=5)
        labels = [p.label for p in result.predictions]
        assert set(labels) & set(entry["top5_any"]), f"{Path(path).name}: {labels}"
        # The predictions are the model's own: same as a plain torchvision pipeline on the full-size photo.
        image = Image.open(path).convert("RGB")
        with torch.inference_mode():
            logits = v2.model(v2.transform(image).unsqueeze(0))
        reference = torch.softmax(logits[0].double(), 0)
        assert [p.index for p in result.predictions][:1] == [int(reference.argmax())]
        assert result.predictions[0].prob == pytest.approx(float(reference.max()), abs=1e-3)


def test_cat_is_first(v2, shared_images) -> None:
    cat = next(p for p in shared_images if p.endswith("cat.jpg"))
    result = classify_source(cat, v2)
    assert result.predictions[0].label in CATS
    assert result.pretrained and result.model == "mobilenet_v2"


def test_bundled_samples_with_real_weights(v2) -> None:
    from explainer.samples import sample_bytes

    # Recorded for these weights in the shared weights README: chelsea → tiger cat, coffee → espresso.
    for key, label in [("chelsea", "tiger cat"), ("coffee", "espresso")]:
        data, name = sample_bytes(key)
        assert classify_source(data, v2, name=name).predictions[0].label == label


def test_preprocess_is_exactly_the_weights_transform(random_v3) -> None:
    image = _photo(640, 480)
    ours = preprocess(image, random_v3)
    # Independent: torchvision's functional ops, spelled out (resize and crop on the PIL image, bilinear).
    cropped = F.center_crop(F.resize(image, [256], interpolation=F.InterpolationMode.BILINEAR, antialias=True), [224])
    tensor = F.convert_image_dtype(F.pil_to_tensor(cropped), torch.float)
    tensor = F.normalize(tensor, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    assert ours.shape == (1, 3, 224, 224)
    assert torch.equal(ours[0], tensor)


def test_thin_images_are_trimmed_without_changing_the_crop(random_v3) -> None:
    image = _photo(2400, 200, seed=3)  # aspect 12: trimmed to 400×200 before resizing
    trimmed = trim_extreme_aspect(image)
    assert trimmed.size == (400, 200)
    ours = preprocess(image, random_v3)
    direct = random_v3.transform(image).unsqueeze(0)  # the untrimmed pipeline (3072×256 intermediate)
    assert ours.shape == direct.shape == (1, 3, 224, 224)
    assert (ours - direct).abs().max() < 0.05  # only interpolation rounding at the edges differs
    assert trim_extreme_aspect(_photo(300, 200)).size == (300, 200)  # ordinary photos untouched


@pytest.mark.parametrize("size", [(1, 1), (10000, 2), (2, 10000), (3, 5)])
def test_tiny_and_extreme_images_classify(random_v3, size) -> None:
    result = classify_image(Image.new("RGB", size, (120, 30, 200)), random_v3, top=3)
    assert result.input_tensor.shape == (1, 3, 224, 224)
    assert len(result.predictions) == 3 and not result.pretrained


def test_tensor_to_image_undoes_the_normalisation(random_v3) -> None:
    image = _photo(500, 300, seed=5)
    batch = preprocess(image, random_v3)
    shown = tensor_to_image(batch, random_v3)
    expected = np.asarray(F.center_crop(F.resize(image, [256], antialias=True), [224]))
    assert shown.shape == (224, 224, 3) and shown.dtype == np.uint8
    assert np.abs(shown.astype(int) - expected.astype(int)).max() <= 1


def test_top_k_is_softmax_sorted() -> None:
    logits = torch.tensor([[0.5, 3.0, -1.0, 2.0, 0.0]])
    categories = ["a", "b", "c", "d", "e"]
    result = top_k(logits, categories, top=3)
    probs = np.exp([0.5, 3.0, -1.0, 2.0, 0.0])
    probs /= probs.sum()
    assert [p.index for p in result] == [1, 3, 0]
    assert [p.label for p in result] == ["b", "d", "a"]
    assert [p.prob for p in result] == pytest.approx(list(probs[[1, 3, 0]]), abs=1e-12)


@pytest.mark.parametrize("top", [0, -1, MAX_TOP + 1, 2.5, "3", True])
def test_bad_top_is_refused(top) -> None:
    with pytest.raises(InvalidInputError):
        check_top(top)


def test_json_shape(random_v3) -> None:
    result = classify_image(_photo(300, 300), random_v3, top=5)
    data = result.as_dict()
    assert set(data) >= {"model", "weights", "pretrained", "predictions", "latency_ms"}
    assert data["weights"] == "untrained" and data["pretrained"] is False
    assert [set(p) for p in data["predictions"]] == [{"index", "label", "prob"}] * 5
    assert data["latency_ms"] > 0


def test_bad_bytes_raise_image_errors(random_v3) -> None:
    with pytest.raises(ImageError):
        classify_source(b"GIF89a not really", random_v3)


def _pytorch_count(model: torch.nn.Module, size: int) -> tuple[int, int]:
    """MACs (PyTorch's FlopCounterMode FLOPs / 2) and conv + linear parameters (``numel``) of ``model`` —
    counted here, independently of explainer.classify and explainer.counting."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        model(torch.zeros(1, 3, size, size))
    layers = (torch.nn.Conv2d, torch.nn.Linear)
    params = sum(p.numel() for m in model.modules() if isinstance(m, layers) for p in m.parameters(recurse=False))
    return counter.get_total_flops() // 2, params


@pytest.mark.parametrize("name", ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"])
def test_model_cost_matches_pytorch_counters(name: str) -> None:
    loaded = untrained(name)
    cost = model_cost(loaded)
    assert (cost.macs, cost.params, cost.input_size) == (*_pytorch_count(loaded.model, 224), 224)


@pytest.mark.parametrize("name,weights", [("mobilenet_v2", "MobileNet_V2_Weights"),
                                          ("mobilenet_v3_large", "MobileNet_V3_Large_Weights"),
                                          ("mobilenet_v3_small", "MobileNet_V3_Small_Weights")])
def test_model_cost_of_torchvision_models_matches_their_metadata(name: str, weights: str) -> None:
    import torchvision.models as tv

    loaded = untrained(name)
    cost = model_cost(loaded)
    meta = getattr(tv, weights).IMAGENET1K_V1.meta
    assert cost.macs / 1e9 == pytest.approx(meta["_ops"], abs=0.0006)  # torchvision prints GFLOPS = G-MACs, 3 decimals
    bn = sum(p.numel() for m in loaded.model.modules() if isinstance(m, torch.nn.BatchNorm2d) for p in m.parameters())
    assert cost.params + bn == meta["num_params"]  # the app counts no batch-norm parameters


def _v1_channels(width: float) -> list[int]:
    """Stem and 13 block output channels of MobileNetV1 (the paper's Table 1), thinned like Google's models."""
    return [max(8, int(width * c)) for c in (32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024)]


def _v1_macs_by_hand(width: float, size: int, classes: int = 1000) -> int:
    """MobileNetV1's MACs from the paper's formulas (Howard et al. 2017, eq. 5 and Table 1): stem
    3·3·3·M·F², per block depthwise 3·3·M·F² + pointwise M·N·F², classifier M·classes."""
    channels = _v1_channels(width)
    strides = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]
    f = (size + 1) // 2
    macs = 3 * 3 * 3 * channels[0] * f * f
    for m, n, stride in zip(channels, channels[1:], strides):
        f = (f + stride - 1) // stride
        macs += 3 * 3 * m * f * f + m * n * f * f
    return macs + channels[-1] * classes


def test_model_cost_of_the_released_v1(weights_dir: Path, v1_npz: Path) -> None:
    loaded = load_pretrained("mobilenet_v1", weights_dir)
    cost = model_cost(loaded)
    assert (loaded.width, cost.input_size) == (0.75, 192)
    macs, params = _pytorch_count(loaded.model, 192)  # FlopCounterMode on the loaded network at its own size
    # The released file has batch norm folded into conv biases; the app counts V1 as designed (convolutions
    # without bias, batch norm apart), so its parameters are the loaded ones minus those folded biases.
    folded = sum(m.bias.numel() for m in loaded.model.modules() if isinstance(m, torch.nn.Conv2d))
    channels = _v1_channels(0.75)
    assert folded == channels[0] + sum(m + n for m, n in zip(channels, channels[1:]))  # stem, then dw + pw per block
    assert (cost.macs, cost.params) == (macs, params - folded)
    assert macs == _v1_macs_by_hand(0.75, 192) == 239_273_472  # the paper's formulas agree with PyTorch
    assert _pytorch_count(untrained("mobilenet_v1").model, 224)[0] == _v1_macs_by_hand(1.0, 224)


def test_reference_latency_is_the_median_of_several_runs(random_v3) -> None:
    from explainer.classify import reference_latency_ms

    calls: list[tuple] = []
    model = random_v3.model

    class Counting(torch.nn.Module):
        def forward(self, x):
            calls.append(tuple(x.shape))
            return model(x)

    from dataclasses import replace

    wrapped = replace(random_v3, model=Counting())
    median = reference_latency_ms(wrapped, runs=3)
    assert calls == [(1, 3, 224, 224)] * 4  # one warm-up, three timed
    assert 0 < median < 10_000  # the median itself: tests/test_stopwatch.py


# --------------------------------------------------------------------------
# Labels: exact class indices, and label i is torchvision's category i
# --------------------------------------------------------------------------

#: Photos whose top-1 is unambiguous with both released models (V2 ≥ 0.97, V1 ≥ 0.56; runner-up far below),
#: with the ImageNet-1k index of that class (written here, not looked up through the code under test).
UNAMBIGUOUS = {"bird.jpg": (19, "chickadee"), "sunflower.jpg": (985, "daisy"), "dragonfly.jpg": (319, "dragonfly")}


def _torchvision_categories() -> list[str]:
    import torchvision.models as tv

    return list(tv.MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"])


def test_label_i_is_torchvision_category_i() -> None:
    categories = _torchvision_categories()
    assert len(categories) == 1000 and categories[0] == "tench" and categories[999] == "toilet tissue"
    for index, label in UNAMBIGUOUS.values():
        assert categories[index] == label
    for name in ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"):
        assert untrained(name).categories == categories, name
    # top_k names every index with that index's category, at both ends and between neighbouring cat classes
    for index in (0, 1, 281, 284, 285, 286, 500, 998, 999):
        logits = torch.full((1, 1000), -5.0)
        logits[0, index] = 5.0
        logits[0, (index + 1) % 1000] = 4.0  # runner-up: the next class
        first, second = top_k(logits, categories, top=2)
        assert (first.index, first.label) == (index, categories[index])
        assert (second.index, second.label) == ((index + 1) % 1000, categories[(index + 1) % 1000])


@pytest.mark.parametrize("model", ["mobilenet_v2", "mobilenet_v1"])
def test_unambiguous_photos_get_their_exact_class(model: str, weights_dir: Path, shared_images, request) -> None:
    if model == "mobilenet_v1":
        request.getfixturevalue("v1_npz")  # the released V1 weights must be there
    loaded = load_pretrained(model, weights_dir)
    categories = _torchvision_categories()
    for path, entry in shared_images.items():
        name = Path(path).name
        if name not in UNAMBIGUOUS:
            continue
        index, label = UNAMBIGUOUS[name]
        top = classify_source(path, loaded, top=3).predictions[0]
        assert (top.index, top.label) == (index, label), name
        assert top.label == categories[top.index] and top.prob > 0.5
        assert label in entry["top5_any"]
