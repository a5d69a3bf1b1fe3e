"""Web Push: the payload a delivery sends, the allowed-host guard, and a concurrent sender.

The sender puts on the wire exactly what ``pywebpush.webpush()`` does — an RFC 8291 ``aes128gcm``
body (one record, fresh ephemeral key and salt per message), an RFC 8292 ``vapid t=…,k=…``
Authorization header signed with py-vapid, ``TTL``, ``Urgency`` and ``Topic`` — but builds the
request itself on kept-alive connections (``http1.py``). The reasons, measured in bench/README.md
"Fan-out": the VAPID JWT is signed once per push-service origin and reused until near its expiry
(pywebpush signs every call); encryption costs ~190 µs here against ~320 µs through
``WebPusher.encode`` (the tests decrypt every push with ``http_ece``, so the format is checked);
redirects are never followed (an allowed push service must not bounce us to an internal address);
and every answer, 2xx or not, comes back as a plain result instead of an exception.
"""
from __future__ import annotations

import asyncio
import base64
import functools
import ipaddress
import json
import os
import re
import struct
import time
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from py_vapid import Vapid

from ...i18n import N_, _, in_language
from ...models import Delivery
from ..programme.reflection import push_text as reflection_push_text
from ..programme.translations import delivery_text
from .ack import make_ack_token
from .http1 import Client
from .window import InFlightWindow

MAX_PAYLOAD_BYTES = 3072  # DESIGN "Push payload": ≤ 3 KB, well under the 4 KB push services accept
JWT_LIFETIME = 12 * 3600  # Apple rejects an exp more than a day ahead
JWT_REFRESH_MARGIN = 3600  # re-sign while a cached token still has an hour left
# The fixed words are written in the recipient's language (User.language) when a payload is built.
FALLBACK_TITLE = N_("Today's moment")
FALLBACK_BODY = N_("Open Attune for today's prompt.")
DISCREET_TITLE = "Attune"  # Family.discreet: the notification says only this …
DISCREET_BODY = N_("A moment for today is ready")  # … and the prompt shows once the app opens
# Two actions (most browsers show no more); a tap on the notification itself opens the check-in.
ACTIONS = [{"action": "tried", "title": N_("I tried it")}, {"action": "later", "title": N_("Later")}]
REFLECTION_ACTIONS = ACTIONS[1:]  # a reflection has nothing to "try": only "Later"
KEPT_HEADERS = ("retry-after", "location")
LOOPBACK_NAMES = ("localhost",)
RECORD_SIZE = 4096  # RFC 8188 record size, as pywebpush/http_ece send it; one record fits 3 KB
P256 = ec.SECP256R1()
_ORIGIN_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")
_PRINTABLE_ASCII = re.compile(r"[!-~]+")  # no spaces or controls: browsers send endpoints percent-encoded
_DNS_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
P256_POINT_BYTES = 65  # an uncompressed P-256 point: 0x04, x, y
AUTH_SECRET_BYTES = 16


# --- payloads -------------------------------------------------------------------------------------

def delivery_tag(delivery: Delivery) -> str:
    """The notification tag, also the Topic header: a resend replaces, never duplicates (≤ 32 chars)."""
    return f"attune-{delivery.local_date.isoformat()}"


def absolute_url(path: str) -> str:
    """``path`` on the app's public base URL (the declarative form needs an absolute link)."""
    return current_app.config["BASE_URL"].rstrip("/") + path


def _with_declarative(payload: dict, navigate: str) -> dict:
    """Add the Declarative Web Push form Safari shows by itself (iOS/iPadOS 18.4+)."""
    payload["web_push"] = 8030
    payload["notification"] = {"title": payload["title"], "body": payload["body"],
                               "navigate": navigate, "tag": payload["tag"]}
    return payload


@functools.lru_cache(maxsize=8)
def fixed_words(language: str) -> dict[str, str]:
    """The payload's own words in ``language``, looked up once per language (not per push: the
    catalogues don't change while the process runs). Needs an app context, as build_payload does:
    outside one the catalogues aren't reachable, and English must not be remembered as Spanish."""
    current_app.extensions["babel"]  # noqa: B018 (raises outside an app context: nothing cached)
    with in_language(language):
        return {text: _(text) for text in (FALLBACK_TITLE, FALLBACK_BODY, DISCREET_BODY,
                                           *(action["title"] for action in ACTIONS))}


def build_payload(delivery: Delivery, language: str | None = None) -> dict:
    """The JSON pushed for one delivery: notification text, links, the one-tap ack token, actions,
    in ``language`` (the caregiver whose device it goes to; by default the main contact's).

    Needs an app context (the ack token is keyed by the secret key; links use ``BASE_URL``).
    """
    family = delivery.family
    reader = language
    if language is None:
        language = family.user.language if family.user_id is not None else "en"
    words = fixed_words(language)
    reflection = delivery.kind == "reflection"
    if reflection:  # the week's look back: named, its contents only inside the app
        title, body = reflection_push_text(family.child_name, language)
    else:
        text = delivery_text(delivery, reader)  # in the recipient's language
        title = text.title if text else words[FALLBACK_TITLE]
        body = text.body if text else words[FALLBACK_BODY]
    if family.discreet:  # a lock screen others may see: no prompt text, no child's name
        title, body = DISCREET_TITLE, words[DISCREET_BODY]
    elif not reflection and text:
        language = text.language  # the words' own language (English if the Spanish is missing)
    actions = [{"action": a["action"], "title": words[a["title"]]}
               for a in (REFLECTION_ACTIONS if reflection else ACTIONS)]
    path = f"/reflection/{delivery.id}" if reflection else f"/checkin/{delivery.id}"
    payload = {
        "title": title,
        "body": body,
        "url": path,
        "tag": delivery_tag(delivery),
        "delivery_id": delivery.id,
        "ack_token": make_ack_token(delivery.id),
        "actions": actions,
        "lang": language,  # the service worker's own words (confirmations) follow it
    }
    return _with_declarative(payload, absolute_url(path))


def build_test_payload(language: str = "en") -> dict:
    """The JSON pushed by ``send-test-push``: no delivery, no actions, opens the home page."""
    with in_language(language):
        payload = {
            "title": _("Attune test notification"),
            "body": _("Notifications work on this device."),
            "url": "/",
            "tag": "attune-test",
            "test": True,
            "lang": language,
        }
    return _with_declarative(payload, absolute_url("/"))


def encode_payload(payload: Mapping) -> bytes:
    """Compact UTF-8 JSON; raises ValueError past the 3 KB budget rather than risk a 413."""
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"push payload is {len(data)} bytes, more than {MAX_PAYLOAD_BYTES}")
    return data


# --- the allowed-host guard (SSRF) ----------------------------------------------------------------

def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _host_port(host: str, port: int | None) -> str:
    """``host:port`` as an allow-list entry spells it (IPv6 in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}" if port is not None else shown


def _matches(host: str, entry: str) -> bool:
    """Exact match, or ``*.suffix`` matching exactly one more DNS label (as TLS wildcards do)."""
    if entry.startswith("*."):
        label, dot, rest = host.partition(".")
        return bool(label) and bool(dot) and rest == entry[2:] and not _is_ip_literal(host)
    return host == entry


def host_allowed(endpoint: str, allowed_hosts: Iterable[str]) -> bool:
    """True when a push endpoint may be contacted (DESIGN delivery step 6).

    https: the host matches an entry (``*.x.y`` wildcards allowed) on port 443, or an entry names
    ``host:port`` exactly. http: only a loopback host (127.0.0.0/8, localhost, [::1]) listed with its
    port, e.g. ``127.0.0.1:8123``. Userinfo, unlisted IP literals and odd ports are refused, and so
    is anything but printable ASCII (IDN look-alikes, control characters, spaces, backslashes) and a
    host that is not plain DNS letters, digits, dots and hyphens (percent-encoding tricks).
    Registration (``subscriptions.parse_subscription``) and sending both ask this one function.
    """
    if not isinstance(endpoint, str) or not _PRINTABLE_ASCII.fullmatch(endpoint) or "\\" in endpoint:
        return False
    origin = _ORIGIN_RE.match(endpoint)
    # Decided per origin (the path can't change the answer) and cached: a tick asks once per push.
    return bool(origin) and _origin_allowed(origin.group(0), tuple(allowed_hosts))


@functools.lru_cache(maxsize=4096)
def _origin_allowed(origin: str, allowed_hosts: tuple[str, ...]) -> bool:
    try:
        parts = urlsplit(origin + "/")
        port = parts.port
    except ValueError:  # a malformed port or bracketed host
        return False
    if "@" in parts.netloc or not parts.hostname:
        return False
    host = parts.hostname.lower()
    if not (_is_ip_literal(host) or (_DNS_HOST.fullmatch(host) and ".." not in host)):
        return False  # e.g. "fcm%2Egoogleapis%2Ecom": a client might decode it into another host
    entries = {entry.strip().lower() for entry in allowed_hosts if entry and entry.strip()}
    scheme = parts.scheme.lower()
    if scheme == "http":
        return _is_loopback(host) and port is not None and _host_port(host, port) in entries
    if scheme != "https":
        return False
    if port is not None and port != 443:
        return _host_port(host, port) in entries
    if _is_ip_literal(host):
        return host in entries or _host_port(host, 443) in entries
    return any(_matches(host, entry) for entry in entries)


# --- sending --------------------------------------------------------------------------------------

@dataclass(slots=True)
class PushMessage:
    """One encrypted push to one subscription; ``data`` is the plaintext payload."""

    endpoint: str
    p256dh: str
    auth: str
    data: bytes
    topic: str | None = None
    urgency: str = "normal"


@dataclass(slots=True)
class PushResult:
    """What the push service answered: a status and headers, or the exception that stopped us."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    body: str = ""
    retryable: bool = False  # a time-out or connection failure: worth another try later
    seconds: float | None = None  # from request to answer, when there was one

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def receiver_public_key(point: bytes) -> ec.EllipticCurvePublicKey:
    """The browser's ``p256dh`` key: an uncompressed P-256 point that is on the curve.

    Raises ValueError otherwise. Registration checks keys with this function, encryption uses it,
    so a key that is stored is a key a push can be encrypted to.
    """
    if len(point) != P256_POINT_BYTES or point[0] != 4:
        raise ValueError(f"p256dh must be a {P256_POINT_BYTES}-byte uncompressed P-256 point")
    return ec.EllipticCurvePublicKey.from_encoded_point(P256, point)  # ValueError when off the curve


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(hashes.SHA256(), length, salt, info).derive(ikm)


def encrypt_payload(data: bytes, p256dh: str, auth: str) -> bytes:
    """RFC 8291 message encryption: an RFC 8188 ``aes128gcm`` body in one record.

    A fresh ephemeral ECDH key and salt per message; the header carries the salt, the record size
    and our ephemeral public key, as ``http_ece.encrypt(..., version="aes128gcm")`` writes it.
    """
    if len(data) + 17 > RECORD_SIZE:  # one record: data, the 0x02 delimiter and the 16-byte tag
        raise ValueError("payload too large for one record")
    receiver = _b64url_decode(p256dh)
    ephemeral = ec.generate_private_key(P256)
    sender_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    shared = ephemeral.exchange(ec.ECDH(), receiver_public_key(receiver))
    ikm = _hkdf(_b64url_decode(auth), shared, b"WebPush: info\x00" + receiver + sender_public, 32)
    salt = os.urandom(16)
    key = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    record = AESGCM(key).encrypt(nonce, data + b"\x02", None)
    return salt + struct.pack("!IB", RECORD_SIZE, len(sender_public)) + sender_public + record


def load_vapid(private_key: str) -> Vapid:
    """Parse the VAPID private key once: PEM, or pywebpush's base64url DER/raw string."""
    text = private_key.strip()
    if "-----BEGIN" in text:
        return Vapid.from_pem(text.encode())
    return Vapid.from_string(text)


def endpoint_origin(endpoint: str) -> str:
    """The JWT audience: scheme, host and port of the push service."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


#: Push latency bucket bounds in seconds (Prometheus ``le``): push services answer in 20–500 ms.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class LatencyHistogram:
    """Push latencies as bucket counts (cumulative at export time), summed by the scheduler into the
    database so ``/metrics`` reports every scheduler process's pushes."""

    __slots__ = ("counts", "sum", "count")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)  # the last bucket is +Inf
        self.sum, self.count = 0.0, 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.sum += seconds
        self.count += 1

    def as_dict(self) -> dict:
        return {"le": list(LATENCY_BUCKETS), "counts": list(self.counts), "sum": self.sum, "count": self.count}


class PushSender:
    """Sends pushes, as many in flight as the window allows, on kept-alive connections (``http1.py``).

    Use as ``async with sender: await sender.send_all(messages)`` to keep the session across
    batches, or ``sender.send_many(messages)`` for a one-off from synchronous code.
    """

    def __init__(self, private_key: str, subject: str, *, timeout: float = 10, ttl: int = 12 * 3600,
                 concurrency: int = 32) -> None:
        """Load the VAPID key once; ``ttl`` in seconds, ``timeout`` per request in seconds."""
        if not private_key:
            raise RuntimeError("No VAPID private key: run `flask --app coach init-db` first.")
        self.vapid = load_vapid(private_key)
        self.subject = subject
        self.timeout = max(float(timeout), 0.1)  # seconds for a whole push: connect, send, answer
        self.ttl = int(ttl)
        self.concurrency = max(1, int(concurrency))
        self._tokens: dict[str, tuple[str, float]] = {}
        self._client: Client | None = None
        self.window: InFlightWindow | None = None  # pushes in flight, adapted per answer (window.py)
        self.window_start: float | None = None  # where the window starts (None: at ``concurrency``)
        self.latency = LatencyHistogram()  # every answered push, from request to answer

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PushSender:
        """A sender configured from ``app.config`` (``VAPID_*`` and ``PUSH_*``)."""
        return cls(config.get("VAPID_PRIVATE_KEY") or "", config["VAPID_SUBJECT"],
                   timeout=config["PUSH_TIMEOUT"], ttl=config["PUSH_TTL_HOURS"] * 3600,
                   concurrency=config["PUSH_CONCURRENCY"])

    def authorization(self, endpoint: str) -> str:
        """The ``vapid t=…,k=…`` header for the endpoint's origin, signed once per origin and reused."""
        origin = endpoint_origin(endpoint)
        now = time.time()
        cached = self._tokens.get(origin)
        if cached and cached[1] - now > JWT_REFRESH_MARGIN:
            return cached[0]
        exp = int(now) + JWT_LIFETIME
        # A fresh claims dict for every signature: signing must never see another origin's aud.
        header = self.vapid.sign({"sub": self.subject, "aud": origin, "exp": exp})["Authorization"]
        self._tokens[origin] = (header, exp)
        return header

    def prepare(self, message: PushMessage) -> tuple[bytes, dict[str, str]]:
        """Encrypt the payload (fresh ephemeral key and salt each time) and build the headers."""
        body = encrypt_payload(message.data, message.p256dh, message.auth)
        headers = {
            "Authorization": self.authorization(message.endpoint),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(self.ttl),
            "Urgency": message.urgency,
        }
        if message.topic:
            headers["Topic"] = message.topic
        return body, headers

    async def __aenter__(self) -> PushSender:
        self._client = Client(self.timeout)
        self.window = InFlightWindow(self.concurrency, start=self.window_start)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._client is not None:
            self._client.close()
            await asyncio.sleep(0)  # let the closed connections finish closing
        self._client = None

    async def send(self, message: PushMessage) -> PushResult:
        """Send one push; never raises for network or push-service failures."""
        assert self._client is not None and self.window is not None, "use `async with sender:`"
        window = self.window
        token = await window.acquire()
        result = None
        try:
            result = await self._post(message)
        finally:  # cancelled mid-push: the place is freed and nothing is learnt
            window.release(token, *((result.status, result.retryable, result.seconds) if result else ()))
        return result

    async def _post(self, message: PushMessage) -> PushResult:
        try:
            body, headers = self.prepare(message)
        except Exception as exc:  # bad subscription keys: report, don't stop the batch
            return PushResult(error=f"{type(exc).__name__}: {exc}")
        try:
            started = time.perf_counter()
            answer = await self._client.post(message.endpoint, headers, body, KEPT_HEADERS)
            seconds = time.perf_counter() - started
            self.latency.observe(seconds)
            return PushResult(status=answer.status, headers=answer.headers,
                              body=answer.body.decode("utf-8", "replace"), seconds=seconds)
        except TimeoutError:
            return PushResult(error="timeout", retryable=True)
        except OSError as exc:  # refused, reset, or an answer that is not HTTP
            return PushResult(error=f"{type(exc).__name__}: {exc}", retryable=True)
        except Exception as exc:  # anything else is this push's failure, never the batch's
            return PushResult(error=f"{type(exc).__name__}: {exc}")

    async def send_all(self, messages: Sequence[PushMessage]) -> list[PushResult]:
        """Send every message, at most ``concurrency`` in flight; results in the same order."""
        results: list[PushResult] = [PushResult()] * len(messages)
        work = iter(enumerate(messages))  # shared by the workers: one event loop, so no lock needed

        async def worker() -> None:
            for index, message in work:
                results[index] = await self.send(message)

        # A fixed set of workers rather than a task per message: a batch costs no task churn.
        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(messages)))))
        return results

    def send_many(self, messages: Sequence[PushMessage]) -> list[PushResult]:
        """Synchronous one-off: open a session, send everything, close it."""
        async def run() -> list[PushResult]:
            async with self:
                return await self.send_all(messages)

        return asyncio.run(run())
