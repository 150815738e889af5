"""Weights resolution (folder → cache → download → offline message, through the catalogue), safe loading, checks."""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from explainer import catalogue, registry
from explainer import weights as W
from explainer.errors import AssetError, WeightsError
from explainer.models import build_model


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty caches (ours and torchvision's), no weights folder, downloads allowed but from a mirror that refuses
    every connection (no network use in tests)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv(catalogue.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(catalogue.MIRROR_ENV, "http://127.0.0.1:9")  # the discard port: connection refused
    monkeypatch.delenv(W.WEIGHTS_DIR_ENV, raising=False)
    monkeypatch.delenv(W.OFFLINE_ENV, raising=False)
    return tmp_path


@pytest.fixture(scope="module")
def small_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    return build_model("mobilenet_v3_small").state_dict()


def test_order_folder_then_cache_then_download_then_offline(isolated: Path, small_state, monkeypatch) -> None:
    name = "mobilenet_v3_small"
    published = catalogue.get(name)
    # c: nothing anywhere, downloads allowed -> download of the pinned file into the cache
    where = W.resolve(name)
    assert published.url.startswith("https://download.pytorch.org/models/")
    assert where.kind == "download" and where.url == "http://127.0.0.1:9/mobilenet_v3_small-047dcff4.pth"
    assert where.path == isolated / "cache" / "mobilenet_v3_small-047dcff4.pth"
    # d: offline -> untrained, with the message naming the command and the file
    monkeypatch.setenv(W.OFFLINE_ENV, "1")
    where = W.resolve(name)
    assert where.kind == "untrained" and not where.pretrained
    message = where.problem.message("en")
    assert "python -m explainer fetch mobilenet_v3_small" in message and "mobilenet_v3_small-047dcff4.pth" in message
    assert "\n" not in message and "mobilenet_v3_small" in where.problem.message("zh")
    # b: the file in torchvision's cache (another program downloaded it), then in ours
    cached = catalogue.torch_cache() / published.filename
    cached.parent.mkdir(parents=True)
    torch.save(small_state, cached)
    assert W.resolve(name).kind == "cache" and W.resolve(name).path == cached
    ours = isolated / "cache" / published.filename
    ours.parent.mkdir(parents=True)
    torch.save(small_state, ours)
    assert W.resolve(name).path == ours
    # a: a weights folder (env var, or the explicit argument) wins over the cache
    folder = isolated / "weights"
    folder.mkdir()
    torch.save(small_state, folder / f"{name}.pth")
    monkeypatch.setenv(W.WEIGHTS_DIR_ENV, str(folder))
    assert W.resolve(name).kind == "file"
    monkeypatch.delenv(W.WEIGHTS_DIR_ENV)
    assert W.resolve(name, folder).path == folder / f"{name}.pth"
    assert W.resolve(name).kind == "cache"


def test_loaded_from_cache_uses_the_torchvision_transform(isolated: Path, small_state) -> None:
    import torchvision.models as tv

    cached = isolated / "cache" / catalogue.get("mobilenet_v3_small").filename
    cached.parent.mkdir(parents=True)
    torch.save(small_state, cached)
    loaded = W.load_pretrained("mobilenet_v3_small")
    assert loaded.kind == "cache" and loaded.pretrained and loaded.weights_id == "IMAGENET1K_V1"
    assert not loaded.model.training
    assert torch.equal(loaded.model.state_dict()["classifier.3.bias"], small_state["classifier.3.bias"])
    reference = tv.MobileNet_V3_Small_Weights.IMAGENET1K_V1
    assert loaded.categories == list(reference.meta["categories"]) and len(loaded.categories) == 1000
    assert list(loaded.transform.resize_size) == [256] and list(loaded.transform.crop_size) == [224]


def test_published_file_in_a_folder_keeps_its_own_preprocessing(isolated: Path) -> None:
    """torchvision's file under its published name in the weights folder is torchvision's IMAGENET1K_V2 (232),
    a user's own mobilenet_v2.pth is preprocessed as IMAGENET1K_V1 (256)."""
    folder = isolated / "weights"
    folder.mkdir()
    torch.save(build_model("mobilenet_v2").state_dict(), folder / catalogue.get("mobilenet_v2").filename)
    loaded = W.load_pretrained("mobilenet_v2", folder)
    assert loaded.kind == "file" and loaded.weights_id == "IMAGENET1K_V2"
    assert list(loaded.transform.resize_size) == [232]


def test_v2_defaults_to_imagenet1k_v2_and_its_232_resize(isolated: Path) -> None:
    where = W.resolve("mobilenet_v2")
    assert where.weights_id == "IMAGENET1K_V2" and "7ebf99e0" in where.url
    assert list(W._transform(registry.get("mobilenet_v2").weights).resize_size) == [232]


def test_offline_raises_or_falls_back(isolated: Path, monkeypatch) -> None:
    monkeypatch.setenv(W.OFFLINE_ENV, "1")
    with pytest.raises(AssetError) as info:
        W.load_pretrained("mobilenet_v2")
    assert info.value.key == "assets.offline"
    loaded = W.load_pretrained("mobilenet_v2", fallback=True)
    assert not loaded.pretrained and loaded.kind == "untrained" and loaded.problem.key == "assets.offline"
    assert loaded.weights == "untrained"


def test_failed_download_says_what_to_do(isolated: Path) -> None:
    with pytest.raises(AssetError) as info:
        W.load_pretrained("mobilenet_v3_large")
    err = info.value
    assert err.key == "assets.download_failed"
    assert "127.0.0.1:9" in err.message("en")
    assert "python -m explainer fetch mobilenet_v3_large" in err.message("zh")
    assert W.load_pretrained("mobilenet_v3_large", fallback=True).problem.key == "assets.download_failed"


def _served_as(monkeypatch, base: str, data: bytes, prefix: str) -> str:
    """Re-pin the V3-Small record to a file the test mirror serves, under torchvision's naming (hash prefix)."""
    filename = f"mobilenet_v3_small-{prefix}.pth"
    record = replace(catalogue.get("mobilenet_v3_small"), filename=filename, url=f"{base}/{filename}", sha256=prefix)
    monkeypatch.setitem(catalogue.CATALOGUE, "mobilenet_v3_small", record)
    monkeypatch.delenv(catalogue.MIRROR_ENV)
    return filename


def test_fetch_downloads_with_progress_and_checks_the_hash(isolated: Path, small_state, monkeypatch, mirror) -> None:
    served, base = mirror
    buffer = io.BytesIO()
    torch.save(small_state, buffer)
    data = buffer.getvalue()
    filename = _served_as(monkeypatch, base, data, hashlib.sha256(data).hexdigest()[:8])
    (served / filename).write_bytes(data)
    calls: list[tuple[int, int]] = []
    path = W.fetch("mobilenet_v3_small", lambda done, total: calls.append((done, total)))
    assert path.read_bytes() == data and path.name == filename
    assert calls[-1][0] == len(data) and all(a <= b for (a, _), (b, _) in zip(calls, calls[1:]))
    assert [p.name for p in path.parent.iterdir()] == [filename]
    assert W.load_pretrained("mobilenet_v3_small").kind == "cache"


def test_fetch_discards_a_file_with_the_wrong_hash(isolated: Path, monkeypatch, mirror) -> None:
    served, base = mirror
    filename = _served_as(monkeypatch, base, b"", "00000000")
    (served / filename).write_bytes(b"tampered" * 100)
    with pytest.raises(AssetError) as info:
        W.fetch("mobilenet_v3_small")
    assert info.value.key == "assets.bad_download"
    assert not any((isolated / "cache").iterdir())


def _write(folder: Path, name: str, payload) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.pth"
    if isinstance(payload, bytes):
        path.write_bytes(payload)
    else:
        torch.save(payload, path)
    return path


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize(
    "case,key",
    [
        ("garbage", "weights.corrupt"),
        ("empty", "weights.corrupt"),
        ("pickle_code", "weights.corrupt"),
        ("not_a_dict", "weights.not_state_dict"),
        ("other_model", "weights.mismatch"),
        ("wrong_shape", "weights.mismatch"),
        ("nan", "weights.not_finite"),
    ],
)
def test_bad_weight_files_are_named(case: str, key: str, isolated: Path, small_state) -> None:
    folder = isolated / "weights"
    name = "mobilenet_v3_small"
    if case == "garbage":
        path = _write(folder, name, b"\x00\x01this is not a checkpoint" * 10)
    elif case == "empty":
        path = _write(folder, name, b"")
    elif case == "pickle_code":
        path = _write(folder, name, {"x": _Evil()})  # torch.save pickles the os.system call
    elif case == "not_a_dict":
        path = _write(folder, name, torch.zeros(3))
    elif case == "other_model":
        path = _write(folder, name, build_model("mobilenet_v2").state_dict())
    elif case == "wrong_shape":
        state = dict(small_state)
        state["classifier.3.weight"] = torch.zeros(10, 1024)
        path = _write(folder, name, state)
    else:
        state = dict(small_state)
        state["classifier.3.bias"] = torch.full((1000,), float("nan"))
        path = _write(folder, name, state)
    with pytest.raises(WeightsError) as info:
        W.load_pretrained(name, folder)
    assert info.value.key == key
    for lang in ("en", "zh"):
        assert str(path) in info.value.message(lang) and "\n" not in info.value.message(lang)


def test_wrong_shape_detail_names_the_layer(isolated: Path, small_state) -> None:
    state = dict(small_state)
    state["classifier.3.weight"] = torch.zeros(10, 1024)
    path = _write(isolated / "weights", "mobilenet_v3_small", state)
    with pytest.raises(WeightsError, match=re.escape("classifier.3.weight [10, 1024]≠[1000, 1024]")):
        W.load_pretrained("mobilenet_v3_small", path.parent)


def test_missing_weights_folder_is_an_error(isolated: Path, monkeypatch) -> None:
    with pytest.raises(AssetError) as info:
        W.resolve("mobilenet_v2", isolated / "typo")
    assert info.value.key == "assets.no_dir"
    monkeypatch.setenv(W.WEIGHTS_DIR_ENV, str(isolated / "typo"))
    with pytest.raises(AssetError) as info:
        W.resolve("mobilenet_v2")
    assert info.value.key == "assets.no_dir_env"


def test_v1_has_no_torchvision_weights(isolated: Path) -> None:
    where = W.resolve("mobilenet_v1")
    assert where.kind == "untrained" and where.problem.key == "weights.v1_untrained"
    loaded = W.load_pretrained("mobilenet_v1", fallback=True)
    assert not loaded.pretrained and loaded.width == 1.0
    assert [r.name for r in W.status()] == ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"]


def test_every_torch_load_in_the_core_is_weights_only() -> None:
    root = Path(__file__).resolve().parent.parent
    for path in list((root / "explainer").rglob("*.py")) + list((root / "pages").rglob("*.py")):
        for call in re.findall(r"torch\.load\([^)]*\)", path.read_text()):
            assert "weights_only=True" in call, f"{path}: {call}"


def test_real_v2_file_loads_with_imagenet1k_v1_transform(weights_dir: Path) -> None:
    loaded = W.load_pretrained("mobilenet_v2", weights_dir)
    assert loaded.kind == "file" and loaded.pretrained and loaded.source == str(weights_dir / "mobilenet_v2.pth")
    assert list(loaded.transform.resize_size) == [256] and list(loaded.transform.crop_size) == [224]
    assert loaded.weights == f"file:{weights_dir / 'mobilenet_v2.pth'}"
