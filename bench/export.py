"""ExecuTorch ``.pte`` (XNNPACK delegate) against eager PyTorch, same run: time per photo, file size, export time.

* **time**: the ``.pte`` run by ExecuTorch's runtime in this process (its pool reset to 1 thread) against
  eager PyTorch (1 intra-op thread) on the same ``1×3×224×224`` input, measured in turns — the
  measurement :func:`explainer.deploy.pte.export_and_measure` makes for the page and the command line;
* **size**: bytes of the ``.pte`` against the float32 ``.pte``;
* **export**: capture + (int8: calibrate on the sample photos) + lower + serialize, once per setting.

MobileNetV2 α = 1.0 at 224 with the shared weights (random weights when they are missing: the timings do
not depend on them), float32 and int8. Run: ``python -m bench.export``.
"""

from __future__ import annotations

import os

from bench.common import Figure, print_table, torch_threads


def run(repeats: int = 30, threads: int = 1) -> list[Figure]:
    from explainer.deploy import pte as deploy
    from explainer.images import WORKING_MIN_SIDE, load_image
    from explainer.samples import available_samples, sample_bytes

    if not deploy.executorch_available():
        print("ExecuTorch is not installed: the export figures are left out")
        return []
    from bench.server import SHARED

    folder = None if os.environ.get("EXPLAINER_WEIGHTS_DIR") else SHARED / "weights"
    with torch_threads(threads):
        keys = list(available_samples())
        images = [load_image(sample_bytes(k)[0], k, min_side=WORKING_MIN_SIDE) for k in keys]
        results = {}
        for dtype in deploy.DTYPES:
            settings = deploy.check_settings(width=1.0, resolution=224, dtype=dtype)
            network = deploy.load_network(settings, folder if folder is not None and folder.is_dir() else None,
                                          download=False)
            results[dtype] = deploy.export_and_measure(network, settings, network.batch(images), keys, runs=repeats)
    fp32, int8 = results["float32"], results["int8"]
    figures = []
    for dtype, result in results.items():
        m = result.measurement
        figures.append(Figure(
            f"{dtype} MobileNetV2 .pte (ExecuTorch + XNNPACK), 1 photo, {m.runtime_threads} thread",
            m.latency_ms, f"eager PyTorch float32 forward, {m.threads} thread, same run", m.eager_latency_ms,
            target=f"top-1 as eager on {m.agreeing}/{len(m.photos)} samples, max |Δlogit| {m.max_abs_diff:.2g}"))
    figures.append(Figure("int8 MobileNetV2 .pte file", int8.exported.size_bytes / 2**20,
                          "float32 MobileNetV2 .pte file", fp32.exported.size_bytes / 2**20, unit="MB"))
    for dtype, result in results.items():
        figures.append(Figure(f"export {dtype} MobileNetV2 to .pte (capture, lower, serialize)",
                              result.exported.seconds * 1000.0, f"{dtype} .pte, 1 photo",
                              result.measurement.latency_ms))
    return figures


if __name__ == "__main__":
    print_table(run)
