"""One photo, three tasks: classify, detect, segment — each timed on this CPU in the same run.

All three are Google's released int8 models on LiteRT with the same number of
threads, so the times compare the networks, not the runtimes:

* **classify** — MobileNetV2 (``mobilenet_v2_1.0_224_quant``): shorter side to
  256, central 224×224 (torchvision's ImageNet crop), 1001 scores;
* **detect** — SSD-MobileNetV1 ×0.75 (:mod:`explainer.detect.detector`), the
  photo stretched to 300×300;
* **segment** — DeepLabV3-MobileNetV2 (:mod:`explainer.segment.deeplab`), the
  longer side to 513, padded to 513×513.

Each task is timed end to end on the photo (prepare the input, invoke, read the
answer back) ``runs`` times, the three tasks taking turns so that a burst of
other work on a shared server hits all of them alike; the fastest run of each
counts (what the task itself costs on this CPU), next to the invoke time alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

from explainer.detect.detector import DEFAULT_THRESHOLD, Detector, detect_image
from explainer.litert import TFLiteModel
from explainer.segment.deeplab import segment_image

TASKS = ("classify", "detect", "segment")


def classifier_input(image: Image.Image) -> np.ndarray:
    """``uint8`` ``[1, 224, 224, 3]``: shorter side 256 (bilinear, antialiased), central 224×224 — as for the float model."""
    from torchvision.models import MobileNet_V2_Weights

    from explainer.quant.google import google_input

    class _Loaded:  # google_input reads the float model's transform: torchvision's own preset, no weights needed
        transform = MobileNet_V2_Weights.IMAGENET1K_V1.transforms()

    return google_input(image, _Loaded)


def classify_int8(image: Image.Image, model: TFLiteModel) -> tuple[int, float, float]:
    """(top-1 ImageNet index in torchvision's order, its score 0…1, invoke ms) of Google's int8 MobileNetV2."""
    out, ms = model.run(classifier_input(image))
    scores = (out.reshape(-1).astype(np.float64) - model.output.zero_point) * model.output.scale
    best = int(np.argmax(scores[1:]))  # index 0 is "background"
    return best, float(scores[1 + best]), ms


@dataclass(frozen=True)
class TaskTime:
    """One task on the photo: what it answered, and how long it took."""

    task: str  # "classify", "detect" or "segment"
    model: str
    input_side: int  # the square the model sees
    best_ms: float  # fastest end-to-end run on the photo (prepare, invoke, read back)
    invoke_ms: float  # that task's fastest invoke alone
    runs: int
    answer: tuple  # classify: (ImageNet index, score); detect: ((COCO label, score), …); segment: (VOC index, share), …

    def as_dict(self) -> dict:
        return {"task": self.task, "model": self.model, "input": self.input_side, "best_ms": round(self.best_ms, 3),
                "invoke_ms": round(self.invoke_ms, 3), "runs": self.runs, "answer": list(self.answer)}


def three_tasks(image: Image.Image, classifier: TFLiteModel, detector: Detector, segmenter: TFLiteModel,
                runs: int = 3) -> tuple[TaskTime, ...]:
    """Classify, detect and segment ``image``, each ``runs`` times in turns; the fastest run of each."""
    runs = max(1, int(runs))
    best = {task: float("inf") for task in TASKS}
    invoke = {task: float("inf") for task in TASKS}
    answers: dict[str, tuple] = {}
    for _ in range(runs):
        for task in TASKS:
            start = time.perf_counter()
            if task == "classify":
                index, score, ms = classify_int8(image, classifier)
                answer: tuple = (index, score)
            elif task == "detect":
                result = detect_image(image, detector)
                ms = result.latency_ms
                answer = tuple((d.label, d.score) for d in result.above(DEFAULT_THRESHOLD))
            else:
                seg = segment_image(image, segmenter)
                ms = seg.latency_ms
                answer = tuple((c.index, c.fraction) for c in seg.classes)
            best[task] = min(best[task], (time.perf_counter() - start) * 1000.0)
            invoke[task] = min(invoke[task], ms)
            answers[task] = answer
    models = {"classify": ("MobileNetV2 (int8)", int(classifier.input.shape[1])),
              "detect": ("SSD-MobileNetV1 ×0.75 (int8)", int(detector.model.input.shape[1])),
              "segment": ("DeepLabV3-MobileNetV2 (int8)", int(segmenter.input.shape[1]))}
    return tuple(TaskTime(task, models[task][0], models[task][1], best[task], invoke[task], runs, answers[task])
                 for task in TASKS)
