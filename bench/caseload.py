"""Caseload dashboard benchmark: /worker/ render time, SQL query count and page size.

Two databases, each fresh SQLite:

- one worker with 200 families × 365 days of history (a delivery a day, check-ins on most days for
  engaged families, devices and support requests): the worker's pages. Goal (issue 5): ≤ 150 ms, ≤ 10
  queries.
- an admin over 10,000 families (spread over 100 workers) × 60 days, with phone numbers and logged
  contacts: ``/worker/`` page 1 and a search. Goal (issue 12): ≤ 150 ms, ≤ 12 queries, HTML ≤ 200 KB.

Each page goes through the Flask test client: a cold request, two warm-ups, then the median of the
timed ones.

    .venv/bin/python bench/caseload.py [--families 200] [--days 365] [--runs 15]
                                       [--admin-families 10000] [--admin-days 60] [--only worker|admin]
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
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach import create_app  # noqa: E402
from coach.db import db, init_db  # noqa: E402
from coach.models import (  # noqa: E402
    CheckIn,
    ContactLog,
    Delivery,
    Family,
    PushSubscription,
    SupportRequest,
    User,
    utcnow,
)
from coach.services.families.household import seat_main_contacts  # noqa: E402
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
        seat_main_contacts()
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
                    "id": uuid.uuid4(), "family": family.id, "user": family.user_id, "tried": rng.choice(("yes", "yes", "not_yet")),
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


def bench_app(folder: Path):
    """The app over a fresh SQLite database in ``folder`` (fast password hashing: sign-ins aren't measured)."""
    (folder / "instance").mkdir()
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "SECRET_KEY": "bench",
                      "INSTANCE_PATH": str(folder / "instance"), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    init_db()
    return app


def calibration_ms() -> float:
    """How fast Python runs right now (shared machines vary): best of 5, sum(range(10**6))."""
    return round(min(timeit.repeat("sum(range(10**6))", number=1, repeat=5)) * 1000, 1)


def run(folder: Path, args: argparse.Namespace) -> dict:
    """Seed a database in ``folder`` and measure the pages."""
    app = bench_app(folder)
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
        "rows": counts, "seed_s": round(seeded, 1), "python_calibration_ms": calibration_ms(),
        "worker /worker/": measure(app, worker, "/worker/", args.runs),
        "admin /worker/": measure(app, admin, "/worker/", args.runs),
        "worker /worker/export.csv": measure(app, worker, "/worker/export.csv", args.runs),
        "worker family page": measure(app, worker, f"/worker/families/{family_id}", args.runs),
    }
    db.close()
    return result


def seed_many(workers: list[User], families: int, days: int, rng: random.Random) -> dict[str, int]:
    """A big caseload in bulk (one transaction, inserts of 1,000 rows, in time order as a real
    database fills): the same profiles as seed(), with phone numbers, and every fifth family with a
    logged contact (some with a next step)."""
    now = utcnow()
    chunk = 1000

    def insert(model, rows: list[dict]) -> None:
        for start in range(0, len(rows), chunk):
            model.insert_many(rows[start:start + chunk]).execute()

    with db.atomic():
        insert(User, [{"email": f"parent{i}@bench.example", "password_hash": "x", "role": "parent",
                       "phone": f"+1201555{i:04}"} for i in range(families)])
        users = [u.id for u in User.select(User.id).where(User.role == "parent").order_by(User.id)]
        insert(Family, [{"user": user, "worker": workers[i % len(workers)].id, "display_name": f"Family {i:05}",
                         "child_name": rng.choice(("Leo", "Ivy", "Ada", "Theo", "Rosie", "Kofi")),
                         "child_birth_month": "2025-01", "timezone": rng.choice(TIMEZONES),
                         "window_start": "18:00", "window_end": "20:00",
                         "created_at": now - timedelta(days=days + rng.randint(0, 30))}
                        for i, user in enumerate(users)])
        family_rows = list(Family.select(Family.id, Family.user).order_by(Family.id).tuples())
        deliveries, planned = [], []
        for family_id, _user in family_rows:
            chance = _profile(rng)
            for n in range(days):
                day = (now - timedelta(days=n)).date()
                due = datetime.combine(day, datetime.min.time()) + timedelta(hours=18, minutes=rng.randint(0, 119))
                status = "sent" if rng.random() < 0.93 else rng.choice(("failed", "no_device", "expired"))
                checked = rng.random() < chance
                deliveries.append({"family": family_id, "local_date": day, "due_at": due, "expires_at": due,
                                   "next_attempt_at": due, "status": status,
                                   "sent_at": due if status == "sent" else None,
                                   "opened_at": due if checked else None})
                if checked:
                    planned.append((family_id, day, due + timedelta(minutes=rng.randint(5, 180))))
        # In the order a real database receives them: day by day, so a day's rows sit together.
        deliveries.sort(key=lambda row: row["local_date"])
        planned.sort(key=lambda item: item[2])
        insert(Delivery, deliveries)
        ids = {(f, d if isinstance(d, date) else date.fromisoformat(str(d))): i for f, d, i in
               Delivery.select(Delivery.family, Delivery.local_date, Delivery.id).tuples()}
        insert(CheckIn, [{"id": uuid.uuid4(), "family": f, "delivery": ids.get((f, day)), "tried": "yes",
                          "felt": rng.randint(1, 5), "client_created_at": made, "received_at": made}
                         for f, day, made in planned])
        insert(PushSubscription, [{"user": user, "endpoint": f"https://fcm.googleapis.com/{uuid.uuid4()}",
                                   "p256dh": "k", "auth": "a", "last_ok_at": now - timedelta(days=rng.randint(0, 20)),
                                   "error_count": rng.choice((0, 0, 0, 2))}
                                  for _family, user in family_rows if rng.random() < 0.8])
        insert(SupportRequest, [{"family": f, "created_at": now - timedelta(days=rng.randint(0, 5))}
                                for f, _user in family_rows if rng.random() < 0.02])
        insert(ContactLog, [{"family": f, "worker": workers[f % len(workers)].id, "kind": "call",
                             "outcome": rng.choice(("reached", "no_answer")),
                             "next_step_on": (now + timedelta(days=rng.randint(-3, 10))).date()
                             if rng.random() < 0.5 else None,
                             "created_at": now - timedelta(days=rng.randint(0, 20))}
                            for f, _user in family_rows if f % 5 == 0])
    return {"families": families, "deliveries": len(deliveries), "checkins": len(planned)}


def run_admin(folder: Path, args: argparse.Namespace) -> dict:
    """An admin over ``--admin-families`` families: /worker/ page 1, a later page and a search."""
    app = bench_app(folder)
    with app.app_context():
        db.connect(reuse_if_open=True)
        started = time.perf_counter()
        admin = create_user("admin@bench.example", PASSWORD, "admin", "Bench Admin")
        workers = [User.create(email=f"worker{i}@bench.example", password_hash="x", role="worker",
                               name=f"Worker {i:03}") for i in range(100)]
        counts = seed_many(workers, args.admin_families, args.admin_days, random.Random(12))
        seeded = time.perf_counter() - started
        db.close()
    result = {
        "rows": counts, "seed_s": round(seeded, 1), "python_calibration_ms": calibration_ms(),
        "admin /worker/ page 1": measure(app, admin, "/worker/", args.runs),
        "admin /worker/?page=120": measure(app, admin, "/worker/?page=120", args.runs),
        "admin /worker/?q=Family 04": measure(app, admin, "/worker/?q=Family+04", args.runs),
        "admin /worker/?status=slipping": measure(app, admin, "/worker/?status=slipping", args.runs),
    }
    db.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--admin-families", type=int, default=10_000)
    parser.add_argument("--admin-days", type=int, default=60)
    parser.add_argument("--only", choices=("worker", "admin"))
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="attune-bench-") as tmp:
        if args.only != "admin":
            (Path(tmp) / "worker").mkdir()
            results["worker, 200 families"] = run(Path(tmp) / "worker", args)
        if args.only != "worker":
            (Path(tmp) / "admin").mkdir()
            results[f"admin, {args.admin_families} families"] = run_admin(Path(tmp) / "admin", args)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
