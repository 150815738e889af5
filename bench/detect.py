"""Detection time beside classification and segmentation time, same run, same runtime.

* **SSD-MobileNetV1 ×0.75 int8, 300×300**: one LiteRT invoke with one thread —
  as the Applications page runs it — against one invoke of Google's int8
  **MobileNetV2 classifier** (224×224) and of **DeepLabV3-MobileNetV2** (513×513)
  on the same runtime and thread count. Arithmetic (float networks,
  ``explainer.segment.backbone``): 300.8 M, 728.0 M and 2,740.7 M MACs.
* **one photo through three tasks** (:func:`explainer.detect.tasks.three_tasks`,
  what the page's button runs) against the detection invoke.
* **a photo end to end** (stretch to 300×300 + invoke + boxes mapped back) against
  the invoke alone; **2 threads** against 1.
* **threshold slider move**: the boxes redrawn on the preview from cached detections
  (no invoke), against the invoke.

All timed in turns (``bench.common.interleaved_ms``). Needs the ``.tflite`` files in
``EXPLAINER_WEIGHTS_DIR`` / ``../shared/weights`` or the app's cache.
Run: ``python -m bench.detect``.
"""

from __future__ import annotations

import numpy as np

from bench.common import Figure, interleaved_ms, print_table
from bench.server import weights_dir


def run(repeats: int = 15) -> list[Figure]:
    from explainer.detect.detector import detect_image, load_detector
    from explainer.detect.tasks import three_tasks
    from explainer.figures.detect import draw_boxes
    from explainer.images import load_image, preview
    from explainer.litert import load_tflite
    from explainer.samples import sample_bytes
    from explainer.segment.deeplab import load_segmenter

    folder = weights_dir()
    detector = load_detector(folder, threads=1, download=False)
    detector2 = load_detector(folder, threads=2, download=False)
    classifier = load_tflite("mobilenet_v2_1.0_224_quant", folder, threads=1, download=False)
    segmenter = load_segmenter("deeplabv3_mobilenet_v2", folder, threads=1, download=False)
    rng = np.random.default_rng(0)
    inputs = {name: rng.integers(0, 256, m.input.shape, dtype=np.uint8)
              for name, m in (("det", detector.model), ("cls", classifier), ("seg", segmenter))}
    data, name = sample_bytes("chelsea")
    photo = load_image(data, name, min_side=320)
    shown = preview(photo)
    result = detect_image(photo, detector)
    sx, sy = shown.width / photo.width, shown.height / photo.height

    def threshold_move() -> None:
        found = result.above(0.3)
        draw_boxes(shown, [(d.box[0] * sx, d.box[1] * sy, d.box[2] * sx, d.box[3] * sy) for d in found],
                   [f"{d.label} {d.score:.2f}" for d in found], [d.index for d in found])

    ms = interleaved_ms({
        "det": lambda: detector.model.run_all(inputs["det"]),
        "det2": lambda: detector2.model.run_all(inputs["det"]),
        "cls": lambda: classifier.run(inputs["cls"]),
        "seg": lambda: segmenter.run(inputs["seg"]),
        "photo": lambda: detect_image(photo, detector),
        "three": lambda: three_tasks(photo, classifier, detector, segmenter, runs=1),
        "threshold": threshold_move,
    }, repeats)
    det_name = "SSD-MobileNetV1 ×0.75 int8 detection invoke, 300×300 (LiteRT, 1 thread)"
    return [
        Figure(f"detect: {det_name}", ms["det"], "MobileNetV2 int8 classification invoke, 224×224 (LiteRT, 1 thread)",
               ms["cls"]),
        Figure("detect: DeepLabV3-MobileNetV2 int8 segmentation invoke, 513×513 (LiteRT, 1 thread)", ms["seg"],
               det_name, ms["det"]),
        Figure(f"detect: one {photo.width}×{photo.height} photo classified + detected + segmented (the page's button, "
               "one run each)", ms["three"], det_name, ms["det"]),
        Figure(f"detect: a {photo.width}×{photo.height} photo end to end (stretch, invoke, boxes mapped back)",
               ms["photo"], det_name, ms["det"]),
        Figure("detect: SSD-MobileNetV1 int8 invoke, 2 threads", ms["det2"], det_name, ms["det"]),
        Figure(f"detect: threshold slider move (boxes redrawn on the {shown.width}×{shown.height} preview, no invoke)",
               ms["threshold"], det_name, ms["det"], target="ratio < 0.5", ok=ms["threshold"] < 0.5 * ms["det"]),
    ]


if __name__ == "__main__":
    print_table(run)
