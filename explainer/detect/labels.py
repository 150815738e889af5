"""COCO's 80 object classes, as the SSD model numbers them, in English and 简体中文.

The model's post-processing op outputs a class id ``c`` from 0 to 89 (COCO's
original 90 category ids minus one; ten of them were never used in the
published data set). The name of ``c`` is line ``c + 1`` of the label map
that ships with the model (``labelmap.txt``, asset ``coco_labelmap``): line 0
and the ten unused ids are ``???``. ``coco_zh.tsv`` (in ``explainer/labels``)
holds the 80 names in the label map's order with their Chinese names.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from explainer.labels import label_pairs

#: What the label map writes for ids that are not a class (line 0 and COCO's unused ids).
UNUSED = "???"


@lru_cache(maxsize=1)
def coco_names() -> tuple[tuple[str, str], ...]:
    """COCO's 80 classes as ``(English, 中文)`` pairs, in the label map's order."""
    return label_pairs("coco")


def chinese(english: str) -> str:
    """The Chinese name of COCO class ``english`` (``???`` stays ``???``)."""
    return dict(coco_names()).get(english, english)


def read_labelmap(path: str | Path) -> tuple[str, ...]:
    """The lines of the model's label map: entry ``c + 1`` is the name of class id ``c``."""
    lines = tuple(line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines())
    known = {en for en, _ in coco_names()}
    names = [line for line in lines if line != UNUSED]
    if not lines or lines[0] != UNUSED or set(names) - known:
        raise ValueError(f"{Path(path).name} is not COCO's label map")
    return lines


def class_name(labels: tuple[str, ...], class_id: int, lang: str = "en") -> str:
    """The name of the model's class id ``class_id`` (0-based) in ``lang``."""
    index = int(class_id) + 1
    english = labels[index] if 0 <= index < len(labels) else UNUSED
    return chinese(english) if lang == "zh" else english
