"""A parent's rights over their data: export what is theirs, or erase it.

Export holds what the caregiver gave (their own check-ins, notes, devices and requests) and the
family's shared settings and prompts, in words, without secrets or internals, and never another
caregiver's check-ins. Erasure removes the caregiver's account, their own check-ins, devices and
requests; the family (its deliveries, child and schedule) goes with its last caregiver, all in one
transaction. The audit log keeps a row saying an account was deleted, with no personal data in it. On SQLite the erased rows are then unreadable in
the database file and its write-ahead log too.
"""
from __future__ import annotations

import logging
from datetime import date, datetime

from ...db import db, is_postgres, write_transaction
from ...models import (
    AuditEvent,
    Caregiver,
    CheckIn,
    Delivery,
    Family,
    HouseholdInvite,
    Invite,
    LoginFailure,
    MailMessage,
    PasswordReset,
    PushOptOut,
    PushSubscription,
    SupportRequest,
    TextInbound,
    TextMessage,
    User,
    utcnow,
)
from ..delivery.subscriptions import device_label
from ..people.throttle import account_key, forgot_email_key
from ..programme.library import fill_child
from .household import caregivers, family_of, remove_caregiver
from .journal import build_journal
from .preferences import days_label

log = logging.getLogger(__name__)

EXPORT_FORMAT = "attune-export/2"
#: Keys that must never appear in an export, at any depth (tests walk the JSON for them).
SECRET_KEYS = frozenset({"password_hash", "session_token", "p256dh", "auth", "endpoint", "ack_token",
                         "token", "token_hash", "lease_until", "next_due_at", "next_attempt_at",
                         "attempts", "last_status_code", "last_error"})
DELIVERY_WORDS = {"pending": "Planned", "sending": "Being sent", "sent": "Sent to your phone",
                  "no_device": "Waiting in the app (no phone with reminders on)",
                  "failed": "Couldn't reach your phone", "expired": "The day ended"}


def _plain(value: object) -> object:
    """JSON-friendly values: times as ISO-8601 UTC, dates as ISO dates, UUIDs as strings."""
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


def _pick(row, *names: str) -> dict:
    return {name: _plain(getattr(row, name)) for name in names}


def export_family(user: User) -> dict:
    """What the parent told us and what we did with it, as one JSON-ready dict: answers and feelings
    in words, no secrets (password hash, session token, push keys, link tokens) and no internals
    (send leases, retry counters, the next planned send)."""
    family = family_of(user)
    export = {
        "format": EXPORT_FORMAT,
        "exported_at": _plain(utcnow()),
        "account": _pick(user, "email", "name", "phone", "created_at", "channel", "sms_opt_in_at"),
        "family": None,
        "family_worker": None,
        "check_ins": [],
        "prompts_received": [],
        "push_devices": [{"device": device_label(s.user_agent), **_pick(s, "created_at", "last_seen_at")}
                         for s in PushSubscription.select().where(PushSubscription.user == user)
                         .order_by(PushSubscription.id)],
        "texts_sent": [{"kind": t.kind, "to": t.to, "text": t.body, "status": t.provider_status or t.status,
                        **_pick(t, "created_at", "sent_at")}
                       for t in TextMessage.select().where(TextMessage.user == user).order_by(TextMessage.id)],
        "texts_received": [{"text": t.body, "taken_as": t.kind, "received_at": _plain(t.received_at)}
                           for t in TextInbound.select().where(TextInbound.user == user).order_by(TextInbound.id)],
        "support_requests": [],
        "household": [],
        "invite": None,
        "account_activity": [{"what": e.action, "at": _plain(e.created_at)} for e in AuditEvent.select()
                             .where(AuditEvent.actor == user).order_by(AuditEvent.id)],
    }
    if family is None:
        return export
    export["family"] = _pick(family, "display_name", "child_name", "child_birth_month", "timezone",
                             "window_start", "window_end", "paused_until", "share_notes_default",
                             "discreet", "country", "created_at")
    export["family"]["days"] = days_label(family.days_of_week)
    if family.worker_id is not None:
        export["family_worker"] = {"name": family.worker.name, "email": family.worker.email}
    export["household"] = [{"name": person.label} for person in caregivers(family)]
    entries = [e for week in reversed(build_journal(family, user).weeks) for e in reversed(week.entries)]
    export["check_ins"] = [{
        "date": e.day.isoformat(), "made_at": _plain(e.made), "prompt": e.title, "theme": e.theme_name,
        "question": e.question or None, "answer": e.answer_label or e.tried_label,
        "tried": e.tried_label, "feeling": e.felt[1] if e.felt else None, "note": e.note,
        "shared_with_worker": e.shared, "asked_worker_to_get_in_touch": e.wants_support,
    } for e in entries]
    export["prompts_received"] = [{
        "date": _plain(d.local_date),
        "prompt": fill_child(d.prompt.title, family.child_name) if d.prompt_id else (
            "Your weekly reflection" if d.kind == "reflection" else None),
        "status": DELIVERY_WORDS.get(d.status, d.status), "sent_at": _plain(d.sent_at),
        "opened_at": _plain(d.opened_at),
    } for d in Delivery.select().where(Delivery.family == family).order_by(Delivery.local_date)]
    export["support_requests"] = [
        {**_pick(r, "created_at", "source", "note", "safe", "urgent", "followed_up_at")}
        for r in SupportRequest.select().where(SupportRequest.family == family, _asked_by(user, family))
        .order_by(SupportRequest.id)]
    invite = Invite.get_or_none(Invite.family == family)
    if invite is not None:
        export["invite"] = _pick(invite, "label", "created_at", "used_at")
    return export


def _asked_by(user: User, family: Family):
    """The support requests ``user`` made (requests from before households count as the main
    contact's)."""
    mine = SupportRequest.user == user.id
    return mine | SupportRequest.user.is_null() if family.user_id == user.id else mine


def delete_account(user: User) -> None:
    """Erase the caregiver's account and their own rows; with the last caregiver, every row about
    the family too, all or nothing. Then make sure the erased rows can't be read back from the
    database's files (see :func:`_leave_no_trace`)."""
    with write_transaction():
        family = family_of(user)
        if family is not None:
            SupportRequest.delete().where(SupportRequest.family == family, _asked_by(user, family)).execute()
        if family is not None and remove_caregiver(user) is not None:  # the others keep the family
            family_id = family.id
        elif family is not None:
            SupportRequest.delete().where(SupportRequest.family == family).execute()
            CheckIn.delete().where(CheckIn.family == family).execute()
            Delivery.delete().where(Delivery.family == family).execute()
            Invite.update(family=None, label="").where(Invite.family == family).execute()
            HouseholdInvite.delete().where(HouseholdInvite.family == family).execute()
            Caregiver.delete().where(Caregiver.family == family).execute()
            family_id = family.id
            family.delete_instance()
        else:
            family_id = None
        PushSubscription.delete().where(PushSubscription.user == user).execute()
        TextMessage.delete().where(TextMessage.user == user).execute()
        TextInbound.delete().where(TextInbound.user == user).execute()
        PushOptOut.delete().where(PushOptOut.user == user).execute()
        PasswordReset.delete().where(PasswordReset.user == user).execute()
        LoginFailure.delete().where(LoginFailure.key.in_(
            [account_key(user.email), forgot_email_key(user.email)])).execute()
        MailMessage.delete().where(MailMessage.to_address == user.email).execute()
        # Staff actions about this account (a reset link, say) keep their row but lose the email.
        (AuditEvent.update(detail=None)
         .where(AuditEvent.target_type == "user", AuditEvent.target_id == str(user.id)).execute())
        AuditEvent.update(actor=None, ip="").where(AuditEvent.actor == user).execute()
        user.delete_instance()
        AuditEvent.create(action="account_deleted", target_type="family",
                          target_id=str(family_id or ""), detail=None)
    _leave_no_trace()


def _leave_no_trace() -> None:
    """SQLite keeps the erased rows' old pages in its write-ahead log until a checkpoint (the
    database file itself is zeroed by ``secure_delete``). A TRUNCATE checkpoint copies the zeroed
    pages home and empties the log; it waits (busy timeout) for readers of older snapshots."""
    if is_postgres():
        return  # PostgreSQL reclaims dead rows with (auto)vacuum; its files aren't ours to manage
    for _ in range(3):
        busy, _log, _done = db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return
    log.warning("WAL checkpoint after an account erasure was blocked by readers; the next "
                "automatic checkpoint will overwrite the erased pages")


def confirmation_matches(user: User, typed: object) -> bool:
    """Deleting needs the account's email address or the word "delete" ("borrar" in Spanish, as the
    Spanish page asks), typed by the person."""
    if not isinstance(typed, str):
        return False
    typed = typed.strip().lower()
    return typed in ("delete", "borrar", user.email.lower())
