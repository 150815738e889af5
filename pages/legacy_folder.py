"""Streamlit's legacy "pages/ folder" mode, kept away from the app: the one module that knows about it.

The page scripts live in ``pages/`` (the design card's layout). Streamlit also reads a ``pages/`` folder beside the
main script as its legacy (v1) multipage app. Until some session of the process has called ``st.navigation``,
Streamlit runs its own runner instead of ``app.py``: a visit to ``/cost`` would run ``pages/cost.py`` *alone* —
no language switch, no link settings, no share panel — and list every helper module (``ui``, ``image_input``…)
as a page. On a server that happens once: to the first visitor of a fresh process (and to anyone who connects
in the same moment). ``st.navigation`` switches the mode off for the process for good.

What the app does about it, all from here:

* :func:`through_app` — called by a page that finds no language chosen (``pages.ui.current_language``): ``app.py``
  chooses one before any page runs, so that page runs without it. Once a language is set this is never reached,
  so a translation costs nothing extra. It switches the mode off for the process and reruns once: the rerun starts
  at ``app.py``, whose ``st.navigation`` opens the same page (its URL path is the file's name).
* ``.streamlit/config.toml`` sets ``client.showSidebarNavigation = false``: the legacy runner's list of every file
  in ``pages/`` is never shown, not even for the moment before the rerun; :func:`show_menu` turns the option back
  on for ``app.py``'s own menu (before ``st.navigation``, which reads it).
* :func:`like_a_server` — for AppTest (tests and benchmarks), which resets the mode before *every* run, so every
  page run would go through the legacy runner: there every run goes through ``app.py``, as on a server after its
  first visit. ``tests/test_legacy_folder.py`` checks the first-visit path itself without it.

What this relies on in Streamlit (private; checked with 1.67, see ``requirements.txt``). ``tests/test_legacy_folder.py``
checks each point against the installed Streamlit and names what changed:

1. ``streamlit.runtime.pages_manager.PagesManager.uses_pages_directory``: a class attribute, ``None`` in a fresh
   process, set to ``True`` by the first ``PagesManager`` when a ``pages/`` folder is beside the main script.
2. While it is true the script runner runs the legacy runner instead of the main script; ``st.navigation`` sets it
   to ``False``.
3. ``streamlit.testing.v1.app_test`` resets it through its module-level name ``PagesManager`` before each run.
4. The config option ``client.showSidebarNavigation`` exists and may be set at run time.

If Streamlit drops the legacy mode, this module and the config line go, and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

MENU_OPTION = "client.showSidebarNavigation"
_RERUN_KEY = "_legacy_folder_rerun"  # session state: this session has rerun through app.py once


def in_legacy_mode() -> bool:
    """True while Streamlit would run ``pages/<x>.py`` alone (no session of this process called st.navigation)."""
    return bool(PagesManager.uses_pages_directory)


def through_app() -> None:
    """Called by a page that runs without ``app.py`` (it found no language chosen; app.py chooses one first).

    That is Streamlit's legacy runner at a session's first visit to a fresh server: switch the mode off for the
    process and rerun, so the rerun starts at ``app.py``. The test is "this session has not rerun for it yet",
    not the mode itself: a visitor who connects while the first visitor's run is under way was started in the
    legacy mode too, after the first visitor's page had switched it off. A script run directly (AppTest of one
    page) reruns once and then carries on alone.
    """
    if st.session_state.get(_RERUN_KEY):
        return
    st.session_state[_RERUN_KEY] = True
    PagesManager.uses_pages_directory = False
    st.rerun()


def show_menu() -> None:
    """Show ``app.py``'s own menu (the config file hides the legacy runner's list); call before ``st.navigation``."""
    st.set_option(MENU_OPTION, True)


class _ServerLikePagesManager(PagesManager):
    """A PagesManager for AppTest that leaves the legacy mode off, as a server's is after its first visit."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@contextmanager
def like_a_server() -> Iterator[None]:
    """While active, AppTest runs every page through ``app.py`` (see the module's docstring). Nests."""
    from streamlit.testing.v1 import app_test

    before = app_test.PagesManager
    if before not in (PagesManager, _ServerLikePagesManager):
        raise RuntimeError("streamlit.testing.v1.app_test.PagesManager is not Streamlit's PagesManager: "
                           "Streamlit changed what pages/legacy_folder.py relies on")
    app_test.PagesManager = _ServerLikePagesManager
    try:
        yield
    finally:
        app_test.PagesManager = before
