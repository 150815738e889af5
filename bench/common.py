"""The shape of one benchmark figure and small timing helpers shared by all benchmarks.

A benchmark module exposes ``run() -> list[Figure]``; ``bench/run.py`` collects
them into one table. Every figure is measured against a baseline *in the same
run*, so the ratio means something on any machine.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from explainer import stopwatch


@dataclass
class Figure:
    """One measured figure: ``value`` of ``name`` against ``baseline`` of ``baseline_name``."""

    name: str
    value: float
    baseline_name: str
    baseline: float
    unit: str = "ms"
    target: str = ""  # e.g. "ratio <= 2.0" or "median < 150 ms"
    ok: bool | None = None  # whether the target was met (None: no target)

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("nan")


def median_ms(fn: Callable[[], object], repeats: int = 20, warmup: int = 3) -> float:
    """Median wall time of ``fn()`` in milliseconds after ``warmup`` calls (the project's one stopwatch)."""
    return stopwatch.time_call(fn, runs=repeats, warmup=warmup).median_ms


def interleaved_ms(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 2) -> dict[str, float]:
    """Median ms of each function, measured in turns (a, b, c, a, b, c, …) so that load from other
    processes on a shared machine falls on all of them alike (:func:`explainer.stopwatch.time_interleaved`)."""
    return {name: timing.median_ms for name, timing in stopwatch.time_interleaved(fns, repeats, warmup).items()}


def median_rerun_ms(script: str | Path, repeats: int, move: Callable[[Any, int], object],
                    setup: Callable[[Any], object] | None = None, warmup: int = 0, timeout: float = 120) -> float:
    """Median ms of a server-side rerun of a Streamlit ``script`` (AppTest) after ``move(at, i)`` changed a
    widget for the ``i``-th time; the first ``warmup`` reruns are not counted. ``setup(at)`` runs before the
    first run (e.g. ``at.switch_page(...)``)."""
    from streamlit.testing.v1 import AppTest

    from pages.legacy_folder import like_a_server

    with like_a_server():  # every rerun through app.py, as on a server (not Streamlit's legacy pages/ runner)
        at = AppTest.from_file(str(script), default_timeout=timeout)
        if setup is not None:
            setup(at)
        at.run()
        if at.exception:
            raise RuntimeError(f"{script} raised: {at.exception[0].message}")
        samples = []
        for i in range(warmup + repeats):
            move(at, i)
            start = time.perf_counter()
            at.run()
            if i >= warmup:
                samples.append((time.perf_counter() - start) * 1000.0)
            if at.exception:
                raise RuntimeError(f"{script} raised: {at.exception[0].message}")
    return stopwatch.median(samples)


def use_shared_weights() -> None:
    """Pages run in AppTest use the shared weights folder (if there is one) and never try to download."""
    from bench.server import weights_dir

    folder = weights_dir()
    if folder is not None and not os.environ.get("EXPLAINER_WEIGHTS_DIR"):
        os.environ["EXPLAINER_WEIGHTS_DIR"] = str(folder)
    os.environ.setdefault("EXPLAINER_OFFLINE", "1")


#: Run a block with N intra-op threads (1: stable on a shared machine), then restore the setting.
torch_threads = stopwatch.torch_threads


def print_table(run: Callable[[], list[Figure]]) -> None:
    """``python -m bench.<module>``: the module's figures as ``bench/run.py`` prints them, and the time taken."""
    from bench.run import table

    started = time.perf_counter()
    print(table(run(), markdown=False))
    print(f"({time.perf_counter() - started:.0f} s)")
