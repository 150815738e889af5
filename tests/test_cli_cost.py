"""``python -m explainer cost``: JSON shape, the readable table, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from explainer import costs
from tests.conftest import run_cli



def test_json_matches_engine(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, "cost", "--dk", "3", "--m", "32", "--n", "64", "--df", "112", "--t", "6",
                               "--stride", "1", "--json")
    assert status == 0 and err == ""
    data = json.loads(out)
    assert set(data) == {"inputs", "standard", "depthwise_separable", "inverted_residual", "ratio_exact", "ratio_approx"}
    assert data["standard"] == {"macs": 3 * 3 * 32 * 64 * 112 * 112, "params": 3 * 3 * 32 * 64}
    sep = data["depthwise_separable"]
    assert sep["depthwise"]["macs"] + sep["pointwise"]["macs"] == sep["macs"] == 3 * 3 * 32 * 112 ** 2 + 32 * 64 * 112 ** 2
    inv = data["inverted_residual"]
    assert inv["expand"]["macs"] == 32 * 192 * 112 ** 2
    assert inv["macs"] == inv["expand"]["macs"] + inv["depthwise"]["macs"] + inv["project"]["macs"]
    assert inv["residual_adds"] == 0  # M != N
    assert data["ratio_exact"] == pytest.approx(1 / 64 + 1 / 9)
    assert all(isinstance(v, int) for v in (sep["macs"], sep["params"], inv["macs"], inv["params"]))


def test_multipliers_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "cost", "--m", "512", "--n", "512", "--df", "14", "--t", "1",
                             "--alpha", "0.75", "--rho", "0.714", "--json")
    data = json.loads(out)
    assert status == 0
    assert data["inputs"]["effective_m"] == 384 and data["inputs"]["effective_df"] == 10
    expected = costs.compare(costs.CostInputs.checked(3, 512, 512, 14, 1, 1, 0.75, 0.714)).as_dict()
    assert data == json.loads(json.dumps(expected))
    assert data["inverted_residual"]["expand"] is None  # t = 1
    assert data["inverted_residual"]["residual_adds"] == 384 * 10 * 10


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "cost", "--m", "512", "--n", "512", "--df", "14", "--t", "1")
    assert status == 0
    assert "462,422,016" in out and "52,283,392" in out and "standard convolution" in out


@pytest.mark.parametrize("args", [
    ["--dk", "4"], ["--dk", "0"], ["--dk", "99"], ["--m", "0"], ["--n", "-1"], ["--df", "100000"],
    ["--m", "2.5"], ["--stride", "3"], ["--t", "0"], ["--alpha", "0"], ["--rho", "nan"], ["--alpha", "x"],
    ["--bogus"],
])
def test_bad_values_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    status, out, err = run_cli(capsys, "cost", *args)
    assert status == 2
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_real_process_one_line_error() -> None:
    """The real ``python -m explainer`` process, not just ``main()``."""
    proc = subprocess.run([sys.executable, "-m", "explainer", "cost", "--dk", "8"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith("error: ") and "odd" in proc.stderr
    ok = subprocess.run([sys.executable, "-m", "explainer", "cost", "--json"], capture_output=True, text=True,
                        timeout=60)
    assert ok.returncode == 0 and json.loads(ok.stdout)["standard"]["macs"] > 0


def test_cost_command_does_not_import_torch() -> None:
    """Every command module is imported to build the parser; none may pull in torch for `cost`."""
    code = ("import sys; from explainer.cli import main; status = main(['cost', '--json']); "
            "assert status == 0; assert 'torch' not in sys.modules, 'torch was imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
