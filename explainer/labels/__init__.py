"""Class names in the user's language: ImageNet's 1000 classes in English and 简体中文.

Usage::

    from explainer.labels import imagenet_label
    imagenet_label(281, "zh")   # "虎斑猫"
    imagenet_label(281, "en")   # "tabby"

``imagenet_zh.tsv`` holds one line per class index, ``<English>\\t<简体中文>``. The English column is
torchvision's ``MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"]`` (the names every model of the app
predicts with), kept in the file so a test can prove that line *i* is torchvision's class *i*; the Chinese
names were written for this project, one per class, all different (where WordNet's English is ambiguous the
Chinese says which sense ImageNet's photos show: ``crane`` 起重机 / ``crane bird`` 鹤, ``corn`` 玉米粒 /
``ear`` 玉米穗, ``sunglass`` 取火镜 / ``sunglasses`` 太阳镜).

Other label sets (PASCAL VOC, a transfer-learning data set) can ship their own ``<name>_zh.tsv`` in this
folder in the same format and read it with :func:`label_pairs`. No torch, no Streamlit here.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

LABELS_DIR = Path(__file__).parent
IMAGENET_CLASSES = 1000


@lru_cache(maxsize=None)
def label_pairs(name: str) -> tuple[tuple[str, str], ...]:
    """The ``(English, 中文)`` pairs of ``<name>_zh.tsv`` in this folder, in class-index order."""
    path = LABELS_DIR / f"{name}_zh.tsv"
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        english, sep, chinese = line.partition("\t")
        if not sep or not english.strip() or not chinese.strip() or "\t" in chinese:
            raise ValueError(f"{path.name} line {number}: expected '<English>\\t<中文>', got {line!r}")
        pairs.append((english, chinese.strip()))
    return tuple(pairs)


def imagenet_labels(lang: str = "en") -> tuple[str, ...]:
    """All 1000 ImageNet class names in ``lang`` (``"zh"`` → 简体中文, anything else → English)."""
    column = 1 if lang == "zh" else 0
    return tuple(pair[column] for pair in label_pairs("imagenet"))


def imagenet_label(index: int, lang: str = "en") -> str:
    """The name of ImageNet class ``index`` (0–999) in ``lang``; the same indices as torchvision."""
    labels = imagenet_labels(lang)
    if not 0 <= int(index) < len(labels):
        raise IndexError(f"ImageNet class index {index} is outside 0–{len(labels) - 1}")
    return labels[int(index)]
