"""The load generator's HTTP/1.1 client (bench/http_client.py) against small local servers written here.

Checked: bodies by Content-Length and chunked (split at every byte boundary),
bodies skipped without being kept, keep-alive reuse, at most 6 connections per
tab, cookies sent back, and the browser's rule of re-sending a request once when
the server closed the idle keep-alive connection it went out on (counted in the
session's ``http_retries``/``retry_log``), but never a request whose answer had
started.
"""

from __future__ import annotations

import asyncio
import gzip
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.http_client import (BROWSER_CONNECTIONS, ByteStream, HttpClient, HttpError, multipart, read_chunked,
                               read_response)
from bench.stclient import StreamlitSession


def _feed(stream: ByteStream, data: bytes, piece: int) -> None:
    for start in range(0, len(data), piece):
        stream.data_received(data[start:start + piece])


def _run(coroutine):
    """``asyncio.run`` in a thread of its own: an earlier test of the suite may leave an event loop running in
    this one (Streamlit's AppTest does)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=60)


def _parse(raw: bytes, piece: int, keep_body: bool = True, method: str = "GET"):
    async def main():
        stream = ByteStream()
        reader = asyncio.ensure_future(read_response(stream, method, keep_body))
        await asyncio.sleep(0)
        for start in range(0, len(raw), piece):  # arrives in pieces, the reader waiting in between
            stream.data_received(raw[start:start + piece])
            await asyncio.sleep(0)
        stream.eof_received()
        return await reader, bytes(stream.buffer)

    return _run(main())


SECOND = b", and a chunk of 0x1C bytes."
CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1; Path=/\r\n"
           b"Set-Cookie: b=2\r\n\r\n"
           b"5;name=value\r\nhello\r\n1C\r\n" + SECOND + b"\r\n0\r\nTrailer: x\r\n\r\n")


@pytest.mark.parametrize("piece", [1, 2, 7, 1000])
def test_chunked_body_in_any_pieces(piece: int) -> None:
    response, rest = _parse(CHUNKED + b"NEXT", piece)
    assert response.status == 200 and response.keep_alive
    assert len(SECOND) == 0x1C
    assert response.body == b"hello" + SECOND and response.size == 5 + 0x1C
    assert response.set_cookies == ["a=1; Path=/", "b=2"]
    assert rest == b"NEXT"  # the next response's bytes stay for it


@pytest.mark.parametrize("piece", [1, 3, 4096])
def test_content_length_body_kept_or_skipped(piece: int) -> None:
    body = bytes(range(256)) * 40
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 10240\r\nConnection: keep-alive\r\n\r\n" + body + b"HTTP/1.1"
    kept, rest = _parse(raw, piece)
    assert kept.body == body and kept.size == len(body) and rest == b"HTTP/1.1"
    skipped, rest = _parse(raw, piece, keep_body=False)
    assert skipped.body == b"" and skipped.size == len(body) and rest == b"HTTP/1.1"


def test_chunked_body_skipped_and_errors() -> None:
    async def chunked(raw: bytes, keep: bool):
        stream = ByteStream()
        stream.data_received(raw)
        stream.eof_received()
        return await read_chunked(stream, keep)

    assert _run(chunked(b"3\r\nabc\r\n0\r\n\r\n", False)) == (b"", 3)
    with pytest.raises(HttpError):
        _run(chunked(b"zz\r\nabc\r\n0\r\n\r\n", True))
    with pytest.raises(HttpError):
        _run(chunked(b"3\r\nabcX\r\n0\r\n\r\n", True))
    with pytest.raises(ConnectionError):  # the connection ended inside a chunk
        _run(chunked(b"8\r\nabc", True))


def test_close_delimited_gzip_and_bodyless_answers() -> None:
    packed = gzip.compress(b"<html>ok</html>")
    response, _ = _parse(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n" + packed, 5)
    assert not response.keep_alive and response.text == "<html>ok</html>"
    response, rest = _parse(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\nX", 4)
    assert response.size == 0 and rest == b"X"
    with pytest.raises(HttpError):
        _parse(b"SSH-2.0-OpenSSH\r\n\r\n", 100)


class _Server:
    """A tiny HTTP/1.1 server: answers ``/x`` with its path and the Cookie it got; ``close_after`` requests per
    connection, then it reads the next request and closes without answering (a keep-alive race)."""

    def __init__(self, close_after: int = 0) -> None:
        self.close_after = close_after
        self.connections = 0
        self.active = self.peak = 0
        self.requests: list[tuple[str, str]] = []  # (request line, Cookie)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        answered = 0
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode()
                lines = head.split("\r\n")
                fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                if "Content-Length" in fields:
                    await reader.readexactly(int(fields["Content-Length"]))
                if self.close_after and answered == self.close_after:
                    return  # the request is lost: the client must re-send it on a new connection
                self.requests.append((lines[0], fields.get("Cookie", "")))
                self.active += 1
                self.peak = max(self.peak, self.active)
                await asyncio.sleep(0.01)
                self.active -= 1
                body = f"{lines[0]} | {fields.get('Cookie', '')}".encode()
                writer.write(b"HTTP/1.1 200 OK\r\nSet-Cookie: route=r1; Path=/\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
                answered += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def __aexit__(self, *exc) -> None:
        self.server.close()


def test_keep_alive_cookies_and_at_most_six_connections() -> None:
    async def main():
        server = _Server()
        async with server as port:
            client = HttpClient("127.0.0.1", port, timeout=10)
            first = await client.request("GET", "/a")
            second = await client.request("GET", "/b")
            assert first.body == b"GET /a HTTP/1.1 | " and second.body == b"GET /b HTTP/1.1 | route=r1"
            assert client.connections_opened == 1 and client.cookies == {"route": "r1"}
            answers = await asyncio.gather(*(client.request("GET", f"/p{i}", keep_body=False) for i in range(20)))
            assert all(a.status == 200 and a.size > 0 for a in answers)
            assert client.connections_opened == BROWSER_CONNECTIONS and server.peak == BROWSER_CONNECTIONS
            await client.close()

    _run(main())


def test_a_request_lost_on_a_closing_keep_alive_connection_is_sent_again_once() -> None:
    async def main():
        server = _Server(close_after=1)  # every connection dies at its second request
        async with server as port:
            session = StreamlitSession(f"http://127.0.0.1:{port}")
            assert await session._get_all(["/one", "/two", "/three"]) > 0
            await session.close()
        return session, server

    session, server = _run(main())
    assert [path for _, path, status in session.requests if status == 200] == ["/one", "/two", "/three"]
    assert session.http_retries == 2 and server.connections == 3
    assert len(session.retry_log) == 2 and session.retry_log[0].startswith("GET two after ")
    assert [line for line, _ in server.requests] == ["GET /one HTTP/1.1", "GET /two HTTP/1.1", "GET /three HTTP/1.1"]


def test_a_request_lost_twice_fails() -> None:
    async def main():
        async def drop(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            writer.close()

        server = await asyncio.start_server(drop, "127.0.0.1", 0)
        retried = []
        client = HttpClient("127.0.0.1", server.sockets[0].getsockname()[1], timeout=10,
                            on_retry=lambda *args: retried.append(args))
        try:
            with pytest.raises(HttpError):
                await client.request("GET", "/x")
        finally:
            server.close()
        return retried

    assert len(_run(main())) == 1


def test_multipart_body_as_a_browser_sends_it() -> None:
    body, content_type = multipart("file", "cat.jpg", b"\xff\xd8JPEG", "image/jpeg")
    boundary = content_type.split("boundary=")[1]
    assert content_type.startswith("multipart/form-data; boundary=") and len(boundary) == 32
    assert body == (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="cat.jpg"\r\n'
                    f"Content-Type: image/jpeg\r\n\r\n").encode() + b"\xff\xd8JPEG" + f"\r\n--{boundary}--\r\n".encode()
