"""MobileNet as a backbone: semantic segmentation of a photo on a phone's runtime, and what it costs.

* :mod:`explainer.segment.labels` — PASCAL VOC's 21 classes (English, Chinese, colours);
* :mod:`explainer.segment.deeplab` — Google's int8 DeepLabV3-MobileNetV2 on LiteRT: prepare the photo,
  run, crop the padding away, map the mask back onto the photo;
* :mod:`explainer.segment.masks` — classes found and their shares, the overlay, two masks compared;
* :mod:`explainer.segment.backbone` — backbone vs head cost of segmentation and detection networks,
  counted exactly (:mod:`explainer.counting`), and the output-stride story (feature-map sizes per stage).

LiteRT itself is imported only by :mod:`explainer.litert` (lazily).
"""
