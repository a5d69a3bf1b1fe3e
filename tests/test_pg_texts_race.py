"""Two ``send-due`` processes on one PostgreSQL database: every text-message family gets exactly one
prompt text (both queue and claim the same texts at the same time).

Skipped unless ``COACH_TEST_POSTGRES_URL`` is set.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from coach import create_app
from coach.db import db, init_db
from coach.models import Delivery, Family, Prompt, TextMessage, User
from coach.services.families.household import seat_main_contacts
from coach.services.programme.library import seed_library_if_empty
from tests.conftest import PG_URL, postgres_schema
from tests.delivery_helpers import VAPID_PEM
from tests.pg_senders import two_send_due
from tests.twilio_fake import TwilioFake

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not PG_URL, reason="needs COACH_TEST_POSTGRES_URL")]

FAMILIES = 400
NOW = datetime(2026, 11, 26, 12, 0)


def fill() -> None:
    """400 parents on texts (half ``sms``, half ``push_then_sms`` with no device), each with a due delivery."""
    seed_library_if_empty()
    prompt = Prompt.select().where(Prompt.status == "published").first()
    with db.atomic():
        User.insert_many([{"email": f"t{i}@race.example", "password_hash": "x", "role": "parent",
                           "phone": f"+4479112{i:05d}", "channel": "sms" if i % 2 else "push_then_sms",
                           "sms_opt_in_at": NOW - timedelta(days=1)} for i in range(FAMILIES)]).execute()
        users = [u.id for u in User.select(User.id).order_by(User.id)]
        Family.insert_many([{"user": user_id, "display_name": f"T{i}", "child_name": "Sam",
                             "child_birth_month": "2026-03", "timezone": "UTC", "window_start": "08:00",
                             "window_end": "20:00"} for i, user_id in enumerate(users)]).execute()
        seat_main_contacts()  # each parent is their household's caregiver, as enrolment makes them
        Delivery.insert_many([{
            "family": f.id, "local_date": date(2026, 11, 26), "prompt": prompt.id, "prompt_version": 1,
            "theme": prompt.theme, "due_at": NOW - timedelta(minutes=5),
            "next_attempt_at": NOW - timedelta(minutes=5), "expires_at": NOW + timedelta(hours=12),
        } for f in Family.select(Family.id)]).execute()


def test_two_processes_send_each_text_exactly_once(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "vapid_private.pem").write_text(VAPID_PEM)
    with postgres_schema(PG_URL) as url, TwilioFake(delay=0.005) as twilio:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "race", "INSTANCE_PATH": str(instance)})
        init_db()
        with app.app_context(), db.connection_context():
            fill()
        summaries = two_send_due(NOW, twilio.env() | {
            "COACH_DATABASE_URL": url, "COACH_SECRET_KEY": "race", "COACH_INSTANCE_PATH": str(instance),
            "COACH_BASE_URL": "http://localhost", "COACH_TWILIO_CONCURRENCY": "8"})

        assert sum(s["texts_queued"] for s in summaries) == FAMILIES
        assert sum(s["texts_sent"] for s in summaries) == FAMILIES
        per_number = Counter(post.form["To"] for post in twilio.posts)
        assert len(per_number) == FAMILIES and max(per_number.values()) == 1
        with app.app_context(), db.connection_context():
            assert Counter(t.status for t in TextMessage.select(TextMessage.status)) == {"sent": FAMILIES}
            assert TextMessage.select().where(TextMessage.provider_sid.is_null()).count() == 0
        db.close()
