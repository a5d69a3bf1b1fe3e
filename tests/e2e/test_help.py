"""Help that reaches a person, in real Chromium: a parent asks from the check-in and from /help; the
family worker's own browser (another context, alerts turned on) gets each push through the loopback
push service and the real service worker; the worker follows up; the parent sees "followed up"."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from coach.delivery_cli import send_due
from coach.models import PushSubscription, SupportRequest
from coach.services.families.resources import seed_resources_if_empty
from tests import factories
from tests.parent_helpers import make_delivery

from .conftest import (
    SUBSCRIBE_STUB,
    allow_notifications,
    click_notification,
    deliver_push,
    shown_notifications,
    sign_in,
    wait_for_worker,
    wait_until,
)

pytestmark = pytest.mark.e2e
LAPTOP = {"width": 1280, "height": 800}
NOTE = "Rough night with Ada, please call"


@pytest.fixture
def care(live):
    """Maria, a worker, and her family in the UK with today's prompt waiting; helplines seeded."""
    with live.context():
        seed_resources_if_empty()
        worker = factories.make_user("worker", name="Maria")
        family = factories.make_family(worker=worker, country="GB", child_name="Ada",
                                       window_start="00:00", window_end="23:59")
        delivery = make_delivery(family)
    return worker, family, delivery


@pytest.fixture
def worker_page(browser, live, push_service, care):
    """The worker's laptop browser: its own context, its own push subscription."""
    device = push_service.subscribe()
    context = browser.new_context(base_url=live.url, viewport=LAPTOP, locale="en-GB",
                                  timezone_id="Europe/London")
    context.add_init_script(SUBSCRIBE_STUB % json.dumps(device.info()))
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.device = device
    yield page
    context.close()


def tick(live) -> dict:
    """One scheduler tick, off Playwright's thread (the sender runs its own asyncio loop)."""
    def run():
        with live.context():
            return send_due()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def alert_for(live, push_service, endpoint: str, before: int) -> dict:
    """Run ticks until a push for ``endpoint`` arrives after the first ``before``; its payload."""
    def arrived():
        tick(live)
        mine = [r for r in push_service.received[before:] if r.endpoint.endswith(endpoint.rsplit("/", 1)[-1])]
        return mine[-1] if mine else None

    received = wait_until(arrived, timeout=20, interval=0.2)
    assert received.status == 201, received.error
    return received.json()


def test_a_parents_request_reaches_the_workers_browser_and_the_follow_up_comes_back(
        page, context, live, push_service, care, worker_page):
    worker, family, delivery = care
    # The worker turns on alerts on their laptop.
    worker_page.goto("/login")
    worker_page.get_by_label("Email").fill(worker.email)
    worker_page.get_by_label("Password").fill(factories.PASSWORD)
    worker_page.get_by_role("button", name="Sign in").click()
    worker_page.wait_for_url("**/worker/")
    turn_on = worker_page.get_by_role("button", name="Turn on alerts")
    turn_on.wait_for()  # explained and offered first
    allow_notifications(worker_page.context, live)  # what the worker answers when the browser asks
    turn_on.click()
    worker_page.get_by_text("Alerts are on.").wait_for()
    wait_for_worker(worker_page)
    with live.context():
        assert PushSubscription.get(PushSubscription.endpoint == worker_page.device.endpoint).user_id == worker.id

    # 1. From the check-in: "I'd like my family worker to get in touch".
    sign_in(page, family)
    page.goto(f"/checkin/{delivery.id}")
    page.get_by_role("button", name="Yes, I waited for Ada").click()
    page.get_by_label("I'd like my family worker to get in touch").check()
    page.get_by_role("button", name="Save", exact=True).click()
    support = page.locator("#support-resources")
    support.get_by_role("link", name="999", exact=True).wait_for()
    assert support.get_by_text("Samaritans", exact=True).is_visible()
    assert page.get_by_role("link", name="Get help").first.is_visible()  # the way to help stays in view

    first = alert_for(live, push_service, worker_page.device.endpoint, 0)
    assert first["url"] == f"/worker/families/{family.id}" and "delivery_id" not in first
    assert "Ada" not in json.dumps(first) and family.display_name not in json.dumps(first)
    deliver_push(worker_page, live, first)
    shown = wait_until(lambda: shown_notifications(worker_page))
    assert shown[0]["title"] == "A family asked for help" and shown[0]["actions"] == []

    # 2. From /help: not sure they are safe, with a note for the worker.
    page.goto("/")
    page.get_by_role("link", name="Get help").first.click()
    page.get_by_role("button", name="Not sure").click()
    urgent = page.locator("#urgent")
    assert urgent.get_by_role("link", name="Call 999").is_visible()
    page.get_by_label("Anything you'd like them to know").fill(NOTE)
    page.get_by_role("button", name="Ask them to get in touch").click()
    page.locator("#status").get_by_text("Sent to Maria at").first.wait_for()
    count = len(push_service.received)
    second = alert_for(live, push_service, worker_page.device.endpoint, count)
    assert second["title"].startswith("Urgent") and NOTE not in json.dumps(second)
    deliver_push(worker_page, live, second)
    wait_until(lambda: any(n["tag"] == second["tag"] for n in shown_notifications(worker_page)))

    # 3. The worker opens the alert and follows both requests up.
    click_notification(worker_page, second["tag"])
    worker_page.wait_for_url(f"**/worker/families/{family.id}")
    assert worker_page.get_by_text(NOTE).is_visible()
    assert worker_page.get_by_text("Safe right now?").first.is_visible()
    for _ in range(2):
        worker_page.get_by_role("button", name="Mark followed up").first.click()
        worker_page.get_by_text("Marked followed up.").wait_for()
    with live.context():
        assert SupportRequest.select().where(SupportRequest.followed_up_at.is_null()).count() == 0

    # 4. The parent sees it on /help and on home.
    page.goto("/help")
    assert page.get_by_text("Maria followed up on").first.is_visible()
    page.goto("/")
    assert page.locator("#help-status").get_by_text("Maria followed up on").is_visible()

    # 5. The worker signs out: this laptop leaves the account, so no more alerts arrive on it.
    worker_page.get_by_role("button", name="Sign out", exact=True).click()
    worker_page.wait_for_url("**/login")
    with live.context():
        assert PushSubscription.select().where(PushSubscription.user == worker.id).count() == 0
    assert worker_page.evaluate("localStorage.getItem('e2e-subscribed')") is None  # unsubscribed here too


def test_help_works_offline_once_opened(page, context, live, care):
    """The help page is fetched into the offline cache by every parent page's "Get help" link."""
    _worker, family, _delivery = care
    sign_in(page, family)
    wait_for_worker(page)
    page.reload()  # now controlled: the precache fetch goes through the service worker
    wait_until(lambda: page.evaluate(
        "async () => Boolean(await (await caches.open('attune-pages-v1')).match('/help'))"))
    context.set_offline(True)
    response = page.goto("/help")
    assert response.from_service_worker
    assert page.get_by_role("link", name="Call 999").first.is_visible()
    context.set_offline(False)


def test_signed_out_visitor_picks_a_country(browser, live, care):
    context = browser.new_context(base_url=live.url, viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    page.goto("/login")
    page.get_by_role("link", name="Get help").first.click()
    assert page.get_by_role("link", name="Call 911").first.is_visible()  # en-US → the US list
    page.get_by_label("Show numbers for").select_option("NZ")
    page.get_by_role("button", name="Show", exact=True).click()
    page.wait_for_url("**/help?country=NZ")
    assert page.get_by_role("link", name="Call 111").first.is_visible()
    assert page.get_by_role("link", name="Sign in to ask").is_visible()
    context.close()
