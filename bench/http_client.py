"""A small HTTP/1.1 client on asyncio, without threads: the HTTP side of the load generator's simulated tabs.

The load generator (``bench/loadtest.py``) runs on the same two cores as the
server it measures, so its HTTP must cost little CPU: a real browser does this
work in its C++ network stack on the student's phone. :class:`HttpClient` does
all its work in the event loop (no thread pool, so no GIL contention with the
websockets and the timers of 60 other simulated tabs), parses only what it
needs (status line, headers, ``Content-Length`` or chunked bodies), and skips
the bodies nobody reads without copying them.

It behaves like one browser tab towards one host:

- at most :data:`BROWSER_CONNECTIONS` (6) keep-alive connections, kept for the
  tab's whole life and reused by every request (a browser's per-host pool);
- every cookie the server set is sent back (``_streamlit_xsrf``, nginx's ``route``);
- a request that fails before any byte of its answer arrived is re-sent once on
  a new connection (the server closed the connection at the moment the request
  was sent, e.g. uvicorn's 5 s keep-alive limit; browsers re-send such requests
  too), and reported to ``on_retry``.

Only for 127.0.0.1/localhost servers of this project: no TLS, no proxies, no redirects.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Callable

#: Connections a browser opens to one host (HTTP/1.1) and fetches a page's files on, at the same time.
BROWSER_CONNECTIONS = 6

#: Headers sent with every request (a browser sends more, none of which changes what these servers do).
BASE_HEADERS = (
    ("User-Agent", "bench-stclient/2 (MobileNet Explainer load test)"),
    ("Accept-Encoding", "gzip, deflate"),
    ("Accept", "*/*"),
    ("Connection", "keep-alive"),
)

_MAX_HEAD = 64 * 1024  # longest status line + headers accepted


class HttpError(ConnectionError):
    """The server's answer was not valid HTTP/1.1, or the connection broke in the middle of it."""


class _Closed(ConnectionError):
    """The connection was closed (or reset) before the expected bytes arrived."""

    def __init__(self, message: str, received: int) -> None:
        super().__init__(message)
        self.received = received  # bytes of the answer that did arrive


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case name -> value (repeated fields joined with ", ")
    set_cookies: list[str] = field(default_factory=list)  # every Set-Cookie field, in order
    body: bytes = b""  # as received (still compressed if Content-Encoding says so); b"" if discarded
    size: int = 0  # length of the body as received, also when it was discarded
    keep_alive: bool = True

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @property
    def content(self) -> bytes:
        """The body, decompressed (gzip / deflate) as a browser would."""
        encoding = self.header("content-encoding").lower()
        if encoding == "gzip":
            return zlib.decompress(self.body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            try:
                return zlib.decompress(self.body)
            except zlib.error:
                return zlib.decompress(self.body, -zlib.MAX_WBITS)
        return self.body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


_RECEIVE_SIZE = 256 * 1024
_receive_buffers: dict[int, memoryview] = {}  # id of the thread -> the buffer its event loop receives into


def _receive_buffer() -> memoryview:
    """One receive buffer per thread (event loop), shared by all its connections: the loop calls ``get_buffer``,
    ``recv_into`` and ``buffer_updated`` one after the other, so no two connections ever use it at once."""
    key = threading.get_ident()
    view = _receive_buffers.get(key)
    if view is None:
        view = _receive_buffers[key] = memoryview(bytearray(_RECEIVE_SIZE))
    return view


class ByteStream(asyncio.BufferedProtocol):
    """A connection's received bytes, read by one coroutine at a time (a lean ``asyncio.StreamReader``).

    The kernel copies what arrives into one reused buffer (no new bytes object per
    read); :meth:`discard` skips ``n`` bytes as they arrive without keeping them:
    the frontend's files (7.7 MB per first visit) are counted, never copied again.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False
        self.error: BaseException | None = None
        self._skip = 0  # bytes still to drop as they arrive
        self._need = 0  # wake the reader when the buffer holds this many bytes
        self._waiter: asyncio.Future | None = None
        self._view = memoryview(b"")

    # --- the event loop's side ------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> memoryview:
        self._view = _receive_buffer()
        return self._view

    def buffer_updated(self, nbytes: int) -> None:
        if self._skip:
            if nbytes <= self._skip:
                self._skip -= nbytes
                if not self._skip:
                    self._wake()
                return
            start, self._skip = self._skip, 0
            self.buffer += self._view[start:nbytes]
        else:
            self.buffer += self._view[:nbytes]
        if len(self.buffer) >= self._need:
            self._wake()

    def data_received(self, data: bytes) -> None:  # tests feed bytes this way
        view, self._view = self._view, memoryview(data)
        try:
            self.buffer_updated(len(data))
        finally:
            self._view = view

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.error = exc
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- the reader's side ------------------------------------------------------
    async def _wait(self, need: int) -> None:
        """Until the buffer holds ``need`` bytes (and nothing is left to skip), or the connection closes."""
        if self.closed:
            raise _Closed(f"connection closed ({self.error or 'end of stream'})", len(self.buffer))
        self._need = need
        self._waiter = asyncio.get_running_loop().create_future()
        await self._waiter

    async def read_until(self, separator: bytes, limit: int = _MAX_HEAD) -> bytes:
        """Bytes up to and including ``separator``."""
        start = 0
        while True:
            found = self.buffer.find(separator, start)
            if found >= 0:
                end = found + len(separator)
                data = bytes(self.buffer[:end])
                del self.buffer[:end]
                return data
            if len(self.buffer) > limit:
                raise HttpError(f"no {separator!r} in the first {limit} bytes")
            start = max(0, len(self.buffer) - len(separator) + 1)
            await self._wait(len(self.buffer) + 1)

    async def read_exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            await self._wait(n)
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    async def discard(self, n: int) -> None:
        """Skip ``n`` bytes without keeping them."""
        if len(self.buffer) >= n:
            del self.buffer[:n]
            return
        self._skip = n - len(self.buffer)
        self.buffer.clear()
        while self._skip:
            try:
                await self._wait(0)
            except _Closed as closed:
                raise _Closed(str(closed), n - self._skip) from None

    async def read_to_end(self) -> bytes:
        while not self.closed:
            await self._wait(len(self.buffer) + 1)
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


async def read_chunked(stream: ByteStream, keep: bool = True) -> tuple[bytes, int]:
    """A ``Transfer-Encoding: chunked`` body (RFC 9112 §7.1): ``(body or b"", its length)``; trailers dropped."""
    parts, size = [], 0
    while True:
        line = await stream.read_until(b"\r\n")
        try:
            length = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise HttpError(f"bad chunk size line {line[:40]!r}") from None
        if length < 0:
            raise HttpError(f"bad chunk size line {line[:40]!r}")
        if length == 0:
            while await stream.read_until(b"\r\n") != b"\r\n":  # trailer fields, then the empty line
                pass
            return b"".join(parts), size
        if keep:
            parts.append(await stream.read_exactly(length))
        else:
            await stream.discard(length)
        size += length
        if await stream.read_exactly(2) != b"\r\n":
            raise HttpError("a chunk does not end with CRLF")


async def read_response(stream: ByteStream, method: str, keep_body: bool = True) -> Response:
    """One response from ``stream`` (status line, headers, body by Content-Length, chunked or to the end)."""
    head = await stream.read_until(b"\r\n\r\n")
    lines = head[:-4].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HttpError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    status = int(parts[1])
    headers: dict[str, str] = {}
    response = Response(status=status, headers=headers)
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise HttpError(f"bad header line {line[:80]!r}")
        name, value = name.strip().lower(), value.strip()
        if name == "set-cookie":
            response.set_cookies.append(value)
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    connection = headers.get("connection", "").lower()
    response.keep_alive = "close" not in connection and (parts[0] == "HTTP/1.1" or "keep-alive" in connection)
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return response
    if "chunked" in headers.get("transfer-encoding", "").lower():
        response.body, response.size = await read_chunked(stream, keep_body)
    elif (length := headers.get("content-length")):
        response.size = int(length)
        if keep_body:
            response.body = await stream.read_exactly(response.size)
        else:
            await stream.discard(response.size)
    else:  # delimited by the end of the connection
        response.body = await stream.read_to_end()
        response.size = len(response.body)
        response.keep_alive = False
        if not keep_body:
            response.body = b""
    return response


@dataclass
class _Connection:
    stream: ByteStream
    served: int = 0  # requests answered on it
    idle_since: float = field(default_factory=time.perf_counter)

    @property
    def usable(self) -> bool:
        transport = self.stream.transport
        return not self.stream.closed and transport is not None and not transport.is_closing()

    def close(self) -> None:
        if self.stream.transport is not None:
            self.stream.transport.close()


def multipart(field_name: str, filename: str, data: bytes, mime: str) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with one file, as ``requests``/browsers encode it: ``(body, content type)``."""
    boundary = os.urandom(16).hex()
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; filename="{filename}"\r\n'
            f"Content-Type: {mime}\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class HttpClient:
    """One browser tab's HTTP to ``host:port``: a cookie jar and a pool of at most ``connections`` keep-alive
    connections. ``on_retry(method, path, idle_seconds, error)`` is told of each re-sent request.

    ``timeout`` bounds each request (seconds); ``None``: the caller bounds a whole batch of them.
    """

    def __init__(self, host: str, port: int, timeout: float | None = 120.0, connections: int = BROWSER_CONNECTIONS,
                 on_retry: Callable[[str, str, float, BaseException], None] | None = None,
                 cookies: bool = True) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.cookies: dict[str, str] = {}  # name -> value of every cookie the server set
        self.use_cookies = cookies
        self.on_retry = on_retry
        self.connections_opened = 0
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(connections)
        self._host_header = f"{host}:{port}"
        self._head_cache: dict[str, str] = {}

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def _request_bytes(self, method: str, path: str, headers: list[tuple[str, str]] | None, body: bytes) -> bytes:
        common = self._head_cache.get("")  # the fields every request carries (the cookies change rarely)
        if common is None:
            lines = [f"Host: {self._host_header}"] + [f"{name}: {value}" for name, value in BASE_HEADERS]
            if self.use_cookies and self.cookies:
                lines.append(f"Cookie: {self.cookie_header()}")
            common = self._head_cache[""] = "\r\n".join(lines) + "\r\n"
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers or ())
        if body or method in ("POST", "PUT", "PATCH"):
            extra += f"Content-Length: {len(body)}\r\n"
        return f"{method} {path} HTTP/1.1\r\n{common}{extra}\r\n".encode("latin-1") + body

    def _keep_cookies(self, response: Response) -> None:
        if not self.use_cookies:
            return
        for value in response.set_cookies:
            key, sep, val = value.split(";", 1)[0].partition("=")
            if sep and key.strip() and self.cookies.get(key.strip()) != val.strip():
                self.cookies[key.strip()] = val.strip()
                self._head_cache.clear()

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, stream = await loop.create_connection(ByteStream, self.host, self.port)
        self.connections_opened += 1
        return _Connection(stream)

    def _idle_connection(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()  # the most recently used one
            if connection.usable:
                return connection
            connection.close()  # the server closed it while idle: a browser drops it too, no retry
        return None

    async def request(self, method: str, path: str, headers: list[tuple[str, str]] | None = None,
                      body: bytes = b"", keep_body: bool = True) -> Response:
        """Send one request and read its answer (``keep_body=False``: count the body's bytes, keep none)."""
        if self.timeout is None:
            return await self._request(method, path, headers, body, keep_body)
        async with asyncio.timeout(self.timeout):
            return await self._request(method, path, headers, body, keep_body)

    async def _request(self, method: str, path: str, headers: list[tuple[str, str]] | None, body: bytes,
                       keep_body: bool) -> Response:
        async with self._slots:
            connection = self._idle_connection()
            for attempt in (1, 2):
                if connection is None:
                    connection = await self._open()
                idle = time.perf_counter() - connection.idle_since
                connection.stream.transport.write(self._request_bytes(method, path, headers, body))
                try:
                    response = await read_response(connection.stream, method, keep_body)
                except _Closed as error:
                    connection.close()
                    if error.received or attempt == 2:  # part of the answer came: not a keep-alive race
                        raise HttpError(f"{method} {path}: {error}") from None
                    if self.on_retry is not None:
                        self.on_retry(method, path, idle, error)
                    connection = None
                    continue
                except BaseException:
                    connection.close()
                    raise
                connection.served += 1
                self._keep_cookies(response)
                if response.keep_alive and connection.usable:
                    connection.idle_since = time.perf_counter()
                    self._idle.append(connection)
                else:
                    connection.close()
                return response
        raise AssertionError("unreachable")

    async def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()


async def fetch_once(host: str, port: int, path: str, timeout: float = 120.0) -> bytes:
    """GET ``path`` on a connection of its own, without cookies; the (decompressed) body."""
    client = HttpClient(host, port, timeout=timeout, connections=1, cookies=False)
    try:
        return (await client.request("GET", path)).content
    finally:
        await client.close()
