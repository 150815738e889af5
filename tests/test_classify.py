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


@pytest.mark.parametrize("name", ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"])
def test_model_cost_matches_pytorch_counters(name: str) -> None:
    from explainer.classify import counted_cost

    loaded = untrained(name)
    cost = model_cost(loaded)
    counted = counted_cost(loaded.model, 224)  # FlopCounterMode / 2 and numel, on the real module
    assert (cost.macs, cost.params, cost.input_size) == (counted.macs, counted.params, 224)


def test_model_cost_of_torchvision_models_matches_their_metadata(random_v3) -> None:
    import torchvision.models as tv

    cost = model_cost(random_v3)
    meta = tv.MobileNet_V3_Small_Weights.IMAGENET1K_V1.meta
    assert cost.macs / 1e9 == pytest.approx(meta["_ops"], abs=0.002)
    bn = sum(p.numel() for m in random_v3.model.modules() if isinstance(m, torch.nn.BatchNorm2d) for p in m.parameters())
    assert cost.params + bn == meta["num_params"]  # the app counts no batch-norm parameters


def test_model_cost_of_the_released_v1(weights_dir: Path, v1_npz: Path) -> None:
    loaded = load_pretrained("mobilenet_v1", weights_dir)
    cost = model_cost(loaded)
    assert cost.input_size == 192
    assert round(cost.macs / 1e6) == 239  # α = 0.75 at 192: FlopCounterMode on the loaded network
    from explainer.classify import counted_cost

    assert cost.macs == counted_cost(loaded.model, 192).macs


def test_reference_latency_is_the_fastest_of_several_runs(random_v3) -> None:
    from explainer.classify import reference_latency_ms

    calls: list[tuple] = []
    model = random_v3.model

    class Counting(torch.nn.Module):
        def forward(self, x):
            calls.append(tuple(x.shape))
            return model(x)

    from dataclasses import replace

    wrapped = replace(random_v3, model=Counting())
    best = reference_latency_ms(wrapped, runs=3)
    assert calls == [(1, 3, 224, 224)] * 4  # one warm-up, three timed
    assert 0 < best < 10_000
