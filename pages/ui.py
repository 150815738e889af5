"""Small Streamlit helpers shared by every page (language, messages).

This is the only place, besides the pages themselves, that imports
Streamlit; it holds no computation.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from explainer.errors import ExplainerError
from explainer.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from pages.legacy_folder import through_app

LANG_KEY = "lang"


def current_language() -> str:
    """The language chosen in the sidebar (or ``?lang=zh`` in the URL), default English."""
    lang = st.session_state.get(LANG_KEY)
    if lang in LANGUAGES:
        return lang
    # app.py chooses the language before any page runs: a page that finds none runs without app.py, which is
    # Streamlit's legacy pages/ runner on a fresh server (pages/legacy_folder.py). Once per session.
    through_app()
    return _link_language()


def _link_language() -> str:
    """The language the link asks for (``?lang=zh``), else the default."""
    lang = st.query_params.get("lang", DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def tr(key: str, **params: Any) -> str:
    """Translate ``key`` into the current language."""
    return t(key, current_language(), **params)


def language_selector() -> str:
    """The sidebar language switch; returns the chosen language code."""
    if st.session_state.get(LANG_KEY) not in LANGUAGES:
        st.session_state[LANG_KEY] = _link_language()
    codes = list(LANGUAGES)
    st.sidebar.selectbox(t("app.language"), codes, key=LANG_KEY, format_func=LANGUAGES.__getitem__)
    return current_language()


def show_error(error: ExplainerError) -> None:
    """Show a core error as one line in the user's language (no server paths, names shown as text:
    :meth:`~explainer.errors.ExplainerError.markdown_message`)."""
    st.error(error.markdown_message(current_language()), icon="⚠️")


def fmt_int(value: int) -> str:
    """Thousands separators, the same in both languages (1,234,567)."""
    return f"{value:,}"


def fmt_millions(value: float, digits: int = 1) -> str:
    """A count in millions, e.g. ``462.4 M``."""
    return f"{value / 1e6:,.{digits}f} M"
