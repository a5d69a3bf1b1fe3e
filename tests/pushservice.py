"""A loopback Web Push service for tests and benchmarks.

``PushService`` is a standard-library HTTP server on 127.0.0.1 that behaves
like a push service (RFC 8030): it checks the VAPID JWT (RFC 8292), decrypts
the aes128gcm payload (RFC 8291) with a subscription key the test owns,
records every request, and answers 201 unless a test scripted otherwise::

    with PushService() as ps:
        sub = ps.subscribe()
        send_push(sub.info(), {"title": "hi"})      # code under test
        (msg,) = ps.wait_for(1)
        assert msg.json() == {"title": "hi"}

Checks, in order (the first failure decides the answer): unknown
subscription → 404; VAPID → 403; TTL / Content-Encoding / Urgency / Topic →
400; body over 4096 bytes → 413; decryption → 400. Only a request that passed
every check consumes a scripted ``respond()``; ``stall()``, ``hold()`` and
``delay`` apply to every POST.

Tests assert concurrency, never wall time: ``in_flight`` and ``peak_in_flight``
count the requests the service holds at once, ``hold()`` keeps answers back until
``release()``, and ``wait_in_flight(n)`` blocks until *n* are held together.
``overload(n)`` makes it a service with a capacity: a valid push arriving while
*n* are held is answered 429 at once (``refused`` counts them).
"""

from __future__ import annotations

import base64
import http.server
import json
import math
import os
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

__all__ = ["PushService", "Received", "TestSubscription"]

MAX_BODY = 4096  # RFC 8030 §7.2: services must accept at least 4096 bytes; most reject more
_TOPIC_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_URGENCIES = frozenset({"very-low", "low", "normal", "high"})
_PUSH_PATH = re.compile(r"^/push/([^/?#]+)$")


def b64url_encode(data: bytes) -> str:
    """Base64url without padding, as Web Push keys and JWTs use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; raises ValueError on junk."""
    text = text.strip()
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:  # binascii.Error is a ValueError
        raise ValueError(f"bad base64url: {exc}") from exc


class TestSubscription:
    """A browser-side push subscription whose private key the test owns."""

    __test__ = False  # the name starts with "Test": stop pytest collecting it

    def __init__(self, endpoint: str) -> None:
        """Generate an EC P-256 key pair and a 16-byte auth secret for *endpoint*."""
        self.endpoint: str = endpoint
        self.private_key: ec.EllipticCurvePrivateKey = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret: bytes = os.urandom(16)
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.p256dh: str = b64url_encode(point)
        self.auth: str = b64url_encode(self.auth_secret)

    def info(self) -> dict[str, Any]:
        """The subscription as ``PushSubscription.toJSON()`` gives it."""
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": self.p256dh, "auth": self.auth},
        }

    def decrypt(self, body: bytes) -> bytes:
        """Decrypt an RFC 8291 aes128gcm push body sent to this subscription."""
        return http_ece.decrypt(
            body,
            private_key=self.private_key,
            auth_secret=self.auth_secret,
            version="aes128gcm",
        )

    def __repr__(self) -> str:
        return f"TestSubscription({self.endpoint!r})"


@dataclass
class Received:
    """One POST the service answered, as the test sees it."""

    endpoint: str
    status: int
    headers: dict[str, str]
    ttl: int | None = None
    urgency: str | None = None
    topic: str | None = None
    claims: dict[str, Any] | None = None  # set once the ES256 signature verified, even if a claim failed
    payload: bytes | None = None
    error: str | None = None
    body: bytes = field(default=b"", repr=False)  # the encrypted request body as sent

    def json(self) -> Any:
        """The decrypted payload parsed as JSON."""
        if self.payload is None:
            raise ValueError(f"no decrypted payload (error: {self.error})")
        return json.loads(self.payload)


@dataclass
class _Rule:
    """A scripted answer or stall; ``remaining`` None means until replaced."""

    remaining: int | None
    status: int = 201
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


class _Reject(Exception):
    """A check failed: answer *status* with *reason* as the body."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _Server(http.server.ThreadingHTTPServer):
    """Threading server with a deep backlog and quiet disconnect handling."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # 16–64 senders connect at once; the default 5 drops SYNs
    service: PushService

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: clients time out and hang up on purpose in these tests."""


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers POST /push/<id> for the owning PushService."""

    protocol_version = "HTTP/1.1"  # keep-alive, so pooled senders reuse connections
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.service._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.service._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Suppress per-request logging to stderr."""

    def _read_body(self) -> bytes:
        """Read the whole body so a keep-alive connection stays in sync."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # skip trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()

    def do_POST(self) -> None:
        """Handle one push request."""
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(400, b"malformed request body")
            return
        self.server.service._handle(self, body)

    def _not_allowed(self) -> None:
        self._read_body()
        self._send(405, b"only POST", {"Allow": "POST"})

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _not_allowed


class PushService:
    """Context manager running a loopback push service: ``with PushService() as ps: ...``."""

    def __init__(
        self,
        delay: float = 0.0,
        verify_vapid: bool = True,
        max_jwt_lifetime: int = 24 * 3600,
    ) -> None:
        """Start serving on 127.0.0.1:<ephemeral port>.

        *delay* seconds are added to every answer (benchmarks), *verify_vapid*
        turns the JWT checks on, *max_jwt_lifetime* caps ``exp - now`` the way
        Apple does (a day).
        """
        self.delay = delay
        self.verify_vapid = verify_vapid
        self.max_jwt_lifetime = max_jwt_lifetime
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._closing = threading.Event()
        self._subs: dict[str, TestSubscription] = {}
        self._responses: dict[str | None, _Rule] = {}
        self._stalls: dict[str | None, _Rule] = {}
        self._connections: set[socket.socket] = set()
        self._released = threading.Event()  # set by release() and close(): held answers go out
        self.in_flight = 0  # requests received and not yet answered
        self.peak_in_flight = 0
        self.capacity: int | None = None  # overload(): more in flight than this → 429 at once
        self.capacity_headers: dict[str, str] = {}
        self.refused = 0
        self._verified: dict[
            tuple[str, str], dict[str, Any]
        ] = {}  # (jwt, key) → claims: skip re-verifying a cached JWT

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.service = self
        port = self._server.server_address[1]
        self.host: str = f"127.0.0.1:{port}"
        self.base_url: str = f"http://{self.host}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"PushService:{port}",
            daemon=True,
        )
        self._thread.start()

    # -- test-facing API -------------------------------------------------

    def subscribe(self, name: str | None = None) -> TestSubscription:
        """Register a subscription at ``{base_url}/push/{name or uuid}``."""
        sub_id = name or uuid.uuid4().hex
        if not re.fullmatch(r"[A-Za-z0-9._~-]+", sub_id):
            raise ValueError(f"subscription name must be URL-safe: {sub_id!r}")
        sub = TestSubscription(f"{self.base_url}/push/{sub_id}")
        with self._lock:
            self._subs[sub_id] = sub
        return sub

    def respond(
        self,
        status: int,
        times: int | None = None,
        headers: dict[str, str] | None = None,
        endpoint: str | None = None,
    ) -> None:
        """Script the next answers to valid pushes (all, or one *endpoint*'s).

        ``times=None`` keeps answering *status* until changed; ``respond(201)``
        or ``reset()`` restores the default.
        """
        if not 100 <= status <= 599:
            raise ValueError(f"bad status {status}")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 or None")
        with self._lock:
            self._responses[endpoint] = _Rule(times, status=status, headers=dict(headers or {}))

    def stall(self, seconds: float, times: int | None = None, endpoint: str | None = None) -> None:
        """Sleep *seconds* before answering the next requests (all, or one *endpoint*'s)."""
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 or None")
        with self._lock:
            self._stalls[endpoint] = _Rule(times, seconds=seconds)

    def overload(self, capacity: int | None, headers: dict[str, str] | None = None) -> None:
        """Answer 429 (with *headers*) at once to a valid push that arrives while *capacity* are
        held; ``None`` lifts the limit. Set ``delay`` too, so that pushes are held long enough to
        overlap."""
        with self._lock:
            self.capacity, self.capacity_headers = capacity, dict(headers or {})

    def hold(self, endpoint: str | None = None) -> None:
        """Keep answers back (all, or one *endpoint*'s) until ``release()``."""
        self.stall(math.inf, endpoint=endpoint)

    def release(self) -> None:
        """Answer every held or stalled request now and stop holding."""
        with self._lock:
            self._stalls.clear()
            released, self._released = self._released, threading.Event()
        released.set()

    def wait_in_flight(self, count: int, timeout: float = 30.0) -> int:
        """Block until *count* requests are held at once (a hang guard, not a speed check)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while self.in_flight < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"waited {timeout}s for {count} requests in flight, "
                                       f"got at most {self.peak_in_flight}")
                self._arrived.wait(left)
            return self.in_flight

    def reset(self) -> None:
        """Forget scripted answers, stalls and received pushes; subscriptions stay."""
        with self._lock:
            self._responses.clear()
            self._stalls.clear()
            self.received.clear()
            self.peak_in_flight = self.in_flight

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Block until *count* requests were answered; return a snapshot of ``received``."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"waited {timeout}s for {count} pushes, got {len(self.received)}: "
                        f"{[(r.status, r.error) for r in self.received]}"
                    )
                self._arrived.wait(left)
            return list(self.received)

    def close(self) -> None:
        """Stop serving, wake stalled handlers and drop open keep-alive connections."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            try:  # unblocks handler threads idling in readline on keep-alive sockets
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=2)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PushService({self.base_url!r}, received={len(self.received)})"

    # -- request handling (handler threads) ------------------------------

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _take(self, rules: dict[str | None, _Rule], endpoint: str) -> _Rule | None:
        """Consume one use of the endpoint's rule, else the global one (lock held)."""
        for key in (endpoint, None):
            rule = rules.get(key)
            if rule is None:
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    del rules[key]
            return rule
        return None

    def _handle(self, handler: _Handler, body: bytes) -> None:
        path = urlsplit(handler.path).path
        endpoint = f"{self.base_url}{path}"
        headers = {k.lower(): v for k, v in handler.headers.items()}
        rec = Received(endpoint=endpoint, status=0, headers=headers, body=body)
        answer_headers: dict[str, str] = {}
        try:
            self._check(rec, path, body)
            with self._lock:
                rule = self._take(self._responses, endpoint)
            rec.status = rule.status if rule else 201
            answer_headers.update(rule.headers if rule else {})
            reply = b"" if rec.status < 300 else f"scripted {rec.status}".encode()
        except _Reject as rej:
            rec.status, rec.error = rej.status, rej.reason
            reply = rej.reason.encode()
        if 200 <= rec.status < 300:
            answer_headers.setdefault("Location", f"{self.base_url}/message/{uuid.uuid4().hex}")

        with self._arrived:  # one critical section: the capacity is never overrun by a race
            refused = 200 <= rec.status < 300 and self.capacity is not None and self.in_flight >= self.capacity
            if refused:
                self.refused += 1
                rec.status, reply, answer_headers = 429, b"over capacity", dict(self.capacity_headers)
            else:
                stall = self._take(self._stalls, endpoint)
                released = self._released
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                self._arrived.notify_all()
        if refused:
            try:
                handler._send(rec.status, reply, answer_headers)
            except OSError:
                handler.close_connection = True
            finally:
                with self._arrived:
                    self.received.append(rec)
                    self._arrived.notify_all()
            return
        try:
            if stall:  # release() and close() cut stalls and holds short
                released.wait(None if math.isinf(stall.seconds) else stall.seconds)
            if self.delay > 0:
                self._closing.wait(self.delay)
        finally:
            with self._lock:
                self.in_flight -= 1
        try:
            if not self._closing.is_set():
                handler._send(rec.status, reply, answer_headers)
        except OSError:
            handler.close_connection = True  # the client gave up (timeout); nothing to answer
        finally:
            with self._arrived:
                self.received.append(rec)
                self._arrived.notify_all()

    def _check(self, rec: Received, path: str, body: bytes) -> None:
        """Fill *rec* from the request; raise _Reject on the first failed check."""
        match = _PUSH_PATH.match(path)
        if not match:
            raise _Reject(404, "not found")
        with self._lock:
            sub = self._subs.get(match.group(1))
        if sub is None:
            raise _Reject(404, "unknown subscription")

        headers = rec.headers
        if self.verify_vapid:
            token, key = self._vapid_credentials(headers)
            self._verify_jwt(rec, token, key)

        rec.urgency = headers.get("urgency")
        rec.topic = headers.get("topic")
        ttl = headers.get("ttl")
        if ttl is None:
            raise _Reject(400, "missing TTL header")
        if not ttl.strip().isdigit():
            raise _Reject(400, f"bad TTL {ttl!r}")
        rec.ttl = int(ttl)
        if rec.urgency is not None and rec.urgency not in _URGENCIES:
            raise _Reject(400, f"bad Urgency {rec.urgency!r}")
        if rec.topic is not None and not _TOPIC_RE.match(rec.topic):
            raise _Reject(400, f"bad Topic {rec.topic!r}: at most 32 base64url characters")

        if not body:
            rec.payload = b""  # a payload-less push is legal (RFC 8030 §5)
            return
        encoding = headers.get("content-encoding", "")
        if encoding.lower() != "aes128gcm":
            raise _Reject(400, f"Content-Encoding must be aes128gcm, got {encoding!r}")
        if len(body) > MAX_BODY:
            raise _Reject(413, f"payload too large: {len(body)} > {MAX_BODY} bytes")
        try:
            rec.payload = sub.decrypt(body)
        except Exception as exc:  # http_ece raises several types for a bad body
            raise _Reject(400, f"cannot decrypt: {type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _vapid_credentials(headers: dict[str, str]) -> tuple[str, str]:
        """Pull (jwt, public key) from ``vapid t=,k=`` or ``WebPush`` + ``Crypto-Key``."""
        auth = headers.get("authorization", "").strip()
        scheme, _, rest = auth.partition(" ")
        if scheme.lower() == "vapid":
            params = {}
            for part in rest.split(","):
                name, _, value = part.strip().partition("=")
                params[name.strip().lower()] = value.strip()
            if not params.get("t") or not params.get("k"):
                raise _Reject(403, "vapid Authorization needs t= and k=")
            return params["t"], params["k"]
        if scheme.lower() == "webpush" and rest.strip():
            for part in re.split(r"[;,]", headers.get("crypto-key", "")):
                name, _, value = part.strip().partition("=")
                if name.strip().lower() == "p256ecdsa" and value.strip():
                    return rest.strip(), value.strip().strip('"')
            raise _Reject(403, "WebPush Authorization without Crypto-Key p256ecdsa=")
        raise _Reject(403, "missing or unsupported Authorization header")

    def _verify_jwt(self, rec: Received, token: str, key: str) -> None:
        """Check the ES256 signature, then aud, exp and sub."""
        claims = self._verified.get((token, key))
        if claims is None:
            claims = self._verify_signature(token, key)
            if len(self._verified) > 10_000:
                self._verified.clear()  # bound memory in long benchmarks
            self._verified[(token, key)] = claims
        rec.claims = dict(claims)

        origin = self.base_url
        if claims.get("aud") != origin:
            raise _Reject(403, f"JWT aud {claims.get('aud')!r} is not {origin!r}")
        exp = claims.get("exp")
        if not isinstance(exp, int) or isinstance(exp, bool):
            raise _Reject(403, f"JWT exp must be an integer, got {exp!r}")
        now = time.time()
        if exp <= now:
            raise _Reject(403, f"JWT expired {now - exp:.0f}s ago")
        if exp > now + self.max_jwt_lifetime:
            raise _Reject(
                403,
                f"JWT exp is {exp - now:.0f}s ahead, more than {self.max_jwt_lifetime}s",
            )
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
            raise _Reject(403, f"JWT sub must start with mailto: or https:, got {sub!r}")

    @staticmethod
    def _verify_signature(token: str, key: str) -> dict[str, Any]:
        """Verify an ES256 JWT against a raw P-256 public key; return its claims."""
        parts = token.split(".")
        if len(parts) != 3:
            raise _Reject(403, "JWT must have three parts")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
            point = b64url_decode(key)
        except ValueError as exc:  # JSONDecodeError and bad base64 are both ValueErrors
            raise _Reject(403, f"malformed JWT or key: {exc}") from exc
        if not isinstance(header, dict) or header.get("alg") != "ES256":
            raise _Reject(403, f"JWT alg must be ES256, header {header!r}")
        if not isinstance(claims, dict):
            raise _Reject(403, "JWT claims are not an object")
        if len(sig) != 64:
            raise _Reject(403, f"ES256 signature must be 64 bytes (r||s), got {len(sig)}")
        try:
            public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except ValueError as exc:
            raise _Reject(403, f"bad VAPID public key: {exc}") from exc
        der = utils.encode_dss_signature(
            int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
        )  # JWS carries raw r||s; cryptography wants DER
        try:
            public_key.verify(der, f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, UnicodeEncodeError) as exc:
            raise _Reject(403, "bad JWT signature") from exc
        return claims
