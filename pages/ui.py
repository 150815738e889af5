"""Small Streamlit helpers shared by every page (language, messages).

This is the only place, besides the pages themselves, that imports
Streamlit; it holds no computation.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from explainer.errors import ExplainerError
from explainer.i18n import DEFAULT_LANGUAGE, LANGUAGES, t

LANG_KEY = "lang"


def current_language() -> str:
    """The language chosen in the sidebar (or ``?lang=zh`` in the URL), default English."""
    lang = st.session_state.get(LANG_KEY)
    if lang not in LANGUAGES:
        lang = st.query_params.get("lang", DEFAULT_LANGUAGE)
        if lang not in LANGUAGES:
            lang = DEFAULT_LANGUAGE
    return lang


def tr(key: str, **params: Any) -> str:
    """Translate ``key`` into the current language."""
    return t(key, current_language(), **params)


def language_selector() -> str:
    """The sidebar language switch; returns the chosen language code."""
    if LANG_KEY not in st.session_state:
        st.session_state[LANG_KEY] = current_language()
    codes = list(LANGUAGES)
    st.sidebar.selectbox(t("app.language"), codes, key=LANG_KEY, format_func=LANGUAGES.__getitem__)
    return current_language()


def show_error(error: ExplainerError) -> None:
    """Show a core error as one line in the user's language."""
    st.error(error.message(current_language()), icon="⚠️")


def fmt_int(value: int) -> str:
    """Thousands separators, the same in both languages (1,234,567)."""
    return f"{value:,}"


def fmt_millions(value: float, digits: int = 1) -> str:
    """A count in millions, e.g. ``462.4 M``."""
    return f"{value / 1e6:,.{digits}f} M"
