"""``python -m explainer classify`` and ``weights``: JSON output, the bad-file corpus, offline messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explainer.cli import main
from explainer.i18n import t
from tests.test_images import BAD, GOOD, Case

ROOT = Path(__file__).resolve().parent.parent



def _file(tmp_path: Path, case: Case) -> Path:
    path = tmp_path / case.name
    path.write_bytes(case.data)
    return path


def test_cat_json_with_shared_weights(weights_dir: Path, shared_images, capsys) -> None:
    cat = next(p for p in shared_images if p.endswith("cat.jpg"))
    assert main(["classify", cat, "--json", "--weights-dir", str(weights_dir)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"] == "mobilenet_v2" and data["pretrained"] is True
    assert data["weights"] == f"file:{weights_dir / 'mobilenet_v2.pth'}"
    assert data["predictions"][0]["label"] in shared_images[cat]["top5_any"]
    assert len(data["predictions"]) == 5 and data["latency_ms"] > 0
    probs = [p["prob"] for p in data["predictions"]]
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1.0 + 1e-9


def test_env_var_and_table_output(weights_dir: Path, shared_images, capsys, monkeypatch) -> None:
    monkeypatch.setenv("EXPLAINER_WEIGHTS_DIR", str(weights_dir))
    bird = next(p for p in shared_images if p.endswith("bird.jpg"))
    assert main(["classify", bird, "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "chickadee" in out and "forward" in out and len([l for l in out.splitlines() if l[:1].isdigit()]) == 3


def test_v1_with_released_weights_from_the_folder(weights_dir: Path, v1_npz: Path, shared_images, capsys) -> None:
    dragonfly = next(p for p in shared_images if p.endswith("dragonfly.jpg"))
    assert main(["classify", dragonfly, "--model", "mobilenet_v1", "--json", "--weights-dir", str(weights_dir)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["predictions"][0]["label"] == "dragonfly" and data["weights"].endswith(".npz")


@pytest.mark.parametrize("case", BAD, ids=[c.name for c in BAD])
def test_bad_images_exit_2_with_one_line(case: Case, tmp_path: Path, offline, capsys) -> None:
    path = _file(tmp_path, case)
    assert main(["classify", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and case.name in lines[0]


@pytest.mark.parametrize("case", GOOD, ids=[c.name for c in GOOD])
def test_unusual_images_classify(case: Case, tmp_path: Path, offline, capsys) -> None:
    path = _file(tmp_path, case)
    assert main(["classify", str(path), "--json", "--untrained", "--model", "mobilenet_v3_small"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["pretrained"] is False and data["weights"] == "untrained" and len(data["predictions"]) == 5


def test_offline_without_weights_says_what_to_do(tmp_path: Path, offline, capsys) -> None:
    image = _file(tmp_path, GOOD[0])
    assert main(["classify", str(image), "--model", "mobilenet_v3_small"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error: ")
    assert "python -m explainer fetch mobilenet_v3_small" in err
    assert "mobilenet_v3_small-047dcff4.pth" in err and "EXPLAINER_WEIGHTS_DIR" in err


def test_subprocess_has_no_traceback(tmp_path: Path) -> None:
    """The real entry point: bad image and offline-without-weights both end in one line, exit 2."""
    env = {**os.environ, "TORCH_HOME": str(tmp_path / "th"), "EXPLAINER_OFFLINE": "1"}
    env.pop("EXPLAINER_WEIGHTS_DIR", None)
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    good = _file(tmp_path, GOOD[0])
    for image in (bad, good):
        proc = subprocess.run([sys.executable, "-m", "explainer", "classify", str(image)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [["--top", "0"], ["--top", "x"], ["--model", "resnet"]])
def test_bad_arguments(argv, tmp_path: Path, offline, capsys) -> None:
    image = _file(tmp_path, GOOD[0])
    with pytest.raises(SystemExit) as info:
        code = main(["classify", str(image), *argv])
        raise SystemExit(code)
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_weights_status_json(weights_dir: Path, offline, capsys) -> None:
    """``weights status`` is the older spelling of ``fetch --status`` (tests/test_catalogue.py has the rest)."""
    assert main(["weights", "status", "--json", "--weights-dir", str(weights_dir)]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {m["name"]: m for m in data["files"]}
    assert rows["mobilenet_v2"]["source"] == "folder" and rows["mobilenet_v2"]["path"].endswith("mobilenet_v2.pth")
    assert rows["mobilenet_v3_small"]["source"] == "missing"  # offline, empty cache
    assert data["offline"] is True


def test_weights_status_table_offline(offline, capsys) -> None:
    assert main(["weights", "status"]) == 0
    out = capsys.readouterr().out
    assert "missing" in out and "python -m explainer fetch mobilenet_v2" in out


def test_weights_fetch_unreachable_fails_with_one_line(offline, capsys, monkeypatch) -> None:
    monkeypatch.delenv("EXPLAINER_OFFLINE")
    monkeypatch.setenv("EXPLAINER_DOWNLOAD_MIRROR", "http://127.0.0.1:9")  # connection refused
    assert main(["weights", "fetch", "--model", "mobilenet_v3_small"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(err) == 1 and "127.0.0.1:9" in err[0] and "python -m explainer fetch mobilenet_v3_small" in err[0]


def test_weights_fetch_skips_cached_and_v1(offline, capsys) -> None:
    from explainer import catalogue
    from explainer.models import build_model
    import torch

    target = catalogue.cache_root() / catalogue.get("mobilenet_v3_small").filename
    target.parent.mkdir(parents=True)
    torch.save(build_model("mobilenet_v3_small").state_dict(), target)
    assert main(["weights", "fetch", "--model", "mobilenet_v1", "--model", "mobilenet_v3_small"]) == 0
    out = capsys.readouterr().out
    assert "mobilenet_v3_small: already in the cache" in out and "mobilenet_v1: Nobody publishes" in out
    assert t("errors.assets.offline", "en")  # the offline message exists in English …
    assert t("errors.assets.offline", "zh")  # … and Chinese
