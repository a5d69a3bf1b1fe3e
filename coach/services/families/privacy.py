"""A parent's rights over their data: export everything stored about the family, or erase it all.

Export leaves out only the password hash. Erasure removes the account, the family, its check-ins,
deliveries, devices and support requests in one transaction; the audit log keeps a row saying an
account was deleted, with no personal data in it. On SQLite the erased rows are then unreadable in
the database file and its write-ahead log too.
"""
from __future__ import annotations

import logging
from datetime import date, datetime

from peewee import ForeignKeyField

from ...db import db, is_postgres, write_transaction
from ...models import (
    AuditEvent,
    CheckIn,
    Delivery,
    Family,
    Invite,
    LoginFailure,
    MailMessage,
    PasswordReset,
    PushOptOut,
    PushSubscription,
    SupportRequest,
    User,
    utcnow,
)
from ..people.throttle import account_key

log = logging.getLogger(__name__)

EXPORT_FORMAT = "attune-export/1"


def _plain(value: object) -> object:
    """JSON-friendly values: times as ISO-8601 UTC, dates as ISO dates, UUIDs as strings."""
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


def _row(model_row, skip: tuple[str, ...] = ()) -> dict:
    """A row's columns (foreign keys as ids), minus ``skip``."""
    data = {}
    for name, fld in model_row._meta.fields.items():
        if name in skip:
            continue
        key = fld.column_name if isinstance(fld, ForeignKeyField) else name
        data[key] = _plain(model_row.__data__.get(name))
    return data


def export_family(user: User) -> dict:
    """Everything stored about the parent and their family, as one JSON-ready dict."""
    family = Family.get_or_none(Family.user == user)
    export = {
        "format": EXPORT_FORMAT,
        "exported_at": _plain(utcnow()),
        "account": _row(user, skip=("password_hash",)),
        "family": None,
        "family_worker": None,
        "check_ins": [],
        "deliveries": [],
        "push_devices": [_row(s) for s in PushSubscription.select().where(PushSubscription.user == user)
                         .order_by(PushSubscription.id)],
        "support_requests": [],
        "invite": None,
        "account_activity": [_row(e, skip=("actor",)) for e in AuditEvent.select()
                             .where(AuditEvent.actor == user).order_by(AuditEvent.id)],
    }
    if family is None:
        return export
    export["family"] = _row(family)
    if family.worker_id is not None:
        export["family_worker"] = {"name": family.worker.name, "email": family.worker.email}
    export["check_ins"] = [_row(c) for c in CheckIn.select().where(CheckIn.family == family)
                           .order_by(CheckIn.client_created_at)]
    deliveries = []
    for delivery in Delivery.select().where(Delivery.family == family).order_by(Delivery.local_date):
        item = _row(delivery, skip=("lease_until",))
        item["prompt_title"] = delivery.prompt.title if delivery.prompt_id else None
        deliveries.append(item)
    export["deliveries"] = deliveries
    export["support_requests"] = [_row(r) for r in SupportRequest.select()
                                  .where(SupportRequest.family == family).order_by(SupportRequest.id)]
    invite = Invite.get_or_none(Invite.family == family)
    if invite is not None:
        export["invite"] = _row(invite, skip=("token_hash", "worker", "family"))
    return export


def delete_account(user: User) -> None:
    """Erase the parent's account and every row about their family, all or nothing; then make sure
    the erased rows can't be read back from the database's files (see :func:`_leave_no_trace`)."""
    with write_transaction():
        family = Family.get_or_none(Family.user == user)
        if family is not None:
            SupportRequest.delete().where(SupportRequest.family == family).execute()
            CheckIn.delete().where(CheckIn.family == family).execute()
            Delivery.delete().where(Delivery.family == family).execute()
            Invite.update(family=None, label="").where(Invite.family == family).execute()
            family_id = family.id
            family.delete_instance()
        else:
            family_id = None
        PushSubscription.delete().where(PushSubscription.user == user).execute()
        PushOptOut.delete().where(PushOptOut.user == user).execute()
        PasswordReset.delete().where(PasswordReset.user == user).execute()
        LoginFailure.delete().where(LoginFailure.key == account_key(user.email)).execute()
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
    """Deleting needs the account's email address or the word "delete", typed by the person."""
    if not isinstance(typed, str):
        return False
    typed = typed.strip().lower()
    return typed in ("delete", user.email.lower())
