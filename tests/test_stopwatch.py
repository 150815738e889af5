"""The one stopwatch: warm-up, N timed runs, their median, threads restored — and every timing of the app, the CLI
and the zoo goes through it (the same model shows the same kind of figure everywhere)."""

from __future__ import annotations

import statistics
import threading

import pytest
import torch

from explainer import stopwatch


class FakeClock:
    """``stopwatch.time_once`` replaced for this test's thread: each call runs the function and 'takes' the next
    of ``times`` ms (other threads, e.g. a page's background zoo timing left by an earlier test, keep the real one)."""

    def __init__(self, times: list[float]):
        self.times = list(times)
        self.calls = 0
        self.thread = threading.get_ident()
        self.real = stopwatch.time_once

    def __call__(self, fn):
        if threading.get_ident() != self.thread:
            return self.real(fn)
        self.calls += 1
        return fn(), self.times.pop(0)


def test_median_after_warmup(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock([100.0, 7.0, 3.0, 50.0, 4.0, 5.0])  # the first is the warm-up
    monkeypatch.setattr(stopwatch, "time_once", clock)
    calls: list[int] = []
    timing = stopwatch.time_call(lambda: calls.append(1), runs=5, warmup=1)
    assert len(calls) == 6 and clock.calls == 6
    assert timing.samples == (7.0, 3.0, 50.0, 4.0, 5.0) and timing.median_ms == 5.0 and timing.runs == 5
    assert timing.label() == "median of 5"


def test_budget_fits_the_runs_between_the_minimum_and_the_maximum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stopwatch, "time_once", FakeClock([400.0] + [1.0] * 10))
    assert stopwatch.time_call(lambda: None, runs=25, budget_s=1.0).runs == 3  # 1 s / 0.4 s → at least 3
    monkeypatch.setattr(stopwatch, "time_once", FakeClock([1.0] + [1.0] * 25))
    assert stopwatch.time_call(lambda: None, runs=25, budget_s=1.0).runs == 25


def test_interleaved_takes_turns() -> None:
    order: list[str] = []
    timed = stopwatch.time_interleaved({"a": lambda: order.append("a"), "b": lambda: order.append("b")}, runs=3,
                                       warmup=1)
    assert order == ["a", "b"] * 4 and {t.runs for t in timed.values()} == {3}
    assert all(t.median_ms == statistics.median(t.samples) for t in timed.values())


def test_threads_are_set_and_restored() -> None:
    before = torch.get_num_threads()
    seen: list[int] = []
    timing = stopwatch.time_call(lambda: seen.append(torch.get_num_threads()), runs=2, threads=1)
    assert set(seen) == {1} and timing.threads == 1 and torch.get_num_threads() == before


def test_classify_zoo_and_compression_show_the_stopwatchs_median(monkeypatch: pytest.MonkeyPatch) -> None:
    """Classify's reference time, the zoo's latency and Compression's float/int8 times are all the median of
    the stopwatch's runs after its warm-up (not a best-of)."""
    from explainer.classify import REFERENCE_RUNS, reference_latency_ms
    from explainer.quant.ptq import compare_latency
    from explainer.weights import untrained
    from explainer.zoo.latency import DEFAULT_REPEATS, measure

    assert REFERENCE_RUNS == DEFAULT_REPEATS == stopwatch.DEFAULT_RUNS
    times = [999.0] + [float(v) for v in range(1, REFERENCE_RUNS + 1)]  # warm-up, then 1 … N ms
    expected = statistics.median(times[1:])
    loaded = untrained("mobilenet_v3_small")
    monkeypatch.setattr(stopwatch, "time_once", FakeClock(times))
    assert reference_latency_ms(loaded) == expected
    monkeypatch.setattr(stopwatch, "time_once", FakeClock([999.0, 999.0] + times[1:]))  # the zoo warms up twice
    latency = measure("mobilenet_v3_small")
    assert latency.median_ms == expected and latency.repeats == DEFAULT_REPEATS
    monkeypatch.setattr(stopwatch, "time_once", FakeClock([1.0, 2.0, 10.0, 20.0, 30.0, 40.0]))
    pair = compare_latency(loaded.model, loaded.model, runs=3)  # fp32 and int8 in turns (after an untimed warm-up)
    assert (pair.fp32_ms, pair.int8_ms, pair.runs) == (10.0, 20.0, 3)
