"""Screenshots of the admin overview's scheduler banner for docs/screenshots/ (390×844, light and
dark, real Chromium): a fresh database where no scheduler tick was ever recorded.

Run from the repository root:  .venv/bin/python scripts/screenshots_ops.py
"""
from __future__ import annotations

import os
import sys

from _live import OUT, ROOT, launch_chromium, run

ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.org", "correct horse battery"


def seed(env: dict) -> None:
    """Schema, starter library and resources, one admin; no scheduler has run."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from coach import create_app
    from coach.db import db, init_db
    from coach.services.families.resources import seed_resources_if_empty
    from coach.services.people.accounts import create_user
    from coach.services.programme import library

    app = create_app()
    with app.app_context():
        init_db()
        db.connect(reuse_if_open=True)
        library.seed_library_if_empty()
        seed_resources_if_empty()
        create_user(ADMIN_EMAIL, ADMIN_PASSWORD, "admin", "Robin Admin")
        db.close()


def shoot(base: str) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        for scheme, suffix in (("light", ""), ("dark", "-dark")):
            page = browser.new_page(viewport={"width": 390, "height": 844}, color_scheme=scheme)
            page.goto(f"{base}/login")
            page.fill("#email", ADMIN_EMAIL)
            page.fill("#password", ADMIN_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/admin/")
            page.screenshot(path=str(OUT / f"admin-scheduler-banner{suffix}.png"))
            page.close()
        browser.close()


def main() -> None:
    run(seed, shoot, OUT)


if __name__ == "__main__":
    main()
