"""Measured forward time of every registered model on this CPU, and the zoo table.

Each model is timed as a student would run it: batch 1, 3×224×224, ``torch.inference_mode()``, eval mode,
random weights (the arithmetic, and so the time, does not depend on the values), timed by
:mod:`explainer.stopwatch`: a few warm-up passes, then the **median** of ``repeats`` passes. ``threads`` sets PyTorch's intra-op threads for the measurement (the
command line); the app keeps its own setting (one thread per forward pass, :mod:`explainer.threads`).

Other work on the machine makes absolute times noisy; ratios measured in one run (ms per GMAC of one model
against another) are the robust figure. :class:`BackgroundZoo` measures all models once per process in a
background thread so a page can show the table while it fills.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from explainer import registry, stopwatch
from explainer.zoo.network import count_network

RESOLUTION = 224
DEFAULT_REPEATS = stopwatch.DEFAULT_RUNS
DEFAULT_WARMUP = 2


@dataclass(frozen=True)
class Latency:
    """The median forward time of one model."""

    model: str
    median_ms: float
    threads: int
    repeats: int


def measure(model: str, threads: int | None = None, repeats: int = DEFAULT_REPEATS,
            warmup: int = DEFAULT_WARMUP) -> Latency:
    """Median milliseconds of one batch-1 forward pass of ``model`` at 224×224 (see the module docstring)."""
    import torch

    registry.get(model)
    with stopwatch.torch_threads(threads):
        net = registry.build(model, seed=0)
        x = torch.randn(1, 3, RESOLUTION, RESOLUTION, generator=torch.Generator().manual_seed(0))
        with torch.inference_mode():
            timing = stopwatch.time_call(lambda: net(x), runs=repeats, warmup=warmup)
    return Latency(model, timing.median_ms, timing.threads, timing.runs)


@dataclass(frozen=True)
class ZooRow:
    """One model in the zoo table (the JSON keys of ``python -m explainer zoo --json``)."""

    model: str
    display: str
    family: str
    macs: int
    total_params: int
    size_mb: float  # float32 weights + buffers, MB
    int8_size_mb: float  # estimate (see explainer.zoo.network.CountedNetwork.int8_size_mb)
    top1: float | None
    top1_source: str
    reference: bool
    latency_ms: float | None = None
    threads: int | None = None

    @property
    def gmacs(self) -> float:
        return self.macs / 1e9

    @property
    def ms_per_gmac(self) -> float | None:
        return None if self.latency_ms is None else self.latency_ms / self.gmacs

    def as_dict(self) -> dict[str, object]:
        return {"model": self.model, "display": self.display, "family": self.family, "macs": self.macs,
                "total_params": self.total_params, "size_mb": round(self.size_mb, 3),
                "int8_size_mb": round(self.int8_size_mb, 3), "top1": self.top1, "top1_source": self.top1_source,
                "latency_ms": self.latency_ms, "threads": self.threads, "ms_per_gmac": self.ms_per_gmac}


def static_row(model: str) -> ZooRow:
    """Everything but the latency (exact counts at 224×224, sizes, published top-1): instant, no timing."""
    spec = registry.get(model)
    net = count_network(model, RESOLUTION)
    return ZooRow(model, spec.display, spec.family, net.macs, net.total_params, net.size_mb, net.int8_size_mb,
                  spec.top1, spec.top1_source, spec.reference)


def with_latency(row: ZooRow, latency: Latency | None) -> ZooRow:
    if latency is None:
        return row
    from dataclasses import replace

    return replace(row, latency_ms=latency.median_ms, threads=latency.threads)


def zoo_rows(models: tuple[str, ...] | None = None, threads: int | None = None, repeats: int = DEFAULT_REPEATS,
             progress=None) -> list[ZooRow]:
    """The zoo table with every latency measured now; ``progress(done, total, model)`` after each model."""
    names = models or registry.MODEL_NAMES
    rows = []
    for index, name in enumerate(names):
        rows.append(with_latency(static_row(name), measure(name, threads, repeats)))
        if progress is not None:
            progress(index + 1, len(names), name)
    return rows


def cheapest_first(models: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """Models in order of MACs (the fast ones are measured first, so a table fills quickly)."""
    names = models or registry.MODEL_NAMES
    return tuple(sorted(names, key=lambda name: count_network(name, RESOLUTION).macs))


@dataclass
class BackgroundZoo:
    """Measures this machine's roofs, then every model's latency, once, in a daemon thread.

    ``start()`` is idempotent; :meth:`snapshot` returns the latencies measured so far and :attr:`machine` the
    roofs (``None`` until measured). One instance per process (the app keeps it with ``st.cache_resource``), so
    many visitors never measure twice. Everything runs one after the other in the one thread, so the
    measurements do not compete with each other (they still share the CPU with everything else).
    """

    repeats: int = DEFAULT_REPEATS
    order: tuple[str, ...] = field(default_factory=cheapest_first)
    measure_roofs: bool = True
    threads: int | None = None  # intra-op threads in the worker (the app passes its own setting)
    machine: object | None = None  # explainer.zoo.roofline.Machine once measured
    error: str | None = None
    _results: dict[str, Latency] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _roofs_done: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="zoo-latency", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop after the model being measured (tests; a server shutting down)."""
        self._stop.set()

    def _run(self) -> None:
        try:
            if self.threads is not None:
                import torch

                if torch.get_num_threads() != self.threads:
                    torch.set_num_threads(self.threads)
            if self.measure_roofs:
                from explainer.zoo.roofline import measure_machine

                self.machine = measure_machine()
            self._roofs_done.set()
            for name in self.order:
                if self._stop.is_set():
                    return
                result = measure(name, self.threads, self.repeats)
                with self._lock:
                    self._results[name] = result
        except Exception as error:  # noqa: BLE001 - reported on the page, the app keeps working
            self.error = f"{type(error).__name__}: {error}"
        finally:
            self._roofs_done.set()

    def snapshot(self) -> dict[str, Latency]:
        with self._lock:
            return dict(self._results)

    @property
    def total(self) -> int:
        return len(self.order)

    @property
    def done(self) -> bool:
        return len(self.snapshot()) == self.total or self.error is not None or self._stop.is_set()

    def wait_roofs(self, timeout: float | None = None) -> object | None:
        """The machine's roofs, waiting up to ``timeout`` seconds for their measurement."""
        self._roofs_done.wait(timeout)
        return self.machine

    def wait(self, timeout: float | None = None) -> bool:
        """Block until all models are measured (tests, the command line); ``True`` when done."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.done
