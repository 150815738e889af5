"""The pages' side of the catalogue's download step: one progress bar and one retry cool-down for every file.

:func:`download` runs a fetch (``fetch(progress)``, e.g. :func:`explainer.catalogue.fetch` or a loader that
downloads through it) under an ``st.progress`` bar, and remembers a failure per file for
:data:`RETRY_AFTER_S`, per process, shared by all sessions: a hall's broken Wi-Fi must not stall every rerun.
"""

from __future__ import annotations

import time
from typing import Callable

import streamlit as st

from explainer.catalogue import Progress
from explainer.errors import AssetError, ExplainerError
from pages.ui import tr

#: After a failed download, don't try again for this long.
RETRY_AFTER_S = 600.0
#: The last failed download per file (monotonic time, error): one per process, shared by all sessions.
failed: dict[str, tuple[float, ExplainerError]] = {}


def recently_failed(filename: str) -> ExplainerError | None:
    """The error of a download of ``filename`` that failed less than :data:`RETRY_AFTER_S` ago, else ``None``
    (pages then offer only what can run: :mod:`pages.setup_notes`)."""
    recent = failed.get(filename)
    if recent is not None and time.monotonic() - recent[0] < RETRY_AFTER_S:
        return recent[1]
    return None


def network_down() -> ExplainerError | None:
    """The error of a download that could not reach its server less than :data:`RETRY_AFTER_S` ago (the hall's
    Wi-Fi is down): pages then offer no other download either, so one failure is tried once, not once per file."""
    now = time.monotonic()
    for at, error in list(failed.values()):
        if now - at < RETRY_AFTER_S and error.key == "assets.download_failed":
            return error
    return None


def download(filename: str, fetch: Callable[[Progress], object]) -> ExplainerError | None:
    """``fetch(progress)`` with a progress bar naming ``filename``; ``None`` when it worked, else its error
    (also the remembered error of a failure less than :data:`RETRY_AFTER_S` ago, without trying again)."""
    recent = recently_failed(filename)
    if recent is not None:
        return recent
    bar = st.progress(0.0, text=tr("fetch.downloading", file=filename, done="0.0", total="?"))

    def progress(done: int, total: int) -> None:
        bar.progress(min(1.0, done / total) if total else 0.0,
                     text=tr("fetch.downloading", file=filename, done=f"{done / 2**20:.1f}",
                             total=f"{total / 2**20:.1f}" if total else "?"))

    try:
        fetch(progress)
    except (AssetError, ExplainerError) as err:
        failed[filename] = (time.monotonic(), err)
        return err
    finally:
        bar.empty()
    failed.pop(filename, None)
    return None
