"""One stopwatch for every time the app, the command line and the benchmarks show: the **median** of N runs.

Every timing in the project is taken the same way, so that the same model on the same server shows the same
kind of figure everywhere (Classify, the zoo, Compression, Applications, the CLI, ``bench/``):

1. ``threads``: PyTorch's intra-op threads for the measurement (``None``: leave the setting alone — the app
   runs one thread per forward pass, :mod:`explainer.threads`); restored afterwards;
2. ``warmup`` untimed calls (the first call of a fresh model allocates memory, chooses kernels, packs weights);
3. ``runs`` timed calls, ``time.perf_counter`` around each;
4. the **median** of them (one slow run on a shared server moves it little; the best run would flatter the
   machine, the mean would follow the noise). :meth:`Timing.label` says so: ``"median of 10"``.

:func:`time_call` times one function; :func:`time_interleaved` times several in turns (a, b, a, b, …) so that
load from other processes falls on all of them alike — for ratios. :func:`time_once` is a single timed call
(what one photo took), which is not a statistic and is labelled differently by its callers.
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, TypeVar

#: The one statistic.
STATISTIC = "median"
DEFAULT_RUNS = 10
DEFAULT_WARMUP = 1

T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    """The median of ``runs`` timed calls, in milliseconds, and how it was taken."""

    median_ms: float
    runs: int
    warmup: int
    threads: int  # PyTorch intra-op threads during the measurement (0: not a PyTorch measurement)
    samples: tuple[float, ...] = ()

    @property
    def ms(self) -> float:
        return self.median_ms

    def label(self) -> str:
        """What the figure is: ``"median of 10"``."""
        return f"{STATISTIC} of {self.runs}"


@contextmanager
def torch_threads(threads: int | None) -> Iterator[int]:
    """Run the block with ``threads`` PyTorch intra-op threads (``None``: unchanged), then restore the setting;
    yields the number of threads in use."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a requirement; LiteRT timings need no torch
        yield 0
        return
    previous = torch.get_num_threads()
    if threads is not None and threads != previous:
        torch.set_num_threads(max(1, int(threads)))
    try:
        yield torch.get_num_threads()
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


def median(samples: list[float] | tuple[float, ...]) -> float:
    """The one statistic of a list of times (for timings collected elsewhere, e.g. per layer by hooks)."""
    return float(statistics.median(samples))


def time_once(fn: Callable[[], T]) -> tuple[T, float]:
    """``(fn(), milliseconds)`` of one call."""
    start = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - start) * 1000.0


def time_call(fn: Callable[[], object], runs: int = DEFAULT_RUNS, warmup: int = DEFAULT_WARMUP, *,
              threads: int | None = None, budget_s: float | None = None, min_runs: int = 3) -> Timing:
    """The median of ``runs`` calls of ``fn`` after ``warmup`` calls (see the module docstring).

    ``budget_s``: fit the runs into about this many seconds, judged by the last warm-up call (between
    ``min_runs`` and ``runs``), for a page that must answer quickly whatever the shape.
    """
    warmup = max(1, warmup) if budget_s is not None else max(0, warmup)
    with torch_threads(threads) as used:
        first = 0.0
        for _ in range(warmup):
            _, first = time_once(fn)
        if budget_s is not None:
            runs = int(max(min_runs, min(runs, budget_s / max(first / 1000.0, 1e-6))))
        samples = tuple(time_once(fn)[1] for _ in range(max(1, runs)))
    return Timing(median(samples), len(samples), warmup, used, samples)


def time_interleaved(fns: dict[str, Callable[[], object]], runs: int = DEFAULT_RUNS, warmup: int = DEFAULT_WARMUP,
                     *, threads: int | None = None) -> dict[str, Timing]:
    """The median of each function's ``runs`` calls, measured in turns (a, b, c, a, b, c, …)."""
    with torch_threads(threads) as used:
        for _ in range(max(0, warmup)):
            for fn in fns.values():
                fn()
        samples: dict[str, list[float]] = {name: [] for name in fns}
        for _ in range(max(1, runs)):
            for name, fn in fns.items():
                samples[name].append(time_once(fn)[1])
    return {name: Timing(median(values), len(values), max(0, warmup), used, tuple(values))
            for name, values in samples.items()}
