"""Push subscriptions: one per device, upserted by endpoint every time the app opens.

A subscription is checked before it is stored: an https endpoint (or plain http on a loopback
host, for tests and local development), a P-256 public key (65 bytes, uncompressed point) and a
16-byte auth secret, both base64url. Sending is the delivery engine's job.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from ...db import write_transaction
from ...errors import AppError
from ...models import PushSubscription, User, utcnow

MAX_ENDPOINT = 1000
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


@dataclass(frozen=True)
class SubscriptionData:
    endpoint: str
    p256dh: str
    auth: str


def b64url_bytes(text: object) -> bytes | None:
    """Decoded base64url (padding optional), or None when it isn't base64url."""
    if not isinstance(text, str) or not _B64URL.match(text):
        return None
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


def endpoint_problem(endpoint: object) -> str | None:
    """Why an endpoint can't be stored, or None."""
    if not isinstance(endpoint, str) or not endpoint:
        return "Send the subscription's endpoint URL."
    if len(endpoint) > MAX_ENDPOINT:
        return f"The endpoint is longer than {MAX_ENDPOINT} characters."
    parts = urlsplit(endpoint)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return None
    return "The endpoint must be an https URL from a push service."


def parse_subscription(body: object) -> SubscriptionData:
    """Validate ``{endpoint, keys: {p256dh, auth}}`` (``PushSubscription.toJSON()``); 422 if bad."""
    if not isinstance(body, dict):
        raise AppError(400, "Send the subscription as a JSON object.")
    fields: dict[str, str] = {}
    endpoint = body.get("endpoint")
    problem = endpoint_problem(endpoint)
    if problem:
        fields["endpoint"] = problem
    keys = body.get("keys")
    keys = keys if isinstance(keys, dict) else {}
    p256dh = b64url_bytes(keys.get("p256dh"))
    if p256dh is None or len(p256dh) != 65 or p256dh[0] != 4:
        fields["keys.p256dh"] = "Send the P-256 public key: 65 bytes, base64url."
    auth = b64url_bytes(keys.get("auth"))
    if auth is None or len(auth) != 16:
        fields["keys.auth"] = "Send the 16-byte auth secret, base64url."
    if fields:
        raise AppError(422, "That push subscription isn't one we can use.", fields=fields)
    return SubscriptionData(endpoint=endpoint, p256dh=keys["p256dh"].rstrip("="),
                            auth=keys["auth"].rstrip("="))


def upsert_subscription(user: User, data: SubscriptionData, user_agent: str = "") -> tuple[PushSubscription, bool]:
    """Store or refresh the device's subscription; returns ``(row, created)``.

    An endpoint already stored for another account moves to this one: it is the same browser,
    now signed in as someone else, and must not keep delivering the old account's prompts.
    """
    now = utcnow()
    with write_transaction():
        row = PushSubscription.get_or_none(PushSubscription.endpoint == data.endpoint)
        if row is None:
            return PushSubscription.create(user=user, endpoint=data.endpoint, p256dh=data.p256dh,
                                           auth=data.auth, user_agent=user_agent[:300],
                                           created_at=now, last_seen_at=now), True
        keys_changed = (row.p256dh, row.auth) != (data.p256dh, data.auth)
        row.user = user
        row.p256dh, row.auth = data.p256dh, data.auth
        row.user_agent = user_agent[:300] or row.user_agent
        row.last_seen_at = now
        if keys_changed:
            row.error_count, row.first_error_at = 0, None
        row.save()
        return row, False


def remove_subscription(user: User, endpoint: object) -> None:
    """Forget one of the user's devices by endpoint; AppError 404 when it isn't theirs."""
    if not isinstance(endpoint, str) or not endpoint:
        raise AppError(422, "Send the endpoint of the device to remove.",
                       fields={"endpoint": "Send the subscription's endpoint URL."})
    deleted = (PushSubscription.delete()
               .where(PushSubscription.user == user, PushSubscription.endpoint == endpoint).execute())
    if not deleted:
        raise AppError(404, "That device isn't on your account.", code="device_not_found")


def remove_device(user: User, device_id: int) -> None:
    """Forget one of the user's devices by id (the settings page's Remove button)."""
    deleted = (PushSubscription.delete()
               .where(PushSubscription.user == user, PushSubscription.id == device_id).execute())
    if not deleted:
        raise AppError(404, "That device isn't on your account.", code="device_not_found")


def device_label(user_agent: str) -> str:
    """A friendly name for a device from its user agent, e.g. "Chrome on Android"."""
    ua = user_agent or ""
    if "Edg/" in ua:
        browser = "Edge"
    elif "Firefox/" in ua:
        browser = "Firefox"
    elif "Chrome/" in ua or "Chromium/" in ua or "CriOS/" in ua:
        browser = "Chrome"
    elif "Safari/" in ua:
        browser = "Safari"
    else:
        browser = "Browser"
    for marker, system in (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
                           ("Windows", "Windows"), ("Mac OS X", "Mac"), ("Linux", "Linux")):
        if marker in ua:
            return f"{browser} on {system}"
    return browser


def list_devices(user: User) -> list[dict]:
    """The user's devices, newest first, for settings and ``GET /api/me``."""
    rows = (PushSubscription.select().where(PushSubscription.user == user)
            .order_by(PushSubscription.last_seen_at.desc()))
    return [{
        "id": row.id,
        "label": device_label(row.user_agent),
        "endpoint": row.endpoint,
        "created_at": row.created_at.isoformat() + "Z",
        "last_seen_at": row.last_seen_at.isoformat() + "Z",
        "last_ok_at": row.last_ok_at.isoformat() + "Z" if row.last_ok_at else None,
        "working": row.error_count == 0,
    } for row in rows]


@lru_cache(maxsize=4)
def application_server_key(vapid_private_key: str) -> str:
    """The VAPID public key as browsers want it for ``applicationServerKey`` (base64url point)."""
    from cryptography.hazmat.primitives import serialization

    from .push import load_vapid

    point = load_vapid(vapid_private_key).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()
