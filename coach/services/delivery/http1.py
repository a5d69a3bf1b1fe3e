"""A small HTTP/1.1 client for push services: POST one body, read the status, the headers the
sender keeps and at most 1 KB of the answer, on kept-alive connections per origin.

Why not aiohttp: a push is one small POST whose answer is a status line, and aiohttp's general
request machinery (URL objects, multidicts, timers, stream readers) cost about as much CPU per push
as the encryption did (bench/README.md "Fan-out"). Here a request is one ``transport.write`` of
bytes built from a cached origin, and the answer is parsed in ``data_received``. Redirects are
never followed (a status is just a status), no cookies, no compression, no proxies — as before.

A connection that breaks, or an answer that is not HTTP/1.x, raises ``ConnectionError`` (an
``OSError``): the sender treats it as retryable, like aiohttp's ``ClientError``. A POST is never
retried here: the push service may have received it.
"""
from __future__ import annotations

import asyncio
import re
import ssl
from dataclasses import dataclass

MAX_HEAD = 64 * 1024  # an answer's status line and headers
KEEP_BODY = 1024  # what the sender reads of an answer's body (error text for the log)
_ORIGIN = re.compile(r"^(https?)://([^/?#@\s]+)", re.IGNORECASE)
_SAFE = re.compile(r"[!-~]+")  # printable ASCII without spaces: nothing can break out of a header


@dataclass(slots=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names; only the ones asked for
    body: bytes


@dataclass(slots=True)
class _Origin:
    host: str
    port: int
    tls: bool
    host_header: bytes
    idle: list


def _parse_origin(scheme: str, netloc: str) -> _Origin:
    host, port = netloc, None
    if netloc.startswith("["):  # [IPv6]:port
        end = netloc.find("]")
        if end < 0:
            raise ValueError(f"bad host {netloc!r}")
        host, rest = netloc[1:end], netloc[end + 1:]
        port = rest[1:] if rest.startswith(":") else None
    elif ":" in netloc:
        host, port = netloc.rsplit(":", 1)
    tls = scheme.lower() == "https"
    number = int(port) if port else (443 if tls else 80)
    if not 0 < number < 65536:
        raise ValueError(f"bad port in {netloc!r}")
    return _Origin(host, number, tls, netloc.encode("ascii"), [])


class _Connection(asyncio.Protocol):
    """One kept-alive connection: at most one request at a time."""

    __slots__ = ("transport", "buffer", "waiter", "keep", "alive", "_head")

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.keep: tuple[str, ...] = ()
        self.alive = True
        self._head: tuple | None = None  # (status, headers, body start, length or -1 chunked, reuse)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        waiter = self.waiter
        if waiter is None:  # bytes nobody asked for: the connection can't be trusted
            self.alive = False
            return
        if waiter.done():  # timed out or cancelled: the request is being given up
            return
        try:
            answer = self._parse(eof=False)
        except ConnectionError as error:
            self.alive = False
            waiter.set_exception(error)
            return
        if answer is not None:
            waiter.set_result(answer)

    def eof_received(self) -> bool:
        self.alive = False
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        try:
            answer = self._parse(eof=True)
        except ConnectionError as error:
            answer, exc = None, error
        if answer is not None:
            waiter.set_result(answer)
        else:
            waiter.set_exception(exc if isinstance(exc, OSError)
                                 else ConnectionResetError("the push service closed the connection"))

    def send(self, data: bytes, keep: tuple[str, ...]) -> asyncio.Future:
        self.buffer.clear()
        self._head, self.keep = None, keep
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.waiter

    def _parse(self, eof: bool) -> Answer | None:
        buffer = self.buffer
        while self._head is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD or eof:
                    raise ConnectionError("the push service's answer has no complete HTTP head")
                return None
            lines = bytes(buffer[:end]).split(b"\r\n")
            version, _, rest = lines[0].partition(b" ")
            code = rest[:3]
            if not version.startswith(b"HTTP/1.") or not code.isdigit():
                raise ConnectionError(f"not an HTTP/1 answer: {bytes(lines[0][:60])!r}")
            status = int(code)
            if 100 <= status < 200:  # an interim answer: the real one follows
                del buffer[:end + 4]
                continue
            headers, length, chunked, reuse = {}, None, False, version == b"HTTP/1.1"
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                key = name.strip().lower().decode("latin-1")
                text = value.strip().decode("latin-1")
                if key == "content-length":
                    if not text.isdigit():
                        raise ConnectionError("bad Content-Length")
                    length = int(text)
                elif key == "transfer-encoding":
                    chunked = "chunked" in text.lower()
                elif key == "connection":
                    reuse = "close" not in text.lower() and (reuse or "keep-alive" in text.lower())
                if key in self.keep:
                    headers[key] = text
            if status in (204, 304):
                length = 0
            elif chunked:
                length = -1
            elif length is None:
                length, reuse = -2, False  # the body runs until the connection closes
            self._head = (status, headers, end + 4, length, reuse)
        status, headers, start, length, reuse = self._head
        if length >= 0:
            if len(buffer) - start < length:
                if eof:
                    raise ConnectionError("the push service's answer was cut short")
                return None
            body = bytes(buffer[start:start + min(length, KEEP_BODY)])
        elif length == -2:
            if not eof:
                return None
            body = bytes(buffer[start:start + KEEP_BODY])
        else:
            body = self._chunked(start, eof)
            if body is None:
                return None
        self.alive = self.alive and reuse and not eof
        self.waiter = None
        return Answer(status, headers, body)

    def _chunked(self, at: int, eof: bool) -> bytes | None:
        buffer, body = self.buffer, bytearray()
        while True:
            line_end = buffer.find(b"\r\n", at)
            if line_end < 0:
                break
            try:
                size = int(bytes(buffer[at:line_end]).split(b";")[0].strip(), 16)
            except ValueError:
                raise ConnectionError("bad chunk size in the push service's answer") from None
            if size == 0:  # then optional trailers, then an empty line
                if buffer[line_end + 2:line_end + 4] == b"\r\n" or buffer.find(b"\r\n\r\n", line_end) >= 0:
                    return bytes(body[:KEEP_BODY])
                break
            if len(buffer) < line_end + 2 + size + 2:
                break
            if len(body) < KEEP_BODY:
                body += buffer[line_end + 2:line_end + 2 + size]
            at = line_end + 2 + size + 2
        if eof:
            raise ConnectionError("the push service's answer was cut short")
        return None


class Client:
    """Kept-alive connections per push-service origin. ``close()`` when done."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._origins: dict[str, _Origin] = {}
        self._tls: ssl.SSLContext | None = None

    def _origin(self, endpoint: str) -> tuple[_Origin, str]:
        match = _ORIGIN.match(endpoint)
        if match is None or not _SAFE.fullmatch(endpoint):
            raise ValueError("not an http(s) URL that can be sent")
        key = match.group(0)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _parse_origin(match.group(1), match.group(2))
        path = endpoint[len(key):].partition("#")[0] or "/"
        if not path.startswith("/"):  # "?x" straight after the host
            path = "/" + path
        return origin, path

    async def _connect(self, origin: _Origin) -> _Connection:
        while origin.idle:
            connection = origin.idle.pop()
            if connection.alive and not connection.transport.is_closing():
                return connection
            connection.transport.close()  # closed by the server while idle, or sent stray bytes
        if origin.tls and self._tls is None:
            self._tls = ssl.create_default_context()
        _transport, connection = await asyncio.get_running_loop().create_connection(
            _Connection, origin.host, origin.port, ssl=self._tls if origin.tls else None,
            server_hostname=origin.host if origin.tls else None)
        return connection

    async def post(self, endpoint: str, headers: dict[str, str], body: bytes,
                   keep: tuple[str, ...] = ()) -> Answer:
        """POST ``body`` with ``headers``; raises ``TimeoutError``, ``ConnectionError`` or ``OSError``."""
        origin, path = self._origin(endpoint)
        head = [f"POST {path} HTTP/1.1\r\nHost: ", origin.host_header.decode(),
                f"\r\nContent-Length: {len(body)}\r\n"]
        for name, value in headers.items():
            if not _SAFE.fullmatch(name) or "\r" in value or "\n" in value:
                raise ValueError(f"header {name!r} cannot be sent")
            head.append(f"{name}: {value}\r\n")
        head.append("\r\n")
        data = "".join(head).encode("latin-1") + body
        connection = None
        try:
            async with asyncio.timeout(self.timeout):
                connection = await self._connect(origin)
                answer = await connection.send(data, keep)
        except BaseException:
            if connection is not None:
                connection.alive = False
                connection.transport.abort()
            raise
        if connection.alive:
            origin.idle.append(connection)
        else:
            connection.transport.close()
        return answer

    def close(self) -> None:
        for origin in self._origins.values():
            for connection in origin.idle:
                connection.transport.close()
            origin.idle.clear()
