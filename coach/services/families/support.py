"""Support requests: a parent asks for a person, and that ask always reaches one (DESIGN.md
"Safety and the care loop").

A request is stored together with its alerts in one transaction: a Web Push to the family
worker's own devices (a ``StaffAlert``) and an email (a ``MailMessage``); an urgent one (the
parent said they or their child may not be safe) also goes to the duty address. The scheduler's
tick sends them and escalates requests nobody followed up within ``SUPPORT_RESPONSE_HOURS``.

Alerts carry a sentence and a link, never the parent's note or the child's name: a lock screen or
a shared inbox may be seen by someone else.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from peewee import JOIN

from ...db import db, is_postgres, write_transaction
from ...errors import AppError
from ...i18n import N_
from ...models import (
    SAFE_ANSWERS,
    SUPPORT_SOURCES,
    CheckIn,
    Family,
    StaffAlert,
    SupportRequest,
    User,
    utcnow,
)
from ...prepared import Prepared
from ..delivery.mail import address_key, queue_mail

log = logging.getLogger(__name__)

NOTE_MAX = 500
DEFAULT_RESPONSE_HOURS = 24
ESCALATE_BATCH = 200

ALERT_SUBJECT = "A family asked you to get in touch"
URGENT_SUBJECT = "Urgent: a family may not be safe right now"
ESCALATION_SUBJECT = "Not followed up yet: a family asked for help"
ALERT_SENTENCE = "A family on your caseload asked you to get in touch."
URGENT_SENTENCE = "A family on your caseload said they or their child may not be safe right now."
DUTY_URGENT_SENTENCE = "A family said they or their child may not be safe right now."
UNASSIGNED_SENTENCE = "A family with no family worker asked for someone to get in touch."
UNASSIGNED_URGENT_SENTENCE = ("A family with no family worker said they or their child may not be safe "
                              "right now.")


def response_hours() -> int:
    """How long a worker has to follow a request up before it is escalated."""
    return int(current_app.config.get("SUPPORT_RESPONSE_HOURS") or DEFAULT_RESPONSE_HOURS)


def family_path(family_id: int) -> str:
    """Where a worker (or the duty admin) reads and follows up the family's requests."""
    return f"/worker/families/{family_id}"


def family_link(family_id: int) -> str:
    """The absolute link put in alert emails."""
    return current_app.config["BASE_URL"].rstrip("/") + family_path(family_id)


def duty_addresses() -> list[str]:
    """Who hears about urgent and escalated requests: ``DUTY_EMAIL``; when that is not set, every
    active admin, so an urgent request never goes nowhere."""
    duty = (current_app.config.get("DUTY_EMAIL") or "").strip()
    if duty:
        return [duty]
    return [u.email for u in User.select(User.email).where((User.role == "admin") & User.active)
            .order_by(User.id)]


# --- asking ---------------------------------------------------------------------------------------

def validate_request(source: object, safe: object, note: object) -> str | None:
    """Check a request's fields; returns the cleaned note. AppError 422 with ``fields`` otherwise."""
    fields: dict[str, str] = {}
    if source not in SUPPORT_SOURCES:
        fields["source"] = f"Use one of: {', '.join(SUPPORT_SOURCES)}."
    if safe is not None and safe not in SAFE_ANSWERS:
        fields["safe"] = N_("Answer yes, no or not sure (yes, no, unsure).")
    if note is not None and not isinstance(note, str):
        fields["note"] = N_("The note must be text.")
    elif isinstance(note, str):
        note = note.strip() or None
        if note and "\x00" in note:
            fields["note"] = N_("The note contains a character we can't store. Please retype it.")
        elif note and len(note) > NOTE_MAX:
            fields["note"] = f"Keep the note to {NOTE_MAX} characters or fewer (it has {len(note)})."
    if fields:
        raise AppError(422, N_("Some of the details need another look."), fields=fields)
    return note


def ask_for_support(family: Family, user: User, *, source: str, safe: str | None = None,
                    note: str | None = None, checkin: CheckIn | None = None,
                    now: datetime | None = None) -> SupportRequest:
    """Store a support request and queue its alerts, all in one transaction.

    ``safe`` is the answer to "Are you or your child safe right now?" (None when not asked); "no" and
    "unsure" make the request urgent. AppError 422 for bad input; nothing is written then.
    """
    clean_note = validate_request(source, safe, note)
    now = now or utcnow()
    with db.atomic():
        request = SupportRequest.create(
            family=family, user=user, source=source, safe=safe, urgent=safe in ("no", "unsure"),
            note=clean_note, checkin=checkin, created_at=now,
            respond_by=now + timedelta(hours=response_hours()))
        queue_support_alerts(request, family)
    return request


def _alert_text(urgent: bool, audience: str) -> tuple[str, str]:
    """Subject and sentence for the family's ``worker``, the ``duty`` address, or ``unassigned``."""
    sentences = {
        "worker": URGENT_SENTENCE if urgent else ALERT_SENTENCE,
        "duty": DUTY_URGENT_SENTENCE if urgent else ALERT_SENTENCE,
        "unassigned": UNASSIGNED_URGENT_SENTENCE if urgent else UNASSIGNED_SENTENCE,
    }
    return (URGENT_SUBJECT if urgent else ALERT_SUBJECT), sentences[audience]


def _mail_body(sentence: str, family_id: int, closing: str) -> str:
    return (f"{sentence}\n\nOpen their page to see the request and mark it followed up:\n"
            f"{family_link(family_id)}\n\n{closing}\n\n"
            "For the family's privacy this email holds no names and no notes; sign in to read them.\n")


def queue_support_alerts(request: SupportRequest, family: Family) -> int:
    """Queue the pushes and emails for a new request (call inside its transaction); returns how many.

    The worker gets a push and an email; urgent requests, and requests from a family without an
    active worker, also go to the duty address (and as pushes to active admins' devices).
    """
    worker = family.worker if family.worker_id else None
    has_worker = worker is not None and worker.active
    kind = "urgent" if request.urgent else "alert"
    hours = response_hours()
    queued = 0
    pushed: set[int] = set()
    if has_worker:
        pushed.add(worker.id)
        subject, sentence = _alert_text(request.urgent, "worker")
        closing = f"Please get in touch within {hours} hours; after that it is passed to the duty team."
        queued += queue_mail(worker.email, subject, _mail_body(sentence, family.id, closing), kind,
                             f"support:{request.id}:worker", now=request.created_at)
    if request.urgent or not has_worker:
        pushed.update(u.id for u in User.select(User.id).where((User.role == "admin") & User.active))
        subject, sentence = _alert_text(request.urgent, "duty" if has_worker else "unassigned")
        closing = ("Their family worker has been told too." if has_worker
                   else "Please make sure someone gets in touch with them.")
        for address in duty_addresses():
            if has_worker and address.lower() == worker.email.lower():
                continue  # the worker is on duty: one email is enough
            queued += queue_mail(address, subject, _mail_body(sentence, family.id, closing), kind,
                                 f"support:{request.id}:duty:{address_key(address)}", now=request.created_at)
    if not pushed and not queued:
        log.error("support request %s reaches nobody: no worker, no admin and no COACH_DUTY_EMAIL",
                  request.id)
    for user_id in sorted(pushed):
        StaffAlert.insert(user=user_id, support_request=request.id, kind=kind, created_at=request.created_at,
                          next_attempt_at=request.created_at).on_conflict_ignore().execute()
    return queued + len(pushed)


# --- what the parent sees -------------------------------------------------------------------------

def _requests_query(family_id, user_id=None):
    by = User.alias("by")
    query = (SupportRequest.select(SupportRequest, by)
             .join(by, JOIN.LEFT_OUTER, on=(SupportRequest.followed_up_by == by.id))
             .where(SupportRequest.family == family_id)
             .order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc()))
    if user_id is not None:
        query = query.where((SupportRequest.user == user_id) | SupportRequest.user.is_null())
    return query


# Home and the check-in page read these on every visit: built once (coach/prepared.py).
_REQUESTS = Prepared(_requests_query, SupportRequest.family)
_REQUESTS_BY = Prepared(_requests_query, SupportRequest.family, SupportRequest.user)


def request_status(family: Family, user: User | None = None, now: datetime | None = None) -> list[dict]:
    """The parent's own requests, newest first, as the parent may see them.

    Each is ``{"id", "urgent", "status": "open"|"followed_up", "worker_name", "created_at",
    "respond_by", "followed_up_at", "followed_up_by", "overdue"}``; times are naive UTC datetimes,
    names are display labels. With ``user``, only that caregiver's requests (and older ones stored
    before requests recorded who asked).
    """
    now = now or utcnow()
    query = _REQUESTS_BY.execute(family.id, user.id) if user is not None else _REQUESTS.execute(family.id)
    worker = family.worker if family.worker_id else None
    worker_name = worker.label if worker is not None and worker.active else None
    rows = []
    for request in query:
        followed_by = request.followed_up_by if request.followed_up_by_id else None
        rows.append({
            "id": request.id,
            "urgent": bool(request.urgent),
            "status": "followed_up" if request.followed_up_at else "open",
            "worker_name": worker_name,
            "created_at": request.created_at,
            "respond_by": request.respond_by,
            "followed_up_at": request.followed_up_at,
            "followed_up_by": followed_by.label if followed_by is not None else None,
            "overdue": (request.followed_up_at is None and request.respond_by is not None
                        and request.respond_by <= now),
        })
    return rows


# --- escalation -----------------------------------------------------------------------------------

def _escalation_body(request: SupportRequest) -> str:
    urgency = ("They said they or their child may not be safe. " if request.urgent else "")
    return (f"A family asked for someone to get in touch and nobody has followed it up within "
            f"{response_hours()} hours. {urgency}Please make sure someone contacts them today.\n\n"
            f"Open their page to see the request and mark it followed up:\n{family_link(request.family_id)}\n\n"
            "For the family's privacy this email holds no names and no notes; sign in to read them.\n")


def escalate_overdue(now: datetime | None = None) -> int:
    """Escalate open requests past ``respond_by``: mark ``escalated_at``, queue one email to the duty
    address and a push to the worker's and active admins' devices, exactly once each even with
    several schedulers; returns how many were escalated.

    Rows are locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's write lock up front), the
    update is conditional on ``escalated_at`` still being empty, and every dedupe key is unique.
    """
    now = now or utcnow()
    due = ((SupportRequest.followed_up_at.is_null()) & (SupportRequest.escalated_at.is_null())
           & (SupportRequest.respond_by <= now))
    if not SupportRequest.select(SupportRequest.id).where(due).exists():
        return 0  # the usual tick: no write lock taken
    with write_transaction():
        query = (SupportRequest.select(SupportRequest, Family.id, Family.worker).join(Family)
                 .where(due).order_by(SupportRequest.respond_by).limit(ESCALATE_BATCH))
        if is_postgres():
            query = query.for_update(of=SupportRequest, skip_locked=True)
        requests = list(query)
        if not requests:
            return 0
        addresses = duty_addresses()
        staff = {u.id for u in User.select(User.id).where(User.role.in_(("worker", "admin")) & User.active)}
        admins = {u.id for u in User.select(User.id).where((User.role == "admin") & User.active)}
        escalated = 0
        for request in requests:
            if not SupportRequest.update(escalated_at=now).where((SupportRequest.id == request.id) & due).execute():
                continue
            escalated += 1
            _queue_escalation(request, addresses, admins | ({request.family.worker_id} & staff), now)
    return escalated


def _queue_escalation(request: SupportRequest, addresses: list[str], pushed: set[int], now: datetime) -> None:
    for address in addresses:
        queue_mail(address, ESCALATION_SUBJECT, _escalation_body(request), "escalation",
                   f"escalation:{request.id}:{address_key(address)}", now=now)
    for user_id in sorted(pushed):
        StaffAlert.insert(user=user_id, support_request=request.id, kind="escalation", created_at=now,
                          next_attempt_at=now).on_conflict_ignore().execute()
    if not addresses and not pushed:
        log.error("support request %s is overdue and there is no duty address, worker or admin to tell",
                  request.id)


# --- the admin dashboard --------------------------------------------------------------------------

def _admin_rows(where) -> list[dict]:
    worker = User.alias("worker")
    query = (SupportRequest.select(SupportRequest, Family, worker)
             .join(Family).join(worker, JOIN.LEFT_OUTER, on=(Family.worker == worker.id))
             .where(where).order_by(SupportRequest.respond_by, SupportRequest.id))
    rows = []
    for request in query:
        family = request.family
        assigned = family.worker if family.worker_id else None
        rows.append({
            "id": request.id,
            "family_id": family.id,
            "family_name": family.display_name,
            "worker_name": assigned.label if assigned is not None else None,
            "urgent": bool(request.urgent),
            "created_at": request.created_at,
            "respond_by": request.respond_by,
            "escalated_at": request.escalated_at,
            "url": family_path(family.id),
        })
    return rows


def overdue_requests(now: datetime | None = None) -> list[dict]:
    """Open requests past their response time (escalated or about to be), the longest waiting first.

    Each is ``{"id", "family_id", "family_name", "worker_name", "urgent", "created_at",
    "respond_by", "escalated_at", "url"}`` (times naive UTC).
    """
    now = now or utcnow()
    return _admin_rows(SupportRequest.followed_up_at.is_null() & (SupportRequest.respond_by <= now))


def open_escalations() -> list[dict]:
    """Escalated requests nobody has followed up yet: the red items on ``/admin/`` (same shape as
    :func:`overdue_requests`)."""
    return _admin_rows(SupportRequest.followed_up_at.is_null() & SupportRequest.escalated_at.is_null(False))
