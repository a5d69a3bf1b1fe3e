"""Two ``send-due`` processes on one PostgreSQL database: every family gets exactly one push.

Skipped unless ``COACH_TEST_POSTGRES_URL`` is set. Half the families already have a pending
delivery; the other half are due for planning, so both processes plan and claim at the same time.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from coach.db import db
from coach.models import Delivery, Family, Prompt, PushSubscription, User
from coach.services.families.household import seat_main_contacts
from coach.services.programme.library import seed_library_if_empty
from tests.conftest import PG_URL, postgres_schema
from tests.pg_senders import race_two_senders
from tests.pushservice import PushService

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not PG_URL, reason="needs COACH_TEST_POSTGRES_URL")]

FAMILIES = 2000
NOW = datetime(2026, 11, 26, 12, 0)  # both processes run with --now: planning is deterministic


@pytest.fixture
def pg_url():
    """A private schema, dropped afterwards (as conftest's ``database_url`` makes them)."""
    with postgres_schema(PG_URL) as url:
        yield url


def fill(ps: PushService) -> None:
    """2,000 parents with one device each; the first half with a due pending delivery."""
    seed_library_if_empty()
    prompt = Prompt.select().where(Prompt.status == "published").first()
    with db.atomic():
        User.insert_many([{"email": f"p{i}@race.example", "password_hash": "x", "role": "parent"}
                          for i in range(FAMILIES)]).execute()
        users = [u.id for u in User.select(User.id).order_by(User.id)]
        Family.insert_many([{
            "user": user_id, "display_name": f"P{i}", "child_name": "Sam", "child_birth_month": "2026-03",
            "timezone": "UTC", "window_start": "08:00", "window_end": "12:01",  # every minute is <= NOW
            "next_due_at": NOW - timedelta(hours=1) if i >= FAMILIES // 2 else None,
        } for i, user_id in enumerate(users)]).execute()
        seat_main_contacts()
        families = list(Family.select(Family.id, Family.user).order_by(Family.id))
        subs = [ps.subscribe() for _ in families]
        PushSubscription.insert_many([{"user": f.user_id, "endpoint": s.endpoint, "p256dh": s.p256dh,
                                       "auth": s.auth} for f, s in zip(families, subs, strict=True)]).execute()
        Delivery.insert_many([{
            "family": f.id, "local_date": date(2026, 11, 26), "prompt": prompt.id, "prompt_version": 1,
            "theme": prompt.theme, "due_at": NOW - timedelta(minutes=5),
            "next_attempt_at": NOW - timedelta(minutes=5), "expires_at": NOW + timedelta(hours=12),
        } for f in families[:FAMILIES // 2]]).execute()


def test_two_processes_send_each_family_exactly_once(pg_url, tmp_path):
    app, _filled, summaries, received = race_two_senders(pg_url, tmp_path, NOW, fill, lambda _: FAMILIES)

    assert sum(s["planned"] for s in summaries) == FAMILIES // 2
    assert sum(s["sent"] for s in summaries) == FAMILIES
    assert len(received) == FAMILIES and {r.status for r in received} == {201}
    per_delivery = Counter(r.json()["delivery_id"] for r in received)
    per_endpoint = Counter(r.endpoint for r in received)
    assert len(per_delivery) == FAMILIES and max(per_delivery.values()) == 1
    assert len(per_endpoint) == FAMILIES and max(per_endpoint.values()) == 1
    with app.app_context(), db.connection_context():
        assert Counter(d.status for d in Delivery.select(Delivery.status)) == {"sent": FAMILIES}
