"""Issue 11 (part A) in real Chromium at 390×844: from the notification to a saved check-in in two
taps with the answers in view; one offline tap saved exactly once; "Reminders on this phone" off
survives a reload, a reopen and a new service worker; "Later" pushes the same prompt again after
the hour (clock moved) and never after the local day ends; an empty "add more" shows its error,
focused."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from coach.models import CheckIn, Delivery, PushOptOut, PushSubscription, utcnow
from coach.services.delivery.sending import run_send_tick
from tests.parent_helpers import make_delivery

from .conftest import (
    allow_notifications,
    click_notification,
    deliver_push,
    deliver_until_shown,
    make_parent,
    plan_and_send,
    shown_notifications,
    sign_in,
    wait_for_worker,
    wait_until,
)

pytestmark = pytest.mark.e2e


def checkins(live, **where) -> list[CheckIn]:
    with live.context():
        query = CheckIn.select()
        for name, value in where.items():
            query = query.where(getattr(CheckIn, name) == value)
        return list(query)


def subscribed(live, family, device) -> None:
    with live.context():
        PushSubscription.create(user=family.user_id, endpoint=device.endpoint, p256dh=device.p256dh,
                                auth=device.auth)


def assert_in_viewport(page, locator) -> None:
    viewport = page.viewport_size
    for index in range(locator.count()):
        box = locator.nth(index).bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (index, box, viewport)
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] and box["height"] >= 44


def test_notification_to_saved_check_in_in_two_taps(page, context, live, push_service, device):
    allow_notifications(context, live)
    family = make_parent(live)
    subscribed(live, family, device)
    sign_in(page, family)
    wait_for_worker(page)
    delivery, payload = plan_and_send(live, push_service, family)
    deliver_push(page, live, payload)
    (shown,) = wait_until(lambda: shown_notifications(page))
    assert shown["actions"] == ["tried", "later"]

    click_notification(page, shown["tag"])  # tap 1: the notification
    page.wait_for_url(f"**/checkin/{delivery.id}")
    answers = page.locator(".answer-btn")
    answers.first.wait_for()
    assert answers.count() == len(payload and checkins_prompt_answers(live, delivery.id))
    assert_in_viewport(page, answers)  # no scrolling
    assert page.evaluate("window.scrollY") == 0
    answers.nth(1).click()  # tap 2: an answer
    page.locator("#checkin-saved").wait_for()
    assert page.evaluate("document.activeElement.id") == "checkin-saved"
    assert "Your next prompt comes" in page.locator("#checkin-saved").inner_text()
    (saved,) = wait_until(lambda: checkins(live, delivery=delivery.id))
    expected = checkins_prompt_answers(live, delivery.id)[1]["tried"]
    assert (saved.answer, saved.tried, saved.felt, saved.note) == (1, expected, None, None)

    # The optional step: a feeling and a note, added to the same check-in.
    page.get_by_text("Close", exact=True).click()
    page.get_by_label("A note for yourself").fill("She looked back and smiled.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Added to your check-in.").wait_for()
    (saved,) = checkins(live, delivery=delivery.id)
    assert (saved.felt, saved.note) == (4, "She looked back and smiled.")


def checkins_prompt_answers(live, delivery_id: int) -> list[dict]:
    with live.context():
        return Delivery.get_by_id(delivery_id).prompt.answers


def test_the_answers_fit_a_small_phone_too(browser, live):
    context = browser.new_context(base_url=live.url, viewport={"width": 360, "height": 740}, is_mobile=True,
                                  has_touch=True, locale="en-GB", timezone_id="Europe/London")
    try:
        page = context.new_page()
        family = make_parent(live)
        with live.context():
            delivery = make_delivery(family)
        sign_in(page, family)
        page.goto(f"/checkin/{delivery.id}")
        assert_in_viewport(page, page.locator(".answer-btn"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()


def test_offline_one_tap_is_saved_once_after_reconnecting(page, context, live):
    allow_notifications(context, live)  # Background Sync
    family = make_parent(live)
    with live.context():
        delivery = make_delivery(family)
    sign_in(page, family)
    wait_for_worker(page)
    page.goto(f"/checkin/{delivery.id}")
    context.set_offline(True)
    page.locator(".answer-btn").first.click()
    page.locator("#checkin-waiting").wait_for()
    page.get_by_text("Very close").click()  # extras made offline wait behind their check-in
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Kept on this phone: it's added when you're online.").wait_for()
    assert checkins(live, family=family.id) == []
    context.set_offline(False)
    page.locator("#checkin-saved").wait_for()
    wait_until(lambda: [c for c in checkins(live, family=family.id) if c.felt == 5])
    wait_until(lambda: page.evaluate("self.AttuneOutbox.count()") == 0)
    page.reload()
    assert len(checkins(live, family=family.id)) == 1


def switch(page):
    return page.get_by_role("switch", name="Reminders on this phone")


def test_reminders_off_survives_reload_reopen_and_a_new_service_worker(page, context, live, device):
    family = make_parent(live)
    sign_in(page, family)
    toggle = switch(page)
    page.locator("#notify-card[data-ready]").wait_for()  # the app has looked: off, not yet asked
    assert_in_viewport(page, toggle)  # "Turn on reminders" in view at once on home
    assert "Turn on reminders" in toggle.inner_text()
    allow_notifications(context, live)
    toggle.click()
    page.get_by_text("Reminders are on.").wait_for()
    assert toggle.get_attribute("aria-checked") == "true"
    with live.context():
        assert PushSubscription.select().where(PushSubscription.endpoint == device.endpoint).count() == 1

    toggle.click()  # off
    page.get_by_text("Reminders are off on this phone.").wait_for()
    wait_until(lambda: _devices(live, family) == 0)

    def still_off():
        wait_for_worker(page)
        switch(page).wait_for()
        page.locator("#notify-card[data-ready]").wait_for()  # this open's sync (if any) is done
        assert switch(page).get_attribute("aria-checked") == "false"
        assert _devices(live, family) == 0

    page.reload()
    still_off()
    page.close()  # the app closed and opened again
    page = context.new_page()
    page.goto("/")
    still_off()
    page.evaluate("async () => { for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister(); }")
    page.reload()  # a new service worker installs
    still_off()
    page.goto("/settings")
    still_off()
    # The phone forgot (storage cleared): the server still says off and nothing is stored.
    page.evaluate("() => { localStorage.removeItem(Object.keys(localStorage).find((k) => k.startsWith('attune-reminders-off:'))); sessionStorage.clear(); }")
    page.evaluate("() => localStorage.setItem('e2e-subscribed', '1')")
    page.goto("/")
    still_off()
    with live.context():
        assert PushOptOut.select().where(PushOptOut.user == family.user_id).count() == 1
    switch(page).click()  # on again: only a tap does it
    page.get_by_text("Reminders are on.").wait_for()
    wait_until(lambda: _devices(live, family) == 1)


def _devices(live, family) -> int:
    with live.context():
        return PushSubscription.select().where(PushSubscription.user == family.user_id).count()


def daytime_zone() -> str:
    """A time zone where it is now between 02:00 and 20:00, so the local day has hours left
    whatever the real clock says (the test never depends on the hour it runs at)."""
    now = datetime.now(UTC)
    for zone in ("Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Tokyo",
                 "Asia/Kolkata", "Pacific/Honolulu", "Pacific/Kiritimati"):
        if 2 <= now.astimezone(ZoneInfo(zone)).hour < 20:
            return zone
    raise AssertionError("no zone in daytime")  # the list spans 24 hours of offsets


def _tick(live, now):
    def run():
        with live.context():
            return run_send_tick(now)
    with ThreadPoolExecutor(1) as pool:  # the sender runs its own asyncio loop
        return pool.submit(run).result()


def test_later_pushes_again_after_the_hour_and_never_after_the_day_ends(page, context, live, push_service,
                                                                          device):
    allow_notifications(context, live)
    family = make_parent(live, timezone=daytime_zone())
    subscribed(live, family, device)
    sign_in(page, family)
    wait_for_worker(page)
    delivery, payload = plan_and_send(live, push_service, family)
    deliver_push(page, live, payload)
    (shown,) = wait_until(lambda: shown_notifications(page))
    pushes = len(push_service.received)
    click_notification(page, shown["tag"], "later")
    confirmation = wait_until(lambda: [n for n in shown_notifications(page) if n["tag"] == "attune-confirm"])
    assert confirmation[0]["body"] == "We'll remind you again in an hour."
    with live.context():
        snoozed = Delivery.get_by_id(delivery.id)
    assert snoozed.snoozes == 1 and snoozed.next_attempt_at >= utcnow() + timedelta(minutes=59)

    assert _tick(live, snoozed.next_attempt_at - timedelta(minutes=1))["sent"] == 0  # not yet
    assert _tick(live, snoozed.next_attempt_at)["sent"] == 1  # the clock moved an hour on
    again = push_service.wait_for(pushes + 1)[-1]
    assert again.status == 201 and again.json()["delivery_id"] == delivery.id
    assert again.json()["tag"] == payload["tag"]  # it replaces the first notification

    # Late in the day: a Later that would fall after the local day ends is refused, and said so.
    with live.context():
        Delivery.update(status="sent", expires_at=utcnow() + timedelta(minutes=30)).where(
            Delivery.id == delivery.id).execute()
    deliver_until_shown(page, live, again.json())
    click_notification(page, payload["tag"], "later")
    wait_until(lambda: [n for n in shown_notifications(page) if n["tag"] == "attune-confirm"
                        and "day ends" in n["body"]])
    assert _tick(live, utcnow() + timedelta(hours=2))["sent"] == 0
    assert len(push_service.received) == pushes + 1


def test_an_empty_add_more_shows_its_error_focused(page, context, live):
    family = make_parent(live)
    with live.context():
        delivery = make_delivery(family)
    sign_in(page, family)
    page.goto(f"/checkin/{delivery.id}")
    page.locator(".answer-btn").first.click()
    page.locator("#checkin-saved").wait_for()
    page.get_by_role("button", name="Save", exact=True).click()
    error = page.locator("#more-error")
    error.wait_for()
    assert "Nothing to add yet" in error.inner_text() and error.get_attribute("role") == "alert"
    assert page.evaluate("document.activeElement.id") == "more-error"
    box = error.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= page.viewport_size["height"]  # scrolled into view
    page.get_by_label("A note for yourself").fill("x" * 500 + "y")  # the browser's maxlength stops at 500
    assert len(page.get_by_label("A note for yourself").input_value()) == 500
