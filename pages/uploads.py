"""Uploads taken in once and let go: a multi-file uploader's files are read, copied small, and released.

Streamlit keeps every uploaded file's bytes in the server's memory for as long as the uploader holds it (a
whole session, even after the user left the page). A page that keeps its own small copies (the transfer
page's ~30 KB JPEGs) calls :func:`release` after taking files in: their bytes leave the server's upload
store and the uploader starts empty again (a new widget key), so raw uploads never stay in a session.
:func:`kept_copies` is the whole pattern for a calibration upload field (Compression, Export): copy, count,
one-line errors, a "clear" button.
"""

from __future__ import annotations

from typing import Callable, Sequence

import streamlit as st

from explainer.errors import ExplainerError, ImageError
from pages.streamlit_private import remove_uploaded_files

#: Most files one upload field takes at once (the rest are named in one line and not read).
MAX_FILES_PER_UPLOAD = 50
#: Largest file (MB) a photo, calibration or head-file uploader takes (``st.file_uploader(max_upload_size=)``,
#: checked by the browser; Streamlit's own message when it is bigger).
PHOTO_UPLOAD_MB = 20
#: Largest zip (MB) of photos "Teach it new classes" takes: the demo set's own folder zipped is 27 MB. The
#: server's hard cap for every upload request is ``server.maxUploadSize`` in ``.streamlit/config.toml``, which
#: must be at least this (Streamlit's upload endpoint checks only that global value; a per-widget limit can
#: only lower it). What a zip may hold is bounded separately (:mod:`explainer.transfer.datasets`).
ZIP_UPLOAD_MB = 64


def uploader_key(base: str) -> str:
    """The current widget key of the uploader ``base`` (``base`` until its files were first released)."""
    generation = int(st.session_state.get(f"_upload_gen_{base}", 0))
    return base if generation == 0 else f"{base}_g{generation}"


def drop(files: Sequence) -> None:
    """Drop ``files``' bytes from the server's upload store (the uploader no longer returns them)."""
    remove_uploaded_files(files)


def release(base: str, files: Sequence) -> None:
    """Drop ``files``' bytes from the server's upload store and give the uploader ``base`` a fresh, empty key."""
    drop(files)
    old = uploader_key(base)
    st.session_state[f"_upload_gen_{base}"] = int(st.session_state.get(f"_upload_gen_{base}", 0)) + 1
    st.session_state.pop(old, None)


def kept_copies(base: str, label: str, help: str, limit: int,
                copy: Callable[[bytes, str], bytes]) -> tuple[tuple[tuple[str, bytes], ...], bool]:
    """A multi-file upload field whose files are taken in once: each becomes ``copy(data, name)`` (kept in the
    session, at most ``limit``), the originals are released at once (:func:`release`). Shows the one-line errors
    (a file that is not a photo, more than ``limit`` files), the count kept and a button that clears them.
    Returns ``(files, had_problems)``: the kept ``(name, copy)`` pairs, and whether any upload was refused."""
    from pages.ui import show_error, tr

    kept: list = st.session_state.setdefault(f"{base}_kept", [])
    problems: list = st.session_state.setdefault(f"{base}_problems", [])  # shown until cleared
    uploads = st.file_uploader(label, accept_multiple_files=True, key=uploader_key(base), help=help,
                               max_upload_size=PHOTO_UPLOAD_MB)
    if uploads:
        room = max(0, limit - len(kept))
        if len(uploads) > room:
            problems.append(ExplainerError("limits.calibration_too_many", n=len(kept) + len(uploads), limit=limit))
        for upload in uploads[:room]:
            try:
                kept.append((upload.name, copy(upload.getvalue(), upload.name)))
            except ImageError as err:
                problems.append(err)
        release(base, uploads)  # every original leaves the server's memory now
    for problem in problems:
        show_error(problem)
    if kept or problems:
        count_col, clear_col = st.columns([3, 1])
        count_col.caption(tr("kept.calibration_count", n=len(kept), limit=limit))
        if clear_col.button(tr("kept.calibration_clear"), key=f"{base}_clear"):
            kept.clear()
            problems.clear()
            st.rerun()
    return tuple(kept), bool(problems)
