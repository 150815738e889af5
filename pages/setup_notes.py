"""What can run on this server, and who is told what about the rest (issue 25).

Students see only the models and files this server can use: those in the weights/data folder or the cache, or
downloadable right now (``EXPLAINER_OFFLINE`` unset and no failed download in the last
:data:`pages.downloads.RETRY_AFTER_S`) — a download then happens once, under the shared progress bar of
:mod:`pages.downloads`. What is missing is at most one neutral line for them (":func:`not_installed`").

Set-up instructions (which command to run, which folder or environment variable) are for the lecturer: shown in
presenter mode only (the sidebar switch, ``?presenter=true`` in a link), in a collapsed "Set-up (for the
lecturer)" expander (:func:`for_lecturer`); on the Home page's "Server status" expander (:func:`server_status`),
and by ``python -m explainer fetch --status``. Where each file comes from is found by the catalogue's one
resolution chain (:func:`explainer.catalogue.locate`, :func:`explainer.weights.resolve`); nothing is computed here.
"""

from __future__ import annotations

import os
from typing import Sequence

import streamlit as st

from explainer import catalogue
from explainer.errors import AssetError, ExplainerError, WeightsError
from explainer.weights import WEIGHTS_DIR_ENV, resolve
from pages.downloads import network_down, recently_failed
from pages.share import PRESENTER_KEY  # the sidebar's presenter switch, bound to ``?presenter=``
from pages.ui import current_language, tr



def lecturer_view() -> bool:
    """Whether the lecturer's view is on: presenter mode (the sidebar switch, or ``?presenter=true``)."""
    value = st.session_state.get(PRESENTER_KEY)
    if value is None:
        value = str(st.query_params.get(PRESENTER_KEY, "")).lower() in ("true", "1")
    return bool(value)


def runnable_models(names: Sequence[str]) -> tuple[list[str], dict[str, ExplainerError]]:
    """``(the models of names with ImageNet weights this server can use, {each other one: why not})``.

    A model can be used when its weights are in the weights folder or a cache, or can be downloaded now (not
    offline, no failed download of that file and no unreachable download server in the last ten minutes). A weights folder that is named but missing makes
    every model unusable (its error is every model's reason)."""
    weights_dir = os.environ.get(WEIGHTS_DIR_ENV, "").strip() or None
    usable: list[str] = []
    problems: dict[str, ExplainerError] = {}
    for name in names:
        try:
            where = resolve(name, weights_dir)
        except (WeightsError, AssetError) as err:
            return [], {n: err for n in names}
        failed = (recently_failed(where.path.name) or network_down()) if where.kind == "download" else None
        if where.kind == "untrained":
            problems[name] = where.problem
        elif failed is not None:
            problems[name] = failed
        else:
            usable.append(name)
    return usable, problems


def not_installed(n: int) -> None:
    """One neutral line for students: ``n`` models are not installed on this server (nothing when ``n`` is 0)."""
    if n > 0:
        st.caption(tr("setup.not_installed_one" if n == 1 else "setup.not_installed_many", n=n))


def for_lecturer(problems: Sequence[ExplainerError | str]) -> None:
    """The set-up instructions of ``problems`` (errors, or sentences already in the user's language), for the
    lecturer only (presenter mode), in a collapsed expander."""
    problems = [p for p in problems if p is not None]
    if not problems or not lecturer_view():
        return
    lang = current_language()
    with st.expander(f"🔧 {tr('setup.lecturer_title')}", expanded=False):
        seen: set[str] = set()
        for problem in problems:
            text = problem.markdown_message(lang) if isinstance(problem, ExplainerError) else problem
            if text not in seen:
                seen.add(text)
                st.markdown(f"- {text}")
        st.caption(tr("setup.lecturer_hint"))


def missing_file(student_key: str, problem: ExplainerError | Sequence[ExplainerError], **params) -> None:
    """A file the page needs is not here: one full-width line for students, the details for the lecturer."""
    st.info(tr(student_key, **params), icon="ℹ️")
    for_lecturer([problem] if isinstance(problem, ExplainerError) else list(problem))


def _source_label(kind: str) -> str:
    return tr(f"setup.source_{kind}")


def server_status() -> None:
    """The Home page's "Server status" expander: every catalogue file, where it comes from, and what the lecturer
    can do about the missing ones (the same as ``python -m explainer fetch --status``, without server paths)."""
    lang = current_language()
    with st.expander(f"🖥️ {tr('setup.status_title')}", expanded=False):
        st.caption(tr("setup.status_intro"))
        try:
            rows = catalogue.status()
        except AssetError as err:  # a weights/data folder named but missing
            st.markdown(f"- {err.markdown_message(lang)}")
            return
        st.dataframe([{
            tr("setup.col_file"): row.asset.filename,
            tr("setup.col_source"): _source_label(row.kind),
            tr("setup.col_pages"): ", ".join(row.asset.pages),
        } for row in rows], hide_index=True, width="stretch")
        if catalogue.offline():
            st.caption(tr("setup.status_offline", env=catalogue.OFFLINE_ENV))
        missing = [row for row in rows if row.kind == "missing"]
        if not missing:
            st.caption(tr("setup.status_complete"))
            return
        st.markdown(f"**{tr('setup.status_todo')}**")
        for row in missing:
            st.markdown(f"- {catalogue.missing(row.asset).markdown_message(lang)}")
