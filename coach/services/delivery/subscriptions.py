"""Push subscriptions: one per device, upserted by endpoint every time the app opens.

A subscription is checked before it is stored with the rules sending uses, so nothing is stored
that could never be sent to: the endpoint must pass ``push.host_allowed`` against
``COACH_PUSH_ALLOWED_HOSTS`` (the same function the sender asks), the ``p256dh`` key must be an
uncompressed P-256 point on the curve (``push.receiver_public_key``, which encryption uses) and the
auth secret 16 bytes. Each parent keeps at most ``COACH_MAX_DEVICES`` devices: a new phone past the
cap replaces the one seen longest ago, so a parent who changes phones is never stuck. Test pushes
are limited per parent. Sending is the delivery engine's job.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from flask import current_app
from peewee import IntegrityError

from ...db import db, is_postgres, write_transaction
from ...errors import AppError
from ...i18n import N_
from ...models import AuditEvent, PushOptOut, PushSubscription, User, utcnow
from .push import AUTH_SECRET_BYTES, host_allowed, receiver_public_key

MAX_ENDPOINT = 1000
DEFAULT_MAX_DEVICES = 10
TEST_PUSH_LIMIT = 5  # test notifications per parent …
TEST_PUSH_WINDOW = timedelta(minutes=10)  # … in this long
TEST_PUSH_ACTION = "push.test"  # the audit entry each test push leaves, counted for the limit
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
    """Why an endpoint can't be stored (the sender would refuse it), or None."""
    if not isinstance(endpoint, str) or not endpoint:
        return "Send the subscription's endpoint URL."
    if len(endpoint) > MAX_ENDPOINT:
        return f"The endpoint is longer than {MAX_ENDPOINT} characters."
    if not host_allowed(endpoint, current_app.config["PUSH_ALLOWED_HOSTS"]):
        return "The endpoint must be an https address of a browser's push service."
    return None


def p256dh_problem(value: object) -> str | None:
    """Why a ``p256dh`` key can't be encrypted to, or None."""
    point = b64url_bytes(value)
    try:
        receiver_public_key(point if point is not None else b"")
    except ValueError:
        return "Send the browser's P-256 public key: an uncompressed point on the curve, base64url."
    return None


def parse_subscription(body: object) -> SubscriptionData:
    """Validate ``{endpoint, keys: {p256dh, auth}}`` (``PushSubscription.toJSON()``); 422 if bad."""
    if not isinstance(body, dict):
        raise AppError(400, N_("Send the subscription as a JSON object."))
    fields: dict[str, str] = {}
    endpoint = body.get("endpoint")
    problem = endpoint_problem(endpoint)
    if problem:
        fields["endpoint"] = problem
    keys = body.get("keys")
    keys = keys if isinstance(keys, dict) else {}
    problem = p256dh_problem(keys.get("p256dh"))
    if problem:
        fields["keys.p256dh"] = problem
    auth = b64url_bytes(keys.get("auth"))
    if auth is None or len(auth) != AUTH_SECRET_BYTES:
        fields["keys.auth"] = f"Send the {AUTH_SECRET_BYTES}-byte auth secret, base64url."
    if fields:
        raise AppError(422, N_("That push subscription isn't one we can use."), fields=fields)
    return SubscriptionData(endpoint=endpoint, p256dh=keys["p256dh"].rstrip("="),
                            auth=keys["auth"].rstrip("="))


def upsert_subscription(user: User, data: SubscriptionData,
                        user_agent: str = "") -> tuple[PushSubscription, bool, dict | None]:
    """Store or refresh the device's subscription; returns ``(row, created, replaced)``.

    An endpoint already stored for another account moves to this one: it is the same browser,
    now signed in as someone else, and must not keep delivering the old account's prompts. A device
    that is new to this account past ``COACH_MAX_DEVICES`` replaces the account's least recently
    seen device; ``replaced`` names it (``{"id", "label"}``) so the app can say so.
    """
    try:
        return _upsert(user, data, user_agent)
    except IntegrityError:  # the same endpoint inserted at the same moment by another request
        return _upsert(user, data, user_agent)


def _upsert(user: User, data: SubscriptionData, user_agent: str) -> tuple[PushSubscription, bool, dict | None]:
    now = utcnow()
    with write_transaction():
        _lock_account(user)
        row = PushSubscription.get_or_none(PushSubscription.endpoint == data.endpoint)
        replaced = None if row is not None and row.user_id == user.id else _make_room(user)
        if row is None:
            row = PushSubscription.create(user=user, endpoint=data.endpoint, p256dh=data.p256dh,
                                          auth=data.auth, user_agent=user_agent[:300],
                                          created_at=now, last_seen_at=now)
            return row, True, replaced
        keys_changed = (row.p256dh, row.auth) != (data.p256dh, data.auth)
        row.user = user
        row.p256dh, row.auth = data.p256dh, data.auth
        row.user_agent = user_agent[:300] or row.user_agent
        row.last_seen_at = now
        if keys_changed:
            row.error_count, row.first_error_at = 0, None
        row.save()
        return row, False, replaced


def _lock_account(user: User) -> None:
    """Serialise this account's device writes (PostgreSQL; SQLite's BEGIN IMMEDIATE already does)."""
    if is_postgres():
        list(User.select(User.id).where(User.id == user.id).for_update())


def _make_room(user: User) -> dict | None:
    """Delete the least recently seen devices past the cap, leaving room for one more."""
    cap = max(1, int(current_app.config.get("MAX_DEVICES", DEFAULT_MAX_DEVICES)))
    devices = list(PushSubscription.select(PushSubscription.id, PushSubscription.user_agent)
                   .where(PushSubscription.user == user)
                   .order_by(PushSubscription.last_seen_at.desc(), PushSubscription.id.desc()))
    surplus = devices[cap - 1:]
    if not surplus:
        return None
    PushSubscription.delete().where(PushSubscription.id.in_([d.id for d in surplus])).execute()
    oldest = surplus[-1]
    return {"id": oldest.id, "label": device_label(oldest.user_agent)}


def reserve_test_push(user: User) -> int:
    """Count one test push against ``user``; returns 0, or the seconds to wait when over the limit.

    Each test push leaves an audit entry, and the entries of the last ``TEST_PUSH_WINDOW`` are the
    count: it holds across processes and restarts, and admins can see who tested how often.
    """
    now = utcnow()
    with write_transaction():
        _lock_account(user)
        recent = [row.created_at for row in AuditEvent.select(AuditEvent.created_at).where(
            (AuditEvent.actor == user) & (AuditEvent.action == TEST_PUSH_ACTION)
            & (AuditEvent.created_at > now - TEST_PUSH_WINDOW)).order_by(AuditEvent.created_at.desc())]
        if len(recent) >= TEST_PUSH_LIMIT:
            free_at = recent[TEST_PUSH_LIMIT - 1] + TEST_PUSH_WINDOW
            return max(1, int((free_at - now).total_seconds()) + 1)
        AuditEvent.create(actor=user, action=TEST_PUSH_ACTION, target_type="user", target_id=str(user.id),
                          created_at=now)
    return 0


def endpoint_hash(endpoint: str) -> str:
    """How an opted-out endpoint is kept: enough to recognise it, useless for pushing to it."""
    return hashlib.sha256(endpoint.encode("utf-8", "surrogatepass")).hexdigest()


def opted_out(user: User, endpoint: str) -> bool:
    """Did ``user`` turn reminders off on the device with this endpoint?"""
    return PushOptOut.select().where(PushOptOut.user == user,
                                     PushOptOut.endpoint_hash == endpoint_hash(endpoint)).exists()


def _opt_out(user: User, endpoint: str) -> None:
    try:
        with db.atomic():
            PushOptOut.create(user=user, endpoint_hash=endpoint_hash(endpoint))
    except IntegrityError:
        pass  # already off


def opt_in(user: User, endpoint: str) -> None:
    """The parent tapped "Turn on" on this device: it may be stored again."""
    PushOptOut.delete().where(PushOptOut.user == user,
                              PushOptOut.endpoint_hash == endpoint_hash(endpoint)).execute()


def remove_subscription(user: User, endpoint: object) -> None:
    """Turn reminders off on one device: forget its subscription and keep its endpoint as opted
    out, so the next app open doesn't store it again (only ``"resubscribe": true`` does).

    Idempotent for the user's own devices (a device already forgotten is still marked off);
    AppError 404, with nothing written, when the endpoint is stored for another account.
    """
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise AppError(422, N_("Send the endpoint of the device to remove."),
                       fields={"endpoint": N_("Send the subscription's endpoint URL.")})
    with write_transaction():
        row = PushSubscription.get_or_none(PushSubscription.endpoint == endpoint)
        if row is not None and row.user_id != user.id:
            raise AppError(404, N_("That device isn't on your account."), code="device_not_found")
        if row is not None:
            row.delete_instance()
        _opt_out(user, endpoint)


def remove_device(user: User, device_id: int) -> None:
    """Forget one of the user's devices by id (the settings page's Remove button); it stays off."""
    row = PushSubscription.get_or_none(PushSubscription.user == user, PushSubscription.id == device_id)
    if row is None:
        raise AppError(404, N_("That device isn't on your account."), code="device_not_found")
    remove_subscription(user, row.endpoint)


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
