"""Recording push answers (DESIGN delivery step 5) as they arrive, and keeping leases alive.

A delivery is written as soon as every push it made has been answered, in small groups from one
database thread, so a sender killed mid-tick leaves unrecorded only the deliveries whose pushes
were still in flight: those are all a restart can send twice. While a sender works it renews the
short leases of the deliveries it still holds. Every write — result or renewal — is conditional on
the lease the delivery was claimed (or last renewed) with, so a sender whose lease ran out can
neither record nor renew: the delivery belongs to whoever claimed it next.
"""
from __future__ import annotations

import asyncio
import contextvars
import email.utils
import logging
import operator
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import reduce
from typing import Any
from urllib.parse import urlsplit

from peewee import fn

from ...db import db, write_transaction
from ...models import Delivery, PushSubscription, utcnow
from .push import PushResult

log = logging.getLogger(__name__)

MIN_RETRY_DELAY = 10  # seconds: a "Retry-After: 0" must not spin one tick in a loop
MAX_RETRY_AFTER = 6 * 3600  # a push service asking for more is asked again after this
BACKOFF_CAP_MINUTES = 60
PRUNE_AFTER_ERRORS = 5  # a subscription rejected this often …
PRUNE_AFTER_DAYS = 3  # … over at least this long is deleted
_DELTA_SECONDS = re.compile(r"[0-9]{1,30}")  # ASCII digits only: "²".isdigit() is True


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


def endpoint_host(endpoint: str) -> str:
    """The endpoint's host for logs and reports; never raises (a stored endpoint may be junk)."""
    try:
        return urlsplit(endpoint).netloc.rpartition("@")[2] or "?"
    except ValueError:
        return "?"


# --- deciding -------------------------------------------------------------------------------------

def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds — delta-seconds or an HTTP-date (RFC 9110 §10.2.3) — or None.

    None when it is missing or unreadable (non-ASCII digits, signs, fractions, a malformed date):
    the caller falls back to its own backoff. A date in the past gives a negative number.
    """
    if not value:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        return float(int(text))
    if len(text) > 64:  # an IMF-fixdate is 29 characters
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()


def retry_delay(result: SubscriptionResult, attempts: int) -> timedelta:
    """When to try again: a readable ``Retry-After`` on a 429 (clamped to 10 s … 6 h), else 1, 2,
    4 … 60 minutes by attempt."""
    if result.kind == "throttled":
        seconds = retry_after_seconds(result.retry_after)
        if seconds is not None:
            return timedelta(seconds=min(max(seconds, MIN_RETRY_DELAY), MAX_RETRY_AFTER))
    return timedelta(minutes=min(2 ** min(max(attempts - 1, 0), 16), BACKOFF_CAP_MINUTES))


def decide(delivery: Delivery, results: list[SubscriptionResult], now: datetime,
           error: str | None = None) -> tuple[str, dict]:
    """The tick count and the delivery's new fields, from all its subscriptions' answers.

    A snoozed delivery's second push that goes nowhere leaves it ``sent``: its first push arrived.
    """
    key, fields = _decide(delivery, results, now, error)
    if fields["status"] in ("failed", "no_device", "expired") and getattr(delivery, "sent_at", None):
        fields["status"] = "sent"
    return key, fields


def _decide(delivery: Delivery, results: list[SubscriptionResult], now: datetime,
            error: str | None = None) -> tuple[str, dict]:
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


def _decide_alone(outcome: DeliveryOutcome, now: datetime) -> tuple[str, dict]:
    """``decide``, with a failure to decide recorded against this delivery only."""
    try:
        return decide(outcome.delivery, outcome.results, now, outcome.error)
    except Exception as error:  # a bug or an odd answer: the rest of the group is still recorded
        log.exception("delivery %s: could not record its answers", outcome.delivery.id)
        return "failed", {"status": "failed", "last_status_code": None,
                          "last_error": f"could not record the answer: {type(error).__name__}: {error}"[:300]}


# --- writing --------------------------------------------------------------------------------------

def record_subscription_results(results: list[SubscriptionResult], now: datetime) -> dict[str, int]:
    """Subscription bookkeeping: mark working ones, delete gone ones, count and prune rejected ones."""
    ok = sorted({r.subscription_id for r in results if r.kind == "ok"})
    gone = {(r.subscription_id, r.endpoint) for r in results if r.kind == "gone"}
    rejected = sorted({r.subscription_id for r in results if r.kind == "rejected"})
    for r in results:
        if r.kind == "rejected":
            log.warning("push rejected: subscription %s on %s: %s", r.subscription_id,
                        endpoint_host(r.endpoint), r.error)
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
    still being ``sending`` under the lease it holds. One outcome that cannot be decided is
    recorded as ``failed`` on its own; the others are written as usual.
    """
    groups: dict[tuple, list[int]] = defaultdict(list)
    for outcome in outcomes:
        key, fields = _decide_alone(outcome, now)
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
    return next((key for key in counts if key != "lost" and counts[key]), None)


def renew_leases(deliveries: list[Delivery], now: datetime, lease_seconds: int) -> set[int]:
    """Extend the leases of deliveries this sender holds to ``now + lease_seconds``.

    Each row is renewed only while it is still ``sending`` under the lease this sender knows, and
    the new lease is written back onto the objects. Returns the ids this sender no longer holds
    (re-claimed, returned to pending or deleted); ones already recorded are not counted.
    """
    if not deliveries:
        return set()
    until = now + timedelta(seconds=lease_seconds)
    by_lease: dict[datetime | None, list[int]] = defaultdict(list)
    for delivery in deliveries:
        by_lease[delivery.lease_until].append(delivery.id)
    ids = [d.id for d in deliveries]
    with write_transaction():
        for lease_until, group in by_lease.items():
            Delivery.update(lease_until=until).where(
                Delivery.id.in_(group) & (Delivery.status == "sending")
                & (Delivery.lease_until == lease_until)).execute()
        rows = {row_id: (status, lease) for row_id, status, lease in Delivery.select(
            Delivery.id, Delivery.status, Delivery.lease_until).where(Delivery.id.in_(ids)).tuples()}
    renewed = {row_id for row_id, (status, lease) in rows.items() if status == "sending" and lease == until}
    for delivery in deliveries:
        if delivery.id in renewed:
            delivery.lease_until = until
    return {i for i in ids if i not in renewed and rows.get(i, ("pending",))[0] in ("sending", "pending")}


# --- the recorder ---------------------------------------------------------------------------------

class DatabaseThread:
    """One thread, with its own connection, for all of a tick's database work.

    The event loop keeps pushing while a claim, a write or a renewal runs: SQLite and the driver
    release the GIL while they work. One thread means the tick's writes never wait on each other.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coach-send-db")

    async def call(self, work: Callable[..., Any], *args: Any) -> Any:
        """Run ``work(*args)`` on the database thread, with this task's context (the Flask app)."""
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._pool, context.run, work, *args)

    def close(self) -> None:
        """Close the thread's connection and stop the thread."""
        self._pool.submit(_close_connection).result()
        self._pool.shutdown()


def _close_connection() -> None:
    if not db.is_closed():
        db.close()


class Recorder:
    """Records deliveries as their pushes complete and renews the leases of those still held.

    ``record`` queues an outcome and returns once it is written. Outcomes that arrive while a write
    is running go together in the next one, so writes stay small and continuous, whatever the
    rate. A delivery's worker waits for its write before it takes another delivery, which bounds
    the deliveries pushed but not yet recorded by the number of workers.
    """

    def __init__(self, database: DatabaseThread, clock: Callable[[], datetime], lease_seconds: int) -> None:
        self.database = database
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.counts: Counter = Counter()
        self.held: dict[int, Delivery] = {}  # claimed by this sender and not yet recorded
        self.lost: set[int] = set()  # leases this sender no longer holds: not to be pushed
        self._queued: list[tuple[DeliveryOutcome, asyncio.Future]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._failed: BaseException | None = None

    def hold(self, deliveries: list[Delivery]) -> None:
        """Deliveries just claimed: their leases are renewed until they are recorded."""
        self.held.update((d.id, d) for d in deliveries)

    async def record(self, outcome: DeliveryOutcome) -> None:
        """Queue ``outcome`` for the next write and wait until it is written."""
        if isinstance(self._failed, Exception):  # the write that failed is the tick's error
            raise self._failed
        if self._failed is not None:
            raise RuntimeError("recording stopped") from self._failed
        done = asyncio.get_running_loop().create_future()
        self._queued.append((outcome, done))
        self._wake.set()
        await done

    async def run(self) -> None:
        """Write queued outcomes until ``close`` and the queue is empty."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            queued, self._queued = self._queued, []
            if not queued:
                if self._closing:
                    return
                continue
            try:
                counts = await self.database.call(record_outcomes, [o for o, _ in queued], self.clock())
            except BaseException as error:  # the database failed: every waiting worker hears of it
                self._failed = error
                for _outcome, done in queued:
                    if not done.done():
                        done.set_exception(error if isinstance(error, Exception) else RuntimeError("stopped"))
                raise
            self.counts.update(counts)
            for outcome, done in queued:
                self.held.pop(outcome.delivery.id, None)
                done.set_result(None)
            self._wake.set()  # look again: more may have queued during the write

    def close(self) -> None:
        """Stop ``run`` once everything queued so far is written."""
        self._closing = True
        self._wake.set()

    async def keep_leases(self) -> None:
        """Renew held leases every third of the lease, until cancelled."""
        every = max(self.lease_seconds / 3, 0.5)
        while True:
            await asyncio.sleep(every)
            held = list(self.held.values())
            if not held:
                continue
            try:
                lost = await self.database.call(renew_leases, held, self.clock(), self.lease_seconds)
            except Exception:  # e.g. SQLite busy past its timeout: two more tries before the lease ends
                log.warning("could not renew %d leases; trying again in %.0f s", len(held), every, exc_info=True)
                continue
            lost &= self.held.keys()
            if lost:
                self.lost |= lost
                log.warning("%d deliveries lost their lease (another sender has them now)", len(lost))
