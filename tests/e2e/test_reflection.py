"""The weekly reflection on a phone: readable light and dark (axe-core), fits 360 px, and an answer
written offline stays on the page with a clear message until it can be saved."""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

import pytest

from coach.models import CheckIn, Family
from coach.services.families.checkins import local_today
from tests.parent_helpers import make_delivery, make_prompt

from .conftest import make_parent, sign_in
from .test_parent_quality import serious_violations

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("ATTUNE_REFLECTION_SHOTS")  # a folder: screenshots to look at by eye


def reflection_week(live) -> tuple[Family, int]:
    family = make_parent(live, child_name="Sam")
    with live.context():
        today = local_today(family)
        Family.update(created_at=datetime.combine(today - timedelta(days=6), datetime.min.time())).where(
            Family.id == family.id).execute()
        repair = make_prompt("repair", title="Come back to {child} softly",
                             answers=[{"label": "Yes, we had a cuddle after", "tried": "yes"},
                                      {"label": "Not today", "tried": "not_yet"}])
        made = datetime.combine(today - timedelta(days=2), datetime.min.time()) + timedelta(hours=12)
        CheckIn.create(id=uuid.uuid4(), family=family, user=family.user_id, prompt=repair, answer=0, tried="yes",
                       client_created_at=made, received_at=made)
        return family, make_delivery(family, kind="reflection").id


def test_the_reflection_on_a_phone_keeps_an_offline_answer(browser, live):
    family, reflection_id = reflection_week(live)
    context = browser.new_context(base_url=live.url, viewport={"width": 360, "height": 740},
                                  is_mobile=True, has_touch=True, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        sign_in(page, family)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.goto(f"/reflection/{reflection_id}")
            page.get_by_text("You came back together").wait_for()
            assert serious_violations(page) == [], scheme
            assert page.evaluate("document.documentElement.scrollWidth <= 360"), scheme
            save = page.get_by_role("button", name="Save")
            assert save.bounding_box()["height"] >= 44
            if SHOTS:
                page.screenshot(path=f"{SHOTS}/reflection-{scheme}.png", full_page=True)

        note = page.get_by_label("What did you notice about Sam this week")
        note.fill("Sam reached for my face.")
        context.set_offline(True)
        save.click()
        page.get_by_text("You're offline, so your answer isn't saved yet").wait_for()
        assert note.input_value() == "Sam reached for my face."
        with live.context():
            assert not CheckIn.select().where(CheckIn.delivery == reflection_id).exists()

        context.set_offline(False)
        save.click()
        page.get_by_text("Your answer is saved in your journal.").wait_for()
        assert page.get_by_label("What did you notice about Sam this week").input_value() == \
            "Sam reached for my face."
        with live.context():
            (answer,) = CheckIn.select().where(CheckIn.delivery == reflection_id)
            assert (answer.note, answer.shared_with_worker) == ("Sam reached for my face.", False)
    finally:
        context.close()
