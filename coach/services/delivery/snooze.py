""""Later": the notification's snooze. The same delivery is pushed again at least an hour on, while
the family's local day lasts, at most twice (DESIGN "The parent app, second release").

A snooze puts the delivery back in the sending queue (``status=pending``, ``next_attempt_at`` an hour
on), so the ordinary claim — leases, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL — pushes it once,
whatever number of senders run. The write is conditional on the snooze count it read, so two taps
at once make one snooze. At claim time a snoozed delivery that was answered meanwhile, or whose
day ended, goes back to ``sent`` without a push (``sending.claim_with_expired``).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from ...errors import AppError
from ...models import CheckIn, Delivery, utcnow
from .ack import verify_ack_token

SNOOZE_DELAY = timedelta(minutes=60)
MAX_SNOOZES = 2
#: A delivery in these states can be pushed again: sent, or already waiting for a snooze or retry.
SNOOZABLE = ("sent", "pending")


def snooze_delivery(delivery_id: int, token: str, now: datetime | None = None) -> Delivery:
    """Push ``delivery_id`` again ``SNOOZE_DELAY`` from ``now``; AppError 403/404/409 when it can't."""
    if not verify_ack_token(delivery_id, token):
        raise AppError(403, "That reminder link isn't valid. Open the app to see today's prompt.",
                       code="bad_ack_token")
    delivery = Delivery.get_or_none(Delivery.id == delivery_id)
    if delivery is None:
        raise AppError(404, "That prompt is no longer stored.", code="delivery_not_found")
    now = now or utcnow()
    when = now + SNOOZE_DELAY
    if CheckIn.select().where(CheckIn.delivery == delivery).exists():
        raise AppError(409, "You've already checked in on this prompt.", code="already_answered")
    if delivery.snoozes >= MAX_SNOOZES:
        raise AppError(409, f"This prompt has been put off {MAX_SNOOZES} times already. "
                       "It's in the app whenever you're ready.", code="snooze_limit")
    if when >= delivery.expires_at:
        raise AppError(409, "Your day ends before an hour from now, so we won't remind you again. "
                       "It's in the app until then.", code="day_ending")
    if delivery.status not in SNOOZABLE:
        raise AppError(409, "This prompt can't be sent again. It's in the app whenever you're ready.",
                       code="not_snoozable")
    moved = (Delivery.update(status="pending", next_attempt_at=when, lease_until=None,
                             snoozes=Delivery.snoozes + 1)
             .where(Delivery.id == delivery.id, Delivery.snoozes == delivery.snoozes,
                    Delivery.status.in_(SNOOZABLE)).execute())
    if not moved:  # another tap (or the sender) changed it first
        raise AppError(409, "That reminder was just changed. Try again in a moment.", code="snooze_conflict")
    return Delivery.get_by_id(delivery.id)
