"""The check-in wave: after the evening push most parents open it within minutes.

Builds a store of N enrolled families (each with a parent account, ``--days`` of delivery history
with check-ins on most days, and today's delivery sent), signs every parent in (the session cookie
a sign-in sets, made with the app's own Flask-Login and CSRF code, so thousands of password hashes
aren't the thing measured), starts gunicorn on it, then drives the wave: each virtual parent loads
``GET /checkin/<id>`` and posts ``POST /api/checkins`` with a fresh UUID, at rising numbers in
flight (one stage each). Every 50th check-in is sent twice, as a phone's outbox may, and must come
back 200 with nothing added. Afterwards every check-in that got a 201 must be in the database once:
none lost, none doubled.

Reports per stage: sustained check-ins/s (a check-in = GET + POST), p50/p95/p99 of the pair,
errors, and the CPU time gunicorn's workers spent per check-in (from /proc: a cost that other work
on a shared machine leaves alone, where throughput and latency are not). ``--statements`` instead counts the SQL statements and connections of one GET + POST pair
in-process (SQLite: every statement the library runs, PRAGMAs included, through sqlite3's trace
hook; PostgreSQL: every statement peewee sends, plus commits and new connections).

    .venv/bin/python bench/checkin_wave.py [--stores sqlite,postgres] [--families 3000] [--days 30]
        [--levels 8,16,32,64] [--seconds 8] [--shapes 4x4] [--statements]
        [--postgres postgresql://postgres@127.0.0.1:5432] [--pg-socket /var/run/postgresql]

The PostgreSQL store is a database of its own (``attune_wave_<pid>``), dropped at the end. The load
generator is one asyncio/aiohttp process beside gunicorn on the same cores: note ``uptime`` (other
engineers' tests share the machine) with every result.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-checkin-wave-secret"
TZ = "Europe/London"
CLIENT_UA = "attune-checkin-wave"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


# --- the store ------------------------------------------------------------------------------------

def make_store(kind: str, folder: Path, postgres: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'attune.db'}"
    import psycopg2

    name = f"attune_wave_{os.getpid()}"
    conn = psycopg2.connect(postgres.rstrip("/") + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    conn.close()
    return postgres.rstrip("/") + "/" + name


def drop_store(url: str, postgres: str) -> None:
    if not url.startswith("postgresql"):
        return
    import psycopg2

    conn = psycopg2.connect(postgres.rstrip("/") + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {urlparse(url).path.lstrip('/')} WITH (FORCE)")
    conn.close()


def release_store(url: str, postgres: str) -> None:
    """Give back this process's pooled connections, then drop the store (PostgreSQL)."""
    from coach.db import db

    if not db.is_closed():
        db.close()
    if hasattr(db.obj, "close_all"):
        db.obj.close_all()
    drop_store(url, postgres)


@contextmanager
def store(kind: str, postgres: str, socket: str = ""):
    """A fresh store of ``kind`` in a temporary folder: ``(folder, url, app)``, dropped afterwards.
    With ``socket`` (a directory), the app reaches PostgreSQL through its Unix socket there."""
    with tempfile.TemporaryDirectory(prefix="attune-wave-") as tmp:
        folder = Path(tmp)
        url = make_store(kind, folder, postgres)
        served = url
        if socket and kind == "postgres":
            parsed = urlparse(url)
            served = f"postgresql://{parsed.username or 'postgres'}@{parsed.path}?host={socket}"
        try:
            yield folder, served, app_for(served, folder)
        finally:
            release_store(url, postgres)


def app_for(url: str, folder: Path):
    from coach import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "INSTANCE_PATH": str(folder / "instance"),
                       "BASE_URL": "http://127.0.0.1", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})


def seed(app, families: int, days: int, seed_value: int = 14) -> list[tuple[int, str, int]]:
    """``families`` parents, each with history and today's delivery sent; returns
    ``(user_id, session_token, todays_delivery_id)`` per parent."""
    from coach.db import db, init_db
    from coach.models import CheckIn, Delivery, Family, Prompt, User, new_session_token, utcnow
    from coach.services.families.household import seat_main_contacts
    from coach.services.programme.library import seed_library_if_empty

    rng = random.Random(seed_value)
    (Path(app.instance_path)).mkdir(parents=True, exist_ok=True)
    init_db()
    with app.app_context(), db.connection_context():
        seed_library_if_empty()
        prompts = [p.id for p in Prompt.published().select(Prompt.id)]
        now = utcnow()
        zone = ZoneInfo(TZ)
        today = datetime.now(zone).date()

        def insert(model, rows, chunk=500):
            with db.atomic():
                for start in range(0, len(rows), chunk):
                    model.insert_many(rows[start:start + chunk]).execute()

        insert(User, [{"email": f"wave{i}@bench.example", "password_hash": "x", "role": "parent",
                       "name": f"Parent {i}", "session_token": new_session_token()} for i in range(families)])
        users = list(User.select(User.id, User.session_token).where(User.role == "parent").order_by(User.id).tuples())
        insert(Family, [{"user": uid, "display_name": f"Family {n}", "child_name": "Sam",
                         "child_birth_month": f"{today.year - 1}-{(n % 12) + 1:02}", "timezone": TZ,
                         "window_start": "00:00", "window_end": "23:59", "country": "GB",
                         "next_due_at": now + timedelta(days=1)} for n, (uid, _token) in enumerate(users)])
        seat_main_contacts()  # each family's parent is its one caregiver (households, issue 16)
        family_of = dict(Family.select(Family.user, Family.id).tuples())
        user_of = {fid: uid for uid, fid in family_of.items()}
        deliveries, checkins = [], []
        for n, (uid, _token) in enumerate(users):
            fid = family_of[uid]
            for back in range(days, -1, -1):
                day = today - timedelta(days=back)
                due = datetime.combine(day, dtime(18, 0), zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
                due = min(due, now - timedelta(minutes=5)) if back == 0 else due
                deliveries.append({"family": fid, "local_date": day, "prompt": prompts[(n + back) % len(prompts)],
                                   "prompt_version": 1, "theme": "cues", "due_at": due, "expires_at": due + timedelta(hours=6),
                                   "status": "sent", "attempts": 1, "next_attempt_at": due, "sent_at": due})
        insert(Delivery, deliveries)
        rows = Delivery.select(Delivery.id, Delivery.family, Delivery.prompt, Delivery.due_at, Delivery.local_date).tuples()
        todays = {}
        for did, fid, pid, due, day in rows:
            if str(day) == str(today):
                todays[fid] = did
            elif rng.random() < 0.7:
                checkins.append({"id": uuid.uuid4(), "family": fid, "user": user_of[fid], "delivery": did, "prompt": pid,
                                 "tried": "yes", "felt": rng.randint(1, 5), "answer": 0,
                                 "client_created_at": due + timedelta(minutes=20),
                                 "received_at": due + timedelta(minutes=21)})
        insert(CheckIn, checkins)
    if url_kind(app) == "sqlite":
        with app.app_context(), db.connection_context():
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return [(uid, token, todays[family_of[uid]]) for uid, token in users]


def url_kind(app) -> str:
    return "sqlite" if app.config["DATABASE_URL"].startswith("sqlite") else "postgres"


def sign_in(app, parents: list[tuple[int, str, int]]) -> list[tuple[str, str, int]]:
    """Each parent's session cookie and CSRF token, as a sign-in then a page load would set them."""
    from flask import session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf

    from coach.models import User

    signed = []
    serializer = app.session_interface.get_signing_serializer(app)
    for uid, token, delivery_id in parents:
        # As the browser the wave plays: the same address and User-Agent, so Flask-Login's session
        # protection sees the browser that signed in (a stranger's would make every request re-sign
        # and re-send the cookie, which a real browser would have kept after its first answer).
        with app.test_request_context("/", headers={"User-Agent": CLIENT_UA}, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            login_user(User(id=uid, session_token=token, role="parent", active=True))
            csrf = generate_csrf()
            signed.append((serializer.dumps(dict(session)), csrf, delivery_id))
    return signed


# --- the server -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, folder: Path, workers: int, threads: int, tree: Path = ROOT
                   ) -> tuple[subprocess.Popen, str]:
    """gunicorn serving the code in ``tree`` (this checkout, or another release to compare with)."""
    port = free_port()
    env = os.environ | {"COACH_DATABASE_URL": url, "COACH_SECRET_KEY": SECRET, "PYTHONPATH": str(tree),
                        "COACH_INSTANCE_PATH": str(folder / "instance"), "COACH_BASE_URL": "http://127.0.0.1"}
    # Its log goes to a file: a pipe nobody reads fills up, and then every thread that logs waits.
    log = folder / "gunicorn.log"
    with log.open("w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads),
                                 "-b", f"127.0.0.1:{port}", "--log-level", "warning", "coach:create_app()"],
                                cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=sink, text=True)
    base = f"http://127.0.0.1:{port}"
    import urllib.request

    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn ended: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def checkin_body(delivery_id: int) -> dict:
    made = (datetime.now(ZoneInfo("UTC")) - timedelta(seconds=2)).isoformat(timespec="seconds")
    return {"id": str(uuid.uuid4()), "delivery_id": delivery_id, "tried": "yes", "felt": 4, "answer": 0,
            "client_created_at": made}


def server_cpu_seconds(master: int) -> float:
    """CPU seconds used so far by gunicorn's workers (Linux /proc): a cost per check-in that other
    processes on a shared machine do not change, unlike wall-clock throughput."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return float("nan")
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


# --- the wave -------------------------------------------------------------------------------------

class Wave:
    """The virtual parents: each takes the next signed-in parent, loads the page, checks in."""

    def __init__(self, http, base: str, signed: list[tuple[str, str, int]], master: int) -> None:
        self.http, self.base, self.signed, self.master = http, base, signed, master
        self.created: set[str] = set()
        self.replays_ok = 0
        self.next_parent = 0

    async def stage(self, level: int, seconds: float) -> dict:
        latencies: list[float] = []
        errors: dict[str, int] = {}
        stop_at = time.perf_counter() + seconds
        began, cpu = time.perf_counter(), server_cpu_seconds(self.master)
        await asyncio.gather(*(self.parent_loop(stop_at, latencies, errors) for _ in range(level)))
        elapsed, cpu = time.perf_counter() - began, server_cpu_seconds(self.master) - cpu
        latencies.sort()

        def pct(p: float) -> float:
            return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

        return {"in_flight": level, "checkins_per_s": len(latencies) / elapsed, "done": len(latencies),
                "cpu_ms": cpu * 1000 / len(latencies) if latencies else float("nan"),
                "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99), "errors": errors}

    async def parent_loop(self, stop_at: float, latencies: list[float], errors: dict[str, int]) -> None:
        import aiohttp

        def error(key: str) -> None:
            errors[key] = errors.get(key, 0) + 1

        while time.perf_counter() < stop_at:
            cookie, csrf, delivery_id = self.signed[self.next_parent % len(self.signed)]
            self.next_parent += 1
            replay = self.next_parent % 50 == 0  # as a phone's outbox may send it twice
            headers = {"Cookie": f"session={cookie}", "User-Agent": CLIENT_UA}
            started = time.perf_counter()
            try:
                async with self.http.get(f"{self.base}/checkin/{delivery_id}", headers=headers) as response:
                    page = await response.text()
                if response.status != 200:
                    error(f"GET {response.status}")
                    continue
                found = CSRF_META.search(page)
                body = checkin_body(delivery_id)
                post_headers = headers | {"X-CSRFToken": found[1] if found else csrf,
                                          "Content-Type": "application/json"}
                statuses = []
                for _attempt in range(2 if replay else 1):
                    async with self.http.post(f"{self.base}/api/checkins", data=json.dumps(body),
                                              headers=post_headers) as response:
                        await response.read()
                    statuses.append(response.status)
                if statuses[0] != 201:
                    error(f"POST {statuses[0]}")
                    continue
                self.created.add(body["id"])
                if replay and statuses[1] != 200:
                    error(f"replay {statuses[1]}")
                    continue
                self.replays_ok += replay
                latencies.append(time.perf_counter() - started)
            except (TimeoutError, aiohttp.ClientError, OSError) as failure:
                error(type(failure).__name__)


async def wave(base: str, signed: list[tuple[str, str, int]], levels: list[int], seconds: float, master: int
               ) -> tuple[list[dict], set, int]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=max(levels) * 2)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
        runner = Wave(http, base, signed, master)
        await runner.stage(levels[0], 2)  # warm-up, not reported: imports, templates, the pool fills
        results = [await runner.stage(level, seconds) for level in levels]
    return results, runner.created, runner.replays_ok


def verify(app, created: set[str], since: datetime) -> tuple[int, int]:
    """(lost, doubled): check-ins that got a 201 but are not stored; rows stored more than once or
    that nobody was told were stored (every check-in received since ``since`` is the bench's)."""
    from peewee import fn

    from coach.db import db
    from coach.models import CheckIn

    with app.app_context(), db.connection_context():
        stored = [str(i) for (i,) in CheckIn.select(CheckIn.id).where(CheckIn.received_at >= since).tuples()]
        doubled = (CheckIn.select(CheckIn.id, fn.COUNT(CheckIn.id)).group_by(CheckIn.id)
                   .having(fn.COUNT(CheckIn.id) > 1).count())
    stored_set = set(stored)
    return len(created - stored_set), doubled + (len(stored) - len(stored_set)) + len(stored_set - created)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- statements per check-in ----------------------------------------------------------------------

def count_statements(app, signed: list[tuple[str, str, int]], pairs: int = 20) -> dict:
    """SQL statements and new connections for one GET + POST pair, in-process (the Flask test client)."""
    import sqlite3

    import peewee

    from coach.db import db

    counts = {"statements": 0, "connections": 0, "commits": 0}
    sqlite = url_kind(app) == "sqlite"
    real_sqlite_connect, real_execute = sqlite3.connect, peewee.Database.execute_sql

    def traced_connect(*args, **kwargs):
        conn = real_sqlite_connect(*args, **kwargs)
        counts["connections"] += 1
        conn.set_trace_callback(lambda _sql: counts.__setitem__("statements", counts["statements"] + 1))
        return conn

    def counted_execute(self, sql, params=None, *args, **kwargs):
        counts["statements"] += 1
        return real_execute(self, sql, params, *args, **kwargs)

    real_pg_connect = None
    if sqlite:
        peewee.sqlite3.connect = traced_connect
    else:
        import psycopg2

        real_pg_connect = psycopg2.connect

        def pg_connect(*args, **kwargs):
            counts["connections"] += 1
            return real_pg_connect(*args, **kwargs)

        peewee.psycopg2.connect = pg_connect
        peewee.Database.execute_sql = counted_execute
    real_commit = peewee.Database.commit

    def commit(self, *args, **kwargs):
        counts["commits"] += 1
        return real_commit(self, *args, **kwargs)

    peewee.Database.commit = commit
    try:
        client = app.test_client()
        if not db.is_closed():
            db.close()
        if hasattr(db.obj, "close_all"):  # pooled: reopen through the counting hooks
            db.obj.close_all()
        for cookie, _csrf, delivery_id in signed[:2]:  # warm: the pool (if any) opens its connection
            client.set_cookie("session", cookie)
            client.get(f"/checkin/{delivery_id}")
        for key in counts:
            counts[key] = 0
        for cookie, csrf, delivery_id in signed[2:2 + pairs]:
            client.set_cookie("session", cookie)
            assert client.get(f"/checkin/{delivery_id}").status_code == 200
            response = client.post("/api/checkins", json=checkin_body(delivery_id),
                                   headers={"X-CSRFToken": csrf})
            assert response.status_code == 201, response.get_data(as_text=True)
    finally:
        peewee.sqlite3.connect = real_sqlite_connect
        peewee.Database.execute_sql = real_execute
        peewee.Database.commit = real_commit
        if real_pg_connect is not None:
            peewee.psycopg2.connect = real_pg_connect
    return {key: value / pairs for key, value in counts.items()}


# --- main -----------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--families", type=int, default=3000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--levels", default="8,16,32,64")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--shapes", default="4x4", help="gunicorn workers x threads, comma-separated")
    parser.add_argument("--statements", action="store_true", help="count statements per check-in instead")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--pg-socket", default="", help="serve PostgreSQL through the Unix socket in "
                        "this directory (e.g. /var/run/postgresql) instead of TCP")
    parser.add_argument("--trees", default=str(ROOT),
                        help="code trees to serve, comma-separated (e.g. a `git archive` of the release "
                             "before), interleaved on the same store")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds per tree")
    args = parser.parse_args()
    levels = [int(v) for v in args.levels.split(",")]
    print(f"# {datetime.utcnow():%Y-%m-%d %H:%M} UTC · nproc {os.cpu_count()} · load {load_average()} · "
          f"{args.families} families × {args.days} days")
    for kind in args.stores.split(","):
        with store(kind, args.postgres, args.pg_socket) as (folder, url, app):
            started = time.perf_counter()
            parents = seed(app, args.families, args.days)
            signed = sign_in(app, parents)
            print(f"## {kind}: seeded {len(parents)} parents in {time.perf_counter() - started:.1f} s")
            if args.statements:
                print(f"{kind}: per GET + POST pair: {count_statements(app, signed)}")
                continue
            random.Random(1).shuffle(signed)
            since, all_created = datetime.utcnow() - timedelta(seconds=1), set()
            runs = [(shape, Path(tree)) for _round in range(args.rounds) for shape in args.shapes.split(",")
                    for tree in args.trees.split(",")]
            for shape, tree in runs:
                workers, threads = (int(v) for v in shape.lower().split("x"))
                proc, base = start_gunicorn(url, folder, workers, threads, tree)
                try:
                    load_before = load_average()
                    results, created, replays = asyncio.run(wave(base, signed, levels, args.seconds, proc.pid))
                finally:
                    stop(proc)
                all_created |= created
                lost, doubled = verify(app, all_created, since)
                logged = (folder / "gunicorn.log").read_text().splitlines()
                print(f"### {kind} · {tree} · gunicorn -w {workers} --threads {threads} · load before "
                      f"{load_before}, after {load_average()}")
                print("| in flight | check-ins/s | p50 ms | p95 ms | p99 ms | web CPU ms/check-in | errors |")
                print("|---:|---:|---:|---:|---:|---:|---|")
                for r in results:
                    print(f"| {r['in_flight']} | {r['checkins_per_s']:.0f} | {r['p50']:.0f} | {r['p95']:.0f} | "
                          f"{r['p99']:.0f} | {r['cpu_ms']:.1f} | {r['errors'] or 'none'} |")
                print(f"{len(created)} check-ins stored by 201, {replays} replays answered 200; "
                      f"lost {lost}, doubled {doubled}; {len(logged)} log lines"
                      + (f", first: {logged[0][:200]}" if logged else ""))
                sys.stdout.flush()


if __name__ == "__main__":
    main()
