"""A minimal client for Streamlit's websocket protocol: what a browser tab does, without the browser.

It opens a session the way the Streamlit frontend does (``GET /_stcore/health``
for the ``_streamlit_xsrf`` cookie, websocket ``/_stcore/stream`` with the
subprotocols ``["streamlit", <xsrf token>]``), asks for a page by its URL path,
reads ``ForwardMsg``s until ``script_finished``, and uploads files exactly as a
``st.file_uploader`` does (``file_urls_request`` → HTTP PUT multipart with the
``X-Xsrftoken`` header → rerun carrying the uploader's ``uploaded_file_info``).

With ``browser_like=True`` it also costs the server what a browser tab costs
it: :meth:`StreamlitSession.load_page` GETs the page's HTML and every asset the
HTML references (scripts, module preloads, the stylesheet, preloaded fonts and
the icon font the stylesheet names, the favicon), the probes the frontend makes
(``/<page>/_stcore/health`` and ``host-config``, then ``/_stcore/host-config``
and ``/_stcore/health``); after each script run it GETs the JavaScript chunk of
every element type seen for the first time, with the chunks it imports (read
from the ``__vite__mapDeps`` table of the frontend's entry script), and the
images the run shows; every rerun carries the state of every widget on the
page (their shown values, as the browser sends them), not only the changed ones.
``tests/e2e/test_loadtest_fidelity.py`` checks that one simulated visit makes
the same script runs and about the same HTTP requests as one Chromium visit.

It is about 20–50× lighter than a Chromium page, so the load test can run
60 sessions on the same two cores as the server. Its HTTP is
:mod:`bench.http_client`, all in the event loop (no threads): per tab a cookie
jar and up to 6 keep-alive connections, kept for the tab's life as a browser
keeps them; a request lost because the server closed its idle keep-alive
connection at that moment is re-sent once and counted in ``http_retries`` /
``retry_log``. The bodies of the frontend's files and images are counted, not
kept. Used by ``bench/loadtest.py``, ``bench/startup.py`` and the e2e tests;
aimed at 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable
from urllib.parse import urljoin, urlsplit

from websockets.asyncio.client import ClientConnection, connect

from bench.http_client import BROWSER_CONNECTIONS, HttpClient, Response, fetch_once, multipart

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

XSRF_COOKIE = "_streamlit_xsrf"
#: How a run that completed ends: a whole script run, or one fragment's rerun.
FINISHED_OK = ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY")

# Element fields whose text we keep to read the rendered page.
_TEXT_FIELDS = {
    "markdown": ("body",), "heading": ("body",), "alert": ("body",), "text": ("body",),
    "metric": ("label", "body"), "exception": ("type", "message"), "code": ("code_text",),
    "progress": ("text",),
}


# Element type (ForwardMsg delta) -> the frontend component chunk that renders it (loaded lazily by the
# browser the first time such an element appears). Types not listed here are part of the entry bundle.
ELEMENT_CHUNKS = {
    "selectbox": "Selectbox", "radio": "Radio", "imgs": "ImageList", "metric": "Metric",
    "plotly_chart": "PlotlyChart", "file_uploader": "FileUploader", "slider": "Slider",
    "number_input": "NumberInput", "checkbox": "Checkbox", "multiselect": "Multiselect",
    "text_input": "TextInput", "text_area": "TextArea", "camera_input": "CameraInput",
    "graphviz_chart": "GraphVizChart", "arrow_data_frame": "DataFrame", "arrow_table": "Table",
    "button_group": "ButtonGroup", "button": "Button", "page_link": "PageLink", "html": "Html",
    "spinner": "Spinner", "progress": "Progress", "code": "StreamlitSyntaxHighlighter", "json": "Json",
    "arrow_vega_lite_chart": "ArrowVegaLiteChart", "download_button": "DownloadButton", "toast": "Toast",
    "date_input": "DateInput", "color_picker": "ColorPicker", "audio": "Audio", "video": "Video",
}

_SRC_HREF = re.compile(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"[^>]*>', re.I)
_REL = re.compile(r'\brel="([^"]+)"', re.I)
_LAZY = re.compile(r"import\(`\./([^`]+?\.js)`\)[^`]{0,80}?__vite__mapDeps\(\[([\d,]*)\]")
_DEP_FILES = re.compile(r"m\.f=\[([^\]]*)\]")
_ICON_FONT = re.compile(r'url\(["\']?([^)"\']*MaterialSymbols[^)"\']*\.woff2)')


@dataclass
class FrontendAssets:
    """What the frontend's entry files say a browser loads: per server, parsed once (the same for every tab)."""

    page_assets: list[str]  # absolute paths the HTML makes the browser load (scripts, preloads, CSS, fonts)
    chunks: dict[str, list[str]]  # component name -> paths of its chunk and the chunks it imports


_ASSETS: dict[str, FrontendAssets] = {}
_PARSE_LOCKS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]" = weakref.WeakKeyDictionary()


async def _parse_frontend(base_url: str, html: str, get: Callable[[str], Awaitable[bytes]]) -> FrontendAssets:
    """Read the asset list out of the HTML, the entry script and the stylesheet (``await get(path) -> bytes``)."""
    assets, entry, css = [], "", []
    for match in _SRC_HREF.finditer(html):
        tag, href = match.group(0), match.group(1)
        rel = (_REL.search(tag) or [None, ""])[1].lower() if tag.lower().startswith("<link") else "script"
        if href.startswith(("http:", "https:", "data:")) or rel in ("service-desc", "shortcut icon", "icon"):
            continue
        path = urlsplit(urljoin(base_url + "/", href)).path
        if rel == "script" and "/static/js/" in path and not entry:
            entry = path
        if rel == "stylesheet":
            css.append(path)
        if path not in assets:
            assets.append(path)
    chunks: dict[str, list[str]] = {}
    if entry:
        code = (await get(entry)).decode("utf-8", "replace")
        deps = _DEP_FILES.search(code)
        files = [f.strip().strip('"').strip("'") for f in deps.group(1).split(",")] if deps else []
        folder = entry.rsplit("/", 1)[0] + "/"
        for match in _LAZY.finditer(code):
            name = match.group(1)
            indices = [int(i) for i in match.group(2).split(",") if i]
            paths = [folder + name] + [folder + files[i][2:] for i in indices if i < len(files)]
            chunks.setdefault(name.split(".")[0], paths)
    for sheet in css:
        text = (await get(sheet)).decode("utf-8", "replace")
        for font in _ICON_FONT.findall(text):
            path = urlsplit(urljoin(base_url + sheet, font)).path
            if path not in assets:
                assets.append(path)
    return FrontendAssets(page_assets=assets, chunks=chunks)


class ProtocolError(RuntimeError):
    """The server answered something a browser would not accept."""


@dataclass
class RunResult:
    """What one script run rendered (as a browser would receive it)."""

    status: str = ""  # name of the ScriptFinishedStatus, "" if never finished
    seconds: float = 0.0
    texts: list[str] = field(default_factory=list)  # texts of text-like elements, in order
    exceptions: list[str] = field(default_factory=list)  # st.exception / uncaught tracebacks
    element_types: list[str] = field(default_factory=list)
    widgets: dict[str, Any] = field(default_factory=dict)  # element type -> list of widget protos
    raw: bytearray = field(default_factory=bytearray)  # the new-element messages as received (to search in)
    media: list[str] = field(default_factory=list)  # image URLs the browser would fetch next
    fragment_id: str = ""  # the st.fragment this run reran ("" for a whole script run)

    def has_text(self, needle: str) -> bool:
        return needle.encode() in self.raw

    def widget(self, kind: str, index: int = 0) -> Any:
        found = self.widgets.get(kind, [])
        if len(found) <= index:
            raise ProtocolError(f"the page rendered no {kind} #{index} (it rendered: {sorted(self.widgets)})")
        return found[index]


def _shown_state(etype: str, proto: Any):
    """The ``WidgetState`` a browser sends for widget ``proto`` showing its current value (None: sends none)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    state = WidgetState(id=proto.id)
    forced = getattr(proto, "set_value", False)
    if etype in ("selectbox", "radio"):
        if forced and proto.HasField("raw_value"):
            state.string_value = proto.raw_value
        elif proto.HasField("default") and 0 <= proto.default < len(proto.options):
            state.string_value = proto.options[proto.default]
        else:
            return None
    elif etype == "slider":
        state.double_array_value.data.extend(proto.value if forced and proto.value else proto.default)
    elif etype == "number_input":
        value = proto.value if forced else proto.default
        if proto.data_type == proto.INT:
            state.int_value = int(value)
        else:
            state.double_value = value
    elif etype in ("checkbox",):
        state.bool_value = proto.value if forced else proto.default
    elif etype in ("text_input", "text_area"):
        state.string_value = proto.value if forced else proto.default
    elif etype == "multiselect":
        values = list(proto.raw_values) if forced else [proto.options[i] for i in proto.default]
        state.string_array_value.data.extend(values)
    else:  # buttons, uploaders, charts: nothing until the student uses them
        return None
    return state


class StreamlitSession:
    """One browser-tab-like session against ``base_url`` (``http://127.0.0.1:<port>``)."""

    def __init__(self, base_url: str, timeout: float = 120.0, browser_like: bool = False) -> None:
        if not base_url.startswith(("http://127.0.0.1", "http://localhost")):
            raise ValueError("the protocol client only talks to a local server")
        self.browser_like = browser_like
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status) of every HTTP request sent
        self.script_runs = 0  # script runs this session asked for and saw finish
        self.loaded: set[str] = set()  # asset paths this tab already loaded (the browser's memory cache)
        self.seen_elements: set[str] = set()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        address = urlsplit(self.base_url)
        # No timer per request: each batch of requests is bounded by ``timeout`` as a whole.
        self.http = HttpClient(address.hostname or "127.0.0.1", address.port or 80, timeout=None,
                               on_retry=self._count_retry)
        self.ws: ClientConnection | None = None
        self.xsrf = ""
        self.session_id = ""
        self.page_script_hash = ""
        self.page_name = ""
        self.app_pages: list[str] = []  # the URL paths of the app's navigation, as the last run sent them
        self.query_string = ""
        self.widget_states: dict[str, Any] = {}  # widget id -> WidgetState to resend on every rerun
        self.widget_fragments: dict[str, str] = {}  # widget id -> id of the st.fragment that drew it ("" none)
        self._fragment_id = ""  # the next rerun is this fragment's (the last widget used is in it)
        self.http_retries = 0
        self.retry_log: list[str] = []
        self._frame = b""  # the last ForwardMsg as received

    @property
    def cookies(self) -> dict[str, str]:
        """Every cookie the server set in this tab (name -> value), e.g. ``_streamlit_xsrf`` and nginx's ``route``."""
        return self.http.cookies

    # --- HTTP ----------------------------------------------------------------
    def _count_retry(self, method: str, path: str, idle: float, error: BaseException) -> None:
        """A request re-sent because the server had just closed the idle keep-alive connection it went out on.

        The server (uvicorn) drops keep-alive connections after 5 s idle; a request
        sent at that instant is reset. Browsers re-send a request that failed this
        way, so this client does too (once, on a new connection), and counts it.
        """
        self.http_retries += 1
        what = path.split("/_stcore/")[-1].split("/")[0] if "/_stcore/" in path else path.split("/")[1]
        self.retry_log.append(f"{method} {what} after {idle:.1f} s idle: {error}"[:200])

    async def _http(self, method: str, path: str, headers: list[tuple[str, str]] | None = None,
                    body: bytes = b"", keep_body: bool = True) -> Response:
        """One HTTP request on the tab's connection pool, recorded in :attr:`requests` (the caller bounds its time)."""
        response = await self.http.request(method, path, headers=headers, body=body, keep_body=keep_body)
        self.requests.append((method, path.split("?", 1)[0], response.status))
        return response

    async def _get_all(self, paths: list[str], must_succeed: bool = True) -> int:
        """GET each path not loaded yet in this tab; bytes received.

        The frontend's files (``/static/``) go out on up to 6 connections at once, as a
        browser fetches them; the others (probes, images) one after the other.
        """
        fresh = [path for path in dict.fromkeys(paths) if path not in self.loaded]
        self.loaded.update(fresh)

        async def get(path: str) -> int:
            response = await self._http("GET", path, keep_body=False)
            if must_succeed and response.status != 200:
                raise ProtocolError(f"GET {path} answered {response.status}")
            return response.size

        static = [path for path in fresh if path.startswith("/static/")]
        total = 0
        async with asyncio.timeout(self.timeout):
            for path in fresh:
                if not path.startswith("/static/"):
                    total += await get(path)
            if static:
                queue = iter(static)

                async def worker() -> int:  # one connection's share: the next file as soon as it is free
                    return sum([await get(path) for path in queue])

                workers = min(BROWSER_CONNECTIONS, len(static))
                total += sum(await asyncio.gather(*(worker() for _ in range(workers))))
        return total

    async def _frontend(self, html: str) -> FrontendAssets:
        found = _ASSETS.get(self.base_url)
        if found is None:
            lock = _PARSE_LOCKS.setdefault(asyncio.get_running_loop(), asyncio.Lock())
            async with lock:  # the first tabs of a crowd parse the frontend once
                found = _ASSETS.get(self.base_url)
                if found is None:
                    found = await _parse_frontend(
                        self.base_url, html,
                        lambda path: fetch_once(self.http.host, self.http.port, path, self.timeout))
                    _ASSETS[self.base_url] = found
        return found

    async def load_page(self, page: str, query: str = "") -> int:
        """GET ``/<page>?<query>`` and everything a browser loads before it opens the websocket; the bytes read."""
        async with asyncio.timeout(self.timeout):
            response = await self._http("GET", f"/{page}" + (f"?{query}" if query else ""),
                                        keep_body=self.base_url not in _ASSETS)
        if response.status != 200:
            raise ProtocolError(f"GET /{page} answered {response.status}")
        total = response.size
        assets = await self._frontend(response.text if response.body else "")
        total += await self._get_all(assets.page_assets)
        if page:  # a sub-page URL: the frontend first probes its endpoints under that path (404s)
            await self._get_all([f"/{page}/_stcore/health", f"/{page}/_stcore/host-config"], must_succeed=False)
        total += await self._get_all(["/favicon.png", "/_stcore/host-config"])
        return total

    async def fetch_components(self, result: "RunResult") -> int:
        """GET the JavaScript chunks for element types this tab has not shown before; the bytes read."""
        new = [etype for etype in dict.fromkeys(result.element_types + list(result.widgets))
               if etype not in self.seen_elements]
        self.seen_elements.update(new)
        if not new or not _ASSETS.get(self.base_url):
            return 0
        chunks = _ASSETS[self.base_url].chunks
        paths = [p for etype in new if ELEMENT_CHUNKS.get(etype) in chunks for p in chunks[ELEMENT_CHUNKS[etype]]]
        return await self._get_all(paths) if paths else 0

    # --- connection ----------------------------------------------------------
    async def connect(self) -> None:
        async with asyncio.timeout(self.timeout):
            response = await self._http("GET", "/_stcore/health")
        if response.status != 200:
            raise ProtocolError(f"GET /_stcore/health answered {response.status}")
        self.xsrf = self.cookies.get(XSRF_COOKIE, "")
        if not self.xsrf:
            raise ProtocolError("/_stcore/health set no _streamlit_xsrf cookie")
        ws_url = "ws" + self.base_url[len("http"):] + "/_stcore/stream"
        self.ws = await connect(
            ws_url, subprotocols=["streamlit", self.xsrf], origin=self.base_url,
            # Every cookie the tab holds, as a browser sends them (behind the balancer: the `route` cookie
            # that keeps this session's websocket on the worker its HTTP requests reach).
            additional_headers={"Cookie": self.http.cookie_header()},
            max_size=None, compression=None, ping_interval=None, open_timeout=self.timeout,
            proxy=None,  # 127.0.0.1 only: no look-up of proxy settings per connection
        )

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
        await self.http.close()

    async def __aenter__(self) -> "StreamlitSession":
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- messages ------------------------------------------------------------
    async def _send(self, msg: BackMsg) -> None:
        assert self.ws is not None, "connect() first"
        await self.ws.send(msg.SerializeToString())

    async def _receive(self) -> ForwardMsg:
        """The next message (the caller bounds the time: one timer per run, not one per message)."""
        assert self.ws is not None
        data = await self.ws.recv()
        if isinstance(data, str):
            raise ProtocolError("text frame from the server")
        msg = ForwardMsg()
        msg.ParseFromString(data)
        if msg.WhichOneof("type") == "ref_hash":
            raise ProtocolError("server sent a cached-message reference the client never asked for")
        self._frame = data
        return msg

    def _absorb(self, msg: ForwardMsg, result: RunResult) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            new = msg.new_session
            self.session_id = new.initialize.session_id or self.session_id
            self.page_script_hash = new.page_script_hash
            for page in new.app_pages:
                if page.page_script_hash == new.page_script_hash:
                    self.page_name = page.url_pathname or page.page_name
        elif kind == "navigation":
            nav = msg.navigation
            self.page_script_hash = nav.page_script_hash
            self.app_pages = [page.url_pathname for page in nav.app_pages]
            for page in nav.app_pages:
                if page.page_script_hash == nav.page_script_hash:
                    self.page_name = page.url_pathname
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            etype = element.WhichOneof("type") or ""
            result.element_types.append(etype)
            result.raw += self._frame  # the message as received: its delta's bytes are in it, unchanged
            if etype in _TEXT_FIELDS:
                sub = getattr(element, etype)
                result.texts.extend(str(getattr(sub, name)) for name in _TEXT_FIELDS[etype] if getattr(sub, name))
            if etype == "imgs":
                result.media.extend(img.url for img in element.imgs.imgs if img.url.startswith("/"))
            if etype == "exception":
                exc = element.exception
                result.exceptions.append(f"{exc.type}: {exc.message}")
            if etype and hasattr(getattr(element, etype), "id"):
                result.widgets.setdefault(etype, []).append(getattr(element, etype))
                self.widget_fragments[getattr(element, etype).id] = msg.delta.fragment_id

    async def rerun(self, page: str | None = None, query: str | None = None) -> RunResult:
        """Run the script (the page ``page`` given by its URL path, else the current one) and read it all."""
        start = time.perf_counter()
        msg = BackMsg()
        state = msg.rerun_script
        if page is not None and page != self.page_name:
            state.page_name = page
            self.page_script_hash = ""
            self.page_name = page
        else:
            state.page_script_hash = self.page_script_hash
            state.page_name = self.page_name
        if query is not None:
            self.query_string = query
        state.query_string = self.query_string
        # As the browser: a widget drawn by an st.fragment reruns only that fragment.
        fragment_id, self._fragment_id = self._fragment_id, ""
        if fragment_id and page is None:
            state.fragment_id = fragment_id
        if self.browser_like:  # what a browser tells the server about itself on every rerun (st.context)
            info = state.context_info
            info.url = f"{self.base_url}/{self.page_name}" + (f"?{self.query_string}" if self.query_string else "")
            info.locale, info.timezone, info.timezone_offset = "en-US", "UTC", 0
        for widget_state in self.widget_states.values():
            state.widget_states.widgets.add().CopyFrom(widget_state)
        await self._send(msg)
        result = RunResult()
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    reply = await self._receive()
                    self._absorb(reply, result)
                    if reply.WhichOneof("type") == "script_finished":
                        status = ForwardMsg.ScriptFinishedStatus.Name(reply.script_finished)
                        if status == "FINISHED_EARLY_FOR_RERUN":
                            result = RunResult()  # the script restarts; what counts is the next run
                            continue
                        result.status = status
                        break
        except TimeoutError:
            raise TimeoutError(f"no script_finished within {self.timeout:g} s") from None
        self.script_runs += 1
        result.seconds = time.perf_counter() - start
        result.fragment_id = state.fragment_id
        if self.browser_like:
            if result.status in FINISHED_OK:
                self._keep_shown_widgets(result)
            await self.fetch_components(result)
            await self.fetch_media(result)
        return result

    def _keep_shown_widgets(self, result: RunResult) -> None:
        """As the browser: from now on send the shown value of every widget on the page, and only those.

        After a fragment's rerun the widgets outside that fragment are still on the page.
        """
        shown = {}
        if result.fragment_id:
            shown = {wid: state for wid, state in self.widget_states.items()
                     if self.widget_fragments.get(wid, "") != result.fragment_id}
        for etype, protos in result.widgets.items():
            for proto in protos:
                state = self.widget_states.get(proto.id)
                forced = getattr(proto, "set_value", False)
                if state is None or forced:
                    state = _shown_state(etype, proto) or state
                if state is not None:
                    shown[proto.id] = state
        self.widget_states = shown

    async def fetch_media(self, result: RunResult) -> int:
        """GET the images a run rendered, as the browser does to show them; returns the bytes read."""
        fresh = [url for url in result.media if url not in self.loaded]
        return await self._get_all(fresh) if fresh else 0

    async def open(self, page: str, lang: str = "en") -> RunResult:
        """Open ``/<page>?lang=<lang>`` like a browser tab (in browser-like mode: load the page first)."""
        if self.browser_like and self.ws is None:
            await self.load_page(page, f"lang={lang}")
        if self.ws is None:
            await self.connect()
        return await self.rerun(page=page, query=f"lang={lang}")

    # --- widgets -------------------------------------------------------------
    def set_widget(self, widget_id: str, **value: Any) -> None:
        """Set a widget's value for every following rerun, e.g. ``set_widget(id, int_value=3)``."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        state = WidgetState(id=widget_id)
        for name, val in value.items():
            if isinstance(val, (list, tuple)):
                getattr(state, name).data.extend(val)
            else:
                setattr(state, name, val)
        self.widget_states[widget_id] = state
        self._fragment_id = self.widget_fragments.get(widget_id, "")

    async def upload(self, uploader_id: str, name: str, data: bytes, mime: str = "image/jpeg") -> RunResult:
        """Upload ``data`` through the file uploader ``uploader_id`` and rerun, as the browser does."""
        request_id = uuid.uuid4().hex
        msg = BackMsg()
        msg.file_urls_request.request_id = request_id
        msg.file_urls_request.file_names.append(name)
        msg.file_urls_request.session_id = self.session_id
        await self._send(msg)
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    reply = await self._receive()
                    if (reply.WhichOneof("type") == "file_urls_response"
                            and reply.file_urls_response.response_id == request_id):
                        break
        except TimeoutError:
            raise TimeoutError(f"no file_urls_response within {self.timeout:g} s") from None
        response = reply.file_urls_response
        if response.error_msg:
            raise ProtocolError(f"file_urls_response: {response.error_msg}")
        urls = response.file_urls[0]

        if self.browser_like and _ASSETS.get(self.base_url):  # the uploader loads its HTTP client on first use
            await self._get_all(_ASSETS[self.base_url].chunks.get("axios", []))
        body, content_type = multipart("file", name, data, mime)
        async with asyncio.timeout(self.timeout):
            answer = await self._http("PUT", urls.upload_url, body=body,
                                      headers=[("Content-Type", content_type), ("X-Xsrftoken", self.xsrf)])
        if answer.status not in (200, 204):
            raise ProtocolError(f"upload PUT answered {answer.status}: {answer.text[:200]}")
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        state = WidgetState(id=uploader_id)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.file_id = urls.file_id
        info.name = name
        info.size = len(data)
        info.file_urls.CopyFrom(urls)
        self.widget_states[uploader_id] = state
        self._fragment_id = self.widget_fragments.get(uploader_id, "")
        return await self.rerun()
