"""``python -m explainer quantize``: JSON keys, skipped files listed, bad input → exit 2 and one error line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli

EXPECTED_KEYS = {"model", "scheme", "equalize", "calibration_images", "size_fp32_bytes", "size_int8_bytes",
                 "latency_fp32_ms", "latency_int8_ms"}


def _one_error_line(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err


def test_folder_without_photos_is_exit_2(tmp_path: Path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("not a photo")
    status, out, err = run_cli(capsys, "quantize", "--calibration", tmp_path)
    assert status == 2 and out == ""
    _one_error_line(err)
    assert "No readable photo" in err


def test_missing_folder_and_unknown_scheme_are_exit_2(tmp_path: Path, capsys) -> None:
    status, _, err = run_cli(capsys, "quantize", "--calibration", tmp_path / "nowhere")
    assert status == 2
    _one_error_line(err)
    status, _, err = run_cli(capsys, "quantize", "--scheme", "per-row", "--calibration", tmp_path)
    assert status == 2
    _one_error_line(err)
    assert "per-row" in err


@pytest.mark.slow
def test_json_with_eval_and_skipped_files(tmp_path: Path, capsys, weights_dir: Path, shared_images) -> None:
    photos = sorted(shared_images)
    calibration, evaluation = tmp_path / "cal", tmp_path / "eval"
    (calibration / "nested").mkdir(parents=True)
    evaluation.mkdir()
    shutil.copy(photos[0], calibration / Path(photos[0]).name)
    shutil.copy(photos[1], calibration / "nested" / Path(photos[1]).name)
    (calibration / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    for photo in photos[2:]:
        shutil.copy(photo, evaluation / Path(photo).name)
    out_file = tmp_path / "int8.pt"
    status, out, err = run_cli(capsys, "quantize", "--calibration", calibration, "--eval", evaluation, "--json",
                               "--weights-dir", weights_dir, "--runs", 3, "--out", out_file)
    assert status == 0, err
    data = json.loads(out)
    assert EXPECTED_KEYS <= set(data)
    assert data["model"] == "mobilenet_v2" and data["scheme"] == "per-channel" and data["equalize"] is False
    assert data["calibration_images"] == 2  # every photo under the folder (nested too), the broken file skipped
    assert [s["file"] for s in data["skipped"]] == ["broken.jpg"]
    assert data["size_int8_bytes"] <= 0.30 * data["size_fp32_bytes"]
    assert data["latency_fp32_ms"] > 0 and data["latency_int8_ms"] > 0
    ev = data["eval"]
    assert ev["n"] == len(photos) - 2 and {i["file"] for i in ev["images"]} == {Path(p).name for p in photos[2:]}
    for item in ev["images"]:
        assert item["fp32_top1"] in shared_images[str(next(p for p in photos if p.endswith(item["file"])))]["top5_any"]
        assert len(item["int8_top5"]) == 5
    assert 0.0 <= ev["top1_agreement"] <= ev["fp32_top1_in_int8_top5"] <= 1.0
    assert out_file.is_file() and data["out_bytes"] == out_file.stat().st_size
