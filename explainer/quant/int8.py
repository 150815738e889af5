"""The arithmetic of int8: scales, rounding, the error it makes — written out, so students can read it.

Conventions (the same in the app, the CLI and the tests):

* **Weights** are quantized *symmetrically* to ``qint8``: ``q = clamp(round(w / s), −128, 127)``,
  ``ŵ = s · q``, with ``s = max|w| / 127.5`` — PyTorch's symmetric observers
  (``MinMaxObserver`` / ``PerChannelMinMaxObserver`` with ``qint8``) compute the same scale.
  **Per-tensor**: one ``s`` for the whole weight tensor. **Per-channel**: one ``s`` for each
  output channel (axis 0).
* **Activations** are quantized *affinely* to ``quint8`` over the observed ``[min, max]``
  (always including 0): ``s = (max − min) / 255``, ``z = round(−min / s)``.
* **SQNR** (signal-to-quantization-noise ratio) of an output ``y`` and its quantized version
  ``ŷ``: ``10·log10(Σy² / Σ(y − ŷ)²)`` in dB. Every 6 dB is one more bit of precision; 8 bits
  at best give about 48 dB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

SCHEMES: tuple[str, ...] = ("per-channel", "per-tensor")
QMIN, QMAX = -128, 127
#: Smallest scale used (an all-zero channel would otherwise divide by zero); PyTorch uses float32 eps.
EPS = float(torch.finfo(torch.float32).eps)


def weight_scales(weight: torch.Tensor, scheme: str) -> torch.Tensor:
    """The symmetric int8 scale(s) of ``weight``: one number (per-tensor) or one per output channel."""
    if scheme == "per-tensor":
        top = weight.detach().abs().max()
    elif scheme == "per-channel":
        top = weight.detach().abs().reshape(weight.shape[0], -1).amax(dim=1)
    else:
        raise ValueError(f"unknown scheme {scheme!r}")
    return torch.clamp(top / ((QMAX - QMIN) / 2), min=EPS)


def quantize_weight(weight: torch.Tensor, scheme: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(q, scales)``: the int8 integers of ``weight`` (as ``torch.int8``) and their scale(s)."""
    scales = weight_scales(weight, scheme)
    shaped = scales if scheme == "per-tensor" else scales.reshape(-1, *([1] * (weight.dim() - 1)))
    # Like PyTorch's kernels: multiply by the float32 inverse scale, round half to even. The largest weight
    # lands on ±127.5, so the exact rounding path decides between 127 and 128.
    inverse = 1.0 / shaped.float()
    q = torch.clamp(torch.round(weight.detach().float() * inverse), QMIN, QMAX).to(torch.int8)
    return q, scales


def fake_quantize_weight(weight: torch.Tensor, scheme: str) -> torch.Tensor:
    """``weight`` rounded to int8 and back to float (what the int8 model computes with)."""
    q, scales = quantize_weight(weight, scheme)
    shaped = scales if scheme == "per-tensor" else scales.reshape(-1, *([1] * (weight.dim() - 1)))
    return q.to(weight.dtype) * shaped


def fake_quantize_activation(x: torch.Tensor, low: float | None = None, high: float | None = None) -> torch.Tensor:
    """``x`` rounded to 256 levels over ``[low, high]`` (default: its own min/max, widened to include 0)."""
    low = min(float(x.min()) if low is None else low, 0.0)
    high = max(float(x.max()) if high is None else high, 0.0)
    scale = max((high - low) / 255.0, EPS)
    zero = round(-low / scale)
    return (torch.clamp(torch.round(x / scale) + zero, 0, 255) - zero) * scale


def sqnr_db(reference: torch.Tensor, approx: torch.Tensor) -> float:
    """Signal-to-quantization-noise ratio of ``approx`` against ``reference`` in dB (``inf`` when equal)."""
    signal = float(reference.double().pow(2).sum())
    noise = float((reference.double() - approx.double()).pow(2).sum())
    if noise == 0.0:
        return math.inf
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


@dataclass(frozen=True)
class WeightStats:
    """What the layer view shows about one weight tensor."""

    counts: list[int]  # histogram of all weight values
    edges: list[float]  # len(counts) + 1 bin edges
    channel_min: list[float]  # per output channel
    channel_max: list[float]
    per_tensor_scale: float
    per_channel_scales: list[float]

    @property
    def range_ratio(self) -> float:
        """Largest over smallest per-channel max|w| among channels that are not all zero
        (an all-zero channel is exact in int8; the others must share the scale)."""
        spans = np.maximum(np.abs(self.channel_min), np.abs(self.channel_max))
        alive = spans[spans > 0]
        return float(alive.max() / alive.min()) if alive.size else 1.0

    @property
    def levels_used_min(self) -> int:
        """Integer levels the weakest channel gets under one per-tensor scale (of 255)."""
        spans = np.maximum(np.abs(self.channel_min), np.abs(self.channel_max))
        return int(2 * math.floor(float(spans.min()) / self.per_tensor_scale + 0.5) + 1)


def weight_stats(weight: torch.Tensor, bins: int = 80) -> WeightStats:
    """Histogram, per-channel min/max and both kinds of scales of ``weight``."""
    w = weight.detach().double()
    flat = w.reshape(w.shape[0], -1)
    counts, edges = np.histogram(w.numpy().ravel(), bins=bins)
    return WeightStats(
        counts=[int(c) for c in counts],
        edges=[float(e) for e in edges],
        channel_min=[float(v) for v in flat.amin(dim=1)],
        channel_max=[float(v) for v in flat.amax(dim=1)],
        per_tensor_scale=float(weight_scales(weight.detach().float(), "per-tensor")),
        per_channel_scales=[float(s) for s in weight_scales(weight.detach().float(), "per-channel")],
    )
