"""``python -m explainer segment``: JSON fields, the saved mask, bad photos, missing model file or LiteRT."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explainer.images import load_image
from tests.conftest import run_cli
from tests.test_images import BAD, Case


@pytest.fixture
def no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty app cache, no weights folder, downloads switched off."""
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("EXPLAINER_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("EXPLAINER_OFFLINE", "1")
    return tmp_path


def _photo(weights_dir: Path, name: str) -> Path:
    path = weights_dir.parent / "images" / name
    if not path.is_file():
        pytest.skip(f"shared photo {name} not found")
    return path


def test_cat_json(weights_dir: Path, capsys) -> None:
    cat = _photo(weights_dir, "cat.jpg")
    status, out, err = run_cli(capsys, "segment", cat, "--json", "--weights-dir", weights_dir)
    assert status == 0, err
    data = json.loads(out)
    assert set(data) == {"model", "weights", "size", "classes", "latency_ms", "save"}
    assert data["model"] == "deeplabv3_mobilenet_v2" and data["save"] is None
    assert data["weights"] == f"folder:{weights_dir / 'deeplabv3_mnv2_pascal_quant.tflite'}"
    assert data["size"] == [512, 341] and data["latency_ms"] > 0
    classes = data["classes"]
    assert {c["label"] for c in classes} >= {"background", "cat"}
    assert next(c for c in classes if c["index"] != 0)["label"] == "cat"
    fractions = [c["fraction"] for c in classes]
    assert fractions == sorted(fractions, reverse=True) and abs(sum(fractions) - 1) < 1e-9
    assert all(set(c) == {"label", "index", "fraction"} for c in classes)


def test_dm05_saves_an_aligned_mask(weights_dir: Path, tmp_path: Path, capsys) -> None:
    from explainer.segment.deeplab import load_segmenter, segment_image

    bird = _photo(weights_dir, "bird.jpg")
    target = tmp_path / "mask.png"
    status, out, err = run_cli(capsys, "segment", bird, "--model", "deeplabv3_mobilenet_v2_dm05", "--save", target,
                               "--weights-dir", weights_dir)
    assert status == 0, err
    assert "bird" in out and "invoke" in out and str(target) in out
    saved = np.asarray(Image.open(target))
    image = load_image(bird)
    assert saved.shape == (image.height, image.width)
    expected = segment_image(image, load_segmenter("deeplabv3_mobilenet_v2_dm05", weights_dir, download=False))
    assert np.array_equal(saved, expected.mask)
    assert 3 in np.unique(saved)  # bird


@pytest.mark.parametrize("case", BAD[:6], ids=[c.name for c in BAD[:6]])
def test_bad_images_exit_2_with_one_line(case: Case, tmp_path: Path, no_cache, capsys) -> None:
    path = tmp_path / case.name
    path.write_bytes(case.data)
    status, out, err = run_cli(capsys, "segment", path, "--json")
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and case.name in lines[0]


def test_offline_without_the_model_file(weights_dir: Path, no_cache, capsys) -> None:
    status, out, err = run_cli(capsys, "segment", _photo(weights_dir, "cat.jpg"))
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert "deeplabv3_mnv2_pascal_quant.tflite" in err and "EXPLAINER_WEIGHTS_DIR" in err


def test_without_litert(weights_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    status, out, err = run_cli(capsys, "segment", _photo(weights_dir, "cat.jpg"), "--weights-dir", weights_dir)
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1 and "ai-edge-litert" in err


def test_cannot_save(weights_dir: Path, tmp_path: Path, capsys) -> None:
    status, out, err = run_cli(capsys, "segment", _photo(weights_dir, "cat.jpg"), "--weights-dir", weights_dir,
                               "--save", tmp_path / "missing" / "mask.png")
    assert status == 2 and len(err.strip().splitlines()) == 1 and "mask.png" in err


def test_unknown_model(weights_dir: Path, capsys) -> None:
    status, _, err = run_cli(capsys, "segment", _photo(weights_dir, "cat.jpg"), "--model", "deeplabv3_resnet50")
    assert status == 2 and err.startswith("error: ")


def test_subprocess_stderr_is_one_line(weights_dir: Path, tmp_path: Path) -> None:
    """The real entry point: LiteRT's native INFO line does not reach stderr; an error is one line, exit 2."""
    import subprocess

    from tests.conftest import ROOT

    cat = _photo(weights_dir, "cat.jpg")
    argv = [sys.executable, "-m", "explainer", "segment", str(cat), "--weights-dir", str(weights_dir)]
    ok = subprocess.run([*argv, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and ok.stderr == "" and json.loads(ok.stdout)["classes"]
    bad = subprocess.run([*argv, "--save", str(tmp_path / "no" / "m.png")], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and bad.stderr.startswith("error: ")
