"""Two caregivers in real Chromium: a parent invites a partner from settings, the partner enrols in
another browser context, one real push reaches both phones, and both check in on it, separately.

Also takes the household screenshots (the invite screen at 390×844, the worker's household view at
1280 wide): into ``docs/screenshots/`` when ``ATTUNE_SCREENSHOTS=1``, else a temporary folder.
"""
from __future__ import annotations

import os

import pytest

from coach.models import CheckIn, Delivery, PushSubscription, User
from tests import factories

from .conftest import (
    allow_notifications,
    click_notification,
    deliver_push,
    make_parent,
    new_phone,
    send_today,
    shown_notifications,
    sign_in,
    sign_in_as,
    wait_for_worker,
    wait_until,
)
from .test_screenshots import DOCS

pytestmark = pytest.mark.e2e


def check_in_from_the_notification(page, live, payload: dict, delivery: Delivery) -> None:
    deliver_push(page, live, payload)
    (shown,) = wait_until(lambda: shown_notifications(page))
    assert shown["data"]["delivery_id"] == delivery.id
    click_notification(page, shown["tag"])
    page.wait_for_url(f"**/checkin/{delivery.id}")
    page.locator(".answer-btn").first.click()
    page.locator("#checkin-saved").wait_for()


def test_a_partner_joins_and_both_get_the_push_and_check_in(browser, page, context, live, push_service,
                                                           device, tmp_path):
    folder = DOCS if os.environ.get("ATTUNE_SCREENSHOTS") == "1" else tmp_path
    family = make_parent(live, display_name="Robin", child_name="Ada")
    with live.context():
        PushSubscription.create(user=family.user_id, endpoint=device.endpoint, p256dh=device.p256dh,
                                auth=device.auth)
        worker = User.get_by_id(family.worker_id)
        User.update(name="Robin").where(User.id == family.user_id).execute()
    allow_notifications(context, live)
    sign_in(page, family)
    wait_for_worker(page)

    page.goto("/settings")
    page.get_by_role("link", name="Invite another caregiver").click()
    page.get_by_role("button", name="Invite another caregiver").click()
    link = page.locator("#invite-link").inner_text()
    assert "/join/" in link and page.locator(".qr svg").is_visible()
    page.get_by_role("button", name="Copy link").wait_for()  # shown once the script runs
    page.screenshot(path=folder / "parent-household-invite.png", full_page=True)

    partner_device = push_service.subscribe()
    partner_context = new_phone(browser, live, partner_device)
    try:
        partner = partner_context.new_page()
        partner.goto(link)
        partner.get_by_label("Your first name").fill("Sam")
        partner.get_by_label("Email").fill("sam.household@example.org")
        partner.get_by_label("Choose a password").fill(factories.PASSWORD)
        partner.get_by_label("Language").select_option("es")
        partner.get_by_role("button", name="Join").click()
        partner.wait_for_url(live.url + "/")
        partner.get_by_role("heading", name="Hola, Sam").wait_for()  # Sam chose Spanish
        wait_for_worker(partner)
        allow_notifications(partner_context, live)
        partner.locator("#notify-card[data-ready]").get_by_role("switch", name="Avisos en este teléfono").click()
        partner.get_by_text("Los avisos están activados.").wait_for()

        before = len(push_service.received)
        delivery = send_today(live, family)
        received = push_service.wait_for(before + 2)[before:]
        assert sorted(r.endpoint for r in received) == sorted([device.endpoint, partner_device.endpoint])
        assert {r.status for r in received} == {201} and {r.json()["delivery_id"] for r in received} == {delivery.id}
        by_endpoint = {r.endpoint: r.json() for r in received}

        check_in_from_the_notification(page, live, by_endpoint[device.endpoint], delivery)
        check_in_from_the_notification(partner, live, by_endpoint[partner_device.endpoint], delivery)
        with live.context():
            sam = User.by_email("sam.household@example.org")
            made = {c.user_id for c in CheckIn.select().where(CheckIn.delivery == delivery.id)}
            assert made == {family.user_id, sam.id} and Delivery.select().count() >= 1
            assert sam.language == "es"
    finally:
        partner_context.close()

    staff_context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900},
                                        locale="en-GB", timezone_id="Europe/London")
    try:
        staff = staff_context.new_page()
        sign_in_as(staff, worker, lands="**/worker/")
        staff.goto(f"/worker/families/{family.id}#household")
        household = staff.locator("#household")
        household.locator("th", has_text="Sam").wait_for()
        assert household.get_by_text("2 of 4 caregivers").is_visible()
        household.screenshot(path=folder / "worker-household.png")
    finally:
        staff_context.close()
