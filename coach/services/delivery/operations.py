"""What whoever runs Attune watches (DESIGN "Operations"): the scheduler's recorded runs, the
``status`` report, the scheduler part of ``/healthz`` and ``GET /metrics``.

Everything is read from the database at the moment it is asked for, never from counters kept in a
process: web workers and scheduler processes come and go, the database sees them all. Each
scheduler job records its run in one ``SchedulerJob`` row (``record_run``), so counts add up across
scheduler processes and the last run of any of them is the scheduler's last tick.
"""
from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, Response, abort, current_app, request
from peewee import IntegrityError, PeeweeException, fn

from ...db import db, is_postgres, write_transaction
from ...models import DELIVERY_STATUSES, Delivery, Family, MailMessage, SchedulerJob, SupportRequest, utcnow

log = logging.getLogger("coach.scheduler")

#: A scheduler that ran no plan or send job for this long is stale (DESIGN: 3 minutes).
STALE_AFTER = timedelta(minutes=3)
#: Jobs whose runs count as the scheduler's ticks (care runs beside send).
TICK_JOBS = ("plan", "send")
JOBS = ("plan", "send", "care")
HEARTBEAT_EVERY = timedelta(minutes=10)


# --- recording the scheduler's runs ---------------------------------------------------------------

def _add_latency(before: dict | None, new: dict | None) -> dict | None:
    if not new or not new.get("count"):
        return before
    if not before or before.get("le") != new["le"]:
        return dict(new)
    return {"le": new["le"], "counts": [a + b for a, b in zip(before["counts"], new["counts"], strict=True)],
            "sum": before["sum"] + new["sum"], "count": before["count"] + new["count"]}


def record_run(name: str, started_at: datetime, seconds: float, result: dict | None = None,
               error: str | None = None, latency: dict | None = None) -> None:
    """Add one run of job ``name`` to its row: last start and finish, duration, summed counts."""
    with write_transaction():
        query = SchedulerJob.select().where(SchedulerJob.name == name)
        row = (query.for_update() if is_postgres() else query).first()
        if row is None:
            try:
                with db.atomic():  # a savepoint: another scheduler may create the row first
                    row = SchedulerJob.create(name=name)
            except IntegrityError:
                row = (query.for_update() if is_postgres() else query).get()
        totals = dict(row.totals or {})
        for key, value in (result or {}).items():
            if isinstance(value, int) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
        row.started_at, row.finished_at = started_at, started_at + timedelta(seconds=seconds)
        row.seconds, row.runs, row.seconds_total = seconds, row.runs + 1, row.seconds_total + seconds
        row.failures += 1 if error else 0
        row.last_error = error[:300] if error else None
        row.totals, row.latency = totals, _add_latency(row.latency, latency)
        row.save()


def did_something(result: dict | int | None) -> bool:
    """A run worth a log line: it counted something (planned, sent, failed, mailed, …)."""
    if isinstance(result, dict):
        return any(isinstance(v, int) and v for v in result.values())
    return bool(result)


def _record_quietly(name: str, *args, **kwargs) -> None:
    """Record a run; if the database refuses (e.g. SQLite locked by a long import for longer than
    the busy timeout), say so in one line: the job's own work is done and the next run records."""
    try:
        record_run(name, *args, **kwargs)
    except PeeweeException as error:
        log.warning("%s: could not record the run (%s: %s)", name, type(error).__name__, error)


def timed_run(name: str, work: Callable[[], dict], latency: Callable[[], dict | None] = lambda: None) -> dict:
    """Run one job, record it (failed too) and return its result; the error is re-raised."""
    started_at, started = utcnow(), time.perf_counter()
    try:
        result = work()
    except Exception as error:
        _record_quietly(name, started_at, time.perf_counter() - started,
                        error=f"{type(error).__name__}: {error}", latency=latency())
        raise
    _record_quietly(name, started_at, time.perf_counter() - started, result=result, latency=latency())
    return result


class Heartbeat:
    """The scheduler's sign of life in the log: one line every ``HEARTBEAT_EVERY``, however idle."""

    def __init__(self, now: datetime) -> None:
        self.last = now
        self.runs = 0

    def ran(self, now: datetime) -> None:
        self.runs += 1
        if now - self.last >= HEARTBEAT_EVERY:
            minutes = int((now - self.last).total_seconds() // 60)
            log.info("heartbeat: alive, %s job runs in the last %s minutes", self.runs, minutes)
            self.last, self.runs = now, 0


# --- reading it back ------------------------------------------------------------------------------

def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") + "Z" if when else None


def _age(when: datetime | None, now: datetime) -> int | None:
    return max(0, int((now - when).total_seconds())) if when else None


def scheduler_health(now: datetime | None = None) -> dict:
    """``{"last_tick_age_s": n|None, "ok": bool}``: ok when a plan or send run finished lately."""
    now = now or utcnow()
    last = (SchedulerJob.select(fn.MAX(SchedulerJob.finished_at))
            .where(SchedulerJob.name.in_(TICK_JOBS)).scalar())
    if isinstance(last, str):  # SQLite hands back an aggregate's datetime as text
        last = datetime.fromisoformat(last)
    age = _age(last, now)
    return {"last_tick_age_s": age, "ok": age is not None and age <= STALE_AFTER.total_seconds()}


def _text_outbox() -> dict:
    """The text-message outbox (DESIGN "Reach"): what waits, what failed, the oldest waiting, whether
    texts are configured (``problem``: why not) and how many parents chose them."""
    from .sms import text_overview

    return {"present": True, **text_overview()}


def backlogs(now: datetime) -> dict:
    """What waits: due deliveries and families to plan, the mail and text outboxes, open support
    requests. Each an indexed count or seek, so ``/metrics`` can ask on every scrape."""
    due = Delivery.select().where((Delivery.status == "pending") & (Delivery.next_attempt_at <= now))
    oldest_due = due.select(fn.MIN(Delivery.next_attempt_at)).scalar()
    mail = dict(MailMessage.select(MailMessage.status, fn.COUNT(MailMessage.id))
                .where(MailMessage.status.in_(("pending", "sending", "failed")))
                .group_by(MailMessage.status).tuples())
    oldest_mail = (MailMessage.select(fn.MIN(MailMessage.created_at))
                   .where(MailMessage.status.in_(("pending", "sending"))).scalar())
    open_requests = SupportRequest.select().where(SupportRequest.followed_up_at.is_null())
    oldest = open_requests.order_by(SupportRequest.created_at, SupportRequest.id).first()
    return {
        "due_backlog": {
            "deliveries": due.count(), "oldest_due_age_s": _age(_naive(oldest_due), now),
            "families_to_plan": Family.select().where(Family.next_due_at <= now).count()},
        "mail_outbox": {"backlog": mail.get("pending", 0) + mail.get("sending", 0), "failed": mail.get("failed", 0),
                        "oldest_age_s": _age(_naive(oldest_mail), now)},
        "text_outbox": _text_outbox(),
        "support": {"open": open_requests.count(),
                    "oldest_open": None if oldest is None else {
                        "id": oldest.id, "created_at": _iso(oldest.created_at), "age_s": _age(oldest.created_at, now),
                        "urgent": oldest.urgent, "escalated": oldest.escalated_at is not None}},
    }


def status_report(now: datetime | None = None) -> dict:
    """Everything ``flask --app coach status`` prints (see docs/operations.md)."""
    now = now or utcnow()
    jobs = {row.name: {"last_at": _iso(row.finished_at), "age_s": _age(row.finished_at, now),
                       "seconds": round(row.seconds, 3), "runs": row.runs, "failures": row.failures,
                       "last_error": row.last_error}
            for row in SchedulerJob.select().order_by(SchedulerJob.name)}
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = dict(Delivery.select(Delivery.status, fn.COUNT(Delivery.id))
                 .where((Delivery.due_at >= midnight) & (Delivery.due_at < midnight + timedelta(days=1)))
                 .group_by(Delivery.status).tuples())
    return {"now": _iso(now), "scheduler": {**scheduler_health(now), "jobs": jobs},
            "deliveries_today_utc": {status: today.get(status, 0) for status in DELIVERY_STATUSES},
            **backlogs(now)}


def _naive(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=None) if value is not None else None


# --- GET /metrics ---------------------------------------------------------------------------------

class _DatabaseCollector:
    """A Prometheus collector that reads the database at scrape time (one registry per scrape)."""

    def collect(self):
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
            SummaryMetricFamily,
        )

        now = utcnow()
        rows = {row.name: row for row in SchedulerJob.select()}
        health = scheduler_health(now)
        up = GaugeMetricFamily("attune_scheduler_ok", "1 when a plan or send tick ran in the last 3 minutes")
        up.add_metric([], 1 if health["ok"] else 0)
        yield up
        age = GaugeMetricFamily("attune_scheduler_last_run_age_seconds", "Seconds since each job last finished",
                                labels=["job"])
        runs = CounterMetricFamily("attune_scheduler_runs", "Scheduler job runs", labels=["job"])
        failures = CounterMetricFamily("attune_scheduler_failures", "Scheduler job runs that failed", labels=["job"])
        durations = SummaryMetricFamily("attune_scheduler_tick_seconds", "Scheduler job run durations",
                                        labels=["job"])
        for name, row in sorted(rows.items()):
            if row.finished_at:
                age.add_metric([name], (now - row.finished_at).total_seconds())
            runs.add_metric([name], row.runs)
            failures.add_metric([name], row.failures)
            durations.add_metric([name], count_value=row.runs, sum_value=row.seconds_total)
        yield from (age, runs, failures, durations)

        send = rows.get("send")
        totals = send.totals if send else {}
        outcomes = CounterMetricFamily("attune_deliveries", "Deliveries by the outcome of a send attempt",
                                       labels=["outcome"])
        for outcome in ("sent", "failed", "no_device", "retrying", "expired"):
            outcomes.add_metric([outcome], (totals or {}).get(outcome, 0))
        yield outcomes
        texts = CounterMetricFamily("attune_texts", "Text messages by the outcome of a send attempt",
                                    labels=["outcome"])
        for outcome in ("queued", "sent", "retrying", "failed", "expired", "cancelled"):
            texts.add_metric([outcome], (totals or {}).get(f"texts_{outcome}", 0))
        yield texts
        latency = send.latency if send else None
        if latency and latency.get("count"):
            buckets, running = [], 0
            for bound, count in zip([*latency["le"], float("inf")], latency["counts"], strict=True):
                running += count
                buckets.append(("+Inf" if bound == float("inf") else str(bound), running))
            histogram = HistogramMetricFamily("attune_push_latency_seconds", "Push service answer time")
            histogram.add_metric([], buckets, sum_value=latency["sum"])
            yield histogram

        report = backlogs(now)
        gauges = (
            ("attune_due_deliveries", "Deliveries due and not yet sent", report["due_backlog"]["deliveries"]),
            ("attune_families_to_plan", "Families whose next delivery is due to be planned",
             report["due_backlog"]["families_to_plan"]),
            ("attune_mail_outbox_backlog", "Emails waiting to be sent", report["mail_outbox"]["backlog"]),
            ("attune_mail_outbox_failed", "Emails that gave up", report["mail_outbox"]["failed"]),
            ("attune_text_outbox_backlog", "Text messages waiting to be sent", report["text_outbox"]["backlog"]),
            ("attune_support_requests_open", "Support requests nobody has followed up", report["support"]["open"]),
        )
        for name, doc, value in gauges:
            gauge = GaugeMetricFamily(name, doc)
            gauge.add_metric([], value)
            yield gauge
        oldest = report["support"]["oldest_open"]
        gauge = GaugeMetricFamily("attune_support_request_oldest_open_age_seconds",
                                  "Age of the oldest support request nobody has followed up (0: none)")
        gauge.add_metric([], oldest["age_s"] if oldest else 0)
        yield gauge


def metrics_text() -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_DatabaseCollector())
    return generate_latest(registry)


def _token_matches() -> bool:
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def init_app(app: Flask) -> None:
    """``GET /metrics``: Prometheus text with ``Authorization: Bearer $COACH_METRICS_TOKEN``, else 404."""

    @app.get("/metrics")
    def metrics():
        if not _token_matches():
            abort(404)  # unset token or a wrong one: the endpoint does not exist for this caller
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(metrics_text(), headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})
