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
other work on a shared server hits all of them alike; the median of each counts
(the app's one statistic, :mod:`explainer.stopwatch`), next to the invoke time alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from explainer import stopwatch
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
    median_ms: float  # median end-to-end run on the photo (prepare, invoke, read back)
    invoke_ms: float  # median of that task's invoke alone
    runs: int
    answer: tuple  # classify: (ImageNet index, score); detect: ((COCO label, score), …); segment: (VOC index, share), …

    def as_dict(self) -> dict:
        return {"task": self.task, "model": self.model, "input": self.input_side, "median_ms": round(self.median_ms, 3),
                "invoke_ms": round(self.invoke_ms, 3), "runs": self.runs, "answer": list(self.answer)}


def three_tasks(image: Image.Image, classifier: TFLiteModel, detector: Detector, segmenter: TFLiteModel,
                runs: int = 5) -> tuple[TaskTime, ...]:
    """Classify, detect and segment ``image``, each ``runs`` times in turns after one warm-up round; the app's
    one statistic (:mod:`explainer.stopwatch`: the median) of the whole task and of the invoke alone."""
    runs = max(1, int(runs))
    invokes: dict[str, list[float]] = {task: [] for task in TASKS}
    answers: dict[str, tuple] = {}

    def classify() -> None:
        index, score, ms = classify_int8(image, classifier)
        invokes["classify"].append(ms)
        answers["classify"] = (index, score)

    def detect() -> None:
        result = detect_image(image, detector)
        invokes["detect"].append(result.latency_ms)
        answers["detect"] = tuple((d.label, d.score) for d in result.above(DEFAULT_THRESHOLD))

    def segment() -> None:
        seg = segment_image(image, segmenter)
        invokes["segment"].append(seg.latency_ms)
        answers["segment"] = tuple((c.index, c.fraction) for c in seg.classes)

    timings = stopwatch.time_interleaved({"classify": classify, "detect": detect, "segment": segment}, runs=runs,
                                         warmup=1)
    invoke = {task: stopwatch.median(values[-runs:]) for task, values in invokes.items()}  # the warm-up left out
    models = {"classify": ("MobileNetV2 (int8)", int(classifier.input.shape[1])),
              "detect": ("SSD-MobileNetV1 ×0.75 (int8)", int(detector.model.input.shape[1])),
              "segment": ("DeepLabV3-MobileNetV2 (int8)", int(segmenter.input.shape[1]))}
    return tuple(TaskTime(task, models[task][0], models[task][1], timings[task].median_ms, invoke[task], runs,
                          answers[task])
                 for task in TASKS)
