"""MobileNet as a backbone, second task: object detection on a photo with Google's int8 SSD-MobileNetV1 on LiteRT.

* :mod:`explainer.detect.labels` — COCO's 80 classes in English and Chinese, and the model's class ids;
* :mod:`explainer.detect.detector` — load the model once, stretch the photo to 300×300, run, map the boxes
  back onto the photo's own pixels;
* :mod:`explainer.detect.ssd` — how SSD works on this model: feature maps, default boxes per cell, boxes
  scored before non-maximum suppression, NMS settings — all read from the ``.tflite`` file;
* :mod:`explainer.detect.network` — the network rebuilt in PyTorch (checked against the file's graph) for
  exact backbone vs head counts;
* :mod:`explainer.detect.tasks` — one photo classified, detected and segmented, each timed in one run.

LiteRT itself is imported only by :mod:`explainer.litert` (lazily).
"""
