"""``python -m explainer network``: JSON shape and values, the readable table, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from explainer.architectures import MODEL_NAMES, build_network
from tests.conftest import run_cli



@pytest.mark.parametrize("model", MODEL_NAMES)
def test_json_defaults(capsys, model):
    status, out, err = run_cli(capsys, "network", model, "--json")
    assert status == 0 and err == ""
    data = json.loads(out)
    assert {"model", "width", "resolution", "macs", "params", "layers", "breakdown"} <= set(data)
    assert (data["model"], data["width"], data["resolution"]) == (model, 1.0, 224)
    for layer in data["layers"]:
        assert {"name", "type", "input", "output", "macs", "params"} <= set(layer)
        assert len(layer["input"]) == len(layer["output"]) == 3
        assert layer["type"] in ("conv", "depthwise", "pointwise", "fc", "se")
    assert data["macs"] == sum(layer["macs"] for layer in data["layers"])
    assert data["params"] == sum(layer["params"] for layer in data["layers"])
    assert sum(share["macs_pct"] for share in data["breakdown"].values()) == pytest.approx(100)


def test_json_v2_numbers(capsys):
    """The numbers the page shows (same function) and torchvision's model: 300,774,272 MACs, 3,504,872 params."""
    status, out, _ = run_cli(capsys, "network", "mobilenet_v2", "--json")
    data = json.loads(out)
    assert data["macs"] == build_network("mobilenet_v2").macs == 300_774_272
    assert data["params"] + data["bn_params"] == 3_504_872
    assert len(data["layers"]) == 53
    assert data["layers"][0] == {"name": "stem", "type": "conv", "block": 0, "stage": "stem", "input": [224, 224, 3],
                                 "output": [112, 112, 32], "macs": 10_838_016, "params": 864, "stride": 2,
                                 "kernel": 3, "activation": "relu6"}


def test_width_resolution_and_twin(capsys):
    _, out, _ = run_cli(capsys, "network", "mobilenet_v1", "--width", "0.75", "--resolution", "192", "--json")
    data = json.loads(out)
    assert data["layers"][0]["output"] == [96, 96, 24]
    assert data["macs"] == build_network("mobilenet_v1", 0.75, 192).macs
    _, out, _ = run_cli(capsys, "network", "mobilenet_v1", "--twin", "--json")
    data = json.loads(out)
    assert data["twin"] is True and data["macs"] == 4_867_293_184
    assert "depthwise" not in data["breakdown"]


def test_table_output(capsys):
    status, out, err = run_cli(capsys, "network", "mobilenet_v3_small")
    assert status == 0 and err == ""
    assert "MobileNetV3-Small" in out
    assert "b1.se" in out and "56,510,400" in out and "2,542,856" in out
    assert "squeeze" not in err


@pytest.mark.parametrize("argv, fragment", [
    (["network", "mobilenet_v4"], "invalid choice"),
    (["network"], "required"),
    (["network", "mobilenet_v1", "--width", "0"], "width multiplier"),
    (["network", "mobilenet_v1", "--width", "nan"], "width multiplier"),
    (["network", "mobilenet_v1", "--width", "wide"], "invalid float"),
    (["network", "mobilenet_v1", "--resolution", "8"], "resolution"),
    (["network", "mobilenet_v1", "--resolution", "99999"], "resolution"),
    (["network", "mobilenet_v1", "--resolution", "224.5"], "invalid int"),
])
def test_bad_arguments_one_line(capsys, argv, fragment):
    status, out, err = run_cli(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err


def test_subprocess_exit_code_and_no_traceback():
    result = subprocess.run([sys.executable, "-m", "explainer", "network", "mobilenet_v2", "--width", "9"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    ok = subprocess.run([sys.executable, "-m", "explainer", "network", "mobilenet_v2", "--json"],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and json.loads(ok.stdout)["macs"] == 300_774_272
