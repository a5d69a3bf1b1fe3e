"""The text-message channel: Twilio's Messages API (DESIGN "Reach → Text messages").

``send_due_texts`` is the send tick's text step (called after the pushes): it queues the prompt
texts now due (``texts.queue_prompt_texts``), then claims due ``TextMessage`` rows in batches with
the outboxes' shared claim (``outbox.claim_due``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite, expired leases given back), posts each to
``{COACH_TWILIO_API_BASE}/2010-04-01/Accounts/{sid}/Messages.json`` with bounded concurrency
(``COACH_TWILIO_CONCURRENCY`` in flight over one aiohttp session) outside any transaction, and
records every answer only if the row is still under the lease it was claimed with:

- 2xx: ``sent`` with Twilio's ``sid`` (unique: its status callbacks find the row by it);
- 429: tried again at ``Retry-After`` (10 s … 6 h), else after a backoff; 5xx and time-outs: backoff
  1, 2, 4 … 60 minutes; a prompt whose next try would fall past the family's window is ``expired``,
  any other text gives up (``failed``) after a day;
- other 4xx: ``failed`` with the status code and Twilio's error; 21610 (the number sent STOP to
  Twilio) also clears the person's consent.

Nothing is texted, and no prompt text is queued, while ``COACH_TWILIO_*`` are unset (``sms_problem``).
"""
from __future__ import annotations

import asyncio
import base64
import ipaddress
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import aiohttp
from flask import current_app
from peewee import fn

from ...db import db
from ...models import Delivery, Family, TextMessage, User, utcnow
from .outbox import backoff, claim_due, finish
from .recording import MAX_RETRY_AFTER, MIN_RETRY_DELAY, retry_after_seconds
from .scheduling import local_window
from .texts import TEXT_CHANNELS, queue_prompt_texts, queue_text

log = logging.getLogger(__name__)

TEXT_KEYS = ("texts_queued", "texts_sent", "texts_retrying", "texts_failed", "texts_expired", "texts_cancelled")
DEFAULT_API_BASE = "https://api.twilio.com"
DEFAULT_CONCURRENCY = 16
DEFAULT_TIMEOUT = 10
LEASE_SECONDS = 120
GIVE_UP_AFTER = timedelta(days=1)
UNSUBSCRIBED = 21610  # Twilio: the recipient replied STOP to this sender
#: Kinds sent whatever the consent: they answer something the person just texted (STOP, HELP).
ANSWERS_ANYWAY = ("stop", "help", "test")


class SmsConfigError(ValueError):
    """``COACH_TWILIO_*`` cannot be used; the message says why."""


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: str
    sender: str  # COACH_TWILIO_FROM: an E.164 number or a Messaging Service SID
    api_base: str
    concurrency: int
    timeout: float

    @property
    def messages_url(self) -> str:
        return f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sms_problem() -> str | None:
    """None when texts can be sent; otherwise a sentence saying why not (``/admin/``, ``status``)."""
    config = current_app.config
    missing = [f"COACH_TWILIO_{key}" for key in ("ACCOUNT_SID", "AUTH_TOKEN", "FROM")
               if not str(config.get(f"TWILIO_{key}") or "").strip()]
    if missing:
        return f"Text messages are not configured ({', '.join(missing)} not set): nothing is texted."
    base = str(config.get("TWILIO_API_BASE") or DEFAULT_API_BASE).rstrip("/")
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return f"COACH_TWILIO_API_BASE {base!r} is not a URL."
    if parts.scheme == "https" and parts.hostname and not parts.username:
        return None
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return None  # a loopback fake (tests, development) may use plain http
    return "COACH_TWILIO_API_BASE must be an https:// URL (plain http only to a loopback address)."


def text_overview() -> dict:
    """For ``/admin/`` and ``status``: whether texts work, who chose them, what waits."""
    rows = TextMessage.select().where(TextMessage.status.in_(("pending", "sending")))
    oldest = rows.select(fn.MIN(TextMessage.created_at)).scalar()
    if isinstance(oldest, str):  # SQLite hands back an aggregate's datetime as text
        oldest = datetime.fromisoformat(oldest)
    return {"problem": sms_problem(), "backlog": rows.count(),
            "failed": TextMessage.select().where(TextMessage.status == "failed").count(),
            "oldest_age_s": max(0, int((utcnow() - oldest).total_seconds())) if oldest else None,
            "parents": User.select().where(User.channel.in_(TEXT_CHANNELS) & User.sms_opt_in_at.is_null(False)
                                           & User.active).count()}


def twilio_settings() -> TwilioSettings:
    """The configured provider; SmsConfigError with ``sms_problem``'s sentence when unusable."""
    problem = sms_problem()
    if problem:
        raise SmsConfigError(problem)
    config = current_app.config
    return TwilioSettings(
        account_sid=str(config["TWILIO_ACCOUNT_SID"]).strip(), auth_token=str(config["TWILIO_AUTH_TOKEN"]).strip(),
        sender=str(config["TWILIO_FROM"]).strip(),
        api_base=str(config.get("TWILIO_API_BASE") or DEFAULT_API_BASE).rstrip("/"),
        concurrency=max(1, int(config.get("TWILIO_CONCURRENCY") or DEFAULT_CONCURRENCY)),
        timeout=float(config.get("TWILIO_TIMEOUT") or DEFAULT_TIMEOUT))


# --- sending --------------------------------------------------------------------------------------

@dataclass(slots=True)
class Answer:
    """Twilio's answer to one post (``status`` 0: no answer: refused, dropped or timed out)."""

    status: int
    sid: str | None = None
    provider_status: str | None = None
    error: str | None = None
    retry_after: str | None = None
    code: int | None = None


async def post_text(session: aiohttp.ClientSession, settings: TwilioSettings, row: TextMessage,
                    status_callback: str) -> Answer:
    """Post one text; never raises."""
    form = {"To": row.to, "From": settings.sender, "Body": row.body, "StatusCallback": status_callback}
    if settings.sender.startswith("MG"):  # a Messaging Service sends from its own pool of numbers
        form["MessagingServiceSid"] = form.pop("From")
    try:
        async with session.post(settings.messages_url, data=form) as response:
            try:
                data = await response.json(content_type=None)
            except ValueError:
                data = None
            data = data if isinstance(data, dict) else {}
            if 200 <= response.status < 300:
                return Answer(response.status, sid=str(data.get("sid") or "") or None,
                              provider_status=str(data.get("status") or "queued")[:20])
            code = data.get("code") if isinstance(data.get("code"), int) else None
            message = str(data.get("message") or response.reason or "")
            return Answer(response.status, error=f"{code or response.status}: {message}"[:300],
                          retry_after=response.headers.get("Retry-After"), code=code)
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return Answer(0, error=f"{type(error).__name__}: {error}"[:300])


async def post_batch(settings: TwilioSettings, rows: list[TextMessage], status_callback: str,
                     session: aiohttp.ClientSession | None = None) -> list[Answer]:
    """Post ``rows`` with at most ``settings.concurrency`` in flight; answers in the same order."""
    limit = asyncio.Semaphore(settings.concurrency)

    async def one(client: aiohttp.ClientSession, row: TextMessage) -> Answer:
        async with limit:
            return await post_text(client, settings, row, status_callback)

    if session is not None:
        return list(await asyncio.gather(*(one(session, row) for row in rows)))
    async with open_session(settings) as client:
        return list(await asyncio.gather(*(one(client, row) for row in rows)))


def open_session(settings: TwilioSettings) -> aiohttp.ClientSession:
    """One pooled session for a tick: basic auth, a time-out per request, connections kept alive."""
    credentials = base64.b64encode(f"{settings.account_sid}:{settings.auth_token}".encode()).decode()
    return aiohttp.ClientSession(
        headers={"Authorization": f"Basic {credentials}"},
        timeout=aiohttp.ClientTimeout(total=settings.timeout),
        connector=aiohttp.TCPConnector(limit=settings.concurrency))


# --- recording ------------------------------------------------------------------------------------

def _still_wanted(row: TextMessage, user: User, window_end: datetime | None, now: datetime) -> str | None:
    """Why a claimed text must not go now (``cancelled``/``expired``), or None to send it.
    ``window_end``: a prompt's family window end that day (None: its delivery is gone)."""
    if row.kind not in ANSWERS_ANYWAY and not (user.active and user.sms_opt_in_at and user.phone == row.to):
        return "cancelled"  # STOP, a new number or a closed account since it was queued
    if row.kind == "prompt" and (window_end is None or now >= window_end):
        return "expired"
    return None


def _window_ends(rows: list[TextMessage]) -> dict[int, datetime]:
    """Each prompt text's delivery id → the end of its family's window that day (one query)."""
    ids = {row.delivery_id for row in rows if row.kind == "prompt" and row.delivery_id is not None}
    if not ids:
        return {}
    found = Delivery.select(Delivery.id, Delivery.local_date, Family).join(Family).where(Delivery.id.in_(list(ids)))
    return {d.id: local_window(d.family, d.local_date)[1] for d in found}


def _retry_at(row: TextMessage, answer: Answer, now: datetime) -> datetime:
    seconds = retry_after_seconds(answer.retry_after) if answer.status == 429 else None
    if seconds is not None:
        return now + timedelta(seconds=min(max(seconds, MIN_RETRY_DELAY), MAX_RETRY_AFTER))
    return now + backoff(row.attempts)


def _too_late(row: TextMessage, when: datetime) -> bool:
    """A retry at ``when`` would come too late: past the prompt's window, or a day after queueing."""
    if row.kind == "prompt" and row.delivery_id is not None:
        end = _window_ends([row]).get(row.delivery_id)
        return end is None or when >= end
    return when >= row.created_at + GIVE_UP_AFTER


def outcome(row: TextMessage, answer: Answer, now: datetime) -> tuple[str, dict]:
    """The tick count and the row's new fields for one answer."""
    if 200 <= answer.status < 300:
        return "texts_sent", {"status": "sent", "sent_at": now, "provider_sid": answer.sid,
                              "provider_status": answer.provider_status, "last_status_code": answer.status,
                              "error": None}
    fields = {"last_status_code": answer.status or None, "error": answer.error}
    if answer.status in (0, 429) or answer.status >= 500:
        when = _retry_at(row, answer, now)
        if row.kind == "test" or _too_late(row, when):  # a test answers now or never
            final = "expired" if row.kind == "prompt" else "failed"
            return f"texts_{final}", fields | {"status": final}
        return "texts_retrying", fields | {"status": "pending", "next_attempt_at": when}
    return "texts_failed", fields | {"status": "failed"}


def record_answers(rows: list[TextMessage], answers: list[Answer], now: datetime) -> Counter:
    """Write each answer (one transaction), only where the row is still under its claim's lease."""
    counts: Counter = Counter()
    with db.atomic():
        for row, answer in zip(rows, answers, strict=True):
            key, fields = outcome(row, answer, now)
            if not finish(row, **fields):
                log.warning("text %s: lease lost before its answer was recorded", row.id)
                continue
            counts[key] += 1
            if answer.code == UNSUBSCRIBED:  # the carrier says this number opted out: stop trying
                User.update(sms_opt_in_at=None).where(User.id == row.user_id).execute()
            if key != "texts_sent":
                log.warning("text %s (%s) to user %s: %s", row.id, row.kind, row.user_id, answer.error)
    return counts


def _sort_claimed(rows: list[TextMessage], now: datetime) -> tuple[list[TextMessage], Counter]:
    """Split claimed rows into those to post and those no longer wanted (finished here)."""
    users = {u.id: u for u in User.select().where(User.id.in_(list({row.user_id for row in rows})))} if rows else {}
    ends = _window_ends(rows)
    sendable, counts = [], Counter()
    with db.atomic():
        for row in rows:
            verdict = _still_wanted(row, users[row.user_id], ends.get(row.delivery_id), now)
            if verdict is None:
                sendable.append(row)
            elif finish(row, status=verdict):
                counts[f"texts_{verdict}"] += 1
    return sendable, counts


def send_due_texts(now: datetime | None = None, batch_size: int | None = None) -> dict[str, int]:
    """The send tick's text step: queue the prompt texts now due, then send every due text.

    ``now`` (naive UTC) pins the clock for tests. Returns counts by ``TEXT_KEYS``.
    """
    counts: Counter = Counter({key: 0 for key in TEXT_KEYS})
    if sms_problem() is not None:
        return dict(counts)
    settings = twilio_settings()
    counts["texts_queued"] = queue_prompt_texts(now)
    callback = f"{current_app.config['BASE_URL']}/sms/twilio/status"
    size = batch_size or max(50, settings.concurrency * 4)

    async def run() -> None:
        async with open_session(settings) as session:
            while True:
                clock = now or utcnow()
                claimed = claim_due(TextMessage, clock, size, LEASE_SECONDS)
                if not claimed:
                    return
                rows, dropped = _sort_claimed(claimed, clock)
                counts.update(dropped)
                answers = await post_batch(settings, rows, callback, session) if rows else []
                result = record_answers(rows, answers, now or utcnow())
                counts.update(result)
                if rows and not result["texts_sent"]:
                    return  # the provider is down or refusing: the rest waits for its next attempt

    asyncio.run(run())
    return {key: counts[key] for key in TEXT_KEYS}


def send_test_sms(user: User) -> TextMessage:
    """Text ``user`` a test message at once (``send-test-sms``), whatever their channel; returns the
    outbox row, sent or not. SmsConfigError when texts are not configured or they have no number."""
    settings = twilio_settings()
    if not user.phone:
        raise SmsConfigError(f"{user.email} has no phone number: add one on their family page first.")
    now = utcnow()
    body = "Attune test message: texts from Attune will come from this number. Reply STOP to cancel."
    with db.atomic():
        queue_text(user, "test", body, f"test:{user.id}:{now.isoformat()}", now)
    row = TextMessage.select().where(TextMessage.user == user, TextMessage.kind == "test") \
        .order_by(TextMessage.id.desc()).first()
    claimed = claim_due(TextMessage, now, 1, LEASE_SECONDS, where=TextMessage.id == row.id)
    callback = f"{current_app.config['BASE_URL']}/sms/twilio/status"
    answers = asyncio.run(post_batch(settings, claimed, callback)) if claimed else []
    record_answers(claimed, answers, utcnow())
    return TextMessage.get_by_id(row.id)
