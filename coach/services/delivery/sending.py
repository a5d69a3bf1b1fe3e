"""The sending half of the delivery engine: claim, send, record (DESIGN delivery steps 3–5).

A tick claims due deliveries in batches under a lease, sends each to every device of the family's
parent outside any transaction, and records the answers. The database is the only coordination:
PostgreSQL claims with ``FOR UPDATE SKIP LOCKED`` so N processes share the work, SQLite with
``BEGIN IMMEDIATE``. A process that dies mid-batch leaves ``sending`` rows whose lease runs out and
the next claim returns them to ``pending``; a slow process whose lease ran out cannot overwrite the
result, because every final write is conditional on the lease it was claimed with.
"""
from __future__ import annotations

import asyncio
import email.utils
import gc
import logging
import math
import operator
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import reduce
from urllib.parse import urlsplit

from flask import current_app
from peewee import JOIN, fn

from ...db import db, is_postgres, write_transaction
from ...models import Delivery, Family, Prompt, PushSubscription, User, utcnow
from .push import (
    PushMessage,
    PushResult,
    PushSender,
    build_payload,
    build_test_payload,
    delivery_tag,
    encode_payload,
    host_allowed,
)

log = logging.getLogger(__name__)

TICK_KEYS = ("sent", "failed", "no_device", "retrying", "expired")
DEFAULT_RETRY_AFTER = 60  # seconds, when a 429 carries no usable Retry-After
MIN_RETRY_DELAY = 10  # seconds: a "Retry-After: 0" must not spin one tick in a loop
MAX_RETRY_AFTER = 6 * 3600
BACKOFF_CAP_MINUTES = 60
PRUNE_AFTER_ERRORS = 5  # a subscription rejected this often …
PRUNE_AFTER_DAYS = 3  # … over at least this long is deleted
DEVICES_PER_FAMILY = 2  # for sizing leases: most parents have one or two devices


@dataclass(slots=True)
class SubscriptionResult:
    """One subscription's answer to one delivery, classified for recording."""

    subscription_id: int
    endpoint: str
    status: int | None = None
    error: str | None = None
    retry_after: str | None = None
    kind: str = "rejected"  # ok | gone | throttled | retry | rejected

    @classmethod
    def from_push(cls, subscription_id: int, endpoint: str, result: PushResult) -> SubscriptionResult:
        """Classify a push service answer per DESIGN step 5."""
        status = result.status
        if result.ok:
            kind = "ok"
        elif status in (404, 410):
            kind = "gone"
        elif status == 429:
            kind = "throttled"
        elif status is None:
            kind = "retry" if result.retryable else "rejected"
        elif status == 408 or status >= 500:
            kind = "retry"
        else:
            kind = "rejected"
        error = result.error or (f"HTTP {status}: {result.body[:200]}" if not result.ok else None)
        return cls(subscription_id, endpoint, status, error, result.headers.get("retry-after"), kind)

    @classmethod
    def host_refused(cls, subscription_id: int, endpoint: str) -> SubscriptionResult:
        """A subscription whose host is not in ``PUSH_ALLOWED_HOSTS``: never contacted."""
        return cls(subscription_id, endpoint, None, "host not allowed", None, "rejected")


@dataclass(slots=True)
class DeliveryOutcome:
    """A claimed delivery and what each of its subscriptions answered (empty: no device)."""

    delivery: Delivery
    results: list[SubscriptionResult] = field(default_factory=list)
    error: str | None = None  # the payload could not be built: nothing was sent


# --- claim ----------------------------------------------------------------------------------------

def _locking(query):
    """``query`` row-locked on PostgreSQL, skipping rows another claimer holds (SQLite: as is)."""
    return query.for_update(of=Delivery, skip_locked=True) if is_postgres() else query


def _for_sending():
    """Deliveries with just what sending and recording read: half the cost of whole rows."""
    return (Delivery.select(Delivery.id, Delivery.family, Delivery.local_date, Delivery.prompt,
                            Delivery.status, Delivery.attempts, Delivery.expires_at, Delivery.lease_until,
                            Family.id, Family.user, Family.child_name, Family.discreet,
                            Prompt.id, Prompt.title, Prompt.body)
            .join(Family).switch(Delivery).join(Prompt, JOIN.LEFT_OUTER))


def claim_with_expired(now: datetime, size: int, lease_seconds: int) -> tuple[list[Delivery], int]:
    """``claim_batch``, also returning how many due deliveries were marked ``expired`` instead."""
    lease_until = now + timedelta(seconds=lease_seconds)
    with write_transaction():
        stale = [row[0] for row in _locking(Delivery.select(Delivery.id).where(
            (Delivery.status == "sending") & (Delivery.lease_until < now))).tuples()]
        if stale:  # a crashed or stalled sender: give the prompt back
            Delivery.update(status="pending", lease_until=None).where(Delivery.id.in_(stale)).execute()
        # The rows to send are read once, with their family and prompt, as they are locked.
        due = list(_locking(_for_sending()
                            .where((Delivery.status == "pending") & (Delivery.next_attempt_at <= now))
                            .order_by(Delivery.next_attempt_at, Delivery.id).limit(size)))
        late = [d.id for d in due if d.expires_at <= now]
        live = [d for d in due if d.expires_at > now]
        if late:
            Delivery.update(status="expired", lease_until=None).where(Delivery.id.in_(late)).execute()
        if live:
            Delivery.update(status="sending", lease_until=lease_until, attempts=Delivery.attempts + 1
                            ).where(Delivery.id.in_([d.id for d in live])).execute()
    for delivery in live:  # what the UPDATE wrote, so the lease check at record time matches
        delivery.status, delivery.lease_until, delivery.attempts = "sending", lease_until, delivery.attempts + 1
    return live, len(late)


def claim_batch(now: datetime, size: int, lease_seconds: int) -> list[Delivery]:
    """Claim up to ``size`` due deliveries for this process until ``now + lease_seconds``.

    Expired leases return to ``pending`` first; deliveries past their local day become
    ``expired`` instead of being sent. Claimed rows are ``sending`` with ``attempts`` + 1, and come
    back with the fields sending needs (and their family's and prompt's) loaded.
    """
    return claim_with_expired(now, size, lease_seconds)[0]


def lease_seconds_for(batch_size: int, sender: PushSender) -> int:
    """A lease longer than two batches (the tick pipelines two) take when every push times out."""
    rounds = math.ceil(2 * batch_size * DEVICES_PER_FAMILY / sender.concurrency)
    return max(120, int(rounds * sender.timeout.total) + 60)


# --- send -----------------------------------------------------------------------------------------

def _subscriptions_by_user(user_ids: set[int]) -> dict[int, list[tuple[int, str, str, str]]]:
    """Every device of these parents as ``(id, endpoint, p256dh, auth)``, in one query.

    A deactivated account has no devices: its family gets ``no_device`` and nothing is pushed.
    """
    found: dict[int, list[tuple[int, str, str, str]]] = defaultdict(list)
    if user_ids:
        rows = (PushSubscription.select(PushSubscription.user, PushSubscription.id,
                                        PushSubscription.endpoint, PushSubscription.p256dh,
                                        PushSubscription.auth)
                .join(User).where(PushSubscription.user.in_(list(user_ids)) & User.active)
                .order_by(PushSubscription.id))
        for user_id, *device in rows.tuples():
            found[user_id].append(tuple(device))
    return found


async def send_outcomes(deliveries: list[Delivery], sender: PushSender) -> list[DeliveryOutcome]:
    """Push each delivery to every allowed device of its family's parent (inside ``async with sender``)."""
    allowed = current_app.config["PUSH_ALLOWED_HOSTS"]
    devices = _subscriptions_by_user({d.family.user_id for d in deliveries})
    outcomes, targets, messages = [], [], []
    for delivery in deliveries:
        outcome = DeliveryOutcome(delivery)
        outcomes.append(outcome)
        subscriptions = devices.get(delivery.family.user_id, [])
        if not subscriptions:
            continue
        try:
            data = encode_payload(build_payload(delivery))
        except ValueError as error:  # e.g. over 3 KB: fail this delivery, not the whole batch
            log.error("delivery %s: cannot build its push payload: %s", delivery.id, error)
            outcome.error = str(error)
            continue
        for sub_id, endpoint, p256dh, auth in subscriptions:
            if not host_allowed(endpoint, allowed):
                outcome.results.append(SubscriptionResult.host_refused(sub_id, endpoint))
                continue
            targets.append((outcome, sub_id, endpoint))
            messages.append(PushMessage(endpoint, p256dh, auth, data, topic=delivery_tag(delivery)))
    results = await sender.send_all(messages)
    for (outcome, sub_id, endpoint), result in zip(targets, results, strict=True):
        outcome.results.append(SubscriptionResult.from_push(sub_id, endpoint, result))
    return outcomes


def send_claimed(deliveries: list[Delivery], sender: PushSender | None = None) -> list[DeliveryOutcome]:
    """Send claimed deliveries (synchronously, outside any transaction); nothing is recorded yet."""
    sender = sender or PushSender.from_config(current_app.config)

    async def run() -> list[DeliveryOutcome]:
        async with sender:
            return await send_outcomes(deliveries, sender)

    return asyncio.run(run())


# --- record ---------------------------------------------------------------------------------------

def retry_delay(result: SubscriptionResult, attempts: int) -> timedelta:
    """When to try again: the push service's ``Retry-After`` for 429, else 1, 2, 4 … 60 minutes."""
    if result.kind == "throttled":
        return timedelta(seconds=min(max(_retry_after_seconds(result.retry_after), MIN_RETRY_DELAY),
                                     MAX_RETRY_AFTER))
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), BACKOFF_CAP_MINUTES))


def _retry_after_seconds(value: str | None) -> float:
    """``Retry-After`` as seconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return DEFAULT_RETRY_AFTER
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()


def decide(delivery: Delivery, results: list[SubscriptionResult], now: datetime,
           error: str | None = None) -> tuple[str, dict]:
    """The tick count and the delivery's new fields, from all its subscriptions' answers."""
    if error:
        return "failed", {"status": "failed", "last_status_code": None, "last_error": error[:300]}
    ok = [r for r in results if r.kind == "ok"]
    if ok:
        return "sent", {"status": "sent", "sent_at": now, "last_status_code": ok[0].status,
                        "last_error": None}
    waiting = [r for r in results if r.kind in ("throttled", "retry")]
    if waiting:
        worst = max(waiting, key=lambda r: retry_delay(r, delivery.attempts))
        when = now + retry_delay(worst, delivery.attempts)
        fields = {"last_status_code": worst.status, "last_error": (worst.error or "")[:300]}
        if when >= delivery.expires_at:  # the local day ends first: the prompt still shows in-app
            return "expired", {"status": "expired", **fields}
        return "retrying", {"status": "pending", "next_attempt_at": when, **fields}
    rejected = [r for r in results if r.kind == "rejected"]
    if rejected:
        return "failed", {"status": "failed", "last_status_code": rejected[0].status,
                          "last_error": (rejected[0].error or "")[:300]}
    return "no_device", {"status": "no_device", "last_status_code": None,
                         "last_error": "no working push subscription"}


def record_subscription_results(results: list[SubscriptionResult], now: datetime) -> dict[str, int]:
    """Subscription bookkeeping: mark working ones, delete gone ones, count and prune rejected ones."""
    ok = sorted({r.subscription_id for r in results if r.kind == "ok"})
    gone = {(r.subscription_id, r.endpoint) for r in results if r.kind == "gone"}
    rejected = sorted({r.subscription_id for r in results if r.kind == "rejected"})
    for r in results:
        if r.kind == "rejected":
            log.warning("push rejected: subscription %s on %s: %s", r.subscription_id,
                        urlsplit(r.endpoint).hostname, r.error)
    if ok:
        PushSubscription.update(last_ok_at=now, error_count=0, first_error_at=None).where(
            PushSubscription.id.in_(ok)).execute()
    removed = 0
    if gone:  # matched by id AND endpoint: a re-subscribed device that reused the row id is kept
        match = reduce(operator.or_, ((PushSubscription.id == i) & (PushSubscription.endpoint == e)
                                      for i, e in sorted(gone)))
        removed = PushSubscription.delete().where(match).execute()
    if rejected:
        PushSubscription.update(
            error_count=PushSubscription.error_count + 1,
            first_error_at=fn.COALESCE(PushSubscription.first_error_at, now),
        ).where(PushSubscription.id.in_(rejected)).execute()
        removed += PushSubscription.delete().where(
            PushSubscription.id.in_(rejected)
            & (PushSubscription.error_count >= PRUNE_AFTER_ERRORS)
            & (PushSubscription.first_error_at <= now - timedelta(days=PRUNE_AFTER_DAYS))).execute()
    return {"ok": len(ok), "removed": removed, "rejected": len(rejected)}


def record_outcomes(outcomes: list[DeliveryOutcome], now: datetime) -> Counter:
    """Write every outcome in one transaction; returns counts by tick key (plus ``lost`` leases).

    Deliveries with the same new fields are updated together, each write conditional on the row
    still being ``sending`` under the lease it was claimed with.
    """
    groups: dict[tuple, list[int]] = defaultdict(list)
    for outcome in outcomes:
        key, fields = decide(outcome.delivery, outcome.results, now, outcome.error)
        fields["lease_until"] = None
        groups[(key, outcome.delivery.lease_until, tuple(sorted(fields.items())))].append(
            outcome.delivery.id)
    counts: Counter = Counter()
    with db.atomic():
        record_subscription_results([r for o in outcomes for r in o.results], now)
        for (key, lease_until, fields), ids in groups.items():
            written = Delivery.update(**dict(fields)).where(
                Delivery.id.in_(ids) & (Delivery.status == "sending")
                & (Delivery.lease_until == lease_until)).execute()
            counts[key] += written
            counts["lost"] += len(ids) - written
    if counts["lost"]:
        log.warning("%d deliveries not recorded: their lease ran out or they were deleted", counts["lost"])
    return counts


def record_push_result(delivery: Delivery, results: list[SubscriptionResult],
                       now: datetime | None = None) -> str | None:
    """Record one delivery's answers (DESIGN step 5); returns its tick key, or None if the lease was lost."""
    counts = record_outcomes([DeliveryOutcome(delivery, list(results))], now or utcnow())
    return next((key for key in TICK_KEYS if counts[key]), None)


# --- one tick -------------------------------------------------------------------------------------

@contextmanager
def fewer_gc_passes(threshold: int = 20_000) -> Iterator[None]:
    """Collect cyclic garbage every ``threshold`` allocations instead of 700 during a tick.

    A tick allocates and frees many small objects per push; the default threshold spent ~80 µs of
    ~900 µs per push in the collector (bench/README.md "Fan-out"). Cycles are still collected.
    """
    previous = gc.get_threshold()
    gc.set_threshold(max(threshold, previous[0]), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def default_batch_size(sender: PushSender) -> int:
    """Enough per batch to keep every connection busy, small enough for a short lease."""
    return max(50, min(1000, sender.concurrency * 8))


def run_send_tick(now: datetime | None = None, batch_size: int | None = None,
                  sender: PushSender | None = None) -> dict[str, int]:
    """Claim → send → record until nothing is claimable; returns counts by outcome.

    The next batch is claimed and started while the previous one's last pushes are in flight, so
    the connections never idle between batches. ``now`` (naive UTC) pins the clock for tests.
    """
    sender = sender or PushSender.from_config(current_app.config)
    size = batch_size or default_batch_size(sender)
    lease = lease_seconds_for(size, sender)
    counts: Counter = Counter({key: 0 for key in TICK_KEYS})

    async def run() -> None:
        async with sender:
            previous: asyncio.Task | None = None
            try:
                while True:
                    claimed, expired = claim_with_expired(now or utcnow(), size, lease)
                    counts["expired"] += expired
                    current = asyncio.create_task(send_outcomes(claimed, sender)) if claimed else None
                    done, previous = previous, current
                    if done is not None:
                        counts.update(record_outcomes(await done, now or utcnow()))
                    if previous is None and not expired:
                        return
            finally:
                if previous is not None:  # an error mid-tick: still record what was already pushed
                    counts.update(record_outcomes(await previous, now or utcnow()))

    with fewer_gc_passes():
        asyncio.run(run())
    return {key: counts[key] for key in TICK_KEYS}


def send_test_push(user: User) -> dict:
    """Send a test notification to every device of ``user``; returns per-device results."""
    subscriptions = list(PushSubscription.select().where(PushSubscription.user == user)
                         .order_by(PushSubscription.id))
    allowed = current_app.config["PUSH_ALLOWED_HOSTS"]
    data = encode_payload(build_test_payload())
    sendable = [s for s in subscriptions if host_allowed(s.endpoint, allowed)]
    pushed = PushSender.from_config(current_app.config).send_many(
        [PushMessage(s.endpoint, s.p256dh, s.auth, data, topic="attune-test") for s in sendable])
    answers = dict(zip((s.id for s in sendable), pushed, strict=True))
    results = [SubscriptionResult.from_push(s.id, s.endpoint, answers[s.id]) if s.id in answers
               else SubscriptionResult.host_refused(s.id, s.endpoint) for s in subscriptions]
    with db.atomic():
        bookkeeping = record_subscription_results(results, utcnow())
    return {
        "devices": len(subscriptions),
        "sent": sum(r.kind == "ok" for r in results),
        "failed": sum(r.kind != "ok" for r in results),
        "removed": bookkeeping["removed"],
        "results": [{"subscription_id": r.subscription_id, "host": urlsplit(r.endpoint).netloc,
                     "status": r.status, "outcome": r.kind, "error": r.error} for r in results],
    }
