"""The sending half of the delivery engine: claim, send, record (DESIGN delivery steps 3–5).

A tick is one stream: a claimer leases due deliveries in batches (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so N processes share the work; ``BEGIN IMMEDIATE`` on SQLite) with who each goes to
(``devices_by_delivery``, the one place that says so) and queues them; workers each push one delivery
to all of its devices, outside any transaction, with at most ``PUSH_CONCURRENCY`` pushes on the wire
(fewer when the push service pushes back: ``window.py``), and hand the answers to the recorder,
which writes them as they complete (``recording.record_outcomes``, the one place a batch is
written). All database work runs on one thread beside the event loop, so pushing never waits for
SQLite. Leases are short (``COACH_PUSH_LEASE_SECONDS``) and renewed while the sender is
alive: a sender killed mid-tick leaves ``sending`` rows that the next claim returns to ``pending``
once their lease runs out, and only the deliveries pushed but not yet recorded — those in flight
and up to half as many again waiting for their write (``recording_margin``) — can be sent twice.
"""
from __future__ import annotations

import asyncio
import gc
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import current_app
from peewee import JOIN

from ...db import db, is_postgres, write_transaction
from ...models import CheckIn, Delivery, Family, Prompt, PushSubscription, User, utcnow
from ..families.household import caregiver_ids
from ..programme.translations import attach_prompt_texts
from .push import (
    PushMessage,
    PushSender,
    build_payload,
    build_test_payload,
    delivery_tag,
    encode_payload,
    host_allowed,
)
from .recording import (  # noqa: F401 - re-exported: other modules and tests import them from here
    BACKOFF_CAP_MINUTES,
    MAX_RETRY_AFTER,
    MIN_RETRY_DELAY,
    PRUNE_AFTER_DAYS,
    PRUNE_AFTER_ERRORS,
    DatabaseThread,
    DeliveryOutcome,
    Recorder,
    SubscriptionResult,
    decide,
    endpoint_host,
    record_outcomes,
    record_push_result,
    record_subscription_results,
    renew_leases,
    retry_after_seconds,
    retry_delay,
)

log = logging.getLogger(__name__)

TICK_KEYS = ("sent", "failed", "no_device", "retrying", "expired")
DEFAULT_LEASE_SECONDS = 20
Device = tuple[int, str, str, str]  # (subscription id, endpoint, p256dh, auth)
Recipient = tuple[int, str, str, str, str]  # a Device and its caregiver's language


# --- claim ----------------------------------------------------------------------------------------

def _locking(query):
    """``query`` row-locked on PostgreSQL, skipping rows another claimer holds (SQLite: as is)."""
    return query.for_update(of=Delivery, skip_locked=True) if is_postgres() else query


def _for_sending():
    """Deliveries with just what sending and recording read: half the cost of whole rows."""
    return (Delivery.select(Delivery.id, Delivery.family, Delivery.local_date, Delivery.prompt,
                            Delivery.status, Delivery.attempts, Delivery.expires_at, Delivery.lease_until,
                            Delivery.snoozes, Delivery.sent_at, Delivery.kind,
                            Family.id, Family.user, Family.child_name, Family.discreet,
                            User.id, User.language,  # the payload's fixed words are in their language
                            Prompt.id, Prompt.title, Prompt.body)
            .join(Family).join(User).switch(Delivery).join(Prompt, JOIN.LEFT_OUTER))


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
        # A snoozed prompt ("Later") was sent once already: past its day, or answered since the
        # snooze, it goes back to "sent" instead of being pushed again or counted as expired.
        answered = _answered_snoozes([d.id for d in due if d.snoozes and d.expires_at > now])
        done = [d.id for d in due if d.sent_at is not None and (d.expires_at <= now or d.id in answered)]
        late = [d.id for d in due if d.expires_at <= now and d.sent_at is None]
        live = [d for d in due if d.expires_at > now and d.id not in answered]
        if done:
            Delivery.update(status="sent", lease_until=None).where(Delivery.id.in_(done)).execute()
        if late:
            Delivery.update(status="expired", lease_until=None).where(Delivery.id.in_(late)).execute()
        if live:
            Delivery.update(status="sending", lease_until=lease_until, attempts=Delivery.attempts + 1
                            ).where(Delivery.id.in_([d.id for d in live])).execute()
    for delivery in live:  # what the UPDATE wrote, so the lease check at record time matches
        delivery.status, delivery.lease_until, delivery.attempts = "sending", lease_until, delivery.attempts + 1
    return live, len(late)


def _answered_snoozes(ids: list[int]) -> set[int]:
    """Which of these snoozed deliveries have a check-in now (one query; none when none snoozed)."""
    if not ids:
        return set()
    return {row[0] for row in CheckIn.select(CheckIn.delivery).where(CheckIn.delivery.in_(ids)).tuples()}


def claim_batch(now: datetime, size: int, lease_seconds: int) -> list[Delivery]:
    """Claim up to ``size`` due deliveries for this process until ``now + lease_seconds``.

    Expired leases return to ``pending`` first; deliveries past their local day become
    ``expired`` instead of being sent. Claimed rows are ``sending`` with ``attempts`` + 1, and come
    back with the fields sending needs (and their family's and prompt's) loaded.
    """
    return claim_with_expired(now, size, lease_seconds)[0]


# --- send -----------------------------------------------------------------------------------------

def _subscriptions_by_user(user_ids: set[int], *, languages: bool = False) -> dict[int, list[tuple]]:
    """Every device of these parents as ``(id, endpoint, p256dh, auth)`` (with ``languages``, the
    owner's ``User.language`` fifth), in one query.

    A deactivated account, or one whose prompts come by text (``channel`` ``sms`` and agreed; after
    STOP its devices get pushes again), has no devices: its family gets ``no_device``, nothing is pushed.
    """
    found: dict[int, list[tuple]] = defaultdict(list)
    if user_ids:
        columns = [PushSubscription.user, PushSubscription.id, PushSubscription.endpoint,
                   PushSubscription.p256dh, PushSubscription.auth] + ([User.language] if languages else [])
        rows = (PushSubscription.select(*columns)
                # channel "sms" with consent: the day's prompt goes by text instead (delivery/texts.py)
                .join(User).where(PushSubscription.user.in_(list(user_ids)) & User.active
                                  & ~((User.channel == "sms") & User.sms_opt_in_at.is_null(False)))
                .order_by(PushSubscription.id))
        for user_id, *device in rows.tuples():
            found[user_id].append(tuple(device))
    return found


def _subscriptions_by_family(family_ids: set[int]) -> dict[int, list[Recipient]]:
    """Every device of every caregiver in these families (the household: one delivery reaches
    them all, one push per device, each in its caregiver's language), by family id."""
    caregivers = caregiver_ids(family_ids)
    devices = _subscriptions_by_user({user_id for ids in caregivers.values() for user_id in ids},
                                     languages=True)
    return {family_id: [device for user_id in ids for device in devices.get(user_id, [])]
            for family_id, ids in caregivers.items()}


async def push_delivery(delivery: Delivery, devices: list[Recipient], sender: PushSender,
                        allowed: tuple[str, ...]) -> DeliveryOutcome:
    """Push one delivery to each allowed device of its household (inside ``async with sender``),
    each device in its caregiver's language (one payload built per language).

    Never raises: a payload that cannot be built fails this delivery, a refused host or a failed
    push is that device's answer.
    """
    outcome = DeliveryOutcome(delivery)
    if not devices:
        return outcome
    try:
        data = {language: encode_payload(build_payload(delivery, language))
                for language in {device[4] for device in devices}}
    except Exception as error:  # e.g. over 3 KB: fail this delivery, not the whole tick
        log.error("delivery %s: cannot build its push payload: %s", delivery.id, error)
        outcome.error = str(error) or type(error).__name__
        return outcome
    targets = []
    for sub_id, endpoint, p256dh, auth, language in devices:
        if host_allowed(endpoint, allowed):
            targets.append((sub_id, endpoint, PushMessage(endpoint, p256dh, auth, data[language],
                                                          topic=delivery_tag(delivery))))
        else:
            outcome.results.append(SubscriptionResult.host_refused(sub_id, endpoint))
    if len(targets) == 1:  # most parents: no gather needed
        answers = [await sender.send(targets[0][2])]
    else:
        answers = await asyncio.gather(*(sender.send(message) for _id, _endpoint, message in targets))
    for (sub_id, endpoint, _message), answer in zip(targets, answers, strict=True):
        outcome.results.append(SubscriptionResult.from_push(sub_id, endpoint, answer))
    return outcome


def devices_by_delivery(claimed: list[Delivery]) -> dict[int, list[Recipient]]:
    """Where each claimed delivery goes, by delivery id: every device of every caregiver in its
    household (one push per device).

    The one place that decides a delivery's recipients (two queries for the whole batch); a
    delivery with no device is recorded ``no_device``.
    """
    by_family = _subscriptions_by_family({d.family_id for d in claimed})
    return {d.id: by_family.get(d.family_id, []) for d in claimed}


def claim_for_sending(now: datetime, size: int, lease_seconds: int
                      ) -> tuple[list[Delivery], int, dict[int, list[Recipient]]]:
    """``claim_with_expired`` plus the claimed deliveries' devices: one database-thread job."""
    claimed, expired = claim_with_expired(now, size, lease_seconds)
    attach_prompt_texts(claimed)  # each push in its recipient's language, built off this thread
    return claimed, expired, devices_by_delivery(claimed)


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


def recording_margin(concurrency: int) -> int:
    """Workers beyond the pushes in flight, for answered deliveries waiting for their write: half
    as many. With the event loop busy, an answer waits ≈ 40-80 ms for its write (the hand-off to
    the database thread and back takes loop turns, not the ≈ 2 ms write): with a quarter the
    window stood a third empty (bench/README.md "The sender's goals").

    This is also by how much a kill -9 can resend more than what was on the wire: a delivery is
    pushed-but-unrecorded only while a worker holds it (and a resent prompt replaces the first on
    the device: same tag and Topic).
    """
    return max(1, concurrency // 2)


def default_batch_size(sender: PushSender) -> int:
    """Enough per claim to keep every connection busy, few enough to stay cheap to hold."""
    return max(50, min(1000, sender.concurrency * 8))


class SendTick:
    """One tick's stream: claimer → queue → ``concurrency`` workers → recorder (see module doc)."""

    def __init__(self, sender: PushSender, clock: Callable[[], datetime], batch_size: int,
                 lease_seconds: int, allowed: tuple[str, ...]) -> None:
        self.sender, self.clock, self.batch_size = sender, clock, batch_size
        self.lease_seconds, self.allowed = lease_seconds, allowed
        self.claim_error: BaseException | None = None

    async def run(self) -> Counter:
        """Send until nothing is claimable; returns counts by tick key (and ``lost``)."""
        database = DatabaseThread()
        try:
            async with self.sender:
                return await self._stream(database)
        finally:
            database.close()

    async def _stream(self, database: DatabaseThread) -> Counter:
        recorder = Recorder(database, self.clock, self.lease_seconds)
        # Claimed deliveries wait here: at most one claim ahead of the workers, under a renewed lease.
        queue: asyncio.Queue = asyncio.Queue(maxsize=self.batch_size)
        # More workers than pushes in flight, so that the pipe stays full while answered deliveries
        # wait for their write: the window (push.py) still caps what is on the wire.
        count = self.sender.concurrency + recording_margin(self.sender.concurrency)
        workers = [asyncio.create_task(self._work(queue, recorder)) for _ in range(count)]
        claimer = asyncio.create_task(self._claim(queue, database, recorder, len(workers)))
        writer = asyncio.create_task(recorder.run())
        heartbeat = asyncio.create_task(recorder.keep_leases())
        try:
            # Workers end when the claimer runs dry; one fails only if a write failed (the
            # recorder tells every worker), and then the tick stops: leases bring the rest back.
            done, _pending = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
            failed = [t.exception() for t in done if not t.cancelled() and t.exception() is not None]
            if failed:
                raise failed[0]
            await claimer
        finally:
            for task in (*workers, claimer, heartbeat):
                task.cancel()
            recorder.close()
            await asyncio.gather(writer, heartbeat, claimer, *workers, return_exceptions=True)
        if self.claim_error is not None:  # what was already pushed is recorded; now say what broke
            raise self.claim_error
        return recorder.counts

    async def _claim(self, queue: asyncio.Queue, database: DatabaseThread, recorder: Recorder,
                     workers: int) -> None:
        """Claim batches into ``queue`` until none is left, then tell every worker to stop."""
        size = min(self.batch_size, workers)  # a small first claim: the first pushes leave sooner
        try:
            while True:
                claimed, expired, devices = await database.call(
                    claim_for_sending, self.clock(), size, self.lease_seconds)
                size = self.batch_size
                recorder.counts["expired"] += expired
                recorder.hold(claimed)
                for delivery in claimed:
                    await queue.put((delivery, devices[delivery.id]))
                if not claimed and not expired:
                    break
        except Exception as error:  # the workers still finish (and record) what was claimed
            self.claim_error = error
        for _ in range(workers):  # not on cancellation: then the workers are being cancelled too
            await queue.put(None)

    async def _work(self, queue: asyncio.Queue, recorder: Recorder) -> None:
        """Push one delivery at a time and wait for it to be recorded before taking another."""
        while (item := await queue.get()) is not None:
            delivery, devices = item
            if delivery.id in recorder.lost:  # another sender holds it now: leave it to them
                recorder.held.pop(delivery.id, None)
                continue
            await recorder.record(await push_delivery(delivery, devices, self.sender, self.allowed))


def run_send_tick(now: datetime | None = None, batch_size: int | None = None,
                  sender: PushSender | None = None) -> dict[str, int]:
    """Claim → send → record until nothing is claimable; returns counts by outcome.

    ``now`` (naive UTC) pins the clock for tests; otherwise each claim and write reads the time.
    """
    config = current_app.config
    sender = sender or PushSender.from_config(config)
    tick = SendTick(sender, (lambda: now) if now else utcnow, batch_size or default_batch_size(sender),
                    max(3, int(config.get("PUSH_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))),
                    tuple(config["PUSH_ALLOWED_HOSTS"]))
    learnt = current_app.extensions.setdefault("coach.push_window", {})  # this process's last tick
    sender.window_start = learnt.get(sender.concurrency)
    with fewer_gc_passes():
        counts = asyncio.run(tick.run())
    window = sender.window
    if window is not None:
        learnt[sender.concurrency] = window.limit
        if window.shrunk:
            log.info("the push service pushed back %d times: %d in flight now (at most %d)",
                     window.shrunk, window.limit, window.maximum)
    return {key: counts[key] for key in TICK_KEYS}


def send_test_push(user: User) -> dict:
    """Send a test notification to every device of ``user``; returns per-device results."""
    subscriptions = list(PushSubscription.select().where(PushSubscription.user == user)
                         .order_by(PushSubscription.id))
    allowed = current_app.config["PUSH_ALLOWED_HOSTS"]
    data = encode_payload(build_test_payload(user.language))
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
        "results": [{"subscription_id": r.subscription_id, "host": endpoint_host(r.endpoint),
                     "status": r.status, "outcome": r.kind, "error": r.error} for r in results],
    }
