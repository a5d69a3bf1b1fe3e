"""kill -9 mid-tick, then restart: every delivery sent, none lost, and only what was in flight twice.

Real processes against the loopback push service (20 ms per push): ``send-due`` starts sending
2,000 due deliveries with 32 pushes in flight and is killed with SIGKILL a quarter of the way in;
then the scheduler runs as it would in production, with the default lease. Runs on SQLite, and on
PostgreSQL when ``COACH_TEST_POSTGRES_URL`` is set. The numbers are printed (``pytest -s``) and
recorded in bench/README.md "Crash recovery".
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from coach import create_app
from coach.db import db, init_db
from coach.models import Delivery, Family, Prompt, PushSubscription, User, utcnow
from coach.services.delivery.sending import recording_margin
from coach.services.families.household import seat_main_contacts
from tests.delivery_helpers import VAPID_PEM
from tests.pushservice import PushService
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DELIVERIES = 2000
CONCURRENCY = 32
DELAY = 0.02  # seconds the push service takes to answer each push
KILL_AFTER = DELIVERIES // 4  # pushes received before the kill
SETTLE_WITHIN = 60  # a hang guard: how long to wait for every delivery to be recorded as sent


def fill(ps: PushService) -> dict[str, int]:
    """Parents with one device each and a delivery due a minute ago; returns endpoint → delivery id."""
    now = utcnow()
    prompt = Prompt.create(theme="cues", skill="pause", title="Notice {child}'s cues",
                           body="When {child} looks away, pause and wait for them to come back.",
                           question="Did you wait?", answers=[{"label": "Yes", "tried": "yes"}],
                           status="published")
    with db.atomic():
        User.insert_many([{"email": f"p{i}@crash.example", "password_hash": "x", "role": "parent"}
                          for i in range(DELIVERIES)]).execute()
        users = [u.id for u in User.select(User.id).order_by(User.id)]
        Family.insert_many([{"user": user_id, "display_name": f"P{i}", "child_name": "Sam",
                             "child_birth_month": "2026-03", "timezone": "UTC", "window_start": "00:00",
                             "window_end": "23:59"} for i, user_id in enumerate(users)]).execute()
        seat_main_contacts()
        families = list(Family.select(Family.id, Family.user).order_by(Family.id))
        subs = [ps.subscribe() for _ in families]
        PushSubscription.insert_many([{"user": f.user_id, "endpoint": s.endpoint, "p256dh": s.p256dh,
                                       "auth": s.auth} for f, s in zip(families, subs, strict=True)]).execute()
        Delivery.insert_many([{
            "family": f.id, "local_date": now.date(), "prompt": prompt.id, "prompt_version": 1,
            "theme": "cues", "due_at": now - timedelta(minutes=1), "next_attempt_at": now - timedelta(minutes=1),
            "expires_at": now + timedelta(hours=6)} for f in families]).execute()
    ids = {d.family_id: d.id for d in Delivery.select(Delivery.id, Delivery.family)}
    return {s.endpoint: ids[f.id] for f, s in zip(families, subs, strict=True)}


def statuses(app) -> Counter:
    with app.app_context(), db.connection_context():
        return Counter(status for (status,) in Delivery.select(Delivery.status).tuples())


def flask(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "coach", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_a_sender_killed_mid_tick_resends_only_what_was_in_flight(database_url, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "vapid_private.pem").write_text(VAPID_PEM)
    with PushService(delay=DELAY) as ps:
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "crash", "INSTANCE_PATH": str(instance)})
        init_db()
        with app.app_context(), db.connection_context():
            delivery_of = fill(ps)
        env = os.environ | {
            "COACH_DATABASE_URL": database_url, "COACH_SECRET_KEY": "crash",
            "COACH_INSTANCE_PATH": str(instance), "COACH_PUSH_ALLOWED_HOSTS": ps.host,
            "COACH_BASE_URL": "http://localhost", "COACH_PUSH_CONCURRENCY": str(CONCURRENCY),
        }

        sender = flask("send-due", env=env)

        def pushing() -> bool:
            assert sender.poll() is None, f"send-due ended before the kill: {sender.stderr.read()[-2000:]}"
            return len(ps.received) >= KILL_AFTER

        wait_until(pushing, timeout=60, interval=0.005, what="send-due to get going")
        sender.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        sender.wait()
        time.sleep(DELAY + 0.5)  # let the service finish answering what was on the wire
        at_kill = statuses(app)
        received_at_kill = list(ps.received)
        with app.app_context(), db.connection_context():
            unrecorded = {d for (d,) in Delivery.select(Delivery.id).where(Delivery.status == "sending").tuples()}
        in_flight = len({delivery_of[r.endpoint] for r in received_at_kill} & unrecorded)

        scheduler = flask("scheduler", "--send-every", "2", env=env)
        try:
            def settled_all() -> bool:
                assert scheduler.poll() is None, scheduler.stderr.read()[-2000:]
                return statuses(app)["sent"] >= DELIVERIES

            wait_until(settled_all, timeout=SETTLE_WITHIN, interval=0.25, what="every delivery to be sent")
            settled = time.monotonic() - killed_at
        finally:
            scheduler.send_signal(signal.SIGTERM)
            scheduler.wait(timeout=30)
        time.sleep(DELAY + 0.2)
        received = list(ps.received)

    per_delivery = Counter(delivery_of[r.endpoint] for r in received)
    duplicates = sum(n - 1 for n in per_delivery.values())
    print(f"\n[{database_url.split(':')[0]}] {DELIVERIES} due, {CONCURRENCY} in flight at most; killed after "
          f"{len(received_at_kill)} pushes: {at_kill['sent']} recorded sent, {at_kill['sending']} claimed and "
          f"unrecorded, of which {in_flight} already pushed (in flight at the kill); after restart "
          f"{len(received)} pushes, {duplicates} sent twice, {DELIVERIES - len(per_delivery)} never sent, "
          f"all settled {settled:.1f} s after the kill")
    assert statuses(app) == {"sent": DELIVERIES}
    assert len(per_delivery) == DELIVERIES and {r.status for r in received} == {201}
    # Exactly the deliveries pushed and not yet recorded, never more than the pushes on the wire
    # plus the workers whose answers were waiting for their write (sending.recording_margin).
    assert duplicates == in_flight <= CONCURRENCY + recording_margin(CONCURRENCY)
    assert max(per_delivery.values()) <= 2
