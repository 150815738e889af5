"""One line when a worker died: the browser reconnected into a fresh session and its work is gone.

A browser tab that loses its server (a worker restarted by the supervisor, or nginx sending it to another
worker) reconnects by itself and reruns the page with the widget values it still shows. The new session knows
nothing of the old one: uploads, trained heads and measurements are gone, and without a word the student would
see an emptied page. A first visit sends no widget values, so a session whose very first run arrives with some
is such a reconnect, and :func:`check_reconnect` notes it and ``app.py`` says so in one line (:func:`show_reconnect_notice`).
"""

from __future__ import annotations

import streamlit as st

from pages.streamlit_private import widget_values_sent

_STARTED = "_session_started"


def _incoming_widget_values() -> int:
    """How many widget values the browser sent with this run."""
    return widget_values_sent()


_RECONNECTED = "_session_reconnected"  # the page the browser reconnected on; "" once the student moved on


def check_reconnect() -> None:
    """On a session's first run, note whether the browser reconnected into it (call before any widget)."""
    if st.session_state.get(_STARTED):
        return
    st.session_state[_STARTED] = True
    if _incoming_widget_values() > 0:
        st.session_state[_RECONNECTED] = None  # the page is known once st.navigation ran


def show_reconnect_notice(url_path: str) -> bool:
    """Whether to show the one-line notice on this run: on the page the browser reconnected on, until the
    student opens another page (a rerun of the page keeps it; Streamlit may rerun a first run at once)."""
    if _RECONNECTED not in st.session_state:
        return False
    page = st.session_state[_RECONNECTED]
    if page is None:
        st.session_state[_RECONNECTED] = page = url_path
    return page == url_path
