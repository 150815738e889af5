"""``python -m explainer network <any model>`` and ``python -m explainer zoo``: JSON = the core's numbers = PyTorch's
counters, latency measured now, one-line errors with exit status 2."""

from __future__ import annotations

import json

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from torchvision import models as tv

from explainer import registry
from explainer.zoo.network import count_network
from tests.conftest import run_cli


def pytorch_counts(name: str, size: int) -> tuple[int, int]:
    with torch.device("meta"):
        model = tv.get_model(name, weights=None).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, size, size, device="meta"))
    return counter.get_total_flops() // 2, sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name,size", [("squeezenet1_0", 224), ("shufflenet_v2_x1_5", 160), ("efficientnet_b0", 300),
                                       ("resnet18", 128)])
def test_network_json_for_the_family(capsys, name, size):
    status, out, err = run_cli(capsys, "network", name, "--resolution", size, "--json")
    assert status == 0 and err == ""
    data = json.loads(out)
    assert (data["model"], data["resolution"], data["counted"]) == (name, size, True)
    assert (data["macs"], data["total_params"]) == pytorch_counts(name, size)
    assert data["macs"] == sum(layer["macs"] for layer in data["layers"])
    assert data["params"] + data["other_params"] == data["total_params"]
    first = data["layers"][0]
    assert {"name", "kind", "input", "output", "macs", "params", "bytes_read", "bytes_written", "intensity"} <= set(first)
    assert first["input"] == [size, size, 3]
    assert data == count_network(name, size).as_dict()


def test_network_table_for_shufflenet(capsys):
    status, out, err = run_cli(capsys, "network", "shufflenet_v2_x0_5")
    assert status == 0 and err == ""
    assert "ShuffleNet V2 0.5×" in out and "shuffle" in out and "bytes read" in out
    assert "40,476,448" in out and "1,366,792" in out


def test_network_traffic_view_of_a_mobilenet(capsys):
    status, out, _ = run_cli(capsys, "network", "mobilenet_v2", "--traffic", "--json")
    data = json.loads(out)
    assert status == 0 and (data["macs"], data["total_params"]) == (300_774_272, 3_504_872)
    assert "MobileNetV2" in run_cli(capsys, "network", "mobilenet_v2", "--traffic")[1]


def test_variant_width_is_accepted_when_it_is_the_variants(capsys):
    status, out, _ = run_cli(capsys, "network", "mnasnet0_75", "--width", "0.75", "--json")
    assert status == 0 and json.loads(out)["width"] == 0.75


@pytest.mark.parametrize("argv, fragment", [
    (["network", "alexnet"], "invalid choice"),
    (["network", "shufflenet_v2_x1_0", "--width", "0.5"], "shufflenet_v2_x0_5 (0.5)"),
    (["network", "mnasnet1_0", "--width", "0.6"], "fixed width-1 variant"),
    (["network", "resnet18", "--width", "0.5"], "no width multiplier"),
    (["network", "vgg16", "--twin"], "MobileNets only"),
    (["network", "mobilenet_v2", "--traffic", "--width", "0.5"], "--traffic"),
    (["network", "squeezenet1_1", "--resolution", "8"], "resolution"),
    (["zoo", "--threads", "0"], "--threads"),
    (["zoo", "--threads", "many"], "invalid thread count"),
    (["zoo", "--repeats", "0"], "--repeats"),
    (["zoo", "--models", "vgg16,alexnet"], "Unknown network \"alexnet\""),
])
def test_bad_arguments_one_line(capsys, argv, fragment):
    status, out, err = run_cli(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err


def test_zoo_json_rows_are_measured_now(capsys):
    names = ["shufflenet_v2_x0_5", "squeezenet1_1"]
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    status, out, err = run_cli(capsys, "zoo", "--models", ",".join(names), "--threads", "1", "--repeats", "2",
                               "--json")
    assert status == 0 and err == ""
    rows = json.loads(out)
    assert [row["model"] for row in rows] == names
    for row in rows:
        assert {"model", "macs", "total_params", "size_mb", "top1", "latency_ms", "ms_per_gmac"} <= set(row)
        net = count_network(row["model"])
        assert (row["macs"], row["total_params"]) == (net.macs, net.total_params)
        assert row["top1"] == tv.get_model_weights(row["model"]).DEFAULT.meta["_metrics"]["ImageNet-1K"]["acc@1"]
        assert row["latency_ms"] > 0 and row["threads"] == 1
        assert row["ms_per_gmac"] == pytest.approx(row["latency_ms"] / (row["macs"] / 1e9))
    assert torch.get_num_threads() == 2  # --threads applied to the timing only, then restored
    torch.set_num_threads(before)


def test_zoo_table(capsys):
    status, out, err = run_cli(capsys, "zoo", "--models", "mobilenet_v1", "--repeats", "1", "--threads", "1")
    assert status == 0 and err == ""
    assert "mobilenet_v1" in out and "568,740,352" in out and "70.6" in out and "ms/GMAC" in out


def test_every_model_is_a_choice():
    from explainer.cli import build_parser

    parser = build_parser()
    for name in registry.MODEL_NAMES:
        args = parser.parse_args(["network", name])
        assert args.model == name
