"""Operations (DESIGN "Operations"): ``status``, the scheduler in ``/healthz`` and on ``/admin/``,
``/metrics`` behind a token, and a scheduler log that is quiet when idle."""
from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from coach.delivery_cli import scheduler_jobs
from coach.models import SchedulerJob, SupportRequest, utcnow
from coach.services.delivery.operations import HEARTBEAT_EVERY, Heartbeat, record_run
from tests import factories
from tests.admin_helpers import sign_in
from tests.delivery_helpers import make_due, subscribe

TOKEN = "s3cret-metrics-token"


def status(app):
    result = app.test_cli_runner().invoke(args=["status"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, json.loads(result.output)


def ran(name: str, ago: timedelta, **result) -> None:
    """Record a run of scheduler job ``name`` that finished ``ago`` before now."""
    record_run(name, utcnow() - ago, 0.01, result=result)


def test_status_says_stale_and_exits_1_when_no_scheduler_ever_ran(app):
    code, report = status(app)
    assert code == 1
    assert report["scheduler"] == {"last_tick_age_s": None, "ok": False, "jobs": {}}
    assert report["text_outbox"] == {
        "present": True, "backlog": 0, "failed": 0, "oldest_age_s": None, "parents": 0,
        "problem": "Text messages are not configured (COACH_TWILIO_ACCOUNT_SID, COACH_TWILIO_AUTH_TOKEN, "
                   "COACH_TWILIO_FROM not set): nothing is texted."}
    assert report["support"] == {"open": 0, "oldest_open": None}


def test_status_after_a_real_tick_reports_it_and_the_backlogs(push_app, ps):
    now = utcnow()
    sent = make_due(now=now)
    subscribe(ps, sent.family.user)
    make_due(now=now)  # no device
    factories.make_family(next_due_at=now + timedelta(days=1))  # not due yet
    old = SupportRequest.create(family=factories.make_family(), created_at=now - timedelta(hours=5), urgent=True)
    SupportRequest.create(family=factories.make_family(), created_at=now - timedelta(hours=1))

    assert push_app.test_cli_runner().invoke(args=["send-due"]).exit_code == 0
    make_due(now=now, due_at=now - timedelta(minutes=7))  # arrived after the tick: waiting
    code, report = status(push_app)

    assert code == 0, report
    assert report["scheduler"]["ok"] is True and report["scheduler"]["last_tick_age_s"] <= 60
    assert set(report["scheduler"]["jobs"]) == {"plan", "send", "care"}
    assert report["scheduler"]["jobs"]["send"]["runs"] == 1
    assert report["due_backlog"]["deliveries"] == 1 and report["due_backlog"]["oldest_due_age_s"] >= 7 * 60
    assert report["due_backlog"]["families_to_plan"] == 0
    if now.date() == (now - timedelta(minutes=8)).date():  # all three due today (UTC)
        assert report["deliveries_today_utc"] | {"pending": 0} == {
            "pending": 0, "sending": 0, "sent": 1, "no_device": 1, "failed": 0, "expired": 0}
    assert report["support"]["open"] == 2
    assert report["support"]["oldest_open"]["id"] == old.id and report["support"]["oldest_open"]["urgent"]
    assert report["support"]["oldest_open"]["age_s"] >= 5 * 3600
    assert report["mail_outbox"]["failed"] == 0


@pytest.mark.parametrize(("ago", "ok"), [(timedelta(minutes=4), False), (timedelta(seconds=20), True)])
def test_status_healthz_and_admin_follow_the_last_tick(app, ago, ok):
    ran("care", timedelta(seconds=1))  # care alone is not a tick: plan or send must have run
    ran("plan", ago)
    ran("send", ago + timedelta(seconds=2))

    code, report = status(app)
    response = app.test_client().get("/healthz")
    page = sign_in(app, factories.make_user("admin")).get("/admin/").get_data(as_text=True)

    assert code == (0 if ok else 1) and report["scheduler"]["ok"] is ok
    assert response.status_code == 200  # the web process is alive either way
    health = response.get_json()
    assert health["status"] == "ok" and health["scheduler"]["ok"] is ok
    assert ago.total_seconds() - 1 <= health["scheduler"]["last_tick_age_s"] <= ago.total_seconds() + 60
    assert ("The scheduler is not running" in page) is not ok


def test_healthz_without_any_tick_is_200_and_not_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "scheduler": {"last_tick_age_s": None, "ok": False}}


def metric(text: str, name: str) -> float:
    (line,) = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.split()[-1])


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_metrics_is_404_without_the_right_token(app, header):
    app.config["METRICS_TOKEN"] = TOKEN
    headers = {"Authorization": header} if header else {}
    assert app.test_client().get("/metrics", headers=headers).status_code == 404


def test_metrics_is_404_when_no_token_is_configured(app):
    assert app.config["METRICS_TOKEN"] == ""
    assert app.test_client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_counters_move_after_a_tick(push_app, ps):
    push_app.config["METRICS_TOKEN"] = TOKEN
    client = push_app.test_client()

    def scrape() -> str:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200 and response.mimetype == "text/plain"
        return response.get_data(as_text=True)

    delivery = make_due(now=utcnow())
    subscribe(ps, delivery.family.user)
    SupportRequest.create(family=factories.make_family())
    before = scrape()
    assert metric(before, 'attune_deliveries_total{outcome="sent"}') == 0
    assert metric(before, "attune_due_deliveries") == 1 and metric(before, "attune_scheduler_ok") == 0
    assert metric(before, "attune_support_requests_open") == 1
    assert "attune_push_latency_seconds_count" not in before

    assert push_app.test_cli_runner().invoke(args=["send-due"]).exit_code == 0
    after = scrape()

    assert metric(after, 'attune_deliveries_total{outcome="sent"}') == 1
    assert metric(after, 'attune_texts_total{outcome="sent"}') == 0  # the send job counts texts too
    assert metric(after, 'attune_scheduler_runs_total{job="send"}') == 1
    assert metric(after, 'attune_scheduler_tick_seconds_count{job="send"}') == 1
    assert metric(after, "attune_push_latency_seconds_count") == 1
    assert metric(after, 'attune_push_latency_seconds_bucket{le="+Inf"}') == 1
    assert metric(after, "attune_due_deliveries") == 0 and metric(after, "attune_scheduler_ok") == 1
    assert metric(after, "attune_text_outbox_backlog") == 0


def test_runs_of_two_schedulers_add_up(app):
    record_run("send", utcnow(), 0.5, result={"sent": 3, "failed": 1}, latency=None)
    record_run("send", utcnow(), 0.25, result={"sent": 2}, error=None)
    record_run("send", utcnow(), 0.1, error="OperationalError: database is locked")
    row = SchedulerJob.get(SchedulerJob.name == "send")
    assert (row.runs, row.failures, row.totals) == (3, 1, {"sent": 5, "failed": 1})
    assert row.seconds_total == pytest.approx(0.85) and row.last_error.startswith("OperationalError")


def test_the_scheduler_log_is_quiet_when_idle_and_says_what_a_busy_tick_did(push_app, ps, caplog):
    caplog.set_level(logging.INFO, logger="coach.scheduler")
    jobs = {name: run for name, _seconds, run in scheduler_jobs(push_app, 60, 5)}

    for _ in range(3):
        for run in jobs.values():
            run()
    assert [r.getMessage() for r in caplog.records] == []  # nine idle runs, not a line
    assert SchedulerJob.get(SchedulerJob.name == "send").runs == 3  # yet each run was recorded

    delivery = make_due(now=utcnow())
    subscribe(ps, delivery.family.user)
    for run in jobs.values():
        run()
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("send ") and json.loads(line[5:])["sent"] == 1


def test_the_heartbeat_speaks_every_ten_minutes_however_idle(caplog):
    caplog.set_level(logging.INFO, logger="coach.scheduler")
    start = utcnow()
    heartbeat = Heartbeat(start)
    for second in range(5, 600, 5):  # ten minutes of idle 5-second ticks
        heartbeat.ran(start + timedelta(seconds=second))
    assert caplog.records == []
    heartbeat.ran(start + HEARTBEAT_EVERY)
    heartbeat.ran(start + HEARTBEAT_EVERY + timedelta(seconds=5))
    (record,) = caplog.records
    assert record.getMessage() == "heartbeat: alive, 120 job runs in the last 10 minutes"


def test_a_run_that_cannot_be_recorded_still_returns_its_result(app, caplog, monkeypatch):
    from peewee import OperationalError

    from coach.services.delivery import operations

    def locked(*_args, **_kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(operations, "record_run", locked)
    caplog.set_level(logging.INFO, logger="coach.scheduler")
    assert operations.timed_run("send", lambda: {"sent": 2}) == {"sent": 2}
    (record,) = caplog.records
    assert record.levelname == "WARNING" and "could not record the run" in record.getMessage()
