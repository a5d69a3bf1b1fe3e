"""Two ``send-due`` processes on one PostgreSQL database pick up snoozed ("Later") deliveries:
each unanswered one is pushed again exactly once, one answered since the snooze not at all, and
every one ends ``sent``. Skipped unless ``COACH_TEST_POSTGRES_URL`` is set."""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from coach.db import db
from coach.models import CheckIn, Delivery, Family, Prompt, PushSubscription, User
from coach.services.families.household import seat_main_contacts
from coach.services.programme.library import seed_library_if_empty
from tests.conftest import PG_URL, postgres_schema
from tests.pg_senders import race_two_senders
from tests.pushservice import PushService

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not PG_URL, reason="needs COACH_TEST_POSTGRES_URL")]

FAMILIES = 400
ANSWERED = 100  # the first ones were checked in on after their snooze
NOW = datetime(2026, 11, 26, 12, 0)


@pytest.fixture
def pg_url():
    with postgres_schema(PG_URL) as url:
        yield url


def fill(ps: PushService) -> list[int]:
    """Families whose prompt was pushed an hour ago and snoozed: due again now."""
    seed_library_if_empty()
    prompt = Prompt.select().where(Prompt.status == "published").first()
    with db.atomic():
        User.insert_many([{"email": f"s{i}@snooze.example", "password_hash": "x", "role": "parent"}
                          for i in range(FAMILIES)]).execute()
        users = [u.id for u in User.select(User.id).order_by(User.id)]
        Family.insert_many([{"user": user_id, "display_name": f"P{i}", "child_name": "Sam",
                             "child_birth_month": "2026-03", "timezone": "UTC", "window_start": "08:00",
                             "window_end": "12:01", "next_due_at": NOW + timedelta(days=1)}
                            for i, user_id in enumerate(users)]).execute()
        seat_main_contacts()
        families = list(Family.select(Family.id, Family.user).order_by(Family.id))
        subs = [ps.subscribe() for _ in families]
        PushSubscription.insert_many([{"user": f.user_id, "endpoint": s.endpoint, "p256dh": s.p256dh,
                                       "auth": s.auth} for f, s in zip(families, subs, strict=True)]).execute()
        Delivery.insert_many([{
            "family": f.id, "local_date": date(2026, 11, 26), "prompt": prompt.id, "prompt_version": 1,
            "theme": prompt.theme, "due_at": NOW - timedelta(hours=1), "sent_at": NOW - timedelta(hours=1),
            "status": "pending", "snoozes": 1, "next_attempt_at": NOW - timedelta(minutes=1),
            "expires_at": NOW + timedelta(hours=12), "attempts": 1,
        } for f in families]).execute()
        deliveries = list(Delivery.select(Delivery.id, Delivery.family).order_by(Delivery.id))
        CheckIn.insert_many([{"id": uuid.uuid4(), "family": d.family_id, "user": d.family.user_id, "delivery": d.id, "tried": "yes",
                              "client_created_at": NOW - timedelta(minutes=30)}
                             for d in deliveries[:ANSWERED]]).execute()
    return [d.id for d in deliveries[ANSWERED:]]


def test_two_processes_push_each_snoozed_delivery_once(pg_url, tmp_path):
    app, unanswered, summaries, received = race_two_senders(pg_url, tmp_path, NOW, fill, len)

    assert sum(s["sent"] for s in summaries) == len(unanswered)
    per_delivery = Counter(r.json()["delivery_id"] for r in received)
    assert sorted(per_delivery) == sorted(unanswered) and max(per_delivery.values()) == 1
    with app.app_context(), db.connection_context():
        assert Counter(d.status for d in Delivery.select(Delivery.status)) == {"sent": FAMILIES}
