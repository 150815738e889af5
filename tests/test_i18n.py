"""Both languages have the same keys and placeholders; pages never show a raw key."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from explainer.i18n import LANGUAGES, catalog, t

ROOT = Path(__file__).resolve().parent.parent


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_same_keys_in_every_language() -> None:
    english = catalog("en")
    for lang in LANGUAGES:
        assert set(catalog(lang)) == set(english), f"{lang}: keys differ from en"


def test_same_placeholders_in_every_language() -> None:
    english = catalog("en")
    for lang in LANGUAGES:
        other = catalog(lang)
        for key, text in english.items():
            assert placeholders(other[key]) == placeholders(text), f"{lang}:{key}"


def test_chinese_is_really_translated() -> None:
    """Every sentence-like Chinese text contains Chinese characters (not a copy of the English)."""
    cjk = re.compile(r"[\u4e00-\u9fff]")
    english, chinese = catalog("en"), catalog("zh")
    untranslated = [k for k, v in chinese.items()
                    if len(english[k].split()) >= 4 and not cjk.search(v) and k != "app.language"]
    assert untranslated == []


def test_unknown_key_raises() -> None:
    with pytest.raises(KeyError):
        t("cost.no_such_key", "en")


def test_every_key_used_in_code_exists() -> None:
    """Static check: every literal tr("...")/t("...") key in pages and core exists."""
    keys = set(catalog("en"))
    pattern = re.compile(r"""\btr?\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""")
    missing = []
    for path in list((ROOT / "pages").glob("*.py")) + list((ROOT / "explainer").rglob("*.py")) + [ROOT / "app.py"]:
        for key in pattern.findall(path.read_text(encoding="utf-8")):
            if key not in keys:
                missing.append(f"{path.name}: {key}")
    assert missing == []
