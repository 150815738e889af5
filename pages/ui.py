"""Small Streamlit helpers shared by every page (language, messages).

This is the only place, besides the pages themselves, that imports
Streamlit; it holds no computation.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from explainer.errors import ExplainerError
from explainer.i18n import DEFAULT_LANGUAGE, LANGUAGES, t

LANG_KEY = "lang"


def ensure_app_entry() -> None:
    """Make sure every run goes through ``app.py`` (its ``st.navigation``), even for a deep link.

    Streamlit decides per process whether the app uses the legacy "pages/
    folder" mode: while no session has called ``st.navigation`` yet and a
    ``pages/`` folder exists, a first visit to ``/classify`` would run
    ``pages/classify.py`` alone — no language switch, and every helper
    module listed as a page. If a page finds itself in that mode it turns
    it off for the process and reruns, so the rerun starts at ``app.py``
    and ``st.navigation`` opens the same page (its URL path is the same).
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def current_language() -> str:
    """The language chosen in the sidebar (or ``?lang=zh`` in the URL), default English."""
    ensure_app_entry()
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
    """Show a core error as one line in the user's language (no server paths: :meth:`public_message`)."""
    st.error(error.public_message(current_language()), icon="⚠️")


def fmt_int(value: int) -> str:
    """Thousands separators, the same in both languages (1,234,567)."""
    return f"{value:,}"


def fmt_millions(value: float, digits: int = 1) -> str:
    """A count in millions, e.g. ``462.4 M``."""
    return f"{value / 1e6:,.{digits}f} M"
