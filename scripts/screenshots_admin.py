"""Screenshots of the admin library pages for docs/screenshots/ (1280×900, real Chromium).

Run from the repository root:  .venv/bin/python scripts/screenshots_admin.py

It builds a temporary database seeded with the starter library, adds a few families with sent
prompts and check-ins (so "what works" has numbers) and retires two prompts (so the coverage grid
shows a gap), starts the app with ``flask run`` on a free port, and drives Debian's chromium.
"""
from __future__ import annotations

import os
import random
import sys
import uuid
from datetime import date, datetime, timedelta

from _live import OUT, ROOT, launch_chromium, run

ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.org", "correct horse battery"


def seed(env: dict) -> None:
    """Schema, starter library, an admin, a worker with families, deliveries and check-ins."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from coach import create_app
    from coach.db import db, init_db
    from coach.models import Caregiver, CheckIn, Delivery, Family, Prompt
    from coach.services.people.accounts import create_user
    from coach.services.programme import library

    app = create_app()
    with app.app_context():
        init_db()
        db.connect(reuse_if_open=True)
        library.seed_library_if_empty()
        admin = create_user(ADMIN_EMAIL, ADMIN_PASSWORD, "admin", "Robin Admin")
        worker = create_user("worker@example.org", ADMIN_PASSWORD, "worker", "Sam Worker")
        rng = random.Random(7)
        prompts = list(Prompt.select().where(Prompt.age_min_months < 12))
        for n in range(12):
            parent = create_user(f"parent{n}@example.org", ADMIN_PASSWORD, "parent", f"Parent {n}")
            family = Family.create(user=parent, worker=worker, display_name=f"Parent {n}",
                                   child_birth_month="2026-01", timezone="Europe/London",
                                   window_start="18:00", window_end="20:00")
            Caregiver.create(family=family, user=parent)
            for day in range(10):
                prompt = rng.choice(prompts)
                when = datetime(2026, 5, 1, 18) + timedelta(days=day)
                delivery = Delivery.create(family=family, local_date=date(2026, 5, 1) + timedelta(days=day),
                                           prompt=prompt, prompt_version=prompt.version, theme=prompt.theme,
                                           due_at=when, expires_at=when + timedelta(hours=6),
                                           next_attempt_at=when, status="sent", sent_at=when,
                                           opened_at=when if rng.random() < .7 else None)
                if rng.random() < .55:
                    CheckIn.create(id=uuid.uuid4(), family=family, user=family.user_id, delivery=delivery, prompt=prompt,
                                   answer=0, tried="yes" if rng.random() < .7 else "not_yet",
                                   client_created_at=when)
        gap = list(Prompt.select().where(Prompt.theme == "repair", Prompt.age_min_months == 36).limit(2))
        for prompt in gap:
            library.set_status(prompt, "retired", admin)
        db.close()


def shoot(base: str) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/login")
        page.fill("#email", ADMIN_EMAIL)
        page.fill("#password", ADMIN_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/admin/")

        page.goto(f"{base}/admin/prompts?sort=sent&dir=desc")
        page.evaluate("window.scrollTo(0, document.querySelector('.page-head').offsetTop - 16)")
        page.screenshot(path=str(OUT / "admin-library.png"))
        page.locator("#coverage").screenshot(path=str(OUT / "admin-coverage.png"))
        page.locator("#strand-coverage").screenshot(path=str(OUT / "admin-strands.png"))

        page.goto(f"{base}/admin/prompts?theme=rupture&age=6-12")
        page.locator("table.library tbody a").first.click()
        page.fill("#title", "A small wobble with {child}")
        page.fill("#preview-child", "Maya")
        page.wait_for_timeout(600)  # let the live check answer
        page.locator("#title").blur()
        page.evaluate("window.scrollTo(0, document.querySelector('.page-head').offsetTop - 16)")
        page.screenshot(path=str(OUT / "admin-editor.png"))
        browser.close()


def main() -> None:
    run(seed, shoot, OUT)


if __name__ == "__main__":
    main()
