"""Energy per inference: MACs and bytes are the exact counter's (checked against PyTorch's own counters), the table's
arithmetic is exact, and the command line prints it as JSON or fails with one line and exit status 2."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from explainer import energy
from explainer.architectures import MODEL_NAMES as MOBILENETS
from explainer.architectures import build_network
from explainer.models import build_model
from explainer import registry
from explainer.zoo.network import count_network
from tests.conftest import run_cli


def flop_counter_macs(module: nn.Module, size: int) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(torch.zeros(1, 3, size, size, device="meta"))
    return counter.get_total_flops() // 2


def conv_linear_elements(module: nn.Module, size: int) -> tuple[int, int]:
    """(weight + bias elements, input + output elements) of every Conv2d/Linear call, by forward hooks."""
    totals = [0, 0]

    def hook(layer, inputs, output):
        totals[0] += sum(p.numel() for p in layer.parameters(recurse=False))
        totals[1] += inputs[0][0].numel() + output[0].numel()

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        module(torch.zeros(1, 3, size, size, device="meta"))
    for handle in handles:
        handle.remove()
    return totals[0], totals[1]


@pytest.mark.parametrize("name", registry.MODEL_NAMES)
def test_every_network_offered_uses_the_exact_counters_macs_and_bytes(name):
    for size in (224, 160) if name in ("mobilenet_v2", "shufflenet_v2_x1_0") else (224,):
        result = energy.estimate(name, resolution=size)
        network = count_network(name, size)
        assert result.macs == network.macs
        assert (result.weight_elements, result.activation_elements) == (network.weight_reads, network.activation_moves)
        assert result.weight_bytes + result.activation_bytes == network.bytes_moved  # the roofline's bytes (float32)
        assert result.macs == flop_counter_macs(registry.build(name, meta=True), size)  # PyTorch's own count


@pytest.mark.parametrize("name", MOBILENETS)
@pytest.mark.parametrize("width, size", [(1.0, 224), (0.5, 160), (1.4, 96)])
def test_mobilenets_at_any_width_and_resolution(name, width, size):
    result = energy.estimate(name, width, size, "int8")
    assert result.macs == build_network(name, width, size).macs  # the layer tables of the Architectures page
    with torch.device("meta"):
        module = build_model(name, width=width)
    assert result.macs == flop_counter_macs(module, size)
    if name in ("mobilenet_v1", "mobilenet_v2"):  # no squeeze-and-excitation: every move is a conv/linear call
        assert (result.weight_elements, result.activation_elements) == conv_linear_elements(module, size)
    assert result.weight_bytes == result.weight_elements and result.activation_bytes == result.activation_elements


def test_int8_compute_energy_is_fp32_times_the_mac_ratio_exactly():
    for name in ("mobilenet_v2", "resnet50"):
        fp32, int8 = energy.estimate(name, dtype="fp32"), energy.estimate(name, dtype="int8")
        ratio = energy.mac_pj("int8") / energy.mac_pj("fp32")
        assert isinstance(int8.compute_pj, Fraction)
        assert int8.compute_pj == fp32.compute_pj * ratio
        assert ratio == Fraction(3, 46)  # (0.2 + 0.1) / (3.7 + 0.9)
        assert int8.memory_pj * 4 == fp32.memory_pj  # 1 byte a value instead of 4, same places
        fp16 = energy.estimate(name, dtype="fp16")
        assert fp16.memory_pj * 2 == fp32.memory_pj and fp16.compute_pj == fp32.macs * Fraction("1.5")


def test_the_table_and_the_places():
    assert energy.mac_pj("fp32") == Fraction("4.6")
    assert energy.byte_pj("dram") == Fraction(1300, 8)
    assert energy.byte_pj("on_chip") == Fraction(100, 8)
    assert [rung for _, rung in energy.LADDER] == [1, 2, 6, 200]
    # moving data costs far more than arithmetic: one 64-bit DRAM access vs one fp32 multiply
    assert energy.OPS["dram"].pj / energy.OPS["fp32_mult"].pj > 300
    dram = energy.estimate("mobilenet_v2")
    chip = energy.estimate("mobilenet_v2", weights_on_chip=True, activations_on_chip=True)
    assert chip.compute_pj == dram.compute_pj
    assert chip.memory_pj * 13 == dram.memory_pj  # 1300 / 100
    assert dram.memory_share > 0.85  # 88.8 % of an fp32 MobileNetV2 with everything in DRAM
    weights_only = energy.estimate("mobilenet_v2", weights_on_chip=True)
    assert weights_only.activation_pj == dram.activation_pj and weights_only.weight_pj * 13 == dram.weight_pj


def test_int8_saves_mostly_through_bytes():
    fp32, int8 = energy.estimate("mobilenet_v2", dtype="fp32"), energy.estimate("mobilenet_v2", dtype="int8")
    saved_compute = fp32.compute_pj - int8.compute_pj
    saved_memory = fp32.memory_pj - int8.memory_pj
    assert saved_memory > 5 * saved_compute  # 8.25 mJ vs 1.29 mJ for MobileNetV2, everything in DRAM


def test_battery_arithmetic():
    assert energy.battery_photos(10, 1.0) == pytest.approx(36e6)
    assert energy.battery_hours(10, 1.0) == pytest.approx(36e6 / 30 / 3600)
    assert energy.watts(100.0) == pytest.approx(3.0)
    with pytest.raises(Exception):
        energy.battery_hours(0, 1.0)


def test_cli_json(capsys):
    status, out, err = run_cli(capsys, "energy", "--model", "mobilenet_v2", "--width", "0.5", "--resolution", "160",
                               "--dtype", "int8", "--weights-on-chip", "--json")
    assert status == 0 and err == ""
    data = json.loads(out)
    result = energy.estimate("mobilenet_v2", 0.5, 160, "int8", weights_on_chip=True)
    assert data["macs"] == build_network("mobilenet_v2", 0.5, 160).macs == result.macs
    assert (data["weight_bytes"], data["activation_bytes"]) == (result.weight_bytes, result.activation_bytes)
    assert data["compute_mj"] == pytest.approx(result.macs * 0.3e-9)
    assert data["memory_mj"] == pytest.approx((result.weight_bytes * 12.5 + result.activation_bytes * 162.5) * 1e-9)
    assert math.isclose(data["total_mj"], data["compute_mj"] + data["memory_mj"])
    assert data["energies_pj"] == {"mac": 0.3, "weight_byte": 12.5, "activation_byte": 162.5}
    assert data["operations_pj"]["dram"] == 1300 and data["operations_pj"]["fp32_mult"] == 3.7
    status, out, err = run_cli(capsys, "energy", "--model", "resnet18")
    assert status == 0 and "total" in out and err == ""


@pytest.mark.parametrize("argv", [
    ("--model", "alexnet"), ("--model", "mobilenet_v2", "--dtype", "int4"), ("--model", "mobilenet_v2", "--width", "5"),
    ("--model", "mobilenet_v2", "--width", "nan"), ("--model", "mobilenet_v2", "--resolution", "9999"),
    ("--model", "resnet50", "--width", "0.5"), ("--model", "mobilenet_v2", "--resolution", "0"), ("--model", "mobilenet_v2", "--dtype"), (),
])
def test_cli_bad_input_is_one_line_and_exit_2(capsys, argv):
    status, out, err = run_cli(capsys, "energy", *argv)
    assert status == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
