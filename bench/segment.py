"""Segmentation time against MobileNetV2 classification time, same run, same runtime.

* **DeepLabV3-MobileNetV2 int8, 513×513** (and the ×0.5 model): one LiteRT
  invoke with one thread — as the Applications page runs it — against one
  invoke of Google's int8 **MobileNetV2 classifier**, 224×224, on the same
  runtime and thread count (``mobilenet_v2_1.0_224_quant.tflite``). The
  arithmetic ratio is 2,740.7 M / 300.8 M MACs ≈ 9.1× (float model counts,
  ``explainer.segment.backbone``; the int8 classifier has the same layers).
* **MobileNetV2 int8 on LiteRT** against the float MobileNetV2 forward in
  PyTorch (1 thread, ``1×3×224×224``): what the mobile runtime buys on this CPU.
* **a photo end to end** (prepare 513×513 + invoke + crop/map back + shares)
  against the invoke alone; **2 threads** against 1.
* **opacity slider move**: the two overlays the page redraws at preview size,
  from cached masks (no invoke), against the full model's invoke.

All timed in turns (``bench.common.interleaved_ms``). Needs the ``.tflite``
files in ``EXPLAINER_WEIGHTS_DIR`` / ``../shared/weights`` or the app's cache.
Run: ``python -m bench.segment``.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from bench.common import Figure, interleaved_ms, print_table, torch_threads
from bench.server import weights_dir


def run(repeats: int = 15) -> list[Figure]:
    from explainer.images import load_image, preview
    from explainer.litert import load_tflite
    from explainer.samples import sample_bytes
    from explainer.segment.deeplab import load_segmenter, segment_image
    from explainer.segment.masks import overlay, resize_mask
    from explainer.weights import load_pretrained

    folder = weights_dir()
    full = load_segmenter("deeplabv3_mobilenet_v2", folder, threads=1, download=False)
    half = load_segmenter("deeplabv3_mobilenet_v2_dm05", folder, threads=1, download=False)
    full2 = load_segmenter("deeplabv3_mobilenet_v2", folder, threads=2, download=False)
    classifier = load_tflite("mobilenet_v2_1.0_224_quant", folder, threads=1, download=False)
    rng = np.random.default_rng(0)
    seg_input = rng.integers(0, 256, full.input.shape, dtype=np.uint8)
    cls_input = rng.integers(0, 256, classifier.input.shape, dtype=np.uint8)

    with torch_threads(1):
        loaded = load_pretrained("mobilenet_v2", download=False, fallback=True)
        batch = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))

        def torch_forward() -> None:
            with torch.inference_mode():
                loaded.model(batch)

        data, name = sample_bytes("chelsea")
        photo = load_image(data, name, min_side=320)
        shown = preview(photo)
        masks = [resize_mask(segment_image(photo, m).mask, shown.size) for m in (full, half)]

        def opacity_move() -> None:
            for mask in masks:
                overlay(shown, mask, 0.45)

        ms = interleaved_ms({
            "seg": lambda: full.run(seg_input),
            "seg05": lambda: half.run(seg_input),
            "seg2": lambda: full2.run(seg_input),
            "cls": lambda: classifier.run(cls_input),
            "torch": torch_forward,
            "photo": lambda: segment_image(photo, full),
            "opacity": opacity_move,
        }, repeats)
    cls_name = "MobileNetV2 int8 classification invoke, 224×224 (LiteRT, 1 thread)"
    seg_name = "DeepLabV3-MobileNetV2 int8 invoke, 513×513 (LiteRT, 1 thread)"
    return [
        Figure(f"segment: {seg_name}", ms["seg"], cls_name, ms["cls"]),
        Figure("segment: DeepLabV3-MobileNetV2 ×0.5 int8 invoke, 513×513 (LiteRT, 1 thread)", ms["seg05"],
               cls_name, ms["cls"]),
        Figure(f"segment: {seg_name}", ms["seg"], "MobileNetV2 float forward, 1×3×224×224 (PyTorch, 1 thread)",
               ms["torch"]),
        Figure("segment: MobileNetV2 int8 classification invoke (LiteRT, 1 thread)", ms["cls"],
               "MobileNetV2 float forward, 1×3×224×224 (PyTorch, 1 thread)", ms["torch"]),
        Figure(f"segment: a {photo.width}×{photo.height} photo end to end (prepare, invoke, map back, shares)",
               ms["photo"], seg_name, ms["seg"]),
        Figure("segment: DeepLabV3-MobileNetV2 int8 invoke, 2 threads", ms["seg2"], seg_name, ms["seg"]),
        Figure(f"segment: opacity slider move (two {shown.width}×{shown.height} overlays, no invoke)",
               ms["opacity"], seg_name, ms["seg"], target="ratio < 0.5", ok=ms["opacity"] < 0.5 * ms["seg"]),
    ]


if __name__ == "__main__":
    print_table(run)
