"""The catalogue and its one resolution chain: folder → cache → pinned download (a local HTTP mirror here, no
network) with progress and checksum → one clear offline message; and ``python -m explainer fetch``."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from explainer import catalogue
from explainer.catalogue import Asset, locate, require
from explainer.errors import AssetError
from tests.conftest import navigation, run_cli, run_page

pytestmark = pytest.mark.usefixtures("env")

def app_pages() -> list[str]:
    """The file names under pages/ of every page of app.py's menu (its URL path; the default page, Home, is at
    the root, URL path "")."""
    return [slug or "home" for pages in navigation("en").values() for slug in pages]


def _asset_for(path: Path, base: str, **kw) -> Asset:
    data = path.read_bytes()
    return Asset(key="x", filename=path.name, url=f"{base}/{path.name}", sha256=hashlib.sha256(data).hexdigest(),
                 size=len(data), **kw)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(catalogue.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    for name in (catalogue.WEIGHTS_DIR_ENV, catalogue.DATA_DIR_ENV, catalogue.OFFLINE_ENV, catalogue.MIRROR_ENV):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_folder_then_cache_then_download(env: Path, mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    served, base = mirror
    source = served / "model.tflite"
    source.write_bytes(b"tflite bytes" * 10_000)
    asset = _asset_for(source, base)
    assert locate(asset).kind == "download"
    seen: list[tuple[int, int]] = []
    path = require(asset, progress=lambda done, total: seen.append((done, total)))
    assert path == env / "cache" / "model.tflite" and path.read_bytes() == source.read_bytes()
    assert seen[-1] == (120_000, 120_000) and all(a <= b for (a, _), (b, _) in zip(seen, seen[1:]))
    assert not list((env / "cache").glob("*tmp*"))
    assert locate(asset).kind == "cache"
    folder = env / "mine"
    folder.mkdir()
    (folder / "model.tflite").write_bytes(b"user copy")
    monkeypatch.setenv(catalogue.WEIGHTS_DIR_ENV, str(folder))
    where = locate(asset)
    assert where.kind == "folder" and where.describe() == "folder: model.tflite"


def test_offline_message_names_file_and_command_not_paths(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asset = Asset("x", "model.tflite", "https://example.invalid/model.tflite", "0" * 64, 10)
    monkeypatch.setenv(catalogue.OFFLINE_ENV, "1")
    assert locate(asset).kind == "missing"
    with pytest.raises(AssetError) as err:
        require(asset)
    for lang in ("en", "zh"):
        message = err.value.message(lang)
        assert "model.tflite" in message and "python -m explainer fetch x" in message and str(env) not in message


def test_checksum_mismatch_discards_download(env: Path, mirror) -> None:
    served, base = mirror
    (served / "model.tflite").write_bytes(b"abc")
    asset = Asset("x", "model.tflite", f"{base}/model.tflite", hashlib.sha256(b"abd").hexdigest(), 3)
    with pytest.raises(AssetError) as err:
        require(asset)
    assert err.value.key == "assets.bad_download"
    assert list((env / "cache").iterdir()) == []


def test_published_hash_prefix_is_checked(env: Path, mirror) -> None:
    """torchvision publishes only a prefix of the SHA-256 (in the file name): a file without it is discarded."""
    served, base = mirror
    data = b"weights" * 50
    (served / "w.pth").write_bytes(data)
    good = Asset("w", "w.pth", f"{base}/w.pth", hashlib.sha256(data).hexdigest()[:8], 0, kind="weights")
    assert require(good).read_bytes() == data
    (env / "cache" / "w.pth").unlink()
    bad = Asset("w", "w.pth", f"{base}/w.pth", "00000000", 0, kind="weights")
    with pytest.raises(AssetError) as err:
        require(bad)
    assert err.value.key == "assets.bad_download" and not (env / "cache" / "w.pth").exists()


def test_unreachable_server_says_what_to_do(env: Path, mirror) -> None:
    _, base = mirror
    asset = Asset("x", "gone.tflite", f"{base}/gone.tflite", "0" * 64, 1)
    with pytest.raises(AssetError) as err:
        require(asset)
    assert err.value.key == "assets.download_failed" and "404" in err.value.message("en")
    assert "python -m explainer fetch x" in err.value.message("zh")


def test_zip_is_unpacked_once_and_found_in_cache(env: Path, mirror) -> None:
    served, base = mirror
    archive = served / "data.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("data/train/ants/a.jpg", b"1")
        zipped.writestr("data/train/bees/b.jpg", b"2")
    asset = _asset_for(archive, base, unpack=True, unpacked="data", folder_env=catalogue.DATA_DIR_ENV)
    path = require(asset)
    assert path == env / "cache" / "data" and (path / "train" / "bees" / "b.jpg").read_bytes() == b"2"
    assert locate(asset).kind == "cache"


def test_zip_leaving_its_folder_is_refused(env: Path, mirror) -> None:
    served, base = mirror
    archive = served / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../outside.txt", b"x")
    asset = _asset_for(archive, base, unpack=True, unpacked="data")
    with pytest.raises(AssetError) as err:
        require(asset)
    assert err.value.key == "assets.bad_archive"
    assert not (env / "outside.txt").exists()


def test_named_folder_missing_is_an_error(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(catalogue.DATA_DIR_ENV, str(env / "nope"))
    asset = Asset("x", "d.zip", "https://example.invalid/d.zip", "0" * 64, 1, folder_env=catalogue.DATA_DIR_ENV)
    with pytest.raises(AssetError) as err:
        locate(asset)
    assert err.value.key == "assets.no_dir_env"


def test_every_record_is_complete() -> None:
    """Name, URL (or none published), size, SHA-256, licence and pages for every file; kinds and files unique."""
    slugs = set(app_pages()) | {"detect"}  # the detection page: another branch adds it
    for asset in catalogue.CATALOGUE.values():
        assert asset.kind in catalogue.KINDS and asset.pages and set(asset.pages) <= slugs, asset.key
        if asset.downloadable:
            assert asset.url.startswith("https://") and asset.licence and asset.source, asset.key
            assert len(asset.sha256) == 64 or asset.kind == "weights", asset.key
            assert asset.size > 0 or asset.kind == "weights", asset.key
    assert len({a.filename for a in catalogue.CATALOGUE.values()}) == len(catalogue.CATALOGUE)


def test_torchvision_records_are_torchvisions_weights() -> None:
    """The weights records are the files of the registry's torchvision weights, with torchvision's hash prefix."""
    from torchvision import models as tv

    from explainer import registry

    for name in registry.TAUGHT:
        spec = registry.get(name)
        asset = catalogue.get(spec.weights_asset)
        if spec.weights is None:
            assert not asset.downloadable
            continue
        enum_name, member = spec.weights.split(".")
        url = getattr(getattr(tv, enum_name), member).url
        assert asset.url == url and asset.sha256 == Path(url).stem.rsplit("-", 1)[1]


def test_shared_files_match_their_records(weights_dir: Path) -> None:
    """The shared copies of Google's files are byte for byte the pinned ones (size and SHA-256)."""
    for asset in catalogue.CATALOGUE.values():
        if asset.kind in ("tflite", "labels"):
            path = weights_dir / asset.filename
            if path.exists():
                assert catalogue.matches(asset, path), asset.key


# --------------------------------------------------------------------------
# The command line, and the offline image: fetch --all from a mirror, then every page with downloads off
# --------------------------------------------------------------------------


def serve_catalogue(served: Path, shared: Path, datasets: Path) -> None:
    """Lay out, under the published file names, what the mirror can honestly serve from the shared data:
    Google's files byte for byte (the detector and its labels inside a zip, as Google publishes them) and
    the ants/bees photos as hymenoptera_data.zip — never torchvision's weights (not in the shared data)."""
    for asset in catalogue.CATALOGUE.values():
        if asset.kind == "tflite" and not asset.member:
            shutil.copy(shared / asset.filename, served / asset.archive)
    with zipfile.ZipFile(served / "hymenoptera_data.zip", "w") as zipped:  # PyTorch's layout, the shared photos
        for photo in sorted((datasets / "ants_bees" / "train").rglob("*")):
            if photo.is_file():
                zipped.write(photo, f"hymenoptera_data/train/{photo.relative_to(datasets / 'ants_bees' / 'train')}")
    with zipfile.ZipFile(served / catalogue.get("ssd_mobilenet_v1_coco_quant").archive, "w") as zipped:
        for key in ("ssd_mobilenet_v1_coco_quant", "coco_labelmap"):
            asset = catalogue.get(key)
            zipped.write(shared / asset.filename, f"coco_ssd/{asset.member}")


def test_fetch_status_lists_every_record(weights_dir: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv(catalogue.OFFLINE_ENV, "1")
    status, out, _ = run_cli(capsys, "fetch", "--status", "--json", "--weights-dir", weights_dir)
    data = json.loads(out)
    assert status == 0
    rows = {row["name"]: row for row in data["files"]}
    assert set(rows) == set(catalogue.CATALOGUE) and data["offline"] is True
    assert rows["mobilenet_v2"]["source"] == "folder" and rows["mobilenet_v2"]["path"].endswith("mobilenet_v2.pth")
    assert rows["mobilenet_v1"]["source"] == "folder" and rows["mobilenet_v1"]["path"].endswith(".npz")
    assert rows["mobilenet_v3_small"]["source"] == "missing"
    assert rows["ssd_mobilenet_v1_coco_quant"]["sha256"].startswith("e4b118e5") and rows["coco_labelmap"]["size"] == 665
    status, out, _ = run_cli(capsys, "weights", "status", "--weights-dir", weights_dir)  # the older spelling
    assert status == 0 and out == run_cli(capsys, "fetch", "--status", "--weights-dir", weights_dir)[1]
    assert "python -m explainer fetch mobilenet_v3_small" in out


def test_fetch_unknown_name_is_one_error_line(capsys) -> None:
    status, out, err = run_cli(capsys, "fetch", "resnet")
    assert status == 2 and out == "" and err.startswith("error: ") and "\n" not in err.strip()


def test_fetch_all_to_folder_then_every_page_offline(weights_dir: Path, datasets_dir: Path, mirror, capsys,
                                                     monkeypatch) -> None:
    """The Docker image's steps: ``fetch --all --to DIR`` (here from a local mirror), then the app with
    ``EXPLAINER_OFFLINE=1`` and DIR as its cache: every page renders, none says a file is missing.

    torchvision's weights cannot be served (the shared mobilenet_v2.pth is a conversion, not torchvision's file):
    the weights come from the folder step (EXPLAINER_WEIGHTS_DIR, the shared V2 and V1 files), and fetch reports
    exactly the two V3 files as not downloadable from this mirror."""
    served, base = mirror
    own = served.parent / "own"  # a weights folder with only the classify models (not Google's files)
    own.mkdir()
    shutil.copy(weights_dir / "mobilenet_v2.pth", own)
    shutil.copy(weights_dir / "mobilenet_v1_0.75_192_imagenet.npz", own)
    serve_catalogue(served, weights_dir, datasets_dir)
    target = served.parent / "baked"
    monkeypatch.setenv(catalogue.MIRROR_ENV, base)
    monkeypatch.setenv(catalogue.WEIGHTS_DIR_ENV, str(own))
    monkeypatch.delenv(catalogue.DATA_DIR_ENV, raising=False)
    data_zip = catalogue.get("hymenoptera_data")
    monkeypatch.setitem(catalogue.CATALOGUE, "hymenoptera_data", _repinned(data_zip, served / "hymenoptera_data.zip"))
    status, out, err = run_cli(capsys, "fetch", "--all", "--to", target)
    assert status == 2  # the two V3 files: the mirror does not have torchvision's files
    assert sorted(line.split(" from ")[0] for line in err.splitlines() if line.startswith("error:")) == [
        "error: Could not download mobilenet_v3_large-5c1a4163.pth",
        "error: Could not download mobilenet_v3_small-047dcff4.pth"]
    for key in ("deeplabv3_mnv2_pascal_quant", "deeplabv3_mnv2_dm05_pascal_quant", "mobilenet_v2_1.0_224_quant",
                "ssd_mobilenet_v1_coco_quant", "coco_labelmap"):
        asset = catalogue.get(key)
        assert catalogue.matches(asset, target / asset.filename), key
    assert (target / "hymenoptera_data" / "train" / "ants").is_dir()
    assert "mobilenet_v2: in the folder" in out
    # The image: downloads off, DIR as the cache, no data folder.
    monkeypatch.setenv(catalogue.OFFLINE_ENV, "1")
    monkeypatch.setenv(catalogue.CACHE_ENV, str(target))
    monkeypatch.delenv(catalogue.MIRROR_ENV)
    render_every_page()


def _repinned(asset: Asset, path: Path) -> Asset:
    """``asset`` pinned to the test's own zip (rebuilt from the shared photos, so its bytes differ from PyTorch's)."""
    from dataclasses import replace

    return replace(asset, sha256=catalogue.sha256_of(path), size=path.stat().st_size)


#: What a page says when a file is missing or a model untrained (the start of each message, English).
MISSING_TEXTS = ("is not on this server", "Could not download", "Nobody publishes", "Untrained")


def render_every_page() -> None:
    """Every page of the app (AppTest), in English: no exception, no error, no "missing" message; the pages that
    use catalogue files show what they made with them (masks, Google's int8 model, the demo set)."""
    from explainer.i18n import t
    from tests.test_pages_basic import all_text

    for slug in app_pages():
        at = run_page(f"pages/{slug}.py", "en", timeout=300)
        if slug == "transfer":
            at.button(key="tl_demo").click().run()
        assert not at.exception, (slug, at.exception)
        assert not at.error, (slug, [e.value for e in at.error])
        # Home's "Server status (for the lecturer)" lists every file, the missing ones too: that is for the lecturer,
        # and it names exactly the files the catalogue cannot find. Students see no "missing" message anywhere.
        lecturer: list[str] = []
        if slug == "home":
            status = [e for e in at.expander if t("setup.status_title", "en") in e.label]
            assert len(status) == 1
            lecturer = all_text(status[0])
            missing = sorted(row.asset.filename for row in catalogue.status() if row.kind == "missing")
            named = sorted(f for f in (a.filename for a in catalogue.CATALOGUE.values())
                           if any(f.replace("_", "\\_") in text and "is not on this server" in text for text in lecturer))
            assert named == missing, (named, missing)
        shown = [text for text in all_text(at) if any(m in text for m in MISSING_TEXTS) and text not in lecturer]
        assert shown == [], (slug, shown)
        if slug == "segment":
            assert len(at.get("plotly_chart")) >= 2  # both segmenters' class shares
        if slug == "transfer":
            assert t("transfer.demo_class_ants", "en") in " ".join(all_text(at))


def test_dockerfile_runs_the_tested_steps() -> None:
    """The image does what test_fetch_all_to_folder_then_every_page_offline checks: fetch --all into the folder
    the app then uses as its cache, and downloads off at run time."""
    import re

    text = (Path(__file__).resolve().parent.parent / "Dockerfile").read_text()
    cache = re.search(r"EXPLAINER_CACHE_DIR=(\S+)", text)
    assert cache is not None
    assert re.search(r'RUN python -m explainer fetch --all --to "\$EXPLAINER_CACHE_DIR"', text)
    assert text.index("fetch --all") < text.index("ENV EXPLAINER_OFFLINE=1")
