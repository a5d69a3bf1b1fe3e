"""Caseload dashboard benchmark: /worker/ render time and SQL query count for a big caseload.

Builds a fresh SQLite database with one worker and 200 families × 365 days of history (a delivery a
day, check-ins on most days for engaged families, devices and support requests), then requests
``/worker/`` through the Flask test client: a few warm-up requests, then the median of the timed ones.
Goal (issue 5): ≤ 150 ms and ≤ 10 queries.

    .venv/bin/python bench/caseload.py [--families 200] [--days 365] [--runs 15]
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
import tempfile
import time
import timeit
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach import create_app  # noqa: E402
from coach.db import db, init_db  # noqa: E402
from coach.models import (  # noqa: E402
    CheckIn,
    Delivery,
    Family,
    PushSubscription,
    SupportRequest,
    User,
    utcnow,
)
from coach.services.people.accounts import create_user  # noqa: E402

PASSWORD = "bench password 123"
TIMEZONES = ("Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata")
#: (share of families, chance of a check-in on a given day)
PROFILES = ((0.4, 0.85), (0.3, 0.6), (0.2, 0.3), (0.1, 0.0))


def _profile(rng: random.Random) -> float:
    pick, total = rng.random(), 0.0
    for share, chance in PROFILES:
        total += share
        if pick < total:
            return chance
    return PROFILES[-1][1]


def seed(worker: User, families: int, days: int, rng: random.Random) -> dict[str, int]:
    """Insert the caseload in bulk; returns row counts."""
    now = utcnow()
    with db.atomic():
        User.insert_many([{"email": f"parent{i}@bench.example", "password_hash": "x", "role": "parent"}
                          for i in range(families)]).execute()
        users = list(User.select(User.id).where(User.role == "parent").order_by(User.id))
        Family.insert_many([{
            "user": user.id, "worker": worker.id, "display_name": f"Family {i:03}",
            "child_birth_month": "2025-01", "timezone": rng.choice(TIMEZONES),
            "window_start": "18:00", "window_end": "20:00",
            "created_at": now - timedelta(days=days + rng.randint(0, 30)),
        } for i, user in enumerate(users)]).execute()
    counts = {"families": families, "deliveries": 0, "checkins": 0}
    for family in Family.select().order_by(Family.id):
        chance = _profile(rng)
        deliveries, checkins = [], []
        for n in range(days):
            day = (now - timedelta(days=n)).date()
            due = datetime.combine(day, datetime.min.time()) + timedelta(hours=18, minutes=rng.randint(0, 119))
            status = "sent" if rng.random() < 0.93 else rng.choice(("failed", "no_device", "expired"))
            checked = rng.random() < chance
            deliveries.append({
                "family": family.id, "local_date": day, "due_at": due, "expires_at": due + timedelta(hours=6),
                "next_attempt_at": due, "status": status, "sent_at": due if status == "sent" else None,
                "opened_at": due + timedelta(minutes=5) if checked or rng.random() < 0.2 else None,
                "last_status_code": 410 if status == "failed" else None})
            if checked:
                made = due + timedelta(minutes=rng.randint(5, 180))
                checkins.append({"day": day, "row": {
                    "id": uuid.uuid4(), "family": family.id, "tried": rng.choice(("yes", "yes", "not_yet")),
                    "felt": rng.randint(1, 5), "client_created_at": made, "received_at": made}})
        with db.atomic():
            Delivery.insert_many(deliveries).execute()
            ids = dict(Delivery.select(Delivery.local_date, Delivery.id)
                       .where(Delivery.family == family.id).tuples())
            rows = [dict(c["row"], delivery=ids.get(c["day"])) for c in checkins]
            for start in range(0, len(rows), 400):
                CheckIn.insert_many(rows[start:start + 400]).execute()
            for _device in range(rng.choice((0, 1, 1, 1, 2))):
                PushSubscription.create(user=family.user_id, endpoint=f"https://fcm.googleapis.com/{uuid.uuid4()}",
                                        p256dh="k", auth="a", last_ok_at=now - timedelta(days=rng.randint(0, 20)),
                                        error_count=rng.choice((0, 0, 0, 2)))
            if rng.random() < 0.05:
                SupportRequest.create(family=family.id, created_at=now - timedelta(days=rng.randint(0, 5)))
        counts["deliveries"] += len(deliveries)
        counts["checkins"] += len(rows)
    return counts


def measure(app, user: User, path: str, runs: int) -> dict[str, float]:
    """Median and spread of ``runs`` timed requests (wall clock, and this process's CPU time, which a
    busy shared machine disturbs less), after the first (cold) request and two more warm-ups, and the query count."""
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = login.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    started = time.perf_counter()
    assert client.get(path).status_code == 200
    first = (time.perf_counter() - started) * 1000  # cold: nothing remembered yet in this process
    for _ in range(2):
        assert client.get(path).status_code == 200
    timings, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200
    statements = []
    real = db.obj.execute_sql
    db.obj.execute_sql = lambda sql, params=None, *a, **k: statements.append(sql) or real(sql, params, *a, **k)
    try:
        body = client.get(path).data
    finally:
        del db.obj.execute_sql
    size, gzipped = len(body), len(gzip.compress(body, 6))
    return {"first_ms": round(first, 1), "median_ms": round(statistics.median(timings), 1), "min_ms": round(min(timings), 1),
            "max_ms": round(max(timings), 1), "cpu_median_ms": round(statistics.median(cpu), 1),
            "queries": len(statements), "kb": round(size / 1024), "gzip_kb": round(gzipped / 1024)}


def run(folder: Path, args: argparse.Namespace) -> dict:
    """Seed a database in ``folder`` and measure the pages."""
    (folder / "instance").mkdir()
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "SECRET_KEY": "bench",
                      "INSTANCE_PATH": str(folder / "instance"), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    init_db()
    with app.app_context():
        db.connect(reuse_if_open=True)
        started = time.perf_counter()
        worker = create_user("worker@bench.example", PASSWORD, "worker", "Bench Worker")
        admin = create_user("admin@bench.example", PASSWORD, "admin", "Bench Admin")
        counts = seed(worker, args.families, args.days, random.Random(5))
        seeded = time.perf_counter() - started
        family_id = Family.select(Family.id).order_by(Family.id).first().id
        db.close()
    # Requests run outside that app context, each in its own (as in production).
    result = {
        "rows": counts, "seed_s": round(seeded, 1),
        # How fast Python runs right now (shared machines vary): best of 5, sum(range(10**6)).
        "python_calibration_ms": round(min(timeit.repeat("sum(range(10**6))", number=1, repeat=5)) * 1000, 1),
        "worker /worker/": measure(app, worker, "/worker/", args.runs),
        "admin /worker/": measure(app, admin, "/worker/", args.runs),
        "worker /worker/export.csv": measure(app, worker, "/worker/export.csv", args.runs),
        "worker family page": measure(app, worker, f"/worker/families/{family_id}", args.runs),
    }
    db.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="attune-bench-") as tmp:
        print(json.dumps(run(Path(tmp), args), indent=2))


if __name__ == "__main__":
    main()
