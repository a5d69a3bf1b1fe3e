"""Benchmark: the cost of one planning tick (``plan_due_deliveries``) on SQLite.

Builds databases of 100,000 and 1,000,000 families under /tmp (kept between runs; ``--rebuild``
starts again), gives the families that will be due 60 days of delivery history and a recent
check-in each (the steady state selection has to read), then times ticks with 0, 1,000 and 10,000
families due and prints the median of several repeats. Goals (bench/README.md "## Planning"): an
idle tick under 10 ms at 1,000,000 families; 10,000 due families planned in under 2 s.

    .venv/bin/python bench/planning.py [--sizes 100000 1000000] [--repeats 5] [--rebuild]
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coach import create_app  # noqa: E402
from coach.db import db, init_db  # noqa: E402
from coach.services.delivery.scheduling import plan_due_deliveries  # noqa: E402
from coach.services.programme.library import seed_library_if_empty  # noqa: E402
from coach.services.programme.selection import arc_week  # noqa: E402

BENCH_DIR = Path("/tmp/attune-bench")
NOW = datetime(2026, 11, 23, 10, 0)  # a Monday; 02:00–15:30 local in the zones below
TODAY = NOW.date()
ZONES = ["Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago",
         "America/Los_Angeles", "America/Sao_Paulo", "Africa/Lagos", "Asia/Kolkata"]
WINDOWS = [("18:00", "20:00"), ("19:00", "21:00"), ("17:30", "19:00"), ("20:00", "21:30")]
DUE_SIZES = (0, 1_000, 10_000)
HISTORY_DAYS = 60
ENROLLED = date(2026, 1, 1)
ROWS_PER_TRANSACTION = 100_000


def build(path: Path, families: int, seed: int = 1) -> None:
    """Bulk-insert users and families with raw executemany, 100,000 rows a transaction (the schema
    and library come from init_db and seed_library_if_empty)."""
    rng = random.Random(seed)
    started = time.perf_counter()
    conn = sqlite3.connect(path)
    created = f"{ENROLLED.isoformat()} 00:00:00"
    for start in range(1, families + 1, ROWS_PER_TRANSACTION):
        ids = range(start, min(start + ROWS_PER_TRANSACTION, families + 1))
        with conn:
            conn.executemany(
                "INSERT INTO user (id, email, password_hash, role, name, active, created_at,"
                " session_token, phone, timezone, language) VALUES (?, ?, 'x', 'parent', '', 1, ?, 'x', '', '', 'en')",
                ((i, f"parent{i}@bench.example", created) for i in ids))
            conn.executemany(
                "INSERT INTO family (id, user_id, display_name, child_birth_month, timezone,"
                " window_start, window_end, days_of_week, share_notes_default, next_due_at,"
                " created_at, country, discreet, recent_prompts)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, '', 0, '')",
                (_family_row(i, rng, created) for i in ids))
    conn.close()
    print(f"  built {families:,} families in {time.perf_counter() - started:.1f} s", flush=True)


def _family_row(i: int, rng: random.Random, created: str) -> tuple:
    months = rng.randrange(60)
    year, month = divmod(TODAY.year * 12 + TODAY.month - 1 - months, 12)
    start, end = rng.choice(WINDOWS)
    days = "024" if rng.random() < 0.1 else "0123456"
    # Not due: sometime in the next day (local midnights spread over the zones)
    next_due = NOW + timedelta(minutes=rng.randrange(1, 24 * 60))
    return (i, i, f"Parent {i}", f"{year}-{month + 1:02d}", rng.choice(ZONES), start, end, days,
            next_due.isoformat(" "), created)


def add_history(path: Path, families: int, due_pool: list[int]) -> None:
    """60 past days of sent deliveries for the families that will be due, the same prompts in their
    ``recent_prompts``, and one check-in in the last two days for every family. The history is the
    programme's steady state: each day a prompt of that day's arc week in the child's band that
    fits the evening window (enrolled 2026-01-01; a week's prompts taken in turn)."""
    started = time.perf_counter()
    conn = sqlite3.connect(path)
    prompts = conn.execute("SELECT id, theme, age_min_months, age_max_months, version, week FROM prompt"
                           " WHERE moment IN ('evening', 'bedtime', 'any')").fetchall()
    wanted = ",".join(map(str, due_pool))
    births = dict(conn.execute(f"SELECT id, child_birth_month FROM family WHERE id IN ({wanted})"))
    bands = {(week, age): [p for p in prompts if p[5] == week and p[2] <= age < p[3]] or prompts
             for week in range(1, 7) for age in range(61)}
    rows, recent = [], []
    for family_id in due_pool:
        year, month = (int(x) for x in births[family_id].split("-"))
        age = (TODAY.year - year) * 12 + TODAY.month - month
        for back in range(HISTORY_DAYS, 0, -1):
            day = TODAY - timedelta(days=back)
            band = bands[(arc_week(ENROLLED, day), min(age, 60))]
            prompt = band[(family_id + day.toordinal()) % len(band)]
            moment = datetime.combine(day, datetime.min.time()).isoformat(" ")
            rows.append((family_id, day.isoformat(), prompt[0], prompt[4], prompt[1], moment,
                         moment, "sent", 1, moment, moment))
        # What the planner would have remembered on the family row (selection reads only that):
        # the prompts of the last 59 days, as remember() keeps them for tomorrow's choice.
        recent.append(("".join(f"{date.fromisoformat(row[1]).toordinal()}:{row[2]},"
                               for row in rows[-(HISTORY_DAYS - 1):]), family_id))
    with conn:
        conn.executemany(
            "INSERT INTO delivery (family_id, local_date, prompt_id, prompt_version, theme, due_at,"
            " expires_at, status, attempts, next_attempt_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("UPDATE family SET recent_prompts = ? WHERE id = ?", recent)
    rng = random.Random(3)
    for start in range(1, families + 1, ROWS_PER_TRANSACTION):
        ids = range(start, min(start + ROWS_PER_TRANSACTION, families + 1))
        with conn:
            conn.executemany(
                "INSERT INTO check_in (id, family_id, prompt_id, answer, tried, felt,"
                " shared_with_worker, wants_support, client_created_at, received_at)"
                " VALUES (?, ?, ?, ?, 'yes', ?, 0, 0, ?6, ?6)",
                ((uuid.UUID(int=rng.getrandbits(128)).hex, i, prompts[i % len(prompts)][0],
                  i % 3, i % 5 + 1, (NOW - timedelta(minutes=rng.randrange(2 * 24 * 60))).isoformat(" "))
                 for i in ids))
    conn.execute("ANALYZE")
    conn.close()
    print(f"  history: {len(rows):,} deliveries, {families:,} check-ins in "
          f"{time.perf_counter() - started:.1f} s", flush=True)


def make_due(family_ids: list[int]) -> None:
    """Forget today's deliveries and make exactly ``family_ids`` due (outside the timing)."""
    db.execute_sql("DELETE FROM delivery WHERE local_date = ?", (TODAY.isoformat(),))
    db.execute_sql("UPDATE family SET next_due_at = ? WHERE next_due_at <= ?",
                   ((NOW + timedelta(hours=1)).isoformat(" "), NOW.isoformat(" ")))
    for start in range(0, len(family_ids), 900):
        chunk = family_ids[start:start + 900]
        db.execute_sql(f"UPDATE family SET next_due_at = ? WHERE id IN ({','.join('?' * len(chunk))})",
                       [(NOW - timedelta(hours=3)).isoformat(" "), *chunk])
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # the set-up's writes are not the tick's cost


def measure(size: int, repeats: int, rebuild: bool) -> list[dict]:
    """Time ticks with 0, 1,000 and 10,000 due families on a database of ``size`` families."""
    path = BENCH_DIR / f"families-{size}.db"
    fresh = rebuild or not path.exists()
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "bench",
                      "INSTANCE_PATH": str(BENCH_DIR / "instance")})
    init_db()
    due_pool = random.Random(2).sample(range(1, size + 1), max(DUE_SIZES))
    with app.app_context():
        if fresh:
            with db.connection_context():
                seed_library_if_empty()
            build(path, size)
            add_history(path, size, due_pool)
        results = []
        with db.connection_context():
            for due in DUE_SIZES:
                times, cpu, planned = [], [], 0
                for _ in range(repeats if due else repeats * 10):
                    make_due(due_pool[:due])
                    started, started_cpu = time.perf_counter(), time.process_time()
                    planned = plan_due_deliveries(now=NOW)
                    times.append(time.perf_counter() - started)
                    cpu.append(time.process_time() - started_cpu)
                result = {"families": size, "due": due, "planned": planned, "runs": len(times),
                          "median_ms": statistics.median(times) * 1000, "min_ms": min(times) * 1000,
                          "cpu_ms": statistics.median(cpu) * 1000}
                results.append(result)
                print(f"  {size:>9,} families, {due:>6,} due → planned {planned:>6,}: median "
                      f"{result['median_ms']:8.2f} ms (min {result['min_ms']:.2f}, CPU "
                      f"{result['cpu_ms']:.2f}, {len(times)} runs, load {os.getloadavg()[0]:.1f})",
                      flush=True)
    return results


def machine() -> str:
    """nproc, CPU model and Python version, for the README table."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return (f"{os.cpu_count()} CPU ({model}), Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {date.today().isoformat()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    print(machine())
    for size in args.sizes:
        measure(size, args.repeats, args.rebuild)


if __name__ == "__main__":
    main()
