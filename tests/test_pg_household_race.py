"""Two ``send-due`` processes on one PostgreSQL database, every family a household of two: each
family's one delivery reaches every device of both caregivers exactly once, never doubled.

Skipped unless ``COACH_TEST_POSTGRES_URL`` is set."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from coach.db import db
from coach.models import Caregiver, Delivery, Family, Prompt, PushSubscription, User
from coach.services.families.household import seat_main_contacts
from coach.services.programme.library import seed_library_if_empty
from tests.pg_senders import race_two_senders
from tests.pushservice import PushService
from tests.test_pg_race import NOW, PG_URL, pg_url  # noqa: F401 - pg_url is a fixture

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not PG_URL, reason="needs COACH_TEST_POSTGRES_URL")]

FAMILIES = 300


def fill(ps: PushService) -> int:
    """300 households of two caregivers, each with one device, each family with a due delivery;
    returns the number of devices."""
    seed_library_if_empty()
    prompt = Prompt.select().where(Prompt.status == "published").first()
    with db.atomic():
        User.insert_many([{"email": f"p{i}@household.example", "password_hash": "x", "role": "parent"}
                          for i in range(FAMILIES * 2)]).execute()
        users = [u.id for u in User.select(User.id).order_by(User.id)]
        Family.insert_many([{"user": users[2 * i], "display_name": f"P{i}", "child_birth_month": "2026-03",
                             "timezone": "UTC", "window_start": "08:00", "window_end": "12:01"}
                            for i in range(FAMILIES)]).execute()
        seat_main_contacts()
        families = list(Family.select(Family.id, Family.user).order_by(Family.id))
        Caregiver.insert_many([{"family": f.id, "user": users[2 * i + 1], "share_presence": False}
                               for i, f in enumerate(families)]).execute()
        subs = [ps.subscribe() for _ in users]
        PushSubscription.insert_many([{"user": user_id, "endpoint": s.endpoint, "p256dh": s.p256dh, "auth": s.auth}
                                      for user_id, s in zip(users, subs, strict=True)]).execute()
        Delivery.insert_many([{
            "family": f.id, "local_date": date(2026, 11, 26), "prompt": prompt.id, "prompt_version": 1,
            "theme": prompt.theme, "due_at": NOW - timedelta(minutes=5),
            "next_attempt_at": NOW - timedelta(minutes=5), "expires_at": NOW + timedelta(hours=12),
        } for f in families]).execute()
    return len(subs)


def test_two_processes_push_each_caregivers_device_exactly_once(pg_url, tmp_path):  # noqa: F811
    app, devices, summaries, received = race_two_senders(pg_url, tmp_path, NOW, fill, lambda devices: devices)

    assert sum(summary["sent"] for summary in summaries) == FAMILIES
    assert len(received) == devices == 2 * FAMILIES
    assert max(Counter(r.endpoint for r in received).values()) == 1
    assert set(Counter(r.json()["delivery_id"] for r in received).values()) == {2}  # both caregivers
    with app.app_context(), db.connection_context():
        assert Counter(d.status for d in Delivery.select(Delivery.status)) == {"sent": FAMILIES}
