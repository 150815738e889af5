"""The sidebar's lecture tools on every page: "Share this view" (link + QR code) and presenter mode.

``app.py`` calls :func:`presenter_toggle` before the page runs and :func:`share_panel` after it
(so the link holds the values the page's controls ended with). The link comes from
:func:`pages.url_state.share_url`; the QR code is drawn by ``segno`` (pure Python) as a PNG, shown inline.
"""

from __future__ import annotations

import io

import segno
import streamlit as st

from explainer.images import data_uri
from pages.readable import PRESENTER_CSS
from pages.ui import tr
from pages.url_state import share_url

PRESENTER_KEY = "presenter"
QR_KEY = "share_qr"


@st.cache_data(show_spinner=False, max_entries=256)
def qr_png(text: str) -> bytes:
    """A QR code of ``text`` as a PNG with one pixel per module (error correction M, 4-module quiet zone).

    The browser scales it up without smoothing (``image-rendering: pixelated``): as sharp as a large PNG,
    and no time spent drawing one (making the code itself takes about 10–35 ms here, cached per link).
    """
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=1, border=4)
    return buffer.getvalue()


QR_ALT = "QR code"


def qr_markdown(text: str, max_width_px: int = 640) -> str:
    """The QR code as an inline ``<img>`` (a data URI, not a media file: a rerun that replaces the code can
    never leave the browser asking for a file that is gone)."""
    return (f'<img src="{data_uri(qr_png(text), "image/png")}" alt="{QR_ALT}" style="width:100%;'
            f'max-width:{max_width_px}px;display:block;margin:auto;object-fit:contain;image-rendering:pixelated">')


def presenter_toggle() -> bool:
    """The sidebar's presenter switch; applies the large-type styles while on."""
    # In the URL (``?presenter=true``, Streamlit's own binding): a deep link from a slide opens in presenter mode.
    on = st.sidebar.toggle(tr("share.presenter"), key=PRESENTER_KEY, help=tr("share.presenter_help"),
                           bind="query-params")
    if on:
        st.html(PRESENTER_CSS)
    return on


def show_qr(link: str, max_width_px: int = 640) -> bool:
    """The QR code of ``link``, or one line saying the link is too long for one (a QR code holds at most
    about 2,300 characters of a link); whether the code was drawn."""
    try:
        st.markdown(qr_markdown(link, max_width_px=max_width_px), unsafe_allow_html=True)
    except segno.DataOverflowError:
        st.caption(tr("limits.qr_too_long", n=len(link)))
        return False
    return True


def _big_qr(link: str) -> None:
    """The QR code as large as the dialog allows, centred, for the projector."""
    show_qr(link, max_width_px=640)
    st.caption(tr("share.qr_caption"))
    st.code(link, language=None, wrap_lines=True)


def share_panel(url_path: str, default_page: bool = False) -> None:
    """"Share this view": the page's current link (copyable) and its QR code, large enough to project."""
    with st.sidebar.expander(f"🔗 {tr('share.title')}", expanded=False):
        link = share_url(url_path, default_page)
        if link is None:
            st.caption(tr("share.no_address"))
            return
        st.caption(tr("share.help"))
        st.code(link, language=None, wrap_lines=True)
        if "://localhost" in link or "://127.0.0.1" in link:
            st.caption(tr("share.localhost"))
        # The QR code only on request: drawing it for every student's every rerun would cost them time.
        if st.toggle(tr("share.qr"), key=QR_KEY):
            if not show_qr(link):
                return
            st.caption(tr("share.qr_caption"))
            if st.button(f"⛶ {tr('share.project')}", key="share_project", width="stretch"):
                st.dialog(tr("share.title"), width="large")(_big_qr)(link)
