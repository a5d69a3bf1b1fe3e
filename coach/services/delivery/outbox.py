"""Leased outboxes shared by email (``MailMessage``) and staff alerts (``StaffAlert``).

Both tables carry ``status``, ``attempts``, ``next_attempt_at`` and ``lease_until``. A claim moves
due ``pending`` rows to ``sending`` under a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several schedulers split the work; ``BEGIN IMMEDIATE`` on SQLite); a row whose claimer died goes
back to ``pending`` once its lease runs out; every final write is conditional on the lease it was
claimed with, so a claimer that outlived its lease cannot overwrite a newer result.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from peewee import Expression, Model

from ...db import is_postgres, write_transaction

BACKOFF_CAP_MINUTES = 60


def claim_due(model: type[Model], now: datetime, size: int, lease_seconds: int,
              where: Expression | None = None) -> list[Model]:
    """Claim up to ``size`` due rows of ``model`` until ``now + lease_seconds``, oldest first.

    ``where`` narrows the claim (e.g. one row by id). Returned rows show what the claim wrote.
    """
    lease_until = now + timedelta(seconds=lease_seconds)
    stale = (model.status == "sending") & (model.lease_until < now)
    condition = (model.status == "pending") & (model.next_attempt_at <= now)
    if where is not None:
        condition &= where
    # Most ticks find nothing: ask with a plain read before taking SQLite's write lock every 5 s.
    if not model.select(model.id).where(condition | stale).exists():
        return []
    with write_transaction():
        model.update(status="pending", lease_until=None).where(stale).execute()
        query = model.select().where(condition).order_by(model.next_attempt_at, model.id).limit(size)
        if is_postgres():
            query = query.for_update(of=model, skip_locked=True)
        rows = list(query)
        if rows:
            model.update(status="sending", lease_until=lease_until, attempts=model.attempts + 1).where(
                model.id.in_([row.id for row in rows])).execute()
    for row in rows:
        row.status, row.lease_until, row.attempts = "sending", lease_until, row.attempts + 1
    return rows


def finish(row: Model, **fields: object) -> bool:
    """Write a claimed row's result, only if it is still ours (``sending`` under the same lease)."""
    model = type(row)
    return model.update(lease_until=None, **fields).where(
        (model.id == row.id) & (model.status == "sending") & (model.lease_until == row.lease_until)
    ).execute() == 1


def backoff(attempts: int) -> timedelta:
    """Wait 1, 2, 4 … minutes after each failed attempt, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), BACKOFF_CAP_MINUTES))
