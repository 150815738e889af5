"""Latency measurement, the background table, the roofline and choosing within a budget."""

from __future__ import annotations

import pytest
import torch

from explainer.zoo import choose, latency, roofline
from explainer.zoo.latency import ZooRow
from explainer.zoo.network import count_network


def row(model: str, top1: float | None, macs: int, ms: float | None, size: float = 1.0) -> ZooRow:
    return ZooRow(model, model, "mobilenet", macs, 1, size, size / 4, top1, "test", False, ms, 1 if ms else None)


def test_pareto_front():
    rows = [row("a", 60.0, 100, 5.0), row("b", 70.0, 300, 4.0), row("c", 65.0, 200, 6.0), row("d", 75.0, 900, 20.0),
            row("e", None, 10, 1.0), row("f", 70.0, 400, 9.0)]
    assert [r.model for r in choose.pareto(rows, lambda r: r.macs)] == ["a", "c", "b", "d"]
    assert [r.model for r in choose.pareto(rows, lambda r: r.latency_ms)] == ["b", "d"]


def test_within_budget():
    rows = [row("a", 60.0, 100, 5.0, 2.0), row("b", 70.0, 300, 12.0, 8.0), row("c", 72.0, 300, None, 4.0)]
    result = choose.within_budget(rows, max_latency_ms=10, max_size_mb=10)
    assert result.best.model == "a" and [r.model for r in result.unmeasured] == ["c"]
    assert choose.within_budget(rows, max_latency_ms=20, max_size_mb=5).best.model == "a"
    assert choose.within_budget(rows, max_latency_ms=20, max_size_mb=5, int8=True).best.model == "b"
    assert choose.within_budget(rows, max_latency_ms=1).best is None
    assert choose.phone_factor([row("mobilenet_v2", 72.0, 300, 36.9)]) == pytest.approx(2.0)


def test_measure_restores_threads_and_times_a_real_pass():
    before = torch.get_num_threads()
    result = latency.measure("shufflenet_v2_x0_5", threads=1, repeats=2, warmup=1)
    assert result.threads == 1 and result.median_ms > 0 and torch.get_num_threads() == before


def test_background_zoo_measures_each_model_once():
    runner = latency.BackgroundZoo(repeats=1, order=("squeezenet1_1", "shufflenet_v2_x0_5"), measure_roofs=False,
                                   threads=1)
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the app (explainer.threads)
    try:
        runner.start()
        runner.start()  # idempotent
        assert runner.wait(120)
    finally:
        torch.set_num_threads(before)
    assert set(runner.snapshot()) == {"squeezenet1_1", "shufflenet_v2_x0_5"} and runner.error is None
    assert all(measured.threads == 1 for measured in runner.snapshot().values())
    rows = [latency.with_latency(latency.static_row(name), measured) for name, measured in runner.snapshot().items()]
    assert all(r.ms_per_gmac == pytest.approx(r.latency_ms / (r.macs / 1e9)) for r in rows)


def test_cheapest_first():
    order = latency.cheapest_first(("vgg16", "shufflenet_v2_x0_5", "resnet18"))
    assert order == ("shufflenet_v2_x0_5", "resnet18", "vgg16")


def test_roofs_and_points():
    machine = roofline.Machine(peak_gflops=100.0, bandwidth_gbs=10.0, threads=1)
    assert machine.ridge == pytest.approx(5.0)  # 50 GMAC/s / 10 GB/s
    assert machine.roof(1.0) == pytest.approx(10.0) and machine.roof(50.0) == pytest.approx(50.0)
    net = count_network("mobilenet_v2")
    points = roofline.roofline_points(net, machine)
    assert len(points) == 53  # every convolution and the classifier
    assert all(p.bound == "memory" for p in points if p.kind == "depthwise")
    summary = {s.kind: s for s in roofline.summarise(points)}
    assert summary["depthwise"].memory_bound == summary["depthwise"].layers == 17
    vgg = roofline.roofline_points(count_network("vgg16"), machine)
    assert sum(p.bound == "compute" for p in vgg if p.kind == "standard") >= 12


def test_machine_and_layer_timings_are_measured():
    peak = roofline.measure_peak_gflops(sizes=(256,), repeats=2)
    bandwidth = roofline.measure_bandwidth_gbs(elements=2**22, repeats=2)
    assert peak > 0.1 and bandwidth > 0.1
    timings = roofline.time_layers("shufflenet_v2_x0_5", resolution=96, repeats=2)
    counted = [layer.name for layer in count_network("shufflenet_v2_x0_5").layers if layer.macs]
    assert sorted(timings) == sorted(counted) and all(ms > 0 for ms in timings.values())
