"""The roofline: why a depthwise layer is slower than its MACs say.

A layer that does ``I`` MACs for every byte it moves (its arithmetic intensity, :mod:`explainer.zoo.network`)
can run at most ``min(peak, bandwidth × I)`` MACs per second (Williams, Waterman & Patterson, "Roofline",
CACM 2009): below the **ridge point** ``I* = peak / bandwidth`` memory is the limit, above it arithmetic.
This module measures the two roofs of this machine and places a network's layers under them:

* **peak** — the rate of float32 matrix multiplications (``n×n @ n×n`` for n = 512 and 1024:
  2·n³ FLOPs = n³ MACs; each timed by :mod:`explainer.stopwatch`, the median of repeated runs; the faster of
  both sizes, since a smaller product that fits in cache often runs faster);
* **bandwidth** — the rate of a large tensor copy (the stopwatch's median) (128 MB; reads and writes ``2 × size`` bytes). A layer
  whose tensors fit in the caches can beat this roof: it is the roof of main memory.
* each layer's **measured** rate — its median time in repeated forward passes of the whole network
  (a forward hook pair around every convolution and linear layer; the hooks cost a few microseconds, which
  matters only for the tiniest layers).

Rates are given in GMAC/s (1 MAC = 2 FLOPs; the peak is also quoted in GFLOP/s). All use the same number of
threads (``torch.get_num_threads()`` at the time of measuring).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from explainer import stopwatch
from explainer.zoo.network import MEMORY_KINDS, CountedNetwork

#: Matrix sizes of the peak measurement and element count of the copy (128 MB of float32).
MATMUL_SIZES = (512, 1024)
COPY_ELEMENTS = 32 * 2**20


@dataclass(frozen=True)
class Machine:
    """This machine's two roofs at ``threads`` threads."""

    peak_gflops: float  # float32 FLOP/s of a large matmul, in 10⁹
    bandwidth_gbs: float  # bytes/s of a large copy (read + write), in 10⁹
    threads: int

    @property
    def peak_gmacs(self) -> float:
        return self.peak_gflops / 2

    @property
    def ridge(self) -> float:
        """The ridge point in MACs per byte: below it a layer is memory-bound."""
        return self.peak_gmacs / self.bandwidth_gbs

    def roof(self, intensity: float) -> float:
        """The attainable GMAC/s at ``intensity`` MACs per byte."""
        return min(self.peak_gmacs, self.bandwidth_gbs * intensity)

    def as_dict(self) -> dict[str, float]:
        return {"peak_gflops": self.peak_gflops, "peak_gmacs": self.peak_gmacs, "bandwidth_gbs": self.bandwidth_gbs,
                "ridge_macs_per_byte": self.ridge, "threads": self.threads}


def _seconds(fn, repeats: int, warmup: int = 1) -> float:
    """The stopwatch's median of ``repeats`` calls (:mod:`explainer.stopwatch`), in seconds."""
    return stopwatch.time_call(fn, runs=repeats, warmup=warmup).median_ms / 1000.0


def measure_peak_gflops(sizes: tuple[int, ...] = MATMUL_SIZES, repeats: int = 5) -> float:
    """Best float32 GFLOP/s of ``n×n @ n×n`` (2·n³ FLOPs) over ``repeats`` runs of each size in ``sizes``."""
    import torch

    gen = torch.Generator().manual_seed(0)
    best = 0.0
    for n in sizes:
        a, b = torch.randn(n, n, generator=gen), torch.randn(n, n, generator=gen)
        out = torch.empty(n, n)
        with torch.inference_mode():
            seconds = _seconds(lambda: torch.mm(a, b, out=out), repeats)
        best = max(best, 2 * n**3 / seconds / 1e9)
    return best


def measure_bandwidth_gbs(elements: int = COPY_ELEMENTS, repeats: int = 5) -> float:
    """Best GB/s of copying ``elements`` float32 values (bytes read + bytes written) over ``repeats`` runs."""
    import torch

    src = torch.ones(elements)
    dst = torch.empty(elements)
    with torch.inference_mode():
        seconds = _seconds(lambda: dst.copy_(src), repeats)
    return 2 * elements * 4 / seconds / 1e9


def measure_machine(repeats: int = 5) -> Machine:
    """Both roofs, at the current number of PyTorch threads (about a second)."""
    import torch

    return Machine(measure_peak_gflops(repeats=repeats), measure_bandwidth_gbs(repeats=repeats),
                   torch.get_num_threads())


def time_layers(model: str, resolution: int = 224, repeats: int = 7) -> dict[str, float]:
    """Median milliseconds of every convolution and linear layer of ``model`` (random weights, batch 1).

    One CPU instance of the model is built for the measurement (never a shared one); each repeat is one whole
    forward pass with a pre/post hook pair around every layer; the first pass is a warm-up.
    """
    import torch
    from torch import nn

    from explainer import registry

    net = registry.build(model, seed=0)
    names = {module: name for name, module in net.named_modules()}
    samples: dict[str, list[float]] = {}
    starts: dict[int, float] = {}

    def before(module, inputs):
        starts[id(module)] = time.perf_counter()

    def after(module, inputs, output):
        samples.setdefault(names[module], []).append((time.perf_counter() - starts[id(module)]) * 1000.0)

    handles = []
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            handles += [module.register_forward_pre_hook(before), module.register_forward_hook(after)]
    x = torch.randn(1, 3, resolution, resolution, generator=torch.Generator().manual_seed(0))
    try:
        with torch.inference_mode():
            net(x)
            samples.clear()
            for _ in range(repeats):
                net(x)
    finally:
        for handle in handles:
            handle.remove()
    return {name: stopwatch.median(values) for name, values in samples.items()}


@dataclass(frozen=True)
class RooflinePoint:
    """One layer under the roofs."""

    name: str
    kind: str
    macs: int
    bytes_moved: int
    intensity: float  # MACs per byte
    roof_gmacs: float  # what the roofs allow at this intensity
    bound: str  # "memory" (left of the ridge) or "compute"
    measured_ms: float | None = None

    @property
    def measured_gmacs(self) -> float | None:
        if not self.measured_ms:
            return None
        return self.macs / (self.measured_ms / 1000.0) / 1e9

    @property
    def roof_fraction(self) -> float | None:
        """Measured rate / roof (how close the layer comes to what the machine allows)."""
        rate = self.measured_gmacs
        return None if rate is None else rate / self.roof_gmacs

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "kind": self.kind, "macs": self.macs, "bytes_moved": self.bytes_moved,
                "intensity": self.intensity, "roof_gmacs": self.roof_gmacs, "bound": self.bound,
                "measured_ms": self.measured_ms, "measured_gmacs": self.measured_gmacs}


def roofline_points(network: CountedNetwork, machine: Machine,
                    timings: dict[str, float] | None = None) -> list[RooflinePoint]:
    """Every computing layer of ``network`` (the 0-MAC copies have no place on the plot) under ``machine``'s roofs."""
    timings = timings or {}
    points = []
    for layer in network.layers:
        if layer.kind in MEMORY_KINDS or layer.macs == 0:
            continue
        intensity = layer.intensity
        points.append(RooflinePoint(layer.name, layer.kind, layer.macs, layer.bytes_moved, intensity,
                                    machine.roof(intensity), "memory" if intensity < machine.ridge else "compute",
                                    timings.get(layer.name)))
    return points


@dataclass(frozen=True)
class KindSummary:
    """Where one kind of layer falls: count, intensity range, share left of the ridge, median fraction of roof."""

    kind: str
    layers: int
    min_intensity: float
    max_intensity: float
    memory_bound: int
    macs: int
    median_gmacs: float | None


def summarise(points: list[RooflinePoint]) -> list[KindSummary]:
    """Per layer kind: how many layers sit left of the ridge (memory-bound) and their median measured rate."""
    out = []
    for kind in sorted({p.kind for p in points}):
        chosen = [p for p in points if p.kind == kind]
        rates = [p.measured_gmacs for p in chosen if p.measured_gmacs is not None]
        out.append(KindSummary(kind, len(chosen), min(p.intensity for p in chosen),
                               max(p.intensity for p in chosen), sum(p.bound == "memory" for p in chosen),
                               sum(p.macs for p in chosen), stopwatch.median(rates) if rates else None))
    return out
