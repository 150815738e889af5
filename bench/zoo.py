"""The lightweight family on this machine: roofs, per-model latency and ms per GMAC, where V2's layers fall.

* **roofs**: peak float32 GFLOP/s (best of 512² and 1024² matrix products) and memory bandwidth (a 128 MB copy),
  at 1 thread against all threads (:mod:`explainer.zoo.roofline`);
* **latency**: every registered model, batch 1, 224×224, random weights, warm, median of ``repeats`` passes, all
  models measured **in turns** (a, b, c, …, a, b, c, …) so that load from other processes falls on all alike;
  at 1 thread against all threads;
* **ms per GMAC** of each model against VGG-16's in the same run — target: ShuffleNet V2 0.5× several (≥ 3) times
  VGG-16's (MACs are not time);
* **MobileNetV2 on the roofline**: its depthwise layers' intensity and measured rate against the ridge point and
  VGG-16's 3×3 convolutions.

Run: ``python -m bench.zoo`` (about 1–3 minutes; longer on a busy machine).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):  # `python bench/zoo.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from bench.common import Figure, interleaved_ms

TARGET_SHUFFLE_VS_VGG = 3.0


def _latencies(models: dict, x: torch.Tensor, repeats: int) -> dict[str, float]:
    def forward(model):
        def call() -> None:
            with torch.inference_mode():
                model(x)
        return call

    return interleaved_ms({name: forward(model) for name, model in models.items()}, repeats, warmup=2)


def run(quick: bool = False) -> list[Figure]:
    from explainer import registry
    from explainer.zoo.network import count_network
    from explainer.zoo.roofline import measure_machine, roofline_points, summarise, time_layers

    repeats = 3 if quick else 10
    default_threads = torch.get_num_threads()
    figures: list[Figure] = []
    try:
        torch.set_num_threads(1)
        one = measure_machine()
        torch.set_num_threads(default_threads)
        every = measure_machine()
        figures += [
            Figure(f"peak float32 matmul, {every.threads} threads", every.peak_gflops,
                   "peak float32 matmul, 1 thread", one.peak_gflops, unit="GFLOP/s"),
            Figure(f"memory bandwidth (128 MB copy), {every.threads} threads", every.bandwidth_gbs,
                   "memory bandwidth, 1 thread", one.bandwidth_gbs, unit="GB/s"),
            Figure("ridge point, 1 thread (MACs per byte)", one.ridge, "ridge point, all threads", every.ridge,
                   unit="MAC/B"),
        ]

        models = {name: registry.build(name, seed=0) for name in registry.MODEL_NAMES}
        x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
        torch.set_num_threads(1)
        single = _latencies(models, x, repeats)
        torch.set_num_threads(default_threads)
        multi = _latencies(models, x, max(2, repeats // 2))
        gmacs = {name: count_network(name).macs / 1e9 for name in models}
        per_gmac = {name: single[name] / gmacs[name] for name in models}
        for name in models:
            figures.append(Figure(f"{name} forward (batch 1, 224², 1 thread)", single[name],
                                  f"{name}, {default_threads} threads", multi[name]))
        for name in models:
            ratio_target = name == "shufflenet_v2_x0_5"
            figures.append(Figure(
                f"{name} ms per GMAC (1 thread)", per_gmac[name], "vgg16 ms per GMAC (1 thread)", per_gmac["vgg16"],
                unit="ms/GMAC", target=f"ratio >= {TARGET_SHUFFLE_VS_VGG:g}" if ratio_target else "",
                ok=per_gmac[name] >= TARGET_SHUFFLE_VS_VGG * per_gmac["vgg16"] if ratio_target else None))

        torch.set_num_threads(1)
        v2 = roofline_points(count_network("mobilenet_v2"), one, time_layers("mobilenet_v2", repeats=repeats))
        vgg = roofline_points(count_network("vgg16"), one, time_layers("vgg16", repeats=max(2, repeats // 3)))
        kinds = {s.kind: s for s in summarise(v2)}
        vgg3 = [p for p in vgg if p.kind == "standard"]
        dw = kinds["depthwise"]
        pw = kinds["pointwise"]
        figures += [
            Figure("MobileNetV2 depthwise layers left of the ridge (memory-bound)", dw.memory_bound,
                   "MobileNetV2 depthwise layers", dw.layers, unit=""),
            Figure("MobileNetV2 1×1 layers left of the ridge", pw.memory_bound, "MobileNetV2 1×1 layers", pw.layers,
                   unit=""),
            Figure("MobileNetV2 depthwise: highest intensity (MACs per byte)", dw.max_intensity,
                   "ridge point, 1 thread", one.ridge, unit="MAC/B"),
            Figure("MobileNetV2 depthwise: median measured rate (1 thread)", dw.median_gmacs or float("nan"),
                   "VGG-16 3×3 convolutions: median measured rate", statistics.median(
                       p.measured_gmacs for p in vgg3 if p.measured_gmacs), unit="GMAC/s"),
            Figure("MobileNetV2 1×1: median measured rate (1 thread)", pw.median_gmacs or float("nan"),
                   "peak (matmul), 1 thread", one.peak_gmacs, unit="GMAC/s"),
            Figure("VGG-16 3×3 convolutions right of the ridge (compute-bound)",
                   sum(p.bound == "compute" for p in vgg3), "VGG-16 3×3 convolutions", len(vgg3), unit=""),
        ]
    finally:
        torch.set_num_threads(default_threads)
    return figures


if __name__ == "__main__":
    from bench.run import table

    print(table(run(quick="--quick" in sys.argv), markdown="--markdown" in sys.argv))
