"""Theory vs this machine: time a standard and a depthwise separable convolution on the CPU.

MACs predict how much arithmetic a layer needs, not how long it takes. A
depthwise convolution does very little arithmetic per byte it reads (low
arithmetic intensity), so it is limited by memory bandwidth and reaches far
fewer FLOP/s than a dense convolution; the measured speed-up of the
separable design is therefore smaller than its MAC reduction.

:func:`time_convolutions` builds the real ``torch.nn.Conv2d`` layers for the
given shape and times each with :mod:`explainer.stopwatch` (warm-up, then the median
of repeated runs) under ``torch.inference_mode()``, within a time budget of about two seconds.

Budget (a link can ask for any shape in the cost page's ranges, and a hall can
press the button at once): every tensor a timing builds — the input, the three
weight tensors, the intermediate and output maps, and the unfolded input a
convolution may use internally — is counted before anything is allocated and
must fit :data:`MAX_TIMED_BYTES` together; and one timing runs at a time per
process (:data:`TIMING_LOCK`): a second click waits up to
:data:`WAIT_SECONDS` for the first and is otherwise told to try again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import torch
from torch import nn

from explainer import costs, stopwatch
from explainer.errors import InvalidInputError

#: Shapes whose standard convolution exceeds this many MACs are not timed (too slow for ~2 s).
MAX_TIMED_MACS = 10_000_000_000
#: Activation tensors larger than this many elements are not allocated.
MAX_TIMED_ELEMENTS = 64_000_000
#: Total wall-time budget of one measurement, in seconds.
BUDGET_SECONDS = 1.6
#: All tensors of one timing together (inputs, weights, outputs, unfolded input), in bytes (float32).
MAX_TIMED_BYTES = 192 * 1024 * 1024
#: How long a click waits for another session's timing to finish before it is told to try again.
WAIT_SECONDS = 6.0
#: One timing at a time in this process: two at once would each measure half the machine and add their memory.
TIMING_LOCK = threading.Lock()


@dataclass(frozen=True)
class LayerTiming:
    """Median time of one layer and the arithmetic rate it reached."""

    median_ms: float
    macs: int
    repeats: int

    @property
    def gmacs_per_second(self) -> float:
        return self.macs / (self.median_ms / 1000.0) / 1e9 if self.median_ms > 0 else float("inf")


@dataclass(frozen=True)
class ConvTiming:
    """Measured standard vs separable convolution for one shape."""

    standard: LayerTiming
    depthwise: LayerTiming
    pointwise: LayerTiming
    threads: int

    @property
    def separable_ms(self) -> float:
        return self.depthwise.median_ms + self.pointwise.median_ms

    @property
    def measured_speedup(self) -> float:
        return self.standard.median_ms / self.separable_ms

    @property
    def mac_reduction(self) -> float:
        return self.standard.macs / (self.depthwise.macs + self.pointwise.macs)


def timed_bytes(d_k: int, m: int, n: int, d_f: int, stride: int) -> int:
    """Bytes of every float32 tensor one timing of this shape may hold at once (see the module docstring)."""
    d_g = -(-d_f // stride)
    elements = (m * d_f * d_f  # input
                + 2 * (n * m * d_k * d_k + m * d_k * d_k + n * m)  # the three weights, and the copy the
                # convolution library reorders them into (measured: peak RSS grows by about twice the weights)
                + m * d_g * d_g  # depthwise output (the pointwise input)
                + n * d_g * d_g  # one layer output at a time
                + m * d_k * d_k * d_g * d_g)  # the unfolded input of an im2col convolution
    return 4 * elements


def check_timeable(d_k: int, m: int, n: int, d_f: int, stride: int) -> None:
    """Raise :class:`InvalidInputError` when the shape is too large to time in about two seconds or would
    need more than :data:`MAX_TIMED_BYTES` of tensors."""
    macs = costs.standard_conv(d_k, m, n, d_f, stride).macs
    elements = max(m, n) * d_f * d_f
    if macs > MAX_TIMED_MACS or elements > MAX_TIMED_ELEMENTS:
        raise InvalidInputError("too_large_to_time", macs=f"{macs / 1e9:.1f}", limit=f"{MAX_TIMED_MACS / 1e9:.0f}")
    needed = timed_bytes(d_k, m, n, d_f, stride)
    if needed > MAX_TIMED_BYTES:
        raise InvalidInputError("limits.timing_memory", mb=f"{needed / 2**20:,.0f}", limit=MAX_TIMED_BYTES // 2**20)


def _time_layer(layer: nn.Module, x: torch.Tensor, budget_s: float, max_repeats: int = 25) -> tuple[float, int]:
    """Warm up once, then the median of repeats fitted into ``budget_s`` (:func:`explainer.stopwatch.time_call`);
    return (median ms, repeats)."""
    with torch.inference_mode():
        timing = stopwatch.time_call(lambda: layer(x), runs=max_repeats, budget_s=budget_s)
    return timing.median_ms, timing.runs


def time_convolutions(d_k: int, m: int, n: int, d_f: int, stride: int = 1, seed: int = 0) -> ConvTiming:
    """Time the standard convolution and the depthwise + pointwise pair for this shape on the CPU.

    Checks the shape first (nothing allocated for one that does not fit), then waits for any other timing
    of this process (at most :data:`WAIT_SECONDS`, else :class:`InvalidInputError` ``limits.timing_busy``).
    """
    check_timeable(d_k, m, n, d_f, stride)
    if not TIMING_LOCK.acquire(timeout=WAIT_SECONDS):
        raise InvalidInputError("limits.timing_busy")
    try:
        return _time_convolutions(d_k, m, n, d_f, stride, seed)
    finally:
        TIMING_LOCK.release()


def _time_convolutions(d_k: int, m: int, n: int, d_f: int, stride: int, seed: int) -> ConvTiming:
    torch.manual_seed(seed)
    pad = d_k // 2
    standard = nn.Conv2d(m, n, d_k, stride=stride, padding=pad, bias=False).eval()
    depthwise = nn.Conv2d(m, m, d_k, stride=stride, padding=pad, groups=m, bias=False).eval()
    pointwise = nn.Conv2d(m, n, 1, bias=False).eval()
    x = torch.randn(1, m, d_f, d_f)
    with torch.inference_mode():
        mid = depthwise(x)
    share = BUDGET_SECONDS / 3
    std_ms, std_reps = _time_layer(standard, x, share)
    dw_ms, dw_reps = _time_layer(depthwise, x, share)
    pw_ms, pw_reps = _time_layer(pointwise, mid, share)
    sep = costs.depthwise_separable(d_k, m, n, d_f, stride)
    return ConvTiming(
        standard=LayerTiming(std_ms, costs.standard_conv(d_k, m, n, d_f, stride).macs, std_reps),
        depthwise=LayerTiming(dw_ms, sep.depthwise.macs, dw_reps),
        pointwise=LayerTiming(pw_ms, sep.pointwise.macs, pw_reps),
        threads=torch.get_num_threads(),
    )
