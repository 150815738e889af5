"""Weights resolution (folder → torchvision cache → download → offline message), safe loading, checks."""

from __future__ import annotations

import hashlib
import io
import os
import re
import urllib.error
from pathlib import Path

import pytest
import torch

from explainer import weights as W
from explainer.errors import WeightsError
from explainer.models import build_model


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty TORCH_HOME, no weights folder, downloads allowed but any network use fails loudly."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.delenv(W.WEIGHTS_DIR_ENV, raising=False)
    monkeypatch.delenv(W.OFFLINE_ENV, raising=False)

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(W.urllib.request, "urlopen", no_network)
    return tmp_path


@pytest.fixture(scope="module")
def small_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    return build_model("mobilenet_v3_small").state_dict()


def test_order_folder_then_cache_then_download_then_offline(isolated: Path, small_state, monkeypatch) -> None:
    name = "mobilenet_v3_small"
    # c: nothing anywhere, downloads allowed -> download from torchvision's URL into its cache
    where = W.resolve(name)
    assert where.kind == "download" and where.url.startswith("https://download.pytorch.org/models/")
    assert where.path == isolated / "torch_home" / "hub" / "checkpoints" / os.path.basename(where.url)
    # d: offline -> untrained, with the message naming the command, the file and the cache path
    monkeypatch.setenv(W.OFFLINE_ENV, "1")
    where = W.resolve(name)
    assert where.kind == "untrained" and not where.pretrained
    message = where.problem.message("en")
    assert "python -m explainer weights fetch --model mobilenet_v3_small" in message
    assert "mobilenet_v3_small.pth" in message and str(where.problem.params["cache"]) in message
    assert "\n" not in message and "mobilenet_v3_small" in where.problem.message("zh")
    # b: the file in torchvision's cache
    cached = W.cache_file(name)
    cached.parent.mkdir(parents=True)
    torch.save(small_state, cached)
    assert W.resolve(name).kind == "cache"
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

    cached = W.cache_file("mobilenet_v3_small")
    cached.parent.mkdir(parents=True)
    torch.save(small_state, cached)
    loaded = W.load_pretrained("mobilenet_v3_small")
    assert loaded.kind == "cache" and loaded.pretrained and loaded.weights_id == "IMAGENET1K_V1"
    assert not loaded.model.training
    assert torch.equal(loaded.model.state_dict()["classifier.3.bias"], small_state["classifier.3.bias"])
    reference = tv.MobileNet_V3_Small_Weights.IMAGENET1K_V1
    assert loaded.categories == list(reference.meta["categories"]) and len(loaded.categories) == 1000
    assert list(loaded.transform.resize_size) == [256] and list(loaded.transform.crop_size) == [224]


def test_v2_defaults_to_imagenet1k_v2_and_its_232_resize(isolated: Path) -> None:
    where = W.resolve("mobilenet_v2")
    assert where.weights_id == "IMAGENET1K_V2" and "7ebf99e0" in where.url
    assert list(W._transform(W.TORCHVISION_WEIGHTS["mobilenet_v2"]).resize_size) == [232]


def test_offline_raises_or_falls_back(isolated: Path, monkeypatch) -> None:
    monkeypatch.setenv(W.OFFLINE_ENV, "1")
    with pytest.raises(WeightsError) as info:
        W.load_pretrained("mobilenet_v2")
    assert info.value.key == "weights.offline"
    loaded = W.load_pretrained("mobilenet_v2", fallback=True)
    assert not loaded.pretrained and loaded.kind == "untrained" and loaded.problem.key == "weights.offline"
    assert loaded.weights == "untrained"


def test_failed_download_says_what_to_do(isolated: Path) -> None:
    with pytest.raises(WeightsError) as info:
        W.load_pretrained("mobilenet_v3_large")
    err = info.value
    assert err.key == "weights.download_failed"
    assert "network disabled in tests" in err.message("en")
    assert "weights fetch --model mobilenet_v3_large" in err.message("zh")
    assert W.load_pretrained("mobilenet_v3_large", fallback=True).problem.key == "weights.download_failed"


class _FakeResponse(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _fake_member(url: str):
    class Member:
        pass

    member = Member()
    member.url = url
    return member


def test_fetch_downloads_with_progress_and_checks_the_hash(isolated: Path, small_state, monkeypatch) -> None:
    buffer = io.BytesIO()
    torch.save(small_state, buffer)
    data = buffer.getvalue()
    prefix = hashlib.sha256(data).hexdigest()[:8]
    monkeypatch.setattr(W, "_weights_enum", lambda q: _fake_member(f"https://example.invalid/mobilenet_v3_small-{prefix}.pth"))
    monkeypatch.setattr(W.urllib.request, "urlopen", lambda *a, **k: _FakeResponse(data))
    calls: list[tuple[int, int]] = []
    path = W.fetch("mobilenet_v3_small", lambda done, total: calls.append((done, total)))
    assert path.read_bytes() == data and path.name == f"mobilenet_v3_small-{prefix}.pth"
    assert calls[-1] == (len(data), len(data)) and all(a <= b for (a, _), (b, _) in zip(calls, calls[1:]))
    assert not list(path.parent.glob("*.partial"))


def test_fetch_discards_a_file_with_the_wrong_hash(isolated: Path, monkeypatch) -> None:
    monkeypatch.setattr(W, "_weights_enum", lambda q: _fake_member("https://example.invalid/mobilenet_v3_small-00000000.pth"))
    monkeypatch.setattr(W.urllib.request, "urlopen", lambda *a, **k: _FakeResponse(b"tampered" * 100))
    with pytest.raises(WeightsError) as info:
        W.fetch("mobilenet_v3_small")
    assert info.value.key == "weights.bad_download"
    assert not any(W.cache_dir().iterdir())


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
    with pytest.raises(WeightsError) as info:
        W.resolve("mobilenet_v2", isolated / "typo")
    assert info.value.key == "weights.no_dir"
    monkeypatch.setenv(W.WEIGHTS_DIR_ENV, str(isolated / "typo"))
    with pytest.raises(WeightsError) as info:
        W.resolve("mobilenet_v2")
    assert info.value.key == "weights.no_dir_env"


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
