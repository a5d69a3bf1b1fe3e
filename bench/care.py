"""The care loop's costs (README "Help and alerts"): what a help request adds to the web request,
what the scheduler pays every 5 s when nothing is due, and how fast the mail outbox drains into a
real SMTP server on loopback (aiosmtpd, tests/mailserver.py).

    .venv/bin/python bench/care.py [--requests 1000] [--runs 5]

SQLite with the project's pragmas in a temporary folder; prints one JSON line per measure.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach import create_app  # noqa: E402
from coach.db import db, init_db  # noqa: E402
from coach.delivery_cli import care_tick  # noqa: E402
from coach.models import Family, MailMessage, StaffAlert, SupportRequest, User, utcnow  # noqa: E402
from coach.services.delivery.mail import run_mail_tick  # noqa: E402
from coach.services.families.household import seat_main_contacts  # noqa: E402
from coach.services.families.support import ask_for_support  # noqa: E402
from tests.mailserver import MailServer  # noqa: E402


def make_families(count: int) -> list[Family]:
    """``count`` families spread over 20 workers (no devices: alerts end as no_device)."""
    with db.atomic():
        User.insert_many([{"email": f"w{i}@bench.example", "password_hash": "x", "role": "worker"}
                          for i in range(20)]).execute()
        workers = [u.id for u in User.select(User.id).order_by(User.id)]
        User.insert_many([{"email": f"p{i}@bench.example", "password_hash": "x", "role": "parent"}
                          for i in range(count)]).execute()
        parents = [u.id for u in User.select(User.id).where(User.role == "parent").order_by(User.id)]
        Family.insert_many([{"user": p, "worker": workers[i % 20], "display_name": f"P{i}",
                             "child_birth_month": "2026-01", "timezone": "UTC", "window_start": "08:00",
                             "window_end": "09:00"} for i, p in enumerate(parents)]).execute()
        seat_main_contacts()
    return list(Family.select().order_by(Family.id))


def clear_outboxes() -> None:
    with db.atomic():
        for model in (StaffAlert, MailMessage, SupportRequest):
            model.delete().execute()


def measure(requests: int, runs: int) -> list[dict]:
    families = make_families(requests)
    results = []

    asks = []
    for _ in range(runs):
        clear_outboxes()
        started = time.perf_counter()
        for i, family in enumerate(families):
            ask_for_support(family, family.user, source="help", safe="no" if i % 10 == 0 else "yes")
        asks.append((time.perf_counter() - started) / len(families) * 1e6)
    results.append({"measure": "ask_for_support (one request + its queued alerts)", "requests": requests,
                    "median_us": round(statistics.median(asks)), "min_us": round(min(asks))})

    StaffAlert.update(status="no_device").execute()
    MailMessage.update(status="sent").execute()
    idle = []
    for _ in range(runs * 20):
        started = time.perf_counter()
        care_tick()
        idle.append((time.perf_counter() - started) * 1e3)
    results.append({"measure": "idle care tick (nothing due)", "median_ms": round(statistics.median(idle), 2),
                    "min_ms": round(min(idle), 2)})

    drains = []
    with MailServer() as smtp:
        from flask import current_app

        current_app.config.update(SMTP_URL=smtp.url)
        for _ in range(runs):
            MailMessage.update(status="pending", next_attempt_at=utcnow() - timedelta(seconds=1)).execute()
            pending = MailMessage.select().count()
            smtp.received.clear()
            started = time.perf_counter()
            sent = run_mail_tick()["mail_sent"]
            elapsed = time.perf_counter() - started
            assert sent == pending == len(smtp.received), (sent, pending, len(smtp.received))
            drains.append(sent / elapsed)
    results.append({"measure": "mail outbox into loopback aiosmtpd", "emails": pending,
                    "median_per_s": round(statistics.median(drains)), "max_per_s": round(max(drains))})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{folder}/care.db", "SECRET_KEY": "bench",
                          "INSTANCE_PATH": folder, "BASE_URL": "https://attune.example",
                          "DUTY_EMAIL": "duty@attune.example", "VAPID_PRIVATE_KEY": "unused"})
        init_db()
        with app.app_context(), db.connection_context():
            for line in measure(args.requests, args.runs):
                print(json.dumps(line))
    print(json.dumps({"cpus": os.cpu_count(), "load": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
