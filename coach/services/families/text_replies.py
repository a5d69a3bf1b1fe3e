"""Texts coming back from parents, and the provider's delivery reports (DESIGN "Reach → Text
messages"). The webhooks (``coach/sms/views.py``) check Twilio's signature, then call these.

What an inbound text does, decided by its words:

- STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT: texts stop (consent cleared, queued texts
  cancelled) and one confirmation goes out; a second STOP changes and sends nothing.
- START, UNSTOP: texts start again (a person on ``push`` moves to ``sms``), with a confirmation.
- HELP, INFO, AYUDA: what Attune is, the help line for the family's country, how to stop.
- a digit 1–9: the check-in on today's delivery with that answer (the check-in service's own
  idempotency: its id is derived from the ``MessageSid``).
- anything else: a private note on today's check-in (a new "skipped" check-in when there is none
  yet), never shared with the worker, and a short thanks.

Each text is stored once per ``MessageSid`` (``TextInbound``) in the same transaction as what it
does, so a webhook Twilio retries changes nothing the second time. Answers go out through the text
outbox (sent by the next send tick, with its retries and delivery reports), not as TwiML. A number
no account has gets nothing stored and no answer.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime

from peewee import IntegrityError

from ...db import write_transaction
from ...models import CheckIn, Family, TextInbound, TextMessage, User, utcnow
from ..delivery.text_words import words
from ..delivery.texts import queue_text
from .checkins import NOTE_MAX, CheckInData, record_checkin, today_delivery
from .household import family_of
from .resources import for_country

STOP_WORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
START_WORDS = ("START", "UNSTOP")
HELP_WORDS = ("HELP", "INFO", "AYUDA")
#: Check-ins made by text get ids derived from the MessageSid: a replay finds the same row.
TEXT_NAMESPACE = uuid.UUID("9a0d2c44-5f0e-4d8b-b3c1-7e2f8d6a1c55")
_DIGIT = re.compile(r"\s*([1-9])\s*[.!)]?\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

#: Provider states in the order they happen; a late report never moves a text backwards.
PROVIDER_ORDER = {"accepted": 0, "queued": 1, "sending": 2, "sent": 3, "receiving": 3, "received": 4,
                  "delivered": 5, "undelivered": 5, "failed": 5, "read": 6, "canceled": 5}


def find_sender(number: str) -> User | None:
    """The active parent whose phone is ``number`` (E.164); with several (a shared phone), the one
    who agreed to texts most recently."""
    if not number or not number.startswith("+"):
        return None
    candidates = list(User.select().where((User.phone == number) & User.active & (User.role == "parent")))
    candidates.sort(key=lambda u: (u.sms_opt_in_at is not None, u.sms_opt_in_at or datetime.min, -u.id),
                    reverse=True)
    return candidates[0] if candidates else None


def keyword(body: str) -> str:
    """The keyword a text is, in capitals without punctuation ("Stop." → "STOP"), or "" when it is
    more than one word: "End of the day was hard" is a note, not END (as carriers match them)."""
    words = body.strip().split()
    return re.sub(r"[^A-Za-z]", "", words[0]).upper() if len(words) == 1 else ""


def help_text(user: User, family: Family | None) -> str:
    """HELP's answer in ``user``'s language: what Attune is, the first two help lines for the
    family's country (emergency first), how to stop."""
    lines = [f"{r.name} {r.phone}" for r in for_country(family.country if family else None)[1][:2] if r.phone]
    reach = words(user.language, "help_reach", lines="; ".join(lines)) if lines else ""
    return words(user.language, "help", reach=reach)[:320]


def handle_inbound(form: dict, now: datetime | None = None) -> str | None:
    """Act on one inbound text (Twilio's form fields); returns what it was taken as, or None when
    it came from a number no account has (nothing is stored)."""
    now = now or utcnow()
    sid = str(form.get("MessageSid") or "")[:64]
    user = find_sender(str(form.get("From") or "").strip())
    if not sid or user is None:
        return None
    body = _CONTROL.sub("", str(form.get("Body") or "")).strip()
    word = keyword(body)
    kind = ("stop" if word in STOP_WORDS else "start" if word in START_WORDS
            else "help" if word in HELP_WORDS else "answer" if _DIGIT.fullmatch(body) else "note")
    try:
        with write_transaction():
            TextInbound.create(message_sid=sid, user=user, kind=kind, body=body[:NOTE_MAX], received_at=now)
            ACTIONS[kind](user, body, sid, now)
    except IntegrityError:
        existing = TextInbound.get_or_none(TextInbound.message_sid == sid)
        if existing is None:
            raise
        return existing.kind  # a retried webhook: already done
    return kind


def _family(user: User) -> Family | None:
    return family_of(user)  # any caregiver of the household, not only its main contact


def _reply(user: User, kind: str, text: str, sid: str, now: datetime, always: bool = False) -> None:
    """Answer a text through the outbox, one answer per inbound ``MessageSid``; only to someone who
    agreed to texts unless ``always`` (STOP's confirmation, HELP)."""
    if always or user.sms_opt_in_at is not None:
        queue_text(user, kind, text, f"{kind}:{sid}", now)


def _stop(user: User, _body: str, sid: str, now: datetime) -> None:
    if user.sms_opt_in_at is None:
        return  # already stopped: confirmed once, the first time
    User.update(sms_opt_in_at=None).where(User.id == user.id).execute()
    TextMessage.update(status="cancelled").where(
        (TextMessage.user == user.id) & (TextMessage.status == "pending")).execute()
    _reply(user, "stop", words(user.language, "stopped"), sid, now, always=True)


def _start(user: User, _body: str, sid: str, now: datetime) -> None:
    if user.sms_opt_in_at is not None:
        return
    channel = "sms" if user.channel == "push" else user.channel
    User.update(sms_opt_in_at=now, channel=channel).where(User.id == user.id).execute()
    user.sms_opt_in_at, user.channel = now, channel
    _reply(user, "confirm", words(user.language, "started"), sid, now)


def _help(user: User, _body: str, sid: str, now: datetime) -> None:
    _reply(user, "help", help_text(user, _family(user)), sid, now, always=True)


def _answer(user: User, body: str, sid: str, now: datetime) -> None:
    family = _family(user)
    delivery = today_delivery(family, now) if family else None
    answers = (delivery.prompt.answers or []) if delivery is not None and delivery.prompt else []
    number = int(_DIGIT.fullmatch(body).group(1))
    if not answers:
        _reply(user, "reply", words(user.language, "no_prompt"), sid, now)
        return
    if number > len(answers):
        _reply(user, "reply", words(user.language, "bad_answer", n=len(answers)), sid, now)
        return
    record_checkin(family, CheckInData(
        id=uuid.uuid5(TEXT_NAMESPACE, sid), delivery_id=delivery.id, tried=None, felt=None, note=None,
        shared_with_worker=False, wants_support=False, client_created_at=now, answer=number - 1), user)
    _reply(user, "reply", words(user.language, "thanks_answer"), sid, now)


def _note(user: User, body: str, sid: str, now: datetime) -> None:
    family = _family(user)
    if family is None or not body:
        return
    delivery = today_delivery(family, now)
    latest = (CheckIn.select().where(CheckIn.delivery == delivery, CheckIn.user == user.id)
              .order_by(CheckIn.received_at.desc()).first()
              if delivery is not None else None)  # the texter's own: never another caregiver's note
    if latest is not None:  # today's check-in (by text or in the app): the words join its note, private
        note = f"{latest.note}\n{body}" if latest.note else body
        CheckIn.update(note=note[:NOTE_MAX]).where(CheckIn.id == latest.id).execute()
    else:
        record_checkin(family, CheckInData(
            id=uuid.uuid5(TEXT_NAMESPACE, sid), delivery_id=delivery.id if delivery else None, tried="skip",
            felt=None, note=body[:NOTE_MAX], shared_with_worker=False, wants_support=False,
            client_created_at=now), user)
    _reply(user, "reply", words(user.language, "thanks_note"), sid, now)


ACTIONS = {"stop": _stop, "start": _start, "help": _help, "answer": _answer, "note": _note}


def record_status(form: dict, now: datetime | None = None) -> bool:
    """Record a delivery report (``MessageSid``, ``MessageStatus``, ``ErrorCode``) on its text;
    False when no text has that sid. A report older than the one stored changes nothing."""
    sid = str(form.get("MessageSid") or "")[:64]
    state = str(form.get("MessageStatus") or "").lower()[:20]
    if not sid or state not in PROVIDER_ORDER:
        return False
    row = TextMessage.get_or_none(TextMessage.provider_sid == sid)
    if row is None:
        return False
    if PROVIDER_ORDER.get(row.provider_status or "", -1) > PROVIDER_ORDER[state]:
        return True
    fields = {"provider_status": state, "status_at": now or utcnow()}
    code = str(form.get("ErrorCode") or "").strip()
    if code and state in ("failed", "undelivered"):
        fields["error"] = f"{code}: {state}"[:300]
    TextMessage.update(**fields).where(TextMessage.id == row.id).execute()
    return True
