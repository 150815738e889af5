"""``python -m explainer features``: JSON against the architecture tables, PNG grids, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from explainer.architectures import build_network
from explainer.cli import main

ROOT = Path(__file__).resolve().parent.parent



@pytest.fixture(scope="module")
def cat(shared_images) -> str:
    return next(p for p in shared_images if p.endswith("cat.jpg"))


def test_json_matches_the_table_and_shows_sparsity(weights_dir: Path, cat: str, capsys) -> None:
    assert main(["features", cat, "--json", "--weights-dir", str(weights_dir)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, list) and len(data) == 62  # 52 layers without the classifier + 10 residual sums
    for entry in data:
        assert {"block", "stage", "shape", "zero_fraction", "mean", "max"} <= set(entry)
    layers = [l for l in build_network("mobilenet_v2").layers if l.stage != "classifier"]
    shapes = [e["shape"] for e in data if e["stage"] != "residual"]
    assert shapes == [[l.output[2], l.output[0], l.output[1]] for l in layers]
    relu = [e for e in data if e["stage"] in ("stem", "expand", "depthwise", "head")]
    assert all(0.05 < e["zero_fraction"] < 1 and 0 < e["mean"] < e["max"] <= 6.0 for e in relu)
    assert all(e["zero_fraction"] < 0.01 for e in data if e["stage"] in ("project", "residual"))
    assert data[0] == {**data[0], "block": 0, "stage": "stem", "shape": [32, 112, 112]}
    assert data[-1]["stage"] == "head" and data[-1]["shape"] == [1280, 7, 7]


def test_save_dir_writes_one_png_per_block(weights_dir: Path, cat: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "grids"
    assert main(["features", cat, "--weights-dir", str(weights_dir), "--save-dir", str(out), "--k", "8"]) == 0
    captured = capsys.readouterr()
    files = sorted(p.name for p in out.iterdir())
    assert files == ["block_00_stem.png"] + [f"block_{b:02d}.png" for b in range(1, 18)] + ["block_18_head.png"]
    with Image.open(out / "block_03.png") as image:
        image.verify()
    with Image.open(out / "block_03.png") as image:
        # 4 stages (expand, depthwise, project, residual), each a 16-pixel title and one row of 8 tiles of 56
        assert image.format == "PNG" and image.width >= 8 * 56 and image.height >= 4 * (16 + 56)
    assert "residual" in captured.out and "56×56×144" in captured.out
    assert captured.err.count("wrote ") == 19


def test_v1_untrained_runs_with_the_flag(offline: Path, cat: str, capsys) -> None:
    assert main(["features", cat, "--model", "mobilenet_v1", "--untrained", "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert [e["stage"] for e in data] == ["stem"] + ["depthwise", "pointwise"] * 13
    assert "untrained" in captured.err


def _in_process(capsys, *argv: str) -> subprocess.CompletedProcess:
    """``main(argv)`` in this process, as a finished process: exit status, captured stdout and stderr."""
    from tests.conftest import run_cli

    status, out, err = run_cli(capsys, *argv)
    return subprocess.CompletedProcess(["python", "-m", "explainer", *argv], status, out, err)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "explainer", "features", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_errors_are_one_line_exit_2(tmp_path: Path, offline: Path, cat: str, capsys) -> None:
    fake = tmp_path / "notes.jpg"
    fake.write_text("not a photo")
    env = {"TORCH_HOME": str(offline / "torch_home"), "EXPLAINER_OFFLINE": "1"}
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    cases = [
        ((str(fake),), "notes.jpg"),
        ((str(tmp_path / "missing.png"),), "missing.png"),
        ((cat, "--k", "0"), "k"),
        ((cat, "--model", "mobilenet_v1"), "mobilenet_v1"),  # no weights, no --untrained
        ((cat, "--untrained", "--model", "mobilenet_v3_small", "--save-dir", str(blocker / "sub")), "a_file"),
    ]
    for number, (args, needle) in enumerate(cases):
        # The first case through the real entry point (a new process, `python -m explainer`); the others call
        # the same main() in this process (the `offline` fixture set the same environment), sparing a torch import
        # each: an exception that escapes main() fails the test as a traceback would.
        result = _cli(*args, env=env) if number == 0 else _in_process(capsys, "features", *args)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        errors = [l for l in lines if l.startswith("error: ")]
        assert len(errors) == 1 and needle in errors[0], (args, result.stderr)
        assert "Traceback" not in result.stderr
