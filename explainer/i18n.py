"""Translations: every user-facing sentence, one TOML file per language.

Keys are dotted paths into ``explainer/locales/<lang>.toml`` and the
per-page files ``explainer/locales/<lang>/<page>.toml`` (merged; a key defined
twice is an error), e.g. ``t("cost.title", "zh")``. Values may contain ``{name}`` placeholders that
are filled with :meth:`str.format`. Missing keys raise ``KeyError`` so a raw
key never reaches a page silently (a test checks both files have the same
keys).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """All messages of one language, flattened to ``{"section.key": text}``."""
    if lang not in LANGUAGES:
        raise KeyError(f"unknown language {lang!r}")
    files = [LOCALES_DIR / f"{lang}.toml", *sorted((LOCALES_DIR / lang).glob("*.toml"))]
    flat: dict[str, str] = {}

    def walk(prefix: str, node: dict[str, Any], source: Path) -> None:
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict):
                walk(path, value, source)
            elif path in flat:
                raise KeyError(f"{source.name}: {path!r} is defined twice in the {lang} texts")
            else:
                flat[path] = str(value)

    for source in files:
        with open(source, "rb") as handle:
            walk("", tomllib.load(handle), source)
    return flat


def t(key: str, lang: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    """The message ``key`` in ``lang``, with ``params`` filled in."""
    text = catalog(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)[key]
    return text.format(**params) if params else text


def has(key: str, lang: str = DEFAULT_LANGUAGE) -> bool:
    """Whether ``key`` exists in ``lang``."""
    return key in catalog(lang)
