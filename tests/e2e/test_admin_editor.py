"""The prompt editor in real Chromium: the preview and counters follow your typing, the server's
checks and reading grades appear as you type, the lock screen shows when text would be cut off,
and the page still works at 360 px."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from coach.models import Prompt
from tests import factories

pytestmark = pytest.mark.e2e

LAPTOP = {"width": 1280, "height": 900}


@pytest.fixture
def admin_page(browser, live):
    with live.context():
        admin = factories.make_user("admin")
        prompt_id = Prompt.select(Prompt.id).where(Prompt.theme == "rupture").first().id
    context = browser.new_context(base_url=live.url, viewport=LAPTOP, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto("/login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")
    page.goto(f"/admin/prompts/{prompt_id}")
    yield page
    # CSP violations and script errors show here; a 422 page is the save refusing bad input.
    assert not [e for e in errors if "status of 422" not in e], errors
    context.close()


def test_preview_counters_and_live_checks_follow_typing(admin_page):
    page = admin_page
    page.fill("#title", "A wobble with {child}")
    page.fill("#preview-child", "Maya")
    assert page.locator("[data-preview=title]").text_content() == "A wobble with Maya"
    assert page.locator("[data-counter-for=title]").text_content() == "24 / 40"
    page.fill("#question", "Did you notice?")
    assert page.locator("[data-preview=question]").text_content() == "Did you notice?"

    page.fill("#why", "Reciprocal interpersonal communication strengthens developmental trajectories.")
    why_error = page.locator("[data-error-for=why]")
    why_error.wait_for(state="visible")
    assert "reads at grade" in why_error.text_content()
    assert "is-over" in page.locator("[data-grade-for=why]").get_attribute("class")

    page.fill("#title", "x" * 41)
    assert "is-over" in page.locator("[data-counter-for=title]").get_attribute("class")
    page.locator("[data-error-for=title]").wait_for(state="visible")
    assert page.locator("#cut-warning").is_visible()
    assert "cut off the title" in page.locator("#cut-warning").text_content()

    # Saving is still checked on the server: the page comes back with the problems.
    page.get_by_role("button", name="Save a new version").click()
    assert "Title is 41 characters; the limit is 40." in page.content()


def test_hard_moment_only_offered_on_rupture_prompts(admin_page):
    page = admin_page
    unchecked = page.locator("[data-hard-toggle]:not(:has(input:checked))").first
    assert unchecked.is_visible()
    page.select_option("#theme", "cues")
    assert not unchecked.is_visible()
    page.locator("[data-error-for='answers.1']").wait_for(state="visible")  # the checked one stays, flagged


def test_editor_fits_a_360px_screen(admin_page):
    page = admin_page
    page.set_viewport_size({"width": 360, "height": 780})
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert page.locator(".notification-title").is_visible()


def test_spanish_side_by_side_with_its_own_preview_counters_and_reading_ease(admin_page):
    page = admin_page
    page.get_by_role("link", name="Write the Spanish").click()
    page.wait_for_url("**/translations/es")
    page.fill("#title", "Un momento con {child}")
    assert page.locator("[data-preview=title]").text_content() == "Un momento con tu peque"
    assert page.locator("[data-counter-for=title]").text_content() == "23 / 40"  # {child} read as "tu peque"
    page.fill("#preview-child", "Maya")
    assert page.locator("[data-preview=title]").text_content() == "Un momento con Maya"
    page.fill("#why", "La consideración epistemológica fundamentalmente inadecuada caracteriza investigaciones.")
    expect(page.locator("[data-error-for=why]")).to_contain_text("reads at ease")
    expect(page.locator("[data-grade-for=why]")).to_have_class(re.compile("is-over"))
    page.fill("#answer-0-label", "x" * 41)
    expect(page.locator("[data-error-for=answer-0-label]")).to_contain_text("the limit is 40")
    page.set_viewport_size({"width": 360, "height": 780})
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
