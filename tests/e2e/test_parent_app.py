"""The parent app in real Chromium on a phone-sized screen: enrol → allow notifications → a real push
→ the notification → check in → journal; the one-tap "I tried it"; offline check-ins sent exactly
once; the app shell offline."""
from __future__ import annotations

import re

import pytest

from coach.models import CheckIn, Delivery, PushSubscription
from coach.services.people.invites import create_invite
from tests import factories
from tests.parent_helpers import make_delivery

from .conftest import (
    allow_notifications,
    click_notification,
    deliver_push,
    make_parent,
    plan_and_send,
    shown_notifications,
    sign_in,
    wait_for_worker,
    wait_until,
)

pytestmark = pytest.mark.e2e


def count_checkins(live, **where) -> int:
    with live.context():
        query = CheckIn.select()
        for name, value in where.items():
            query = query.where(getattr(CheckIn, name) == value)
        return query.count()


def enrol(page, live) -> str:
    """Join from a worker's invite link, as a parent would; returns the parent's email."""
    with live.context():
        _invite, token = create_invite(factories.make_user("worker"))
    page.goto(f"/join/{token}")
    email = f"parent-{token[:8].lower()}@example.org"
    page.get_by_label("Your first name").fill("Robin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Choose a password").fill(factories.PASSWORD)
    page.get_by_label("Your child's first name").fill("Ada")
    page.get_by_label("Month your child was born").fill("2026-03")
    page.get_by_label("Earliest time").fill("00:00")
    page.get_by_label("Latest time").fill("23:59")
    assert page.get_by_label("Time zone").input_value() == "Europe/London"  # filled from the phone
    page.get_by_role("button", name="Join and start").click()
    page.wait_for_url(re.compile(r"/welcome$"))  # onboarding: reminders first
    return email


def test_enrol_allow_notifications_push_click_check_in_journal(page, context, live, push_service, device):
    email = enrol(page, live)
    card = page.locator("#notify-card[data-ready]")
    card.get_by_text("One small idea a day").wait_for()  # explained before asking
    allow_notifications(context, live)  # what the parent will answer when the browser asks
    card.get_by_role("switch", name="Reminders on this phone").click()
    page.get_by_text("Reminders are on.").wait_for()
    with live.context():
        stored = PushSubscription.get(PushSubscription.endpoint == device.endpoint)
        family = stored.user.families[0]
        assert stored.user.email == email and stored.p256dh == device.p256dh

    delivery, payload = plan_and_send(live, push_service, family)
    assert payload["url"] == f"/checkin/{delivery.id}" and payload["web_push"] == 8030
    deliver_push(page, live, payload)
    shown = wait_until(lambda: shown_notifications(page))
    assert shown[0]["title"] == payload["title"] and shown[0]["actions"] == ["tried", "later"]
    assert shown[0]["data"]["delivery_id"] == delivery.id

    click_notification(page, shown[0]["tag"])
    page.wait_for_url(f"**/checkin/{delivery.id}")
    wait_until(lambda: _opened(live, delivery.id))
    page.locator(".answer-btn").first.click()
    page.locator("#checkin-saved").wait_for()
    page.get_by_text("Close", exact=True).click()
    page.get_by_label("A note for yourself").fill("She looked back and smiled.")
    assert page.locator("#note-counter").inner_text() == "27 / 500"
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Added to your check-in.").wait_for()
    assert count_checkins(live, delivery=delivery.id, felt=4) == 1

    page.get_by_role("link", name="Journal", exact=True).click()
    page.get_by_text("She looked back and smiled.").wait_for()
    assert page.get_by_text("Close").first.is_visible()


def _opened(live, delivery_id: int) -> bool:
    with live.context():
        return Delivery.get_by_id(delivery_id).opened_at is not None


def test_i_tried_it_from_the_notification(page, context, live, push_service, device):
    allow_notifications(context, live)
    family = make_parent(live)
    with live.context():
        PushSubscription.create(user=family.user_id, endpoint=device.endpoint, p256dh=device.p256dh,
                                auth=device.auth)
    sign_in(page, family)
    wait_for_worker(page)
    delivery, payload = plan_and_send(live, push_service, family)
    deliver_push(page, live, payload)
    (shown,) = wait_until(lambda: shown_notifications(page))
    click_notification(page, shown["tag"], "tried")
    click_notification(page, shown["tag"], "tried")  # a second tap finds it closed: no second check-in
    wait_until(lambda: count_checkins(live, delivery=delivery.id, tried="yes"))
    confirmed = wait_until(lambda: [n for n in shown_notifications(page) if n["tag"] == "attune-confirm"])
    assert confirmed[0]["body"] == "Saved to your journal. Well done for trying it."  # a short confirmation
    assert count_checkins(live, family=family.id) == 1
    assert page.url.endswith("/")  # the check-in happened without opening the app
    page.reload()
    assert page.get_by_text("You checked in on this one").is_visible()


def test_offline_checkin_is_stored_once_after_reconnecting(page, context, live):
    allow_notifications(context, live)  # Background Sync
    family = make_parent(live)
    with live.context():
        delivery = make_delivery(family)
    sign_in(page, family)
    wait_for_worker(page)
    page.goto(f"/checkin/{delivery.id}")

    context.set_offline(True)
    page.locator(".answer-btn").nth(1).click()
    page.locator("#checkin-waiting").wait_for()
    page.get_by_text("Very close").click()
    page.get_by_label("A note for yourself").fill("Offline on the bus.")
    page.get_by_role("button", name="Save", exact=True).click()
    assert "Waiting to send" in page.locator("#checkin-waiting").inner_text()
    assert count_checkins(live, family=family.id) == 0

    context.set_offline(False)
    page.locator("#checkin-saved").wait_for()
    wait_until(lambda: count_checkins(live, family=family.id))
    page.goto("/journal")
    page.get_by_text("Offline on the bus.").wait_for()
    assert page.locator("#outbox-status").is_hidden()
    assert page.evaluate("self.AttuneOutbox.count()") == 0
    assert count_checkins(live, family=family.id) == 1


def test_background_sync_sends_the_outbox_with_no_page_open(page, context, live):
    allow_notifications(context, live)
    family = make_parent(live)
    with live.context():
        delivery = make_delivery(family)
    sign_in(page, family)
    wait_for_worker(page)
    page.goto(f"/checkin/{delivery.id}")
    context.set_offline(True)
    page.locator(".answer-btn").first.click()
    page.locator("#checkin-waiting").wait_for()
    page.close()  # nobody left to send it but the service worker's "sync" event
    context.set_offline(False)
    wait_until(lambda: count_checkins(live, family=family.id))
    assert count_checkins(live, family=family.id) == 1


def test_app_shell_loads_offline(page, context, live):
    family = make_parent(live)
    sign_in(page, family)
    wait_for_worker(page)
    page.reload()  # now fetched through the service worker, so it is cached
    context.set_offline(True)
    response = page.reload()
    assert response.from_service_worker
    assert page.get_by_role("heading", name=re.compile("Hello")).is_visible()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgba(0, 0, 0, 0)"
    page.goto("/journal")  # never visited: the offline page
    assert page.get_by_role("heading", name="You're offline").is_visible()
    context.set_offline(False)
