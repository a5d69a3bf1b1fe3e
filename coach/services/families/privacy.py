"""A parent's rights over their data: export everything stored about the family, or erase it all.

Export leaves out only the password hash. Erasure removes the account, the family, its check-ins,
deliveries, devices and support requests in one transaction; the audit log keeps a row saying an
account was deleted, with no personal data in it.
"""
from __future__ import annotations

from datetime import date, datetime

from peewee import ForeignKeyField

from ...db import write_transaction
from ...models import (
    AuditEvent,
    CheckIn,
    Delivery,
    Family,
    Invite,
    LoginFailure,
    PasswordReset,
    PushSubscription,
    SupportRequest,
    User,
    utcnow,
)

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
    """Erase the parent's account and every row about their family, all or nothing."""
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
        PasswordReset.delete().where(PasswordReset.user == user).execute()
        LoginFailure.delete().where(LoginFailure.key == f"email:{user.email}").execute()
        AuditEvent.update(actor=None, ip="").where(AuditEvent.actor == user).execute()
        user.delete_instance()
        AuditEvent.create(action="account_deleted", target_type="family",
                          target_id=str(family_id or ""), detail=None)


def confirmation_matches(user: User, typed: object) -> bool:
    """Deleting needs the account's email address or the word "delete", typed by the person."""
    if not isinstance(typed, str):
        return False
    typed = typed.strip().lower()
    return typed in ("delete", user.email.lower())
