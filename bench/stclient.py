"""A minimal client for Streamlit's websocket protocol: what a browser tab does, without the browser.

It opens a session the way the Streamlit frontend does (``GET /_stcore/health``
for the ``_streamlit_xsrf`` cookie, websocket ``/_stcore/stream`` with the
subprotocols ``["streamlit", <xsrf token>]``), asks for a page by its URL path,
reads ``ForwardMsg``s until ``script_finished``, and uploads files exactly as a
``st.file_uploader`` does (``file_urls_request`` → HTTP PUT multipart with the
``X-Xsrftoken`` header → rerun carrying the uploader's ``uploaded_file_info``).

It is about 20–50× lighter than a Chromium page, so the load test can run
60 sessions on the same two cores as the server. Used by ``bench/loadtest.py``
and ``bench/startup.py``; aimed at 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import urlsplit
from dataclasses import dataclass, field
from typing import Any

import requests
from websockets.asyncio.client import ClientConnection, connect

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

XSRF_COOKIE = "_streamlit_xsrf"

# Element fields whose text we keep to read the rendered page.
_TEXT_FIELDS = {
    "markdown": ("body",), "heading": ("body",), "alert": ("body",), "text": ("body",),
    "metric": ("label", "body"), "exception": ("type", "message"), "code": ("code_text",),
    "progress": ("text",),
}


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
    raw: bytearray = field(default_factory=bytearray)  # serialized deltas (to search in tables/charts)
    media: list[str] = field(default_factory=list)  # image URLs the browser would fetch next

    def has_text(self, needle: str) -> bool:
        return needle.encode() in self.raw

    def widget(self, kind: str, index: int = 0) -> Any:
        found = self.widgets.get(kind, [])
        if len(found) <= index:
            raise ProtocolError(f"the page rendered no {kind} #{index} (it rendered: {sorted(self.widgets)})")
        return found[index]


class StreamlitSession:
    """One browser-tab-like session against ``base_url`` (``http://127.0.0.1:<port>``)."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        if not base_url.startswith(("http://127.0.0.1", "http://localhost")):
            raise ValueError("the protocol client only talks to a local server")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        self.ws: ClientConnection | None = None
        self.xsrf = ""
        self.session_id = ""
        self.page_script_hash = ""
        self.page_name = ""
        self.query_string = ""
        self.widget_states: dict[str, Any] = {}  # widget id -> WidgetState to resend on every rerun
        self.http_retries = 0
        self.retry_log: list[str] = []
        self._last_http = 0.0

    # --- HTTP ----------------------------------------------------------------
    def _http(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP request; re-sent once if the server had just closed the idle keep-alive connection.

        The server (uvicorn) drops keep-alive connections after 5 s idle; a request
        sent at that instant is reset ("Connection aborted"). Browsers re-send a
        request that failed this way on a reused connection, so this client does
        too, and counts it in ``http_retries``.
        """
        idle = time.perf_counter() - self._last_http
        try:
            return self.http.request(method, url, timeout=self.timeout, **kwargs)
        except requests.ConnectionError as error:
            if "Connection aborted" not in str(error):
                raise
            self.http_retries += 1
            path = urlsplit(url).path
            what = path.split("/_stcore/")[-1].split("/")[0] if "/_stcore/" in path else path.split("/")[1]
            self.retry_log.append(f"{method} {what} after {idle:.1f} s idle: {error}"[:200])
            return self.http.request(method, url, timeout=self.timeout, **kwargs)
        finally:
            self._last_http = time.perf_counter()

    # --- connection ----------------------------------------------------------
    async def connect(self) -> None:
        def get_cookie() -> str:
            response = self._http("GET", f"{self.base_url}/_stcore/health")
            response.raise_for_status()
            return self.http.cookies.get(XSRF_COOKIE, "")

        self.xsrf = await asyncio.to_thread(get_cookie)
        if not self.xsrf:
            raise ProtocolError("/_stcore/health set no _streamlit_xsrf cookie")
        ws_url = "ws" + self.base_url[len("http"):] + "/_stcore/stream"
        self.ws = await connect(
            ws_url, subprotocols=["streamlit", self.xsrf], origin=self.base_url,
            additional_headers={"Cookie": f"{XSRF_COOKIE}={self.xsrf}"},
            max_size=None, compression=None, ping_interval=None, open_timeout=self.timeout,
        )

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
        self.http.close()

    async def __aenter__(self) -> "StreamlitSession":
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- messages ------------------------------------------------------------
    async def _send(self, msg: BackMsg) -> None:
        assert self.ws is not None, "connect() first"
        await self.ws.send(msg.SerializeToString())

    async def _receive(self, deadline: float) -> ForwardMsg:
        assert self.ws is not None
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise TimeoutError("no script_finished in time")
        data = await asyncio.wait_for(self.ws.recv(), timeout=remaining)
        if isinstance(data, str):
            raise ProtocolError("text frame from the server")
        msg = ForwardMsg()
        msg.ParseFromString(data)
        if msg.WhichOneof("type") == "ref_hash":
            raise ProtocolError("server sent a cached-message reference the client never asked for")
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
            for page in nav.app_pages:
                if page.page_script_hash == nav.page_script_hash:
                    self.page_name = page.url_pathname
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            etype = element.WhichOneof("type") or ""
            result.element_types.append(etype)
            result.raw += msg.delta.SerializeToString()
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
        for widget_state in self.widget_states.values():
            state.widget_states.widgets.add().CopyFrom(widget_state)
        await self._send(msg)
        result = RunResult()
        deadline = start + self.timeout
        while True:
            reply = await self._receive(deadline)
            self._absorb(reply, result)
            if reply.WhichOneof("type") == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(reply.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    result = RunResult()  # the script restarts; what counts is the next run
                    continue
                result.status = status
                break
        result.seconds = time.perf_counter() - start
        return result

    async def fetch_media(self, result: RunResult) -> int:
        """GET the images a run rendered, as the browser does to show them; returns the bytes read."""

        def get_all() -> int:
            total = 0
            for url in result.media:
                response = self._http("GET", self.base_url + url)
                if response.status_code != 200:
                    raise ProtocolError(f"GET {url} answered {response.status_code}")
                total += len(response.content)
            return total

        return await asyncio.to_thread(get_all) if result.media else 0

    async def open(self, page: str, lang: str = "en") -> RunResult:
        """Open ``/<page>?lang=<lang>`` like a browser tab (connect first)."""
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

    async def upload(self, uploader_id: str, name: str, data: bytes, mime: str = "image/jpeg") -> RunResult:
        """Upload ``data`` through the file uploader ``uploader_id`` and rerun, as the browser does."""
        request_id = uuid.uuid4().hex
        msg = BackMsg()
        msg.file_urls_request.request_id = request_id
        msg.file_urls_request.file_names.append(name)
        msg.file_urls_request.session_id = self.session_id
        await self._send(msg)
        deadline = time.perf_counter() + self.timeout
        while True:
            reply = await self._receive(deadline)
            if reply.WhichOneof("type") == "file_urls_response" and reply.file_urls_response.response_id == request_id:
                break
        response = reply.file_urls_response
        if response.error_msg:
            raise ProtocolError(f"file_urls_response: {response.error_msg}")
        urls = response.file_urls[0]

        def put() -> None:
            answer = self._http("PUT", self.base_url + urls.upload_url, files={"file": (name, data, mime)},
                                headers={"X-Xsrftoken": self.xsrf})
            if answer.status_code not in (200, 204):
                raise ProtocolError(f"upload PUT answered {answer.status_code}: {answer.text[:200]}")

        await asyncio.to_thread(put)
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        state = WidgetState(id=uploader_id)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.file_id = urls.file_id
        info.name = name
        info.size = len(data)
        info.file_urls.CopyFrom(urls)
        self.widget_states[uploader_id] = state
        return await self.rerun()
