"""Screenshots of the care loop: /help at 390×844 in light and dark and after "not sure", the
parent's request status, the worker's page for an urgent request, and the admin's red items.
Written to ``docs/screenshots/`` when ``ATTUNE_SCREENSHOTS=1``, else to a temporary folder, so every
run still renders each page::

    ATTUNE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/e2e/test_screenshots_help.py
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from coach.models import Family, utcnow
from coach.services.families.resources import seed_resources_if_empty
from coach.services.families.support import ask_for_support, escalate_overdue
from tests import factories

from .conftest import PHONE, sign_in

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAPTOP = {"width": 1280, "height": 900}


@pytest.fixture
def folder(tmp_path) -> Path:
    target = DOCS if os.environ.get("ATTUNE_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def family(live) -> Family:
    with live.context():
        seed_resources_if_empty()
        worker = factories.make_user("worker", name="Maria")
        return factories.make_family(worker=worker, display_name="Robin", child_name="Ada", country="GB")


def shoot(page, path: Path, full_page: bool = False) -> None:
    page.screenshot(path=path, full_page=full_page)
    assert path.stat().st_size > 10_000


def test_screenshots_of_help_light_dark_and_not_safe(browser, live, family, folder):
    for scheme, name in (("light", "help.png"), ("dark", "help-dark.png")):
        context = browser.new_context(base_url=live.url, viewport=PHONE, is_mobile=True, has_touch=True,
                                      color_scheme=scheme, locale="en-GB", timezone_id="Europe/London")
        page = context.new_page()
        sign_in(page, family)
        page.goto("/help")
        shoot(page, folder / name)
        if os.environ.get("ATTUNE_SCREENSHOTS_FULL") == "1":  # for checking the whole page by eye
            shoot(page, folder / f"full-{name}", full_page=True)
        if scheme == "light":
            page.get_by_role("button", name="Not sure").click()
            page.locator("#urgent").wait_for()
            shoot(page, folder / "help-unsafe.png")
        context.close()


def test_screenshots_of_the_request_status_the_workers_page_and_the_admin_warnings(browser, live, family, folder):
    with live.context():
        ask_for_support(family, family.user, source="help", safe="unsure",
                        note="Rough few nights. Could you call after 6?")
        late = factories.make_family(worker=factories.make_user("worker", name="Sam"), display_name="Jordan",
                                     country="FR")
        ask_for_support(late, late.user, source="checkin", now=utcnow() - timedelta(hours=30))
        escalate_overdue()
    parent = browser.new_context(base_url=live.url, viewport=PHONE, is_mobile=True, has_touch=True,
                                 locale="en-GB", timezone_id="Europe/London")
    page = parent.new_page()
    sign_in(page, family)
    page.locator("#help-status").wait_for()
    shoot(page, folder / "parent-help-status.png")
    parent.close()

    staff = browser.new_context(base_url=live.url, viewport=LAPTOP, locale="en-GB", timezone_id="Europe/London")
    page = staff.new_page()
    with live.context():
        worker = Family.get_by_id(family.id).worker
        admin = factories.make_user("admin", name="Alex")
    for user, path, name in ((worker, f"/worker/families/{family.id}", "worker-alert.png"),
                             (admin, "/admin/", "admin-warnings.png")):
        page.goto("/login")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(factories.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        page.goto(path)
        shoot(page, folder / name)
        page.context.clear_cookies()
    staff.close()
