"""Two ``send-due`` processes on one PostgreSQL database: every alert email, escalation and staff
push (alerts and escalation reminders) leaves exactly once.

Skipped unless ``COACH_TEST_POSTGRES_URL`` is set. Half the support requests are past their
response time, so both processes escalate, push and mail from the same outboxes at the same time.
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

import pytest

from coach import create_app
from coach.db import db, init_db
from coach.models import Family, MailMessage, PushSubscription, StaffAlert, User
from coach.services.families.household import seat_main_contacts
from coach.services.families.support import ask_for_support
from tests.conftest import PG_URL, postgres_schema
from tests.delivery_helpers import VAPID_PEM
from tests.mailserver import MailServer
from tests.pg_senders import two_send_due
from tests.pushservice import PushService

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not PG_URL, reason="needs COACH_TEST_POSTGRES_URL")]

WORKERS = 40
FAMILIES = 400
NOW = datetime(2026, 12, 1, 19, 42)  # rows made with now=NOW take it as their created_at too
LINK = re.compile(rb"/worker/families/(\d+)")


@pytest.fixture
def pg_url():
    with postgres_schema(PG_URL) as url:
        yield url


def fill(ps: PushService) -> None:
    """40 workers with one device each, 400 families asking for help; every other one asked 25 h ago."""
    with db.atomic():
        User.insert_many([{"email": f"w{i}@race.example", "password_hash": "x", "role": "worker"}
                          for i in range(WORKERS)]).execute()
        workers = list(User.select().order_by(User.id))
        subs = [ps.subscribe() for _ in workers]
        PushSubscription.insert_many([{"user": w.id, "endpoint": s.endpoint, "p256dh": s.p256dh,
                                       "auth": s.auth} for w, s in zip(workers, subs, strict=True)]).execute()
        User.insert_many([{"email": f"p{i}@race.example", "password_hash": "x", "role": "parent"}
                          for i in range(FAMILIES)]).execute()
        parents = list(User.select().where(User.role == "parent").order_by(User.id))
        Family.insert_many([{
            "user": p.id, "worker": workers[i % WORKERS].id, "display_name": f"P{i}", "child_name": "Sam",
            "child_birth_month": "2026-03", "timezone": "UTC", "window_start": "08:00", "window_end": "09:00",
        } for i, p in enumerate(parents)]).execute()
        seat_main_contacts()
        for i, family in enumerate(Family.select().order_by(Family.id)):
            asked = NOW - timedelta(hours=25) if i % 2 else NOW - timedelta(minutes=1)
            ask_for_support(family, family.user, source="help", now=asked)


def test_two_processes_mail_and_push_each_alert_exactly_once(pg_url, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "vapid_private.pem").write_text(VAPID_PEM)
    with PushService() as ps, MailServer() as smtp:
        app = create_app({"DATABASE_URL": pg_url, "SECRET_KEY": "race", "INSTANCE_PATH": str(instance),
                          "BASE_URL": "http://localhost", "DUTY_EMAIL": "duty@race.example"})
        init_db()
        with app.app_context(), db.connection_context():
            fill(ps)
        summaries = two_send_due(NOW, {
            "COACH_DATABASE_URL": pg_url, "COACH_SECRET_KEY": "race", "COACH_INSTANCE_PATH": str(instance),
            "COACH_PUSH_ALLOWED_HOSTS": ps.host, "COACH_BASE_URL": "http://localhost",
            "COACH_SMTP_URL": smtp.url, "COACH_DUTY_EMAIL": "duty@race.example",
        })
        overdue = FAMILIES // 2
        mails = smtp.wait_for(FAMILIES + overdue, timeout=30)
        pushes = ps.wait_for(FAMILIES + overdue, timeout=30)

    assert sum(s["escalated"] for s in summaries) == overdue
    assert sum(s["mail_sent"] for s in summaries) == FAMILIES + overdue
    assert sum(s["alerts_sent"] for s in summaries) == FAMILIES + overdue  # escalations push too
    assert len(mails) == FAMILIES + overdue and len(pushes) == FAMILIES + overdue
    to_workers = Counter((m.to[0], LINK.search(m.content).group(1)) for m in mails if m.to != ["duty@race.example"])
    to_duty = Counter(LINK.search(m.content).group(1) for m in mails if m.to == ["duty@race.example"])
    assert len(to_workers) == FAMILIES and max(to_workers.values()) == 1
    assert len(to_duty) == overdue and max(to_duty.values()) == 1
    per_alert = Counter((p.json()["tag"], p.json()["title"]) for p in pushes)
    assert len(per_alert) == FAMILIES + overdue and max(per_alert.values()) == 1
    with app.app_context(), db.connection_context():
        assert Counter(m.status for m in MailMessage.select()) == {"sent": FAMILIES + overdue}
        assert Counter(a.status for a in StaffAlert.select()) == {"sent": FAMILIES + overdue}
