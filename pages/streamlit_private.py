"""The two places beyond the ``pages/`` workaround where the app reads Streamlit's private parts, kept together.

Both are read-only or best-effort and degrade quietly on another Streamlit version (``requirements.txt`` pins the
range they were checked with; ``tests/test_hostile.py`` checks what they do):

- :func:`widget_values_sent`: how many widget values the browser sent with this run — a session whose very first
  run carries some is a browser that reconnected after its worker died (``pages/reconnect.py``);
- :func:`remove_uploaded_files`: drop files' bytes from the server's upload store once a page has taken its own
  small copies (``pages/uploads.py``).
"""

from __future__ import annotations

from typing import Sequence


def widget_values_sent() -> int:
    """How many widget values the browser sent with this run (Streamlit's session state, read only); 0 if unknown."""
    try:
        from streamlit.runtime.state import get_session_state

        return len(get_session_state()._state._new_widget_state.states)  # noqa: SLF001 - read only
    except Exception:  # noqa: BLE001 - another Streamlit version: no notice rather than a failure
        return 0


def remove_uploaded_files(files: Sequence) -> None:
    """Drop ``files``' bytes from the server's upload store (the uploader no longer returns them)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    remove = getattr(getattr(ctx, "uploaded_file_mgr", None), "remove_file", None) if ctx is not None else None
    for file in files:
        if remove is not None:
            try:
                remove(session_id=ctx.session_id, file_id=file.file_id)
            except Exception:  # noqa: BLE001 - already gone (the browser deleted it): nothing to free
                pass
