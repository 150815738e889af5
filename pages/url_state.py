"""A page's state in its URL: a lecturer's link opens exactly the same view.

How to use it on a page (two ways, one notice)
----------------------------------------------
1. **Numbers, toggles and choices whose labels are the same in every language**: Streamlit's own binding.
   Give the control a short, readable key and ``bind="query-params"``; set its default with ``value=`` /
   ``index=`` (not ``st.session_state.setdefault``)::

       st.slider(tr("cost.d_f"), 1, 512, value=112, key="df", bind="query-params")

   Streamlit reads ``?df=56`` when the page opens (the URL wins over session state on that first run),
   writes the value into the URL whenever it changes, and leaves it out while it equals the widget's
   default. A button or preset may set ``st.session_state["df"] = 56`` in its ``on_click`` callback: the
   URL follows. A bound parameter cannot be set through ``st.query_params``. The key is global to the
   session, so the same key on two pages should mean the same thing (``model``).

2. **Choices shown through a translated** ``format_func`` (selectbox, radio, select_slider): with
   ``bind`` Streamlit would put the *label* in the URL (``?src=上传``), which an English session then
   rejects. Use :func:`coded` instead; the URL holds the option's code (``str(option)``)::

       st.radio(tr("images.source"), SOURCES, format_func=label, **url_state.coded("src", SOURCES))

   ``coded(param, options, default, key="my_widget_key")`` keeps a page's own widget key and still
   uses the short ``param`` in the URL. Pass your own ``on_change`` callback, if any, through
   ``coded(..., on_change=f)``. The URL is written by that callback (so it also works inside
   ``st.fragment``) and once more after every full run.

3. **Rejected values** need nothing from the page. ``app.py`` calls :func:`page_opened` before the page
   runs (it remembers the query string the page was opened with) and :func:`finish` after it: every
   parameter of that link that a control did not take — ``?dk=4`` (even kernels are not offered),
   ``?m=abc``, ``?model=resnet`` — is named in one line in the user's language, and the control keeps
   its default. (Streamlit drops such values silently.) A page that reads a parameter by hand from
   ``st.query_params`` can report a bad one with :func:`reject`.

How it behaves (checked in Chromium with Streamlit 1.67)
-------------------------------------------------------
- A link's values apply on the page's first run only; after that the controls (session state) win.
- Invalid values are not clamped: ``?m=99999`` (above the widget's maximum), ``?dk=4`` (not an option),
  ``?alpha=abc`` leave the control at its default and are removed from the URL (and named in the notice).
- Choosing a page in the menu starts it with a clean URL (Streamlit drops the old page's parameters;
  the language stays in the session, and the share link adds ``lang=zh`` itself).
- AppTest: ``at = AppTest.from_file("app.py"); at.query_params["dk"] = "5"; at.switch_page("pages/cost.py")``
  runs a link through app.py (see ``tests/test_links_and_share.py``). AppTest does not copy a moved control
  into ``at.query_params`` (the browser does that); programmatic sets (presets) do show there.

Keys in use: ``lang`` (the app); cost ``dk m n df t s alpha rho``; architectures ``model w res layer``;
classify ``src sample view model``; feature maps ``src sample model block stage ch``; export ``w res dtype cal``
(``w``/``res`` shared with Architectures: a link opens both pages on the same network); transfer ``kept`` (this
browser's token for its kept head: private, never in a shared link, see :data:`PRIVATE_PARAMS`).
Reserved by Streamlit: ``embed``, ``embed_options``.

:func:`share_url` gives the page's full link (for the "Share this view" panel).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from explainer.safe_text import code_text
from pages.ui import LANG_KEY, current_language, tr

#: Set this to the address students can reach (e.g. ``http://192.168.1.20:8501``) when the lecturer's
#: own browser shows ``localhost``: the share panel's link and QR code then use it.
PUBLIC_URL_ENV = "EXPLAINER_PUBLIC_URL"

#: Parameters that belong to this browser only and never go into a shared link (``kept``: the token of a
#: trained head kept across a worker restart, pages/transfer.py).
PRIVATE_PARAMS = ("kept",)

#: The "ignored settings" line names at most this many parameters, each cut to this many characters.
MAX_SHOWN_PARAMS, MAX_SHOWN_CHARS = 6, 40

_PAGE = "_url_state_page"  # url path of the page the previous run showed
_LINK = "_url_state_link"  # the parameters this page was opened with (until the first complete run ends)
_CODED = "_url_state_coded"  # param -> (widget key, option codes, default code), registered in this run
_REJECTED = "_url_state_rejected"  # "key=value" strings rejected in this run


def page_opened(url_path: str) -> None:
    """Called by ``app.py`` before the page runs: remember the link the page was opened with."""
    if st.session_state.get(_PAGE) != url_path:
        st.session_state[_PAGE] = url_path
        st.session_state[_LINK] = dict(st.query_params.to_dict())
    # else: the link stays until finish() clears it, so a run cut short (st.rerun) does not lose it
    st.session_state[_CODED] = {}
    st.session_state[_REJECTED] = []


def _link() -> dict[str, str]:
    return st.session_state.get(_LINK) or {}


def reject(key: str, raw: str) -> None:
    """Report a link parameter the page could not use (shown by :func:`finish`)."""
    rejected = st.session_state.setdefault(_REJECTED, [])
    item = f"{key}={raw}"
    if item not in rejected:
        rejected.append(item)


def _write(param: str) -> None:
    key, codes, default = st.session_state.get(_CODED, {}).get(param, (None, None, None))
    if key is None or key not in st.session_state:
        return
    code = str(st.session_state[key])
    if code == default or code not in codes:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != code:
        st.query_params[param] = code


def coded(param: str, options: Sequence[Any], default: Any = None, *, key: str | None = None,
          on_change: Callable[..., None] | None = None, args: tuple = ()) -> dict[str, Any]:
    """Widget keyword arguments (``key``, ``on_change``) that keep a choice in the URL as ``?<param>=<code>``.

    The code is ``str(option)``, never the (translated) label. ``default`` is the option the widget starts
    with (its ``index=``/``value=``; the first option if not given): it is left out of the URL. ``key`` is
    the widget key (``param`` if not given), so a page can keep its own keys. On the run that opened the
    page, a valid code selects that option; an unknown one is reported and the widget keeps its default.
    """
    key = key or param
    options = list(options)
    codes = tuple(str(option) for option in options)
    default_code = str(options[0] if default is None else default) if options else ""
    st.session_state.setdefault(_CODED, {})[param] = (key, codes, default_code)
    raw = _link().get(param)
    if raw is not None:
        if raw in codes:
            st.session_state[key] = options[codes.index(raw)]
        else:
            reject(param, raw)
        _link().pop(param, None)  # taken once: a rerun of this run's page must not apply it again

    def changed() -> None:
        _write(param)
        if on_change is not None:
            on_change(*args)

    return {"key": key, "on_change": changed}


def _same(raw: str, value: Any) -> bool:
    """Whether the link's text ``raw`` means the control's value ``value``."""
    if isinstance(value, bool):
        return raw.strip().lower() == str(value).lower()
    if isinstance(value, (int, float)):
        try:
            return float(raw) == float(value)
        except ValueError:
            return False

    def norm(text: str) -> str:
        return "".join(ch for ch in text.lower() if ch.isalnum())

    return raw == str(value) or norm(raw) == norm(str(value))


def rejected_params() -> list[str]:
    """``key=value`` for every parameter of the opening link that no control took (after the page ran)."""
    rejected = list(st.session_state.get(_REJECTED, []))
    for key, raw in _link().items():
        if key == LANG_KEY or key in st.session_state.get(_CODED, {}):
            continue
        if key not in st.session_state:
            continue  # not a control of this page (read by hand, or unrelated): left alone
        if st.query_params.get(key) == raw or _same(raw, st.session_state[key]):
            continue  # taken as given (a value equal to the default is taken and left out of the URL)
        item = f"{key}={raw}"
        if item not in rejected:
            rejected.append(item)
    return rejected


def finish(notice=None) -> None:
    """Called by ``app.py`` after the page ran: write coded choices to the URL, name rejected parameters.

    ``notice`` is the placeholder (``st.empty()``) for that one line, made before the page ran so the
    line shows at the top of the page.
    """
    for key in st.session_state.get(_CODED, {}):
        _write(key)
    rejected = rejected_params()
    if rejected:
        # Shown as short code text, never as Markdown: a crafted link must not render a link or load an image.
        shown = [code_text(item, MAX_SHOWN_CHARS) for item in rejected[:MAX_SHOWN_PARAMS]]
        if len(rejected) > MAX_SHOWN_PARAMS:
            shown.append("…")
        (notice if notice is not None else st).warning(tr("url.rejected", params=", ".join(shown)), icon="🔗")
    st.session_state[_LINK] = {}


def share_url(url_path: str, default_page: bool = False) -> str | None:
    """The full link to this page in its current state and language (``None`` if the address is unknown).

    The address is :data:`PUBLIC_URL_ENV` plus the page's path when that is set, else the address in
    this browser (``st.context.url``: scheme, host, port and path, as the user sees it, so it is right
    behind a proxy too).
    """
    configured = os.environ.get(PUBLIC_URL_ENV, "").strip().rstrip("/")
    if configured:
        address = configured if default_page else f"{configured}/{url_path}"
    else:
        address = st.context.url
        if not address:
            return None
    params = {key: value for key, value in st.query_params.to_dict().items()
              if key != LANG_KEY and key not in PRIVATE_PARAMS}
    lang = current_language()
    if lang != "en":
        params = {LANG_KEY: lang, **params}
    query = urlencode(params)
    return address + (f"?{query}" if query else "")
