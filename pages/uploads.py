"""Uploads taken in once and let go: a multi-file uploader's files are read, copied small, and released.

Streamlit keeps every uploaded file's bytes in the server's memory for as long as the uploader holds it (a
whole session, even after the user left the page). A page that keeps its own small copies (the transfer
page's ~30 KB JPEGs) calls :func:`release` after taking files in: their bytes leave the server's upload
store and the uploader starts empty again (a new widget key), so raw uploads never stay in a session.
"""

from __future__ import annotations

from typing import Sequence

import streamlit as st

from pages.streamlit_private import remove_uploaded_files

#: Most files one upload field takes at once (the rest are named in one line and not read).
MAX_FILES_PER_UPLOAD = 50


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
