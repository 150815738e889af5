"""LiteRT runs Google's released int8 models from the shared weights folder (no download)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from explainer import catalogue as assets
from explainer.errors import AssetError
from explainer.litert import TFLITE_MODELS, litert_available, load_tflite, load_tflite_file


def test_pinned_checksums_match_the_shared_files(weights_dir: Path) -> None:
    for asset in TFLITE_MODELS.values():
        data = (weights_dir / asset.filename).read_bytes()
        assert len(data) == asset.size and hashlib.sha256(data).hexdigest() == asset.sha256


def test_classifier_runs_in_int8(weights_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert litert_available()
    monkeypatch.setenv(assets.WEIGHTS_DIR_ENV, str(weights_dir))
    model = load_tflite("mobilenet_v2_1.0_224_quant", download=False)
    assert model.input.shape == (1, 224, 224, 3) and model.input.dtype == "uint8"
    assert model.output.shape == (1, 1001) and model.output.dtype == "uint8"
    out, ms = model.run(np.full((1, 224, 224, 3), 128, np.uint8))
    assert out.shape == (1, 1001) and ms > 0
    with pytest.raises(ValueError):
        model.run(np.zeros((1, 224, 224, 3), np.float32))


def test_not_a_tflite_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.tflite"
    bad.write_bytes(b"not a flatbuffer" * 10)
    with pytest.raises(AssetError) as err:
        load_tflite_file(bad)
    assert err.value.key == "assets.bad_tflite"
