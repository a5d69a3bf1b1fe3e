"""Texts chosen on a phone, through the settings page (DESIGN "Reach → Text messages"): the
channel and the consent words are there once texts are configured, choosing texts without
agreeing is refused next to the box with nothing saved, and agreeing queues one confirmation."""
from __future__ import annotations

import os

import pytest

from coach.models import TextMessage, User

from .conftest import make_parent, sign_in
from .test_parent_quality import serious_violations
from .test_screenshots import DOCS

pytestmark = pytest.mark.e2e
TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "token",
          "TWILIO_FROM": "+15005550006", "TWILIO_API_BASE": "http://127.0.0.1:9"}  # never posted to here


@pytest.fixture
def texts_on(live):
    live.app.config.update(TWILIO)
    yield
    for key in TWILIO:
        live.app.config.pop(key, None)


def test_a_parent_chooses_texts_and_agrees_on_the_settings_page(page, live, texts_on):
    family = make_parent(live, display_name="Robin", child_name="Ada")
    sign_in(page, family)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/settings")
    page.get_by_role("textbox", name="Your phone number (optional)").fill("+44 7400 123456")
    page.get_by_label("Text messages", exact=True).check()
    page.get_by_role("button", name="Save settings").click()

    page.get_by_text("tick the box to agree to them").wait_for()
    with live.context():
        user = User.get_by_id(family.user_id)
        assert (user.channel, user.phone, user.sms_opt_in_at) == ("push", "", None)  # nothing half-written

    consent = page.get_by_label("Msg & data rates may apply", exact=False)
    consent.check()
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("You agreed to texts at this number").wait_for()
    with live.context():
        user = User.get_by_id(family.user_id)
        assert (user.channel, user.phone) == ("sms", "+447400123456") and user.sms_opt_in_at
        assert [t.kind for t in TextMessage.select().where(TextMessage.user == user.id)] == ["confirm"]
    assert serious_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= 390")
    if os.environ.get("ATTUNE_SCREENSHOTS") == "1":
        page.locator("section[aria-labelledby=phone-title]").screenshot(path=DOCS / "parent-settings-texts.png")
