"""Shared fixtures: where the real test weights and photos are, and AppTest helpers.

The real ImageNet weights and photos live beside the checkout in
``../shared/`` (never committed). CI points ``EXPLAINER_WEIGHTS_DIR`` at
``../shared/weights``; tests that need them skip with a clear reason when
they are absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EXPLAINER_SHARED_DIR", ROOT.parent / "shared"))


def _weights_dir() -> Path | None:
    configured = os.environ.get("EXPLAINER_WEIGHTS_DIR")
    candidate = Path(configured) if configured else SHARED / "weights"
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    """The folder with real weights (``mobilenet_v2.pth``, the V1 ``.npz``); skips when absent."""
    folder = _weights_dir()
    if folder is None or not (folder / "mobilenet_v2.pth").is_file():
        pytest.skip("real ImageNet weights not found: set EXPLAINER_WEIGHTS_DIR to a folder with mobilenet_v2.pth")
    return folder


@pytest.fixture(scope="session")
def shared_images() -> dict[str, dict]:
    """``{file path: expected entry}`` from ``../shared/images/expected.json``; skips when absent."""
    folder = SHARED / "images"
    expected = folder / "expected.json"
    if not expected.is_file():
        pytest.skip(f"shared test photos not found in {folder}")
    data = json.loads(expected.read_text())
    return {str(folder / name): entry for name, entry in data.items() if not name.startswith("_")}


def run_page(path: str, lang: str = "en", timeout: float = 60, **state):
    """Run one page script with AppTest in ``lang``; extra ``state`` goes into session state."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / path), default_timeout=timeout)
    at.session_state["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    return at


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No weights folder, an empty torchvision cache, downloads switched off."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.delenv("EXPLAINER_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("EXPLAINER_OFFLINE", "1")
    return tmp_path


@pytest.fixture
def with_weights(weights_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real weights folder in EXPLAINER_WEIGHTS_DIR, downloads switched off."""
    monkeypatch.setenv("EXPLAINER_WEIGHTS_DIR", str(weights_dir))
    monkeypatch.setenv("EXPLAINER_OFFLINE", "1")
    return weights_dir


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``python -m explainer`` in-process; return (exit status, stdout, stderr)."""
    from explainer.cli import main

    try:
        status = main([str(a) for a in argv])
    except SystemExit as exit_:  # argparse errors
        status = int(exit_.code)
    captured = capsys.readouterr()
    return status, captured.out, captured.err
