"""int8 MobileNetV2 against float32, same run: file size, batch-1 latency, Google's .tflite on LiteRT.

* **size**: bytes of ``torch.save(state_dict)`` of our int8 model (per-channel weights,
  histogram observer, calibrated on the bundled sample photos) against the float32 model's.
  Target (issue 12): at most 0.30 of float.
* **latency**: batch-1 forward of the int8 model (PyTorch x86 int8 kernels) against the float32
  model on the same ``1×3×224×224`` tensor, 1 intra-op thread, measured in turns.
  Target: at most 0.75 of float.
* **Google**: one LiteRT invoke of ``mobilenet_v2_1.0_224_quant.tflite`` (1 thread) in the same
  turns; skipped when LiteRT or the file is missing.
* **quantize**: what the Compression page does once per setting (fuse, calibrate, convert).

Run: ``python -m bench.quant``.
"""

from __future__ import annotations

import time

import torch

from bench.common import Figure, interleaved_ms, print_table, torch_threads

TARGET_SIZE_RATIO = 0.30
TARGET_LATENCY_RATIO = 0.75


def run(repeats: int = 30, threads: int = 1) -> list[Figure]:
    from explainer.images import WORKING_MIN_SIDE, load_image
    from explainer.quant.compare import batch_of
    from explainer.quant.ptq import QuantSettings, quantize, state_dict_bytes
    from explainer.quant.toolchain import quiet
    from explainer.samples import available_samples, sample_bytes
    from explainer.weights import load_pretrained

    with torch_threads(threads):
        loaded = load_pretrained("mobilenet_v2", download=False, fallback=True)
        images = [load_image(sample_bytes(k)[0], k, min_side=WORKING_MIN_SIDE) for k in available_samples()]
        calibration = batch_of(images, loaded)
        x = torch.zeros(1, 3, 224, 224)

        def bare() -> None:
            with torch.inference_mode():
                loaded.model(x)

        start = time.perf_counter()
        quantized = quantize(loaded.model, calibration, QuantSettings("per-channel", "histogram"))
        quantize_ms = (time.perf_counter() - start) * 1000.0
        int8_model = quantized.model

        def int8() -> None:
            with torch.inference_mode(), quiet():
                int8_model(x)

        fns = {"fp32": bare, "int8": int8}
        google = None
        try:
            import numpy as np

            from explainer.litert import load_tflite
            from explainer.quant.google import GOOGLE_MODEL

            import os

            from bench.server import SHARED

            folder = None if os.environ.get("EXPLAINER_WEIGHTS_DIR") else SHARED / "weights"
            google = load_tflite(GOOGLE_MODEL, folder if folder is not None and folder.is_dir() else None,
                                 download=False, threads=threads)
            pixels = np.full(google.input.shape, 128, np.uint8)
            fns["google"] = lambda: google.run(pixels)
        except Exception:  # noqa: BLE001 - no LiteRT or no file: that figure is left out
            google = None
        ms = interleaved_ms(fns, repeats)
        fp32_bytes, int8_bytes = state_dict_bytes(loaded.model), state_dict_bytes(int8_model)
        figures = [
            Figure("int8 MobileNetV2 state dict (per-channel, torch.save)", int8_bytes / 2**20,
                   "float32 MobileNetV2 state dict", fp32_bytes / 2**20, unit="MB",
                   target=f"ratio <= {TARGET_SIZE_RATIO:g} ({int8_bytes:,} / {fp32_bytes:,} B)",
                   ok=int8_bytes <= TARGET_SIZE_RATIO * fp32_bytes),
            Figure(f"int8 MobileNetV2 forward, batch 1, {threads} thread (x86 int8 kernels)", ms["int8"],
                   f"float32 MobileNetV2 forward, batch 1, {threads} thread", ms["fp32"],
                   target=f"ratio <= {TARGET_LATENCY_RATIO:g}", ok=ms["int8"] <= TARGET_LATENCY_RATIO * ms["fp32"]),
            Figure(f"quantize MobileNetV2 (fuse, calibrate on {calibration.shape[0]} photos, convert)", quantize_ms,
                   "float32 MobileNetV2 forward, batch 1", ms["fp32"]),
        ]
        if google is not None:
            figures.insert(2, Figure(f"Google int8 MobileNetV2 .tflite, LiteRT invoke, {threads} thread",
                                     ms["google"], f"float32 MobileNetV2 forward, batch 1, {threads} thread",
                                     ms["fp32"]))
            figures.insert(1, Figure("Google int8 MobileNetV2 .tflite file", google.size_bytes / 2**20,
                                     "float32 MobileNetV2 state dict", fp32_bytes / 2**20, unit="MB"))
    return figures


if __name__ == "__main__":
    print_table(run)
