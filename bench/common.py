"""The shape of one benchmark figure and small timing helpers shared by all benchmarks.

A benchmark module exposes ``run() -> list[Figure]``; ``bench/run.py`` collects
them into one table. Every figure is measured against a baseline *in the same
run*, so the ratio means something on any machine.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable


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
    """Median wall time of ``fn()`` in milliseconds after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(samples)
