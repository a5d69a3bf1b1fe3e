"""Text-message benchmark: how fast one process texts a day's prompts (bench/README.md "Texts").

    .venv/bin/python bench/texts.py [--families 2000] [--delay 0.05] [--concurrency 16,64]

A loopback fake of Twilio's Messages API (tests/twilio_fake.py: a threaded HTTP server answering 201
with a sid after ``--delay`` seconds) runs in its own process. For each concurrency, a fresh SQLite
database gets ``--families`` parents on the ``sms`` channel, each with a due delivery; then
``queue_prompt_texts`` (the outbox rows) and ``send_due_texts`` (claim, post, record) are timed.
Printed: texts/s, the ceiling (concurrency / delay), and the client's CPU per text.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 26, 12, 0)


def serve(port_out, delay: float, stop) -> None:
    """The fake in a child process: its sleeps and parsing don't share the client's GIL."""
    from tests.twilio_fake import TwilioFake

    with TwilioFake(delay=delay) as fake:
        port_out.send(fake.base)
        stop.wait()
        port_out.send(len(fake.delivered()))


def fill(families: int) -> None:
    from coach.db import db
    from coach.models import Delivery, Family, Prompt, User
    from coach.services.families.household import seat_main_contacts
    from coach.services.programme.library import seed_library_if_empty

    seed_library_if_empty()
    prompt = Prompt.select().where(Prompt.status == "published").first()
    with db.atomic():
        User.insert_many([{"email": f"b{i}@bench.example", "password_hash": "x", "role": "parent",
                           "phone": f"+4479113{i:05d}", "channel": "sms", "sms_opt_in_at": NOW - timedelta(days=1)}
                          for i in range(families)]).execute()
        users = [u.id for u in User.select(User.id).order_by(User.id)]
        Family.insert_many([{"user": uid, "display_name": f"B{i}", "child_name": "Sam", "child_birth_month": "2026-03",
                             "timezone": "UTC", "window_start": "08:00", "window_end": "20:00"}
                            for i, uid in enumerate(users)]).execute()
        seat_main_contacts()  # each parent is their household's caregiver, as enrolment makes them
        Delivery.insert_many([{"family": f.id, "local_date": date(2026, 11, 26), "prompt": prompt.id,
                               "prompt_version": 1, "theme": prompt.theme, "due_at": NOW - timedelta(minutes=5),
                               "next_attempt_at": NOW - timedelta(minutes=5), "expires_at": NOW + timedelta(hours=12),
                               "status": "no_device"} for f in Family.select(Family.id)]).execute()


def run(base: str, families: int, concurrency: int) -> dict:
    from coach import create_app
    from coach.db import db, init_db
    from coach.services.delivery.sms import send_due_texts
    from coach.services.delivery.texts import queue_prompt_texts
    from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FROM

    folder = Path(tempfile.mkdtemp(prefix="attune-texts-"))
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "SECRET_KEY": "bench",
                      "INSTANCE_PATH": str(folder), "BASE_URL": "https://attune.example",
                      "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM": FROM,
                      "TWILIO_API_BASE": base, "TWILIO_CONCURRENCY": concurrency})
    init_db()
    with app.app_context(), db.connection_context():
        fill(families)
        started, cpu = time.perf_counter(), time.process_time()
        queued = queue_prompt_texts(NOW)
        queue_s = time.perf_counter() - started
        started = time.perf_counter()
        result = send_due_texts(NOW)
        send_s = time.perf_counter() - started
        cpu_s = time.process_time() - cpu
    return {"queued": queued, "sent": result["texts_sent"], "queue_s": queue_s, "send_s": send_s,
            "cpu_us": cpu_s / max(1, queued) * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=2000)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--concurrency", default="16,64")
    args = parser.parse_args()
    print(f"{date.today()} · nproc {os.cpu_count()} · Python {platform.python_version()} · "
          f"load {os.getloadavg()[0]:.1f} · {args.families} texts · fake answers after {args.delay * 1000:.0f} ms")
    print("| in flight | ceiling | queued in | sent | texts/s | client CPU per text |")
    print("|---:|---:|---:|---:|---:|---:|")
    for concurrency in (int(c) for c in args.concurrency.split(",")):
        parent, child = multiprocessing.Pipe()
        stop = multiprocessing.Event()
        server = multiprocessing.Process(target=serve, args=(child, args.delay, stop), daemon=True)
        server.start()
        base = parent.recv()
        result = run(base, args.families, concurrency)
        stop.set()
        received = parent.recv()
        server.join(5)
        if not received == result["sent"] == args.families:  # e.g. a post answered after its time-out
            print(f"  note: the fake took {received} texts, {result['sent']} were recorded sent")
        print(f"| {concurrency} | {concurrency / args.delay:,.0f}/s | {result['queue_s'] * 1000:,.0f} ms | "
              f"{result['sent']:,} | {result['sent'] / result['send_s']:,.0f} | {result['cpu_us']:,.0f} µs |")


if __name__ == "__main__":
    main()
