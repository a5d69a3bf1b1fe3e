"""Demo data for the family worker's dashboard: a worker's caseload with three months of realistic
history — engaged, slipping and disengaged families, a new one, a paused one, one whose phone stopped
taking notifications, support requests (one open, one followed up), notes shared with the worker,
phone numbers (from Ofcom's drama range, which no real phone uses) and the worker's logged calls and
visits: one waiting for its next step, one whose next step is due today. Sofia and Marcus are the
issue's two examples: Sofia engaged with no device, Marcus checking in once in six days.

Run against the configured database (``COACH_DATABASE_URL``, else the instance folder):

    .venv/bin/flask --app coach init-db
    .venv/bin/python scripts/demo_data.py

It prints the sign-ins: the demo worker ``demo.worker@example.org``, the admin
``demo.admin@example.org`` and each demo parent (``demo.parent1@example.org`` …), all with one
password. The demo's addresses are its own, so the accounts README's first steps create
(``worker@example.org``) never clash with it. Dates are relative to now, so the statuses are right
whenever it runs. Run twice, it adds nothing and prints the sign-ins again.
"""
from __future__ import annotations

import random
import sys
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "correct horse battery"
WORKER_EMAIL, ADMIN_EMAIL = "demo.worker@example.org", "demo.admin@example.org"
OTHER_WORKER_EMAIL = "demo.worker2@example.org"

NOTES = [
    "Bedtime was rough but we read together after. He calmed down when I slowed my voice.",
    "Noticed she looks back at me before climbing. I smiled and she kept going.",
    "I snapped at breakfast. Later I said sorry and we had a cuddle on the sofa.",
    "Pickup was teary. I crouched down and named it: you missed me. She nodded.",
    "Tried the pause before answering. Felt odd but it worked.",
    "Long day. We just lay on the floor together for five minutes.",
]


@dataclass
class Profile:
    """How a demo family behaves: chance of opening and checking in, and what happened lately."""

    name: str
    child: str
    checkin: float = 0.8
    enrolled_days: int = 90
    quiet_days: int = 0          # no check-ins in the last N days
    days: str = "0123456"
    device: str = "ok"           # ok, failing, none
    paused_days: int = 0
    misses: tuple = ()           # days back with no check-in, whatever the chance
    contact: tuple = ()          # (days ago, kind, outcome, next step N days from today or None, note)
    support: str = ""            # "", "open", "done"
    notes: float = 0.3
    extra: dict = field(default_factory=dict)


CASELOAD = [
    Profile("Aisha Rahman", "Leo", checkin=0.85, support="open",
            contact=(0, "call", "left_message", None, "Rang at 10:15 about her request; left a voicemail.")),
    Profile("Jordan Pike", "Ivy", checkin=0.6, quiet_days=13,
            contact=(3, "call", "no_answer", None, "Rang twice after 10. Try a text next.")),
    Profile("Daniel Osei", "Kofi", checkin=0.7, quiet_days=6, device="failing"),
    Profile("Sofia Marquez", "Mateo", checkin=1.0, enrolled_days=65, quiet_days=2, misses=(3,), device="none"),
    Profile("Chloe Bennett", "Ada", checkin=0.8, quiet_days=5,
            contact=(1, "call", "reached", 3, "New job, evenings are busy. Moving her window to 20:00 helps.")),
    Profile("Owen Murphy", "Finn", checkin=0.65, quiet_days=4,
            contact=(7, "visit", "reached", 0, "Home visit. Agreed I'd check in a week on about bedtimes.")),
    Profile("Priya Nair", "Anya", checkin=1.0, enrolled_days=3),
    Profile("Grace Whitfield", "Olly", checkin=0.97, notes=0.5),
    Profile("Hannah Kowalski", "Zofia", checkin=0.9, days="024"),
    Profile("Marcus Lee", "Theo", checkin=0.7, misses=(0, 2, 3, 4, 5, 6)),
    Profile("Emily Carter", "Rosie", checkin=0.85),
    Profile("Fatima Haddad", "Yusuf", checkin=0.8, paused_days=10),
    Profile("Ben Thompson", "Alfie", checkin=0.75, support="done"),
    Profile("Lucy Adeyemi", "Tobi", checkin=0.55),
]
OTHER_CASELOAD = [Profile("Nadia Petrova", "Sasha"), Profile("Tom Walsh", "Evie", quiet_days=8),
                  Profile("Kemi Balogun", "Dayo", checkin=0.9)]
TZ = "Europe/London"


def _utc(day: date, at: time) -> datetime:
    """A local wall-clock time in London as naive UTC."""
    local = datetime.combine(day, at, ZoneInfo(TZ))
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def parent_email(n: int) -> str:
    return f"demo.parent{n}@example.org"


def _family(profile: Profile, worker, n: int, now: datetime):
    from coach.models import Caregiver, Family
    from coach.services.people.accounts import create_user

    parent = create_user(parent_email(n), PASSWORD, "parent", profile.name)
    if n % 5:  # most parents gave a number; Ofcom's drama range, so no real phone rings
        parent.phone = f"+447700900{100 + n:03}"
        parent.save(only=[type(parent).phone])
    today = now.date()
    family = Family.create(
        user=parent, worker=worker, display_name=profile.name, child_name=profile.child,
        child_birth_month=f"{today.year - 1}-{(n % 12) + 1:02}", timezone=TZ, country="GB", window_start="18:00",
        window_end="20:00", days_of_week=profile.days, share_notes_default=n % 3 == 0,
        paused_until=today + timedelta(days=profile.paused_days) if profile.paused_days else None,
        created_at=now - timedelta(days=profile.enrolled_days, hours=3))
    Caregiver.create(family=family, user=parent, joined_at=family.created_at)
    return family


def _history(family, profile: Profile, prompts: list, rng: random.Random, now: datetime) -> None:
    """A delivery per prompt day since enrolment, check-ins by the profile, and devices."""
    from coach.models import CheckIn, ContactLog, Delivery, PushSubscription, SupportRequest

    today = now.date()
    weekdays = {int(d) for d in profile.days}
    asked = None
    for back in range(min(profile.enrolled_days, 120), -1, -1):
        day = today - timedelta(days=back)
        if day.weekday() not in weekdays or (profile.paused_days and back < 3):
            continue
        prompt = prompts[(back * 7 + family.id) % len(prompts)]
        due = _utc(day, time(18)) + timedelta(minutes=rng.randint(0, 110))
        status, code = "sent", None
        if profile.device == "none" and back <= 6:
            status, code = ("failed", 410) if back == 6 else ("no_device", None)
        elif profile.device == "failing" and back <= 12:
            status, code = rng.choice((("failed", 400), ("expired", 503), ("expired", 503)))
        elif rng.random() < 0.03:
            status, code = "expired", 503
        if due > now:
            status, code = "pending", None
        quiet = back < profile.quiet_days
        wants = profile.support == "open" and back == 1
        checked = wants or (status != "pending" and not quiet and back not in profile.misses
                            and rng.random() < profile.checkin)
        opened = status != "pending" and (checked or (not quiet and rng.random() < 0.25))
        delivery = Delivery.create(
            family=family, local_date=day, prompt=prompt, prompt_version=prompt.version, theme=prompt.theme,
            due_at=due, expires_at=_utc(day + timedelta(days=1), time(0)), next_attempt_at=due, status=status,
            attempts=0 if status == "pending" else 1, sent_at=due if status == "sent" else None,
            opened_at=due + timedelta(minutes=rng.randint(2, 40)) if opened else None, last_status_code=code)
        if not checked:
            continue
        made = due + timedelta(minutes=rng.randint(10, 150))
        if made > now:
            made = now - timedelta(minutes=5)
        has_note = rng.random() < profile.notes
        checkin = CheckIn.create(
            id=uuid.uuid4(), family=family, delivery=delivery, prompt=prompt, answer=rng.choice((0, 0, 1)),
            tried=rng.choice(("yes", "yes", "yes", "not_yet")), felt=rng.choice((2, 3, 4, 4, 5)),
            note=rng.choice(NOTES) if has_note or wants else None,
            shared_with_worker=wants or (has_note and rng.random() < 0.7), wants_support=wants,
            client_created_at=made, received_at=made + timedelta(seconds=rng.randint(1, 90)))
        asked = checkin if wants else asked
    if profile.device != "none":
        PushSubscription.create(
            user=family.user_id, endpoint=f"https://fcm.googleapis.com/fcm/send/demo-{uuid.uuid4()}",
            p256dh="demo", auth="demo", user_agent="Chrome on Android",
            last_ok_at=now - timedelta(days=13 if profile.device == "failing" else 0, hours=rng.randint(1, 20)),
            error_count=5 if profile.device == "failing" else 0)
    if profile.contact:
        ago, kind, outcome, next_in, note = profile.contact
        ContactLog.create(family=family, worker=family.worker_id, kind=kind, outcome=outcome, note=note,
                          next_step_on=today + timedelta(days=next_in) if next_in is not None else None,
                          created_at=now - timedelta(days=ago, hours=2))
    if profile.support:
        request = SupportRequest.create(family=family, checkin=asked,
                                        created_at=asked.received_at if asked else now - timedelta(days=9, hours=5))
        if profile.support == "done":
            SupportRequest.update(followed_up_at=now - timedelta(days=8), followed_up_by=family.worker_id,
                                  follow_up_note="Called Ben; talked through the evenings. Visit booked.") \
                .where(SupportRequest.id == request.id).execute()


def seed_demo(now: datetime | None = None, seed: int = 5) -> dict:
    """Create the demo people, caseloads, histories and invites (inside an app context)."""
    from coach.db import db
    from coach.models import Invite, Prompt, User, utcnow
    from coach.services.people.accounts import create_user
    from coach.services.people.invites import create_invite

    if User.by_email(WORKER_EMAIL):
        return sign_ins(already=True)
    now = now or utcnow()
    rng = random.Random(seed)
    prompts = list(Prompt.published().where(Prompt.age_min_months <= 12).order_by(Prompt.id))
    if not prompts:
        raise SystemExit("The prompt library is empty: run `flask --app coach init-db` first.")
    with db.atomic():
        create_user(ADMIN_EMAIL, PASSWORD, "admin", "Robin Admin")
        worker = create_user(WORKER_EMAIL, PASSWORD, "worker", "Maya Okafor")
        other = create_user(OTHER_WORKER_EMAIL, PASSWORD, "worker", "Tom Reyes")
        n = 0
        for owner, caseload in ((worker, CASELOAD), (other, OTHER_CASELOAD)):
            for profile in caseload:
                n += 1
                _history(_family(profile, owner, n, now), profile, prompts, rng, now)
        create_invite(worker, 14, "Kim at Oak Road")
        used, _ = create_invite(worker, 14, "Priya N.")
        Invite.update(used_at=now - timedelta(days=3)).where(Invite.id == used.id).execute()
        old, _ = create_invite(worker, 7, "Drop-in group, March")
        Invite.update(expires_at=now - timedelta(days=2), created_at=now - timedelta(days=9)) \
            .where(Invite.id == old.id).execute()
    return sign_ins(already=False)


def sign_ins(already: bool) -> dict:
    """Who to sign in as: the demo's staff and every demo parent with their family's name."""
    from coach.models import Family, User

    parents = [(email, name) for email, name in
               User.select(User.email, Family.display_name).join(Family, on=(Family.user == User.id))
               .where(User.email.startswith("demo.parent")).order_by(User.id).tuples()]
    return {"worker": WORKER_EMAIL, "other_worker": OTHER_WORKER_EMAIL, "admin": ADMIN_EMAIL,
            "password": PASSWORD, "families": len(parents), "parents": parents, "already": already}


def describe(summary: dict, base_url: str) -> str:
    """The sign-ins as the demo prints them."""
    lines = [("The demo data was already here" if summary["already"] else "Demo data added")
             + f": {summary['families']} families. Open {base_url}/login and sign in with the password "
             f"{summary['password']!r} as:",
             f"  family worker  {summary['worker']}  (a caseload of 14; {summary['other_worker']} has 3)",
             f"  admin          {summary['admin']}"]
    lines += [f"  parent         {email}  ({name})" for email, name in summary["parents"]]
    return "\n".join(lines)


def main() -> None:
    from coach import create_app
    from coach.db import db, init_db
    from coach.services.programme.library import seed_library_if_empty

    app = create_app()
    init_db()
    with app.app_context():
        db.connect(reuse_if_open=True)
        seed_library_if_empty()
        summary = seed_demo()
    print(describe(summary, app.config["BASE_URL"]))


if __name__ == "__main__":
    main()
