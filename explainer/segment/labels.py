"""PASCAL VOC's 21 segmentation classes: names in English and Chinese, and the colours masks are drawn in.

Index ``i`` is what the DeepLabV3 models output for a pixel (0 = background),
in the order of PASCAL VOC's own label list. ``voc`` is the dataset's
identifier (``diningtable``, ``tvmonitor``, …), ``en``/``zh`` are the names
shown to people. The colours are PASCAL VOC's standard palette (the
dataset's ground-truth PNGs use it), computed by :func:`voc_color`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VocClass:
    index: int
    voc: str  # the dataset's identifier, e.g. "pottedplant"
    en: str
    zh: str

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    @property
    def color(self) -> tuple[int, int, int]:
        return voc_color(self.index)


_NAMES: tuple[tuple[str, str, str], ...] = (
    ("background", "background", "背景"),
    ("aeroplane", "aeroplane", "飞机"),
    ("bicycle", "bicycle", "自行车"),
    ("bird", "bird", "鸟"),
    ("boat", "boat", "船"),
    ("bottle", "bottle", "瓶子"),
    ("bus", "bus", "公共汽车"),
    ("car", "car", "汽车"),
    ("cat", "cat", "猫"),
    ("chair", "chair", "椅子"),
    ("cow", "cow", "牛"),
    ("diningtable", "dining table", "餐桌"),
    ("dog", "dog", "狗"),
    ("horse", "horse", "马"),
    ("motorbike", "motorbike", "摩托车"),
    ("person", "person", "人"),
    ("pottedplant", "potted plant", "盆栽植物"),
    ("sheep", "sheep", "羊"),
    ("sofa", "sofa", "沙发"),
    ("train", "train", "火车"),
    ("tvmonitor", "TV / monitor", "电视 / 显示器"),
)

#: The 21 classes in output order (index 0 = background).
VOC_CLASSES: tuple[VocClass, ...] = tuple(VocClass(i, voc, en, zh) for i, (voc, en, zh) in enumerate(_NAMES))
NUM_CLASSES = len(VOC_CLASSES)
BACKGROUND = 0


def voc_color(index: int) -> tuple[int, int, int]:
    """PASCAL VOC's palette colour of class ``index``: its bits spread over R, G, B from the high bit down."""
    red = green = blue = 0
    value = index
    for shift in range(7, -1, -1):
        red |= ((value >> 0) & 1) << shift
        green |= ((value >> 1) & 1) << shift
        blue |= ((value >> 2) & 1) << shift
        value >>= 3
    return red, green, blue


def palette() -> list[int]:
    """A 256-entry PIL palette (flat RGB list): the VOC colours, then black."""
    flat: list[int] = []
    for index in range(256):
        flat.extend(voc_color(index) if index < NUM_CLASSES else (0, 0, 0))
    return flat
