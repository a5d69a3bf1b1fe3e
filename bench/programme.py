"""Benchmark of the programme, not of speed: how often a prompt repeats over a simulated year.

One family whose child is 36 months old on the first day (so 36–48 months: the 36–60 band all
year), London, the default 18:00–20:00 window, enrolled that day, gets one planning tick a day for
365 days on the real starter library (coach/data/prompts.json), through the real planner and
selection. It checks in every evening: "tried it" and felt 4, except a hard answer on every third
rupture prompt and "not yet" every fifth other day (the coaching rules then steer some days).
Prints the band's pool (published prompts that fit an evening window), how many distinct prompts
were sent, how often each came, and the rest between two sendings of the same prompt.

    .venv/bin/python bench/programme.py [--days 365] [--age 36] [--window 18:00]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coach import create_app  # noqa: E402
from coach.db import db, init_db  # noqa: E402
from coach.models import CheckIn, Delivery, Family, Prompt, User  # noqa: E402
from coach.services.delivery.scheduling import plan_due_deliveries  # noqa: E402
from coach.services.families.household import seat_main_contacts  # noqa: E402
from coach.services.programme.library import seed_library_if_empty  # noqa: E402
from coach.services.programme.selection import window_moments  # noqa: E402

START = date(2027, 1, 1)


def simulate(days: int, age: int, window: str) -> tuple[list[tuple[date, Prompt]], set[date]]:
    """Plan and check in for ``days`` days; the prompts sent, in order (the weekly reflection days
    send none), and the prompt days after a hard rupture (when the paired repair comes even if it
    was sent lately)."""
    month = START.year * 12 + START.month - 1 - age
    user = User.create(email="bench@programme.example", password_hash="x", role="parent")
    end = f"{(int(window[:2]) + 2) % 24:02d}{window[2:]}"
    family = Family.create(user=user, display_name="Bench", child_birth_month=f"{month // 12}-{month % 12 + 1:02d}",
                           timezone="Europe/London", window_start=window, window_end=end,
                           next_due_at=datetime.combine(START, datetime.min.time()),
                           created_at=datetime.combine(START, datetime.min.time()))
    seat_main_contacts()
    sent, ruptures, answers, owed = [], 0, set(), False
    for offset in range(days):
        day = START + timedelta(days=offset)
        plan_due_deliveries(now=datetime.combine(day, datetime.min.time()) + timedelta(hours=1))
        delivery = Delivery.get(Delivery.family == family.id, Delivery.local_date == day)
        if delivery.kind == "reflection":  # the week's look back: no prompt that day
            continue
        prompt = delivery.prompt
        sent.append((day, prompt))
        if owed:  # the paired repair comes on the next prompt day
            answers.add(day)
            owed = False
        tried, answer = "yes", 0
        if prompt.theme == "rupture":
            ruptures += 1
            if ruptures % 3 == 1:
                answer = next(i for i, a in enumerate(prompt.answers) if a.get("hard"))
                owed = True
        elif offset % 5 == 2:
            tried = "not_yet"
            answer = next(i for i, a in enumerate(prompt.answers) if a["tried"] == "not_yet")
        evening = datetime.combine(day, datetime.min.time()) + timedelta(hours=int(window[:2]) + 1)
        CheckIn.create(id=uuid.uuid4(), family=family, user=family.user_id, prompt=prompt, answer=answer, felt=4, tried=tried,
                       client_created_at=evening, received_at=evening)
    return sent, answers


def report(sent: list[tuple[date, Prompt]], answers: set[date], age: int, window: str) -> None:
    moments = window_moments(window)
    pool = (Prompt.published().where(Prompt.age_min_months <= age, Prompt.age_max_months > age,
                                     Prompt.moment.in_(moments)).count())
    counts = Counter(prompt.id for _, prompt in sent)
    gaps, last, paired = [], {}, 0
    for day, prompt in sent:
        if prompt.id in last:
            gaps.append((day - last[prompt.id]).days)
            paired += day in answers and gaps[-1] < 42
        last[prompt.id] = day
    print(f"{len(sent)} prompt days (the other days were weekly reflections), child {age} months "
          f"at the start, window from {window} "
          f"(moments {', '.join(moments)}): pool {pool} prompts")
    print(f"  distinct prompts sent: {len(counts)}; times each came: max {max(counts.values())}, "
          f"median {statistics.median(counts.values()):.0f}, min {min(counts.values())}")
    if gaps:
        print(f"  rest between two sendings: min {min(gaps)} days, median {statistics.median(gaps):.0f}, "
              f"max {max(gaps)}; repeats {len(gaps)} "
              f"(within 42 days: {sum(g < 42 for g in gaps)}, of them {paired} the paired repair the day "
              f"after a hard rupture; within 60: {sum(g < 60 for g in gaps)})")
    weeks = Counter(prompt.week for _, prompt in sent)
    print("  prompts per arc week:", ", ".join(f"week {w}: {weeks[w]}" for w in sorted(weeks)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--age", type=int, default=36)
    parser.add_argument("--window", default="18:00")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{folder}/programme.db", "SECRET_KEY": "bench",
                          "INSTANCE_PATH": folder})
        with app.app_context():
            init_db()
            with db.connection_context():
                seed_library_if_empty()
                report(*simulate(args.days, args.age, args.window), args.age, args.window)


if __name__ == "__main__":
    main()
