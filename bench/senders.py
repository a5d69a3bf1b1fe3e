"""Many senders on PostgreSQL: 1, 2 and 4 ``flask --app coach send-due`` processes started together
on one outbox of due deliveries, against one loopback push service in its own process (the one
``bench/fanout.py`` runs: 201 after ``--delay``, one push in 50 fully verified).

For each process count the deliveries are reset to due, the processes start at once, and the bench
reports the wall time from their start until the last one ends (start-up included: that is what a
tick costs), pushes/s, how the work split between the processes, each process's CPU, and that the
service received every delivery exactly once (``FOR UPDATE SKIP LOCKED`` shares the claims).

    .venv/bin/python bench/senders.py [--families 6000] [--processes 1,2,4] [--delay 0.05]
        [--concurrency 128] [--postgres postgresql://postgres@127.0.0.1:5432]

The database is one of its own (``attune_senders_<pid>``), dropped at the end.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from checkin_wave import drop_store, load_average, make_store  # noqa: E402
from fanout import SUBJECT, fill_database, make_subscriptions, serve, server_stats  # noqa: E402


def reset(now: dt.datetime) -> None:
    from coach.models import Delivery

    Delivery.update(status="pending", attempts=0, lease_until=None, sent_at=None, last_status_code=None,
                    next_attempt_at=now - dt.timedelta(minutes=1), due_at=now - dt.timedelta(minutes=1),
                    expires_at=now + dt.timedelta(hours=4), local_date=now.date()).execute()


def run_senders(count: int, env: dict, tree: Path = ROOT, profile: bool = False) -> tuple[float, list[dict], float]:
    """Start ``count`` send-due processes at once; (wall seconds, their summaries, their CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    python = [sys.executable, "-m", "cProfile", "-o", "/tmp/attune-senders.prof"] if profile else [sys.executable]
    procs = [subprocess.Popen([*python, "-m", "flask", "--app", "coach", "send-due"], cwd=tree,
                              env=env | {"PYTHONPATH": str(tree)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(count)]
    outputs = [proc.communicate(timeout=600) for proc in procs]
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summaries = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        if proc.returncode != 0:
            raise RuntimeError(f"send-due failed: {err[-2000:]}")
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, summaries, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=6000)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="print where one process's time goes (cProfile)")
    parser.add_argument("--trees", default=str(ROOT), help="code trees to run, comma-separated, interleaved")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    from py_vapid import Vapid

    from coach import create_app
    from coach.db import db, init_db
    from coach.models import Delivery, utcnow

    subs, samples = make_subscriptions(args.families, 50)
    ctx = multiprocessing.get_context("spawn")
    port_in, port_out = ctx.Pipe(duplex=False)
    server = ctx.Process(target=serve, args=(port_out, args.delay, samples), daemon=True)
    server.start()
    base_url = f"http://127.0.0.1:{port_in.recv()}"
    key = Vapid()
    key.generate_keys()
    pem = key.private_pem().decode()
    print(f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · nproc {os.cpu_count()} · load {load_average()} · "
          f"{args.families} due · {args.delay * 1000:.0f} ms per push · {args.concurrency} in flight per process")
    with tempfile.TemporaryDirectory(prefix="attune-senders-") as tmp:
        url = make_store("postgres", Path(tmp), args.postgres)
        try:
            app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": tmp, "SECRET_KEY": "bench",
                              "BASE_URL": "https://attune.example", "VAPID_PRIVATE_KEY": pem})
            init_db()
            with app.app_context(), db.connection_context():
                fill_database(subs, base_url, utcnow() - dt.timedelta(minutes=1))
            env = os.environ | {"COACH_DATABASE_URL": url, "COACH_INSTANCE_PATH": tmp, "COACH_SECRET_KEY": "bench",
                                "COACH_VAPID_PRIVATE_KEY": pem, "COACH_VAPID_SUBJECT": SUBJECT,
                                "COACH_BASE_URL": "https://attune.example",
                                "COACH_PUSH_ALLOWED_HOSTS": base_url.removeprefix("http://"),
                                "COACH_PUSH_CONCURRENCY": str(args.concurrency)}
            print("| code | processes | wall s | pushes/s | sent per process | sender CPU s | CPU µs/push | "
                  "received once | load |")
            print("|---|---:|---:|---:|---|---:|---:|---|---|")
            for _round in range(args.rounds):
                for count, tree in [(int(n), Path(t)) for n in args.processes.split(",") for t in args.trees.split(",")]:
                    with app.app_context(), db.connection_context():
                        reset(utcnow())
                    received_before = server_stats(base_url)["received"]
                    wall, summaries, cpu = run_senders(count, env, tree, args.profile and count == 1)
                    received = server_stats(base_url)["received"] - received_before
                    with app.app_context(), db.connection_context():
                        sent = Delivery.select().where(Delivery.status == "sent").count()
                    once = received == sent == args.families
                    print(f"| {tree.name} | {count} | {wall:.2f} | {args.families / wall:,.0f} | "
                          f"{' + '.join(str(s['sent']) for s in summaries)} | {cpu:.1f} | "
                          f"{cpu * 1e6 / args.families:,.0f} | {'yes' if once else f'NO: {received} for {sent}'} | "
                          f"{load_average()} |")
                    sys.stdout.flush()
            if args.profile:
                import pstats

                pstats.Stats("/tmp/attune-senders.prof").sort_stats("cumulative").print_stats(25)
            stats = server_stats(base_url)
            print(f"service: {stats['received']} received, {stats['verified']} fully verified, {stats['failed']} failed")
        finally:
            if not db.is_closed():
                db.close()
            if hasattr(db.obj, "close_all"):
                db.obj.close_all()
            drop_store(url, args.postgres)
            server.terminate()


if __name__ == "__main__":
    main()
