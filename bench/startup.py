"""Start-up of a cron ``send-due``: from starting the process to its first push (bench/README.md
"Start-up").

    .venv/bin/python bench/startup.py [--runs 7] [--trees /path/to/other/checkout,.]

One SQLite database with one due delivery and one device on a loopback push service (no delay);
each run resets the delivery to due and starts ``flask --app coach send-due`` with the tree's code,
timing until the service receives the push and until the process ends. Trees are interleaved run by
run; medians are printed. ``--importtime`` also prints the slowest imports of one run per tree.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prepare(tmp: str, ps) -> dict[str, str]:
    from coach import create_app
    from coach.db import db, init_db
    from tests.delivery_helpers import VAPID_PEM

    url = f"sqlite:///{tmp}/startup.db"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "startup", "INSTANCE_PATH": tmp})
    init_db()
    with app.app_context(), db.connection_context():
        from coach.models import Prompt, PushSubscription, User
        from tests.factories import make_family

        user = User.create(email="p@startup.example", password_hash="x", role="parent")
        away = (dt.datetime.now(dt.UTC).hour + 12) % 24  # a window far from now: nothing else is planned
        family = make_family(user=user, timezone="UTC", window_start=f"{away:02d}:00",
                             window_end=f"{away:02d}:30")
        Prompt.create(theme="cues", skill="pause", title="Notice {child}'s cues", body="Pause.",
                      question="Did you wait?", answers=[{"label": "Yes", "tried": "yes"}], status="published")
        sub = ps.subscribe("startup")
        PushSubscription.create(user=user, endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth)
        family_id = family.id
    return {"COACH_DATABASE_URL": url, "COACH_SECRET_KEY": "startup", "COACH_INSTANCE_PATH": tmp,
            "COACH_VAPID_PRIVATE_KEY": VAPID_PEM, "COACH_PUSH_ALLOWED_HOSTS": ps.host,
            "COACH_BASE_URL": "https://attune.example", "FAMILY_ID": str(family_id)}


def make_due(env: dict[str, str]) -> None:
    from coach.db import db
    from coach.models import Delivery, Prompt, utcnow

    now = utcnow()
    with db.connection_context():
        Delivery.delete().execute()
        Delivery.create(family=int(env["FAMILY_ID"]), local_date=now.date(), prompt=Prompt.select().first(),
                        prompt_version=1, theme="cues", due_at=now - dt.timedelta(minutes=1),
                        next_attempt_at=now - dt.timedelta(minutes=1), expires_at=now + dt.timedelta(hours=2))


def one_run(tree: Path, env: dict[str, str], ps, importtime: bool = False) -> dict:
    make_due(env)
    ps.reset()
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "flask", "--app", "coach",
               "send-due"]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=tree, env={**os.environ, **env, "PYTHONPATH": str(tree)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ps.wait_for(1, timeout=60)
    first_push = time.perf_counter() - started
    out, err = process.communicate(timeout=60)
    total = time.perf_counter() - started
    if process.returncode or json.loads(out.splitlines()[-1])["sent"] != 1:
        raise SystemExit(f"send-due failed in {tree}: {out}\n{err[-2000:]}")
    return {"first_push_s": first_push, "total_s": total, "stderr": err}


def slowest_imports(stderr: str, n: int = 12) -> list[str]:
    rows, total = [], 0
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _label, _self, cumulative, name = line.split("|") if line.count("|") == 3 else ("", "", "0", "")
        cumulative = int(cumulative.split(":")[-1])
        if len(name) - len(name.lstrip()) == 1:  # a top-level import (nested ones are indented)
            total += cumulative
        rows.append((cumulative, name.strip()))
    return [f"all imports {total / 1e3:.0f} ms"] + [f"{c / 1e3:.0f} ms {name}" for c, name in sorted(rows, reverse=True)[:n]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--trees", default=str(ROOT), help="checkouts to compare, comma-separated")
    parser.add_argument("--importtime", action="store_true")
    args = parser.parse_args()
    from coach.db import db
    from tests.pushservice import PushService

    trees = [Path(t).resolve() for t in args.trees.split(",")]
    results: dict[str, list[dict]] = {str(t): [] for t in trees}
    with tempfile.TemporaryDirectory() as tmp, PushService() as ps:
        env = prepare(tmp, ps)
        db.init(env["COACH_DATABASE_URL"].removeprefix("sqlite:///"))
        for tree in trees:  # a warm-up each: the first start reads the files from disk
            one_run(tree, env, ps)
        for _ in range(args.runs):
            for tree in trees:
                results[str(tree)].append(one_run(tree, env, ps))
        report = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "load": os.getloadavg(),
                  "runs": args.runs, "trees": {}}
        for tree, runs in results.items():
            report["trees"][tree] = {
                "first_push_ms_median": round(statistics.median(r["first_push_s"] for r in runs) * 1000),
                "first_push_ms_min": round(min(r["first_push_s"] for r in runs) * 1000),
                "process_ms_median": round(statistics.median(r["total_s"] for r in runs) * 1000)}
            if args.importtime:
                report["trees"][tree]["imports"] = slowest_imports(one_run(Path(tree), env, ps, True)["stderr"])
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
