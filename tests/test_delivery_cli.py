"""``send-due``, ``send-test-push`` and ``scheduler`` through the real command line."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from coach.delivery_cli import parse_now
from coach.models import Delivery, SchedulerJob, utcnow
from coach.services.programme.library import seed_library_if_empty
from tests import factories
from tests.delivery_helpers import NOW, make_due, reload, subscribe

ROOT = Path(__file__).resolve().parent.parent
SUMMARY_KEYS = {"planned", "sent", "failed", "no_device", "retrying", "expired", "escalated",
                "alerts_sent", "alerts_no_device", "alerts_retrying", "alerts_failed",
                "mail_sent", "mail_retrying", "mail_failed", "texts_queued", "texts_sent", "texts_retrying",
                "texts_failed", "texts_expired", "texts_cancelled"}


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_send_due_prints_one_json_line(push_app, ps):
    delivery = make_due()
    subscribe(ps, delivery.family.user)
    make_due()  # a family without devices

    result = invoke(push_app, "send-due", "--now", NOW.isoformat() + "Z")

    assert result.exit_code == 0, result.output
    (line,) = result.output.strip().splitlines()
    summary = json.loads(line)
    assert set(summary) == SUMMARY_KEYS
    assert summary | {"planned": 0} == dict.fromkeys(SUMMARY_KEYS, 0) | {"sent": 1, "no_device": 1}
    assert reload(delivery).status == "sent" and len(ps.wait_for(1)) == 1


def test_send_due_plans_then_sends(push_app, ps):
    seed_library_if_empty()
    family = factories.make_family(next_due_at=NOW - timedelta(hours=20))
    subscribe(ps, family.user)

    window_closing = NOW.replace(hour=19, minute=59, second=30)  # every minute of 18:00–20:00 is due
    summary = json.loads(invoke(push_app, "send-due", "--now", window_closing.isoformat()).output)

    assert summary["planned"] == 1 and summary["sent"] == 1
    (delivery,) = Delivery.select().where(Delivery.family == family)
    assert delivery.status == "sent"
    assert ps.wait_for(1)[0].json()["delivery_id"] == delivery.id
    assert reload(family).next_due_at > NOW


def test_send_due_rejects_a_bad_time(push_app):
    result = invoke(push_app, "send-due", "--now", "yesterday")
    assert result.exit_code == 2 and "ISO-8601" in result.output


def test_parse_now():
    assert parse_now("2026-11-26T19:30:00+01:00") == NOW
    assert parse_now("2026-11-26T18:30:00Z") == NOW
    assert parse_now("2026-11-26T18:30") == NOW
    assert parse_now(None) is None


def test_send_test_push(push_app, ps):
    family = factories.make_family()
    result = invoke(push_app, "send-test-push", "--email", family.user.email)
    assert result.exit_code == 1 and "no devices" in result.output

    subscribe(ps, family.user)
    result = invoke(push_app, "send-test-push", "--email", family.user.email)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["devices"], data["sent"], data["failed"]) == (1, 1, 0)
    assert ps.wait_for(1)[0].json()["title"]

    result = invoke(push_app, "send-test-push", "--email", "nobody@example.org")
    assert result.exit_code == 1 and "No parent" in result.output


def test_scheduler_runs_jobs_and_stops_cleanly_on_sigterm(push_app, ps, tmp_path):
    delivery = make_due(now=utcnow(), expires_at=utcnow() + timedelta(hours=1))
    subscribe(ps, delivery.family.user)
    pem = tmp_path / "instance" / "vapid_private.pem"
    pem.write_text(push_app.config["VAPID_PRIVATE_KEY"])
    env = os.environ | {
        "COACH_DATABASE_URL": push_app.config["DATABASE_URL"],
        "COACH_INSTANCE_PATH": str(tmp_path / "instance"),
        "COACH_SECRET_KEY": "test-secret",
        "COACH_PUSH_ALLOWED_HOSTS": ps.host,
        "COACH_BASE_URL": "http://localhost",
    }
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "coach", "scheduler"], cwd=ROOT,
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        ps.wait_for(1, timeout=20)  # the send job runs at start-up
        deadline = time.monotonic() + 20
        while reload(delivery).status != "sent" and time.monotonic() < deadline:
            time.sleep(0.05)  # the job records its batch after the push is answered
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "scheduler started" in err and "scheduler stopped" in err
    assert '"sent": 1' in err
    # The care loop's job ran beside the sender, and, having nothing to do, said nothing.
    assert SchedulerJob.get(SchedulerJob.name == "care").runs >= 1 and "care {" not in err
    assert reload(delivery).status == "sent"



def test_a_tick_process_builds_only_what_a_tick_needs(tmp_path):
    from coach import cli_command

    assert cli_command(["/venv/bin/flask", "--app", "coach", "send-due", "--now", "2026-11-26T18:30"]) == "send-due"
    assert cli_command(["/lib/flask/__main__.py", "-A", "coach", "--debug", "scheduler"]) == "scheduler"
    assert cli_command(["/venv/bin/flask", "--app", "coach", "run"]) == "run"
    assert cli_command(["/venv/bin/gunicorn", "coach:create_app()"]) is None
    # What `flask --app coach send-due` builds: its commands, none of the web app's pages.
    code = ("import sys; sys.argv = ['/venv/bin/flask', '--app', 'coach', 'send-due']\n"
            "from coach import create_app; app = create_app()\n"
            "print(sorted(app.blueprints), 'coach.views' in sys.modules, sorted(app.cli.commands)[:3])")
    env = {**os.environ, "COACH_INSTANCE_PATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[] False ['create-user', 'init-db', 'invite']"
