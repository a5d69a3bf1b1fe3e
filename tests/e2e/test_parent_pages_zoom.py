"""The parent pages at 200 % zoom (a 390 px phone shows 195 CSS px) scroll only up and down; the
second release's pages have no serious axe-core problems, light and dark; screenshots at 390×844,
light and dark, of the journal, its printable copy, onboarding and "Forgot your password?". They are written to ``docs/screenshots/`` when ``ATTUNE_SCREENSHOTS=1``::

    ATTUNE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/e2e/test_parent_pages_zoom.py
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import PHONE, sign_in
from .test_parent_quality import IPHONE, serious_violations
from .test_screenshots import screenshot_family

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ZOOMED = {"width": PHONE["width"] // 2, "height": PHONE["height"] // 2}  # 200 %: half the CSS pixels


def sideways(page) -> int:
    """How far the page could scroll sideways (0: it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_parent_pages_fit_at_200_percent_zoom(browser, live):
    family, today = screenshot_family(live)
    context = browser.new_context(base_url=live.url, viewport=ZOOMED, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        sign_in(page, family)
        too_wide = {}
        for path in ("/", f"/checkin/{today.id}", "/journal", "/journal/print", "/settings",
                     "/settings/timezone", "/welcome", "/welcome/time", "/welcome/done"):
            page.goto(path)
            # Text is usable: the body text is at least 16 CSS px, so 32 device px at 200 %.
            assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
            if sideways(page) > 0:
                too_wide[path] = sideways(page)
        assert too_wide == {}
    finally:
        context.close()


def test_screenshots_of_the_second_release_pages(browser, live, tmp_path):
    folder = DOCS if os.environ.get("ATTUNE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    family, _today = screenshot_family(live)
    for scheme in ("light", "dark"):
        suffix = "" if scheme == "light" else "-dark"
        context = browser.new_context(base_url=live.url, viewport=PHONE, is_mobile=True, has_touch=True,
                                      locale="en-GB", timezone_id="Europe/London", color_scheme=scheme)
        context.set_default_timeout(20_000)
        try:
            page = context.new_page()
            page.goto("/forgot")
            assert serious_violations(page) == [], ("/forgot", scheme)
            page.screenshot(path=folder / f"parent-forgot{suffix}.png")
            sign_in(page, family)
            for path, name in (("/journal", "journal"), ("/journal/print", "journal-print"),
                               ("/welcome", "onboarding"), ("/welcome/time", "onboarding-time"),
                               ("/settings", "settings")):
                page.goto(path)
                assert sideways(page) == 0, path
                assert serious_violations(page) == [], (path, scheme)
                page.screenshot(path=folder / f"parent-{name}{suffix}.png")
            # Pages without a screenshot: no serious accessibility problems either.
            page.goto("/journal")
            entry = page.locator(".entry-actions a").first.get_attribute("href")
            prompt = page.locator(".journal-entry h3 a").first.get_attribute("href")
            for path in (entry, entry.replace("/edit", "/delete"), prompt, "/settings/timezone", "/welcome/done"):
                page.goto(path)
                assert serious_violations(page) == [], (path, scheme)
        finally:
            context.close()
    for name in ("forgot", "journal", "journal-print", "onboarding", "onboarding-time", "settings"):
        for suffix in ("", "-dark"):
            assert (folder / f"parent-{name}{suffix}.png").stat().st_size > 10_000


def test_onboarding_on_an_iphone_shows_the_home_screen_steps(browser, live):
    """Straight after joining on iPhone Safari (not added to the Home Screen), step 1 is the Add to
    Home Screen steps in plain words instead of a button that can't work there."""
    family, _today = screenshot_family(live)
    context = browser.new_context(base_url=live.url, viewport=PHONE, user_agent=IPHONE, is_mobile=True)
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        sign_in(page, family)
        page.goto("/welcome")
        card = page.locator("#notify-card")
        card.get_by_text("Add to Home Screen").wait_for()
        assert card.get_by_role("button", name="Turn on reminders").is_hidden()
        page.get_by_role("link", name="Next: when prompts come").click()
        page.get_by_label("Mornings, 7 to 9").check()
        page.get_by_role("button", name="Next").click()
        page.get_by_text("between 07:00 and 09:00").wait_for()
    finally:
        context.close()
