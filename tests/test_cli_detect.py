"""``python -m explainer detect``: JSON fields, boxes in photo pixels, threshold, --save, --lang, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import require_shared, run_cli
from tests.test_images import BAD, Case


@pytest.fixture
def no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("EXPLAINER_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("EXPLAINER_OFFLINE", "1")
    return tmp_path


@pytest.fixture(scope="module")
def detect_dir(weights_dir: Path) -> Path:
    require_shared(weights_dir / "ssd_mobilenet_v1_coco_quant.tflite", "the detector .tflite")
    return weights_dir


def test_bird_json(detect_dir: Path, photos_dir: Path, capsys) -> None:
    bird = photos_dir / "bird.jpg"
    status, out, err = run_cli(capsys, "detect", bird, "--json", "--weights-dir", detect_dir)
    assert status == 0, err
    data = json.loads(out)
    assert set(data) == {"model", "weights", "size", "threshold", "detections", "latency_ms", "save"}
    assert data["model"] == "ssd_mobilenet_v1_coco" and data["size"] == [512, 343] and data["threshold"] == 0.5
    assert [d["label"] for d in data["detections"]] == ["bird"]
    bird_box = data["detections"][0]
    assert bird_box["index"] == 15 and bird_box["score"] >= 0.5
    x0, y0, x1, y1 = bird_box["box"]
    assert x0 <= 80 and 50 <= y0 <= 120 and x1 >= 440 and 290 <= y1 <= 343
    assert data["latency_ms"] > 0 and err == ""


def test_threshold_lang_and_save(detect_dir: Path, photos_dir: Path, tmp_path: Path, capsys) -> None:
    cat = photos_dir / "cat.jpg"
    out_png = tmp_path / "boxed.png"
    status, out, err = run_cli(capsys, "detect", cat, "--json", "--threshold", "0.2", "--save", out_png,
                               "--weights-dir", detect_dir)
    assert status == 0, err
    data = json.loads(out)
    scores = [d["score"] for d in data["detections"]]
    assert len(scores) > 1 and scores == sorted(scores, reverse=True) and min(scores) >= 0.2
    assert data["detections"][0]["label"] == "cat" and data["save"] == str(out_png)
    with Image.open(out_png) as saved:
        assert saved.size == (512, 341) and saved.format == "PNG"
    status, out, err = run_cli(capsys, "detect", cat, "--lang", "zh", "--weights-dir", detect_dir)
    assert status == 0 and "猫" in out and "chair" not in out


@pytest.mark.parametrize("case", BAD[:6], ids=[c.name for c in BAD[:6]])
def test_bad_images_exit_2_with_one_line(case: Case, tmp_path: Path, no_cache, capsys) -> None:
    path = tmp_path / case.name
    path.write_bytes(case.data)
    status, out, err = run_cli(capsys, "detect", path, "--json")
    assert status == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1


def test_offline_without_the_model_files(detect_dir: Path, photos_dir: Path, no_cache, capsys) -> None:
    cat = photos_dir / "cat.jpg"
    status, out, err = run_cli(capsys, "detect", cat)
    assert status == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert "coco_labelmap.txt" in err or "ssd_mobilenet_v1_coco_quant.tflite" in err


@pytest.mark.parametrize("value", ["1.5", "-0.1", "many"])
def test_bad_threshold(value: str, capsys) -> None:
    status, out, err = run_cli(capsys, "detect", "x.jpg", "--threshold", value)
    assert status == 2 and err.startswith("error: ") and err.count("\n") == 1


def test_cannot_save(detect_dir: Path, photos_dir: Path, tmp_path: Path, capsys) -> None:
    cat = photos_dir / "cat.jpg"
    status, out, err = run_cli(capsys, "detect", cat, "--save", tmp_path / "missing" / "x.png",
                               "--weights-dir", detect_dir)
    assert status == 2 and err.startswith("error: ") and "x.png" in err
