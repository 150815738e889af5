"""Choosing a model: the Pareto front (best accuracy for its cost) and what fits a budget.

A model is on the **Pareto front** of accuracy vs a cost (MACs, latency, size) when no other model is both
at least as accurate and at most as costly, and strictly better in one of the two. Models without a
published accuracy or without the cost measured are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from explainer.zoo.latency import ZooRow

#: A phone's time for one of our models, as published: TensorFlow's MobileNet checkpoint table
#: (tensorflow/models, research/slim/nets/mobilenet/README.md) gives mobilenet_v2_1.0_224 73.8 ms on the
#: large CPU core of a Google Pixel 1 (TF-Lite, float). The V2 paper's Table 4 prints 75 ms for the same.
PHONE_REFERENCE = {"model": "mobilenet_v2", "ms": 73.8, "phone": "Google Pixel 1 (2016), one large core, TF-Lite",
                   "source": "tensorflow/models research/slim/nets/mobilenet README, checkpoint table"}


def pareto(rows: list[ZooRow], cost: Callable[[ZooRow], float | None]) -> list[ZooRow]:
    """The rows on the accuracy-vs-``cost`` Pareto front, cheapest first."""
    usable = [r for r in rows if r.top1 is not None and cost(r) is not None]
    front = []
    for row in usable:
        c = cost(row)
        dominated = any(
            other is not row and other.top1 >= row.top1 and cost(other) <= c  # type: ignore[operator]
            and (other.top1 > row.top1 or cost(other) < c)  # type: ignore[operator]
            for other in usable)
        if not dominated:
            front.append(row)
    return sorted(front, key=lambda r: cost(r))  # type: ignore[arg-type, return-value]


@dataclass(frozen=True)
class Choice:
    """What fits a budget: the fitting rows (most accurate first) and the best of them."""

    fitting: tuple[ZooRow, ...]
    unmeasured: tuple[ZooRow, ...]  # latency not measured yet (cannot be judged against a time budget)

    @property
    def best(self) -> ZooRow | None:
        return self.fitting[0] if self.fitting else None


def within_budget(rows: list[ZooRow], max_latency_ms: float | None = None, max_size_mb: float | None = None,
                  int8: bool = False) -> Choice:
    """Rows whose measured latency and (float32 or int8) size are within the budgets, most accurate first."""
    fitting, unmeasured = [], []
    for row in rows:
        size = row.int8_size_mb if int8 else row.size_mb
        if max_size_mb is not None and size > max_size_mb:
            continue
        if max_latency_ms is not None:
            if row.latency_ms is None:
                unmeasured.append(row)
                continue
            if row.latency_ms > max_latency_ms:
                continue
        fitting.append(row)
    fitting.sort(key=lambda r: (-(r.top1 if r.top1 is not None else -1.0), r.macs))
    return Choice(tuple(fitting), tuple(unmeasured))


def phone_factor(rows: list[ZooRow]) -> float | None:
    """The V2 paper's phone time of MobileNetV2 divided by this machine's measured time (``None`` until measured)."""
    for row in rows:
        if row.model == PHONE_REFERENCE["model"] and row.latency_ms:
            return PHONE_REFERENCE["ms"] / row.latency_ms
    return None
