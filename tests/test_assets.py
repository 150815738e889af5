"""The asset resolution chain: folder → cache → pinned download (file:// here, no network) → clear error."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from explainer import assets
from explainer.assets import Asset, locate, require
from explainer.errors import AssetError


def _asset_for(path: Path, **kw) -> Asset:
    data = path.read_bytes()
    return Asset(key="x", filename=path.name, url=path.resolve().as_uri(), sha256=hashlib.sha256(data).hexdigest(),
                 size=len(data), **kw)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(assets.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(assets.WEIGHTS_DIR_ENV, raising=False)
    monkeypatch.delenv(assets.DATA_DIR_ENV, raising=False)
    monkeypatch.delenv(assets.OFFLINE_ENV, raising=False)
    return tmp_path


def test_folder_then_cache_then_download(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = env / "published" / "model.tflite"
    source.parent.mkdir()
    source.write_bytes(b"tflite bytes" * 100)
    asset = _asset_for(source)
    assert locate(asset).kind == "download"
    seen: list[tuple[int, int]] = []
    path = require(asset, progress=lambda done, total: seen.append((done, total)))
    assert path == env / "cache" / "model.tflite" and path.read_bytes() == source.read_bytes()
    assert seen[-1] == (1200, 1200)
    assert locate(asset).kind == "cache"
    folder = env / "mine"
    folder.mkdir()
    (folder / "model.tflite").write_bytes(b"user copy")
    monkeypatch.setenv(assets.WEIGHTS_DIR_ENV, str(folder))
    where = locate(asset)
    assert where.kind == "folder" and where.describe() == "folder: model.tflite"


def test_offline_message_names_file_not_paths(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asset = Asset("x", "model.tflite", "https://example.invalid/model.tflite", "0" * 64, 10)
    monkeypatch.setenv(assets.OFFLINE_ENV, "1")
    assert locate(asset).kind == "missing"
    with pytest.raises(AssetError) as err:
        require(asset)
    message = err.value.message("zh")
    assert "model.tflite" in message and str(env) not in message


def test_checksum_mismatch_discards_download(env: Path) -> None:
    source = env / "model.tflite"
    source.write_bytes(b"abc")
    asset = Asset("x", "model.tflite", source.as_uri(), hashlib.sha256(b"abd").hexdigest(), 3)
    with pytest.raises(AssetError) as err:
        require(asset)
    assert err.value.key == "assets.bad_download"
    assert list((env / "cache").iterdir()) == []


def test_zip_is_unpacked_once_and_found_in_cache(env: Path) -> None:
    archive = env / "data.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("data/train/ants/a.jpg", b"1")
        zipped.writestr("data/train/bees/b.jpg", b"2")
    asset = _asset_for(archive, unpack=True, unpacked="data", folder_env=assets.DATA_DIR_ENV)
    path = require(asset)
    assert path == env / "cache" / "data" and (path / "train" / "bees" / "b.jpg").read_bytes() == b"2"
    assert locate(asset).kind == "cache"


def test_zip_leaving_its_folder_is_refused(env: Path) -> None:
    archive = env / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../outside.txt", b"x")
    asset = _asset_for(archive, unpack=True, unpacked="data")
    with pytest.raises(AssetError) as err:
        require(asset)
    assert err.value.key == "assets.bad_archive"
    assert not (env / "outside.txt").exists()


def test_named_folder_missing_is_an_error(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(assets.DATA_DIR_ENV, str(env / "nope"))
    asset = Asset("x", "d.zip", "https://example.invalid/d.zip", "0" * 64, 1, folder_env=assets.DATA_DIR_ENV)
    with pytest.raises(AssetError) as err:
        locate(asset)
    assert err.value.key == "assets.no_dir_env"
