"""Screenshots of the parent app at 390×844 (home, check-in, journal, settings) from the starter
library. They are written to ``docs/screenshots/`` when ``ATTUNE_SCREENSHOTS=1``; otherwise to a
temporary folder, so every run still renders each page on a phone-sized screen::

    ATTUNE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/e2e/test_screenshots.py
"""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coach.models import CheckIn, Prompt, User
from coach.services.families.checkins import parse_checkin, record_checkin
from tests.parent_helpers import checkin_body, make_delivery

from .conftest import make_parent, sign_in

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAST = [  # days ago, theme, answer, felt, note
    (1, "repair", 0, 5, "Hard morning, but we had a long cuddle at bedtime and I said sorry for rushing."),
    (2, "rupture", 1, 3, None),
    (4, "cues", 0, 4, "She turned away at the feed and I waited. She came back smiling."),
    (9, "repair", 0, 4, None),
]


def library_prompt(theme: str, age: int = 8) -> Prompt:
    return (Prompt.published().where(Prompt.theme == theme, Prompt.age_min_months <= age,
                                     Prompt.age_max_months > age).order_by(Prompt.id).first())


def screenshot_family(live):
    family = make_parent(live, display_name="Robin", child_name="Ada", child_birth_month="2026-03",
                         window_start="18:00", window_end="20:00")
    with live.context():
        today = make_delivery(family, prompt=library_prompt("cues"))
        for days_ago, theme, answer, felt, note in PAST:
            delivery = make_delivery(family, local_date=today.local_date - timedelta(days=days_ago),
                                     prompt=library_prompt(theme))
            when = (datetime.now(UTC) - timedelta(days=days_ago, hours=2)).isoformat()
            record_checkin(family, parse_checkin(checkin_body(
                delivery_id=delivery.id, answer=answer, felt=felt, note=note, client_created_at=when,
                tried=delivery.prompt.answers[answer]["tried"], shared_with_worker=bool(note))), family.user)
    return family, today


def test_screenshots_of_the_parent_pages(page, live, tmp_path):
    folder = DOCS if os.environ.get("ATTUNE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    family, today = screenshot_family(live)
    sign_in(page, family)
    names = []
    for scheme, suffix in (("light", ""), ("dark", "-dark")):
        page.emulate_media(color_scheme=scheme)
        page.goto("/")
        page.locator("#notify-card[data-ready]").wait_for()  # home with "Reminders on this phone"
        page.screenshot(path=folder / f"parent-home{suffix}.png")

        with live.context():  # a fresh check-in each time: step 1 is the answers
            CheckIn.delete().where(CheckIn.delivery == today.id).execute()
        page.goto(f"/checkin/{today.id}")
        page.locator(".answer-btn").first.wait_for()
        page.screenshot(path=folder / f"parent-checkin{suffix}.png")
        page.locator(".answer-btn").first.click()  # one tap: saved, and the optional step
        page.locator("#checkin-saved").wait_for()
        page.screenshot(path=folder / f"parent-checkin-saved{suffix}.png")
        page.locator("label.face").nth(3).click()
        page.get_by_label("A note for yourself").fill("She looked away twice and came back to me.")
        page.get_by_role("button", name="Save", exact=True).scroll_into_view_if_needed()
        page.screenshot(path=folder / f"parent-checkin-more{suffix}.png")
        names += [f"home{suffix}", f"checkin{suffix}", f"checkin-saved{suffix}", f"checkin-more{suffix}"]
    page.emulate_media(color_scheme="light")

    page.goto("/journal")
    page.screenshot(path=folder / "parent-journal.png")

    page.goto("/settings")
    page.screenshot(path=folder / "parent-settings.png")
    for name in (*names, "journal", "settings"):
        assert (folder / f"parent-{name}.png").stat().st_size > 10_000


def test_screenshots_of_the_parent_pages_in_spanish(page, live, tmp_path):
    """The same screens for a parent who reads Attune in Spanish (``parent-*-es.png``). The prompts
    themselves come from the library, whose Spanish is added separately."""
    folder = DOCS if os.environ.get("ATTUNE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    family, today = screenshot_family(live)
    with live.context():
        User.update(language="es").where(User.id == family.user_id).execute()
    sign_in(page, family)
    page.goto("/")
    assert page.evaluate("document.documentElement.lang") == "es"
    page.locator("#notify-card[data-ready]").wait_for()
    page.screenshot(path=folder / "parent-home-es.png")
    with live.context():
        CheckIn.delete().where(CheckIn.delivery == today.id).execute()
    page.goto(f"/checkin/{today.id}")
    page.locator(".answer-btn").first.click()
    page.locator("#checkin-saved").wait_for()
    page.locator("label.face").nth(3).click()
    page.get_by_label("Una nota para ti").fill("Se dio la vuelta dos veces y volvió a mirarme.")
    page.get_by_role("button", name="Guardar", exact=True).scroll_into_view_if_needed()
    page.screenshot(path=folder / "parent-checkin-es.png")
    for name, path in (("journal", "/journal"), ("settings", "/settings"), ("help", "/help")):
        page.goto(path)
        page.screenshot(path=folder / f"parent-{name}-es.png")
    for name in ("home", "checkin", "journal", "settings", "help"):
        assert (folder / f"parent-{name}-es.png").stat().st_size > 10_000
