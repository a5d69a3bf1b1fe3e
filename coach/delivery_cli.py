"""Delivery commands: ``send-due``, ``scheduler``, ``send-test-push``, ``send-test-email``, ``send-test-sms``
(DESIGN "Command line").

The scheduler is its own long-running process (never inside web workers). Its jobs live in memory:
the database is the source of truth, so any number of scheduler processes may run side by side.
"""
from __future__ import annotations

import json
import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .db import db

log = logging.getLogger("coach.scheduler")


def register(app: Flask) -> None:
    """Add the delivery commands to ``flask --app coach``."""
    for command in (send_due_command, scheduler_command, send_test_push_command, send_test_email_command,
                    send_test_sms_command, status_command):
        app.cli.add_command(command)


def parse_now(text: str | None) -> datetime | None:
    """An ISO-8601 time as naive UTC (a time without an offset is taken as UTC)."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO-8601 time, e.g. 2026-11-26T18:30:00Z",
                                 param_hint="--now") from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def plan_tick(now: datetime | None = None) -> int:
    """Plan due deliveries (the planning half of the engine); returns how many were created."""
    from .services.delivery.scheduling import plan_due_deliveries

    return plan_due_deliveries(now)


def care_tick(now: datetime | None = None) -> dict[str, int]:
    """The care loop's share of a tick: escalate overdue support requests, push staff alerts, send
    the email outbox. Escalation runs first so its email leaves in the same tick; a failing step is
    logged and does not stop the others (an email must not wait on a broken push key)."""
    from .services.delivery.alerts import ALERT_KEYS, run_alert_tick
    from .services.delivery.mail import MAIL_KEYS, run_mail_tick
    from .services.families.support import escalate_overdue

    summary = dict.fromkeys(("escalated", *ALERT_KEYS, *MAIL_KEYS), 0)
    steps = (("escalate", lambda: {"escalated": escalate_overdue(now)}),
             ("alerts", lambda: run_alert_tick(now)), ("mail", lambda: run_mail_tick(now)))
    for name, step in steps:
        try:
            summary.update(step())
        except Exception:
            log.exception("care tick: %s failed", name)
    return summary


def text_tick(now: datetime | None = None) -> dict[str, int]:
    """The send tick's text step, after the pushes (so ``push_then_sms`` sees how they went): queue
    and send due text messages (services/delivery/sms.py). A failure is logged, never the push's."""
    from .services.delivery.sms import TEXT_KEYS, send_due_texts

    try:
        return send_due_texts(now)
    except Exception:
        log.exception("send tick: texts failed")
        return dict.fromkeys(TEXT_KEYS, 0)


def send_due(now: datetime | None = None) -> dict[str, int]:
    """One plan + send tick: ``{"planned", "sent", "failed", "no_device", "retrying", "expired"}``
    plus ``texts_*`` and the care loop's ``escalated``, ``alerts_*`` and ``mail_*`` counts."""
    from .services.delivery.sending import run_send_tick

    planned = plan_tick(now)
    return {"planned": planned, **run_send_tick(now), **text_tick(now), **care_tick(now)}


def recorded_send(now: datetime | None = None) -> dict[str, int]:
    """The send job, recorded with the latency of every push it made (``/metrics``)."""
    from .services.delivery.operations import timed_run
    from .services.delivery.push import PushSender
    from .services.delivery.sending import run_send_tick

    senders = []

    def work() -> dict[str, int]:
        senders.append(PushSender.from_config(current_app.config))
        return {**run_send_tick(now, sender=senders[0]), **text_tick(now)}

    return timed_run("send", work, lambda: senders[0].latency.as_dict() if senders else None)


def recorded_jobs(now: datetime | None = None) -> tuple[tuple[str, Callable[[], dict]], ...]:
    """The scheduler's jobs, each recorded in ``SchedulerJob`` as it runs."""
    from .services.delivery.operations import timed_run

    return (("plan", lambda: timed_run("plan", lambda: {"planned": plan_tick(now)})),
            ("send", lambda: recorded_send(now)),
            ("care", lambda: timed_run("care", lambda: care_tick(now))))


@click.command("send-due")
@click.option("--now", "now_text", default=None, metavar="ISO-8601",
              help="Act as if it were this time (UTC unless the time has an offset).")
@with_appcontext
def send_due_command(now_text: str | None) -> None:
    """Plan and send once, then print a one-line JSON summary."""
    now = parse_now(now_text)
    summary: dict[str, int] = {}
    with db.connection_context():
        for _name, job in recorded_jobs(now):  # recorded, so `status` and /healthz see cron's ticks
            summary.update(job())
    click.echo(json.dumps(summary, sort_keys=True))


def _job(app: Flask, name: str, work: Callable[[], dict | int], heartbeat) -> Callable[[], None]:
    """A scheduler job body: its own app context and database connection; a log line only when it
    did something or failed (an idle scheduler is quiet but for the heartbeat)."""
    from .services.delivery.operations import did_something

    def run() -> None:
        with app.app_context(), db.connection_context():
            try:
                result = work()
            except Exception:  # keep the scheduler alive; the next run tries again
                log.exception("%s failed", name)
                result = None
        if did_something(result):
            log.info("%s %s", name, json.dumps(result, sort_keys=True))
        heartbeat.ran(datetime.now(UTC).replace(tzinfo=None))

    return run


def scheduler_jobs(app: Flask, plan_every: int, send_every: int) -> list[tuple[str, int, Callable[[], None]]]:
    """``(name, seconds, run)`` for each of the scheduler's jobs, sharing one heartbeat."""
    from .services.delivery.operations import Heartbeat

    heartbeat = Heartbeat(datetime.now(UTC).replace(tzinfo=None))
    every = {"plan": plan_every, "send": send_every, "care": send_every}
    return [(name, every[name], _job(app, name, work, heartbeat)) for name, work in recorded_jobs()]


@click.command("scheduler")
@click.option("--plan-every", default=60, show_default=True, help="Seconds between planning runs.")
@click.option("--send-every", default=5, show_default=True, help="Seconds between sending runs.")
@with_appcontext
def scheduler_command(plan_every: int, send_every: int) -> None:
    """Run the planner and sender on intervals until SIGTERM or Ctrl-C."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Our own line per job says what happened; APScheduler's "running/executed" pair every 5 s is noise.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    app = current_app._get_current_object()
    scheduler = BlockingScheduler(timezone=UTC)
    started = datetime.now(UTC)
    for name, seconds, run in scheduler_jobs(app, plan_every, send_every):
        scheduler.add_job(run, "interval", seconds=seconds, id=name, name=name,
                          coalesce=True, max_instances=1, misfire_grace_time=seconds,
                          next_run_time=started)

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(0)  # unwinds start(); shutdown then runs outside the signal handler

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler started: plan every %ss, send every %ss; a line per tick that did something, "
             "a heartbeat every 10 minutes", plan_every, send_every)
    try:
        scheduler.start()
    except SystemExit:
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)  # let a running send finish recording its batch
        log.info("scheduler stopped")


def _parent(email: str):
    """The parent account with ``email`` (inside a connection), or a ClickException saying none has it."""
    from .models import User

    user = User.by_email(email)
    if user is None or user.role != "parent":
        raise click.ClickException(f"No parent has the email {email!r}.")
    return user


@click.command("send-test-push")
@click.option("--email", required=True, help="The parent's email.")
@with_appcontext
def send_test_push_command(email: str) -> None:
    """Send a test notification to every device of one parent and print the JSON result."""
    from .models import PushSubscription
    from .services.delivery.sending import send_test_push

    with db.connection_context():
        user = _parent(email)
        if not PushSubscription.select().where(PushSubscription.user == user).exists():
            raise click.ClickException(
                f"{email} has no devices with notifications turned on: they need to open Attune "
                "on their phone and allow notifications first.")
        result = send_test_push(user)
    click.echo(json.dumps(result, sort_keys=True))


@click.command("send-test-email")
@click.option("--to", "to", required=True, help="The address to send the test email to.")
@with_appcontext
def send_test_email_command(to: str) -> None:
    """Send one email at once through COACH_SMTP_URL and print the JSON result."""
    from .services.delivery.mail import MailConfigError, send_test_email

    if "@" not in to or any(ch.isspace() for ch in to.strip()):
        raise click.BadParameter(f"{to!r} is not an email address.", param_hint="--to")
    with db.connection_context():
        try:
            row = send_test_email(to)
        except MailConfigError as error:
            raise click.ClickException(str(error)) from None
    if row.status != "sent":
        raise click.ClickException(f"The test email to {row.to_address} was not sent: {row.last_error}")
    click.echo(json.dumps({"to": row.to_address, "sent": True, "id": row.id}, sort_keys=True))


@click.command("send-test-sms")
@click.option("--email", required=True, help="The parent's email.")
@with_appcontext
def send_test_sms_command(email: str) -> None:
    """Text one parent's phone at once through Twilio and print the JSON result (exit 1 if not sent)."""
    from .services.delivery.sms import SmsConfigError, send_test_sms

    with db.connection_context():
        user = _parent(email)
        try:
            row = send_test_sms(user)
        except SmsConfigError as error:
            raise click.ClickException(str(error)) from None
    result = {"to": row.to, "status": row.status, "sid": row.provider_sid, "status_code": row.last_status_code,
              "error": row.error}
    if row.status != "sent":
        raise click.ClickException(f"The test text to {row.to} was not sent: {json.dumps(result, sort_keys=True)}")
    click.echo(json.dumps(result, sort_keys=True))


@click.command("status")
@with_appcontext
def status_command() -> None:
    """Print the scheduler's last ticks, backlogs and the oldest open support request as JSON;
    exit 1 when the scheduler is stale (no plan or send tick in the last 3 minutes)."""
    from .services.delivery.operations import status_report

    with db.connection_context():
        report = status_report()
    click.echo(json.dumps(report, indent=2, sort_keys=True))
    if not report["scheduler"]["ok"]:
        raise SystemExit(1)
