"""The shared-data mechanism of tests/conftest.py: skips normally, fails under EXPLAINER_REQUIRE_SHARED=1,
counts skips and shared-data use at the end of a run. Runs pytest on a small suite with a copy of our
conftest and an empty shared folder (a subprocess, so this session's settings are untouched)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SUITE = '''
import pytest

def test_uses_weights(weights_dir):
    assert (weights_dir / "mobilenet_v2.pth").is_file()

def test_uses_photos(shared_images):
    assert shared_images

def test_plain_skip_about_npz():
    pytest.skip("V1 .npz not in the weights folder")  # written without require_shared

def test_skip_for_another_reason():
    pytest.skip("needs a GPU")

def test_runs():
    assert True
'''


def _run(tmp_path: Path, shared: Path, require: bool) -> tuple[int, str, dict]:
    suite = tmp_path / "suite"
    suite.mkdir(exist_ok=True)
    shutil.copy(Path(__file__).with_name("conftest.py"), suite / "conftest.py")
    (suite / "test_suite.py").write_text(SUITE)
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items()
           if k not in ("EXPLAINER_WEIGHTS_DIR", "EXPLAINER_DATA_DIR", "EXPLAINER_REQUIRE_SHARED", "PYTEST_ADDOPTS")}
    env.update(EXPLAINER_SHARED_DIR=str(shared), EXPLAINER_SHARED_REPORT=str(report),
               PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent),
                                                        os.environ.get("PYTHONPATH", "")])))  # the app's packages
    if require:
        env["EXPLAINER_REQUIRE_SHARED"] = "1"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs", str(suite)],
                          cwd=suite, env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, json.loads(report.read_text())


def test_missing_shared_data_skips_with_a_reason_and_is_counted(tmp_path: Path) -> None:
    status, out, report = _run(tmp_path, tmp_path / "empty", require=False)
    assert status == 0, out
    assert "1 passed, 4 skipped" in out
    assert "skipped: 4 tests, 3 of them for missing shared data" in out
    assert out.count("shared data missing:") >= 2  # the fixtures' reasons name what is missing
    assert report == {"skipped": 4, "skipped_shared": 3, "required": False,
                      "used": {"weights": 0, "photos": 0, "datasets": 0}, "skip_reasons": report["skip_reasons"]}


def test_require_mode_turns_shared_data_skips_into_failures(tmp_path: Path) -> None:
    status, out, report = _run(tmp_path, tmp_path / "empty", require=True)
    assert status == 1, out
    assert "1 failed, 1 passed, 1 skipped, 2 errors" in out
    assert "SKIPPED [1] test_suite.py:14: needs a GPU" in out  # other skips stay skips
    assert "ERROR test_suite.py::test_uses_weights" in out and "ERROR test_suite.py::test_uses_photos" in out
    assert "FAILED test_suite.py::test_plain_skip_about_npz" in out  # the safety net: a plain skip about a .npz
    assert out.count("EXPLAINER_REQUIRE_SHARED=1: t") >= 3
    assert (report["skipped"], report["skipped_shared"], report["required"]) == (1, 0, True)


def test_shared_data_present_is_used_and_counted(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "weights").mkdir(parents=True)
    (shared / "weights" / "mobilenet_v2.pth").write_bytes(b"x")
    (shared / "images").mkdir()
    (shared / "images" / "a.jpg").write_bytes(b"x")
    (shared / "images" / "expected.json").write_text(json.dumps({"_about": "", "a.jpg": {}}))
    status, out, report = _run(tmp_path, shared, require=True)
    assert status == 1  # the plain .npz skip still fails in require mode
    assert report["used"] == {"weights": 1, "photos": 1, "datasets": 0}
    (shared / "images" / "a.jpg").unlink()  # a photo listed in expected.json but missing
    status, out, report = _run(tmp_path, shared, require=False)
    assert report["used"]["photos"] == 0 and report["skipped_shared"] == 2
    assert "shared test photo not found" in out


@pytest.mark.parametrize("reason,shared", [("V1 .npz not in the weights folder", True),
                                           ("shared test photos not found in /x", True),
                                           ("set EXPLAINER_DATA_DIR to the ants_bees data set", True),
                                           ("Chromium not found: apt-get install -y chromium", False),
                                           ("needs a GPU", False)])
def test_which_skip_reasons_count_as_shared_data(reason: str, shared: bool) -> None:
    from tests.conftest import SHARED_REASON

    assert bool(SHARED_REASON.search(reason)) is shared
