"""The family worker on a phone (390×844, real Chromium): compact caseload cards with a call button,
logging a call from the family page moves the family down the call list, and a new invite can be
shared or copied (the Web Share API where there is one, else the clipboard)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from coach.models import User, utcnow
from tests import factories
from tests.test_engagement import add_checkin, add_device

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
# Records what the page asks to share (a phone would open its share sheet).
SHARE_STUB = """(() => {
  window.__shared = [];
  navigator.share = async (data) => { window.__shared.push(data); };
  navigator.canShare = () => true;
})();"""


@pytest.fixture
def worker_page(browser, live):
    """A worker with three families (quiet for 8 days, slipping for 5, engaged) signed in on a phone."""
    with live.context():
        worker = factories.make_user("worker", name="Maya Okafor")
        now = utcnow()
        families = {}
        for name, days_ago, run in (("Alba Quiet", 8, 1), ("Bo Slipping", 5, 1), ("Cy Engaged", 0, 5)):
            family = factories.make_family(worker=worker, display_name=name, timezone="Europe/London", country="GB",
                                           created_at=now - timedelta(days=40))
            add_device(family, last_ok_at=now - timedelta(days=1))
            for n in range(run):
                add_checkin(family, now - timedelta(days=days_ago + n, hours=1))
            families[name] = family
        User.update(phone="+447700900123").where(User.id == families["Alba Quiet"].user_id).execute()
    context = browser.new_context(base_url=live.url, viewport=PHONE, is_mobile=True, has_touch=True,
                                  locale="en-GB", timezone_id="Europe/London")
    context.add_init_script(SHARE_STUB)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto("/login")
    page.get_by_label("Email").fill(worker.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/worker/")
    yield page
    assert not [e for e in errors if "status of 422" not in e], errors  # CSP violations, script errors
    context.close()


def card_names(page) -> list[str]:
    return page.locator("tr.case .case-link").all_text_contents()


def test_log_a_call_and_the_family_moves_down(worker_page):
    page = worker_page
    assert card_names(page) == ["Alba Quiet", "Bo Slipping", "Cy Engaged"]
    for box in (row.bounding_box() for row in page.locator("tr.case").all()):
        assert box["height"] <= 140 and box["width"] <= 390
    call = page.get_by_role("link", name="Call Alba Quiet")
    assert call.get_attribute("href") == "tel:+447700900123"
    call_box = call.bounding_box()
    assert call_box["width"] >= 44 and call_box["height"] >= 44

    page.locator("tr.case").first.click()  # the whole card opens the family
    page.wait_for_url("**/worker/families/*")
    assert page.get_by_role("link", name="Call 07700 900123").get_attribute("href") == "tel:+447700900123"
    assert page.get_by_role("link", name="Text").get_attribute("href").startswith("sms:+447700900123?&body=Hi%20Alba")
    page.get_by_label("How you got in touch").select_option("call")
    page.get_by_label("What happened").select_option("reached")
    page.get_by_label("Note (optional, only workers see it)", exact=True).fill("Talked about bedtimes; calling back Friday.")
    in_three_days = (utcnow() + timedelta(days=3)).date()
    page.get_by_label("Next step on (optional)").fill(in_three_days.isoformat())
    page.get_by_role("button", name="Log contact").click()
    page.wait_for_url("**#contacts")
    assert "Saved: phone call · reached." in page.locator(".flash").first.text_content()
    log = page.locator(".contact-log li").first
    assert "Phone call · Reached" in log.text_content()
    assert "Talked about bedtimes" in log.text_content()

    page.get_by_role("link", name="← All families").click()
    page.wait_for_url("**/worker/")
    assert card_names(page) == ["Bo Slipping", "Cy Engaged", "Alba Quiet"]
    assert "next" in page.locator("tr.case").last.text_content()


def test_a_wrong_next_step_date_is_explained_and_nothing_is_logged(worker_page):
    page = worker_page
    page.get_by_role("link", name="Bo Slipping").click()
    page.get_by_label("Next step on (optional)").fill((utcnow() - timedelta(days=2)).date().isoformat())
    page.get_by_role("button", name="Log contact").click()
    assert page.locator("#contact-next-error").text_content() == "Choose today or a later date for the next step."
    assert page.locator(".contact-log").count() == 0


def test_invite_share_and_copy(worker_page, live):
    page = worker_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page.goto("/worker/invites")
    page.get_by_role("button", name="Create invite link").click()
    link = page.locator("#new-link").text_content().strip()
    page.get_by_role("button", name="Share…").click()
    shared = page.evaluate("window.__shared")
    assert shared[0]["url"] == link and "Maya Okafor" in shared[0]["text"]
    page.get_by_role("button", name="Copy link").click()
    page.get_by_text("Link copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert page.get_by_role("link", name="Send by text").get_attribute("href").startswith("sms:?&body=Hi")
    assert page.get_by_role("button", name="Print invite card").is_visible()
