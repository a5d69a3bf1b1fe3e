"""Browser-test fixtures: one live app, push service and Chromium for the session; a fresh phone-
sized browser context per test, with notifications granted and ``PushManager.subscribe`` stubbed to
return a subscription whose keys the test owns (everything after it is real)."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from coach.models import Delivery, Family, utcnow
from coach.services.delivery.scheduling import plan_due_deliveries
from coach.services.delivery.sending import run_send_tick
from tests import factories
from tests.pushservice import PushService, TestSubscription
from tests.waiting import wait_until

from .live import LiveApp

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}

# Only PushManager.prototype.subscribe is replaced; getSubscription agrees with it.
SUBSCRIBE_STUB = """(() => {
  const info = %s;
  const bytes = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") +
    "=".repeat((4 - s.length %% 4) %% 4)), (c) => c.charCodeAt(0)).buffer;
  const subscription = () => ({
    endpoint: info.endpoint, expirationTime: null, options: { userVisibleOnly: true },
    getKey: (name) => bytes(info.keys[name]),
    toJSON: () => ({ endpoint: info.endpoint, expirationTime: null, keys: info.keys }),
    unsubscribe: async () => { localStorage.removeItem("e2e-subscribed"); return true; },
  });
  PushManager.prototype.subscribe = async function () {
    localStorage.setItem("e2e-subscribed", "1");
    return subscription();
  };
  PushManager.prototype.getSubscription = async function () {
    return localStorage.getItem("e2e-subscribed") ? subscription() : null;
  };
})();"""


@pytest.fixture(scope="session")
def push_service():
    with PushService() as service:
        yield service


@pytest.fixture(scope="session")
def live(tmp_path_factory, push_service):
    server = LiveApp(tmp_path_factory.mktemp("live"), push_service)
    yield server
    server.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def device(push_service) -> TestSubscription:
    """The phone's push subscription: the test holds its private key."""
    return push_service.subscribe()


def new_phone(browser, live, device, locale: str = "en-GB", zone: str = "Europe/London"):
    """A phone-sized browser context whose push subscription is ``device``."""
    context = browser.new_context(base_url=live.url, viewport=PHONE, is_mobile=True, has_touch=True,
                                  locale=locale, timezone_id=zone)
    context.add_init_script(SUBSCRIBE_STUB % json.dumps(device.info()))
    context.set_default_timeout(20_000)  # generous: the machine may be busy; nothing is timed
    return context


@pytest.fixture
def context(browser, live, device):
    context = new_phone(browser, live, device)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


def allow_notifications(context, live) -> None:
    """The parent says yes: both permissions in one call (a grant denies everything not listed)."""
    context.grant_permissions(["notifications", "background-sync"], origin=live.url)


def make_parent(live, **fields) -> Family:
    """A family whose prompt window covers the whole local day, so a prompt can be planned now."""
    values = {"timezone": "Europe/London", "window_start": "00:00", "window_end": "23:59"}
    values.update(fields)
    with live.context():
        worker = factories.make_user("worker")
        return factories.make_family(worker=worker, **values)


def sign_in(page, family: Family) -> None:
    sign_in_as(page, family.user)


def sign_in_as(page, user, lands: str = "**/") -> None:
    """Sign ``user`` in through the login form and wait for the page they land on."""
    page.goto("/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lands)


def wait_for_worker(page) -> None:
    """Until the service worker is installed and controls the page."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def plan_and_send(live, push_service, family: Family):
    """Plan today's prompt for ``family`` and send it for real; returns (delivery, decrypted payload)."""
    before = len(push_service.received)
    delivery = send_today(live, family)
    received = push_service.wait_for(before + 1)[-1]
    assert received.status == 201, received.error
    return delivery, received.json()


def send_today(live, family: Family) -> Delivery:
    """Plan today's prompt for ``family`` and run one real send tick; returns the delivery."""
    def tick() -> Delivery:
        with live.context():
            now = utcnow()
            Family.update(next_due_at=now - timedelta(minutes=1)).where(Family.id == family.id).execute()
            plan_due_deliveries(now)
            delivery = Delivery.get(Delivery.family == family.id)
            run_send_tick(max(now, delivery.due_at))
            return Delivery.get_by_id(delivery.id)

    # Its own thread: the sender runs an asyncio loop, and Playwright's sync API owns this thread's.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(tick).result()


def deliver_push(page, live, payload: dict) -> None:
    """Hand a decrypted push to the page's service worker with the DevTools protocol."""
    cdp = page.context.new_cdp_session(page)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.extend(r for r in event["registrations"] if not r["isDeleted"]))
    cdp.send("ServiceWorker.enable")
    wait_until(lambda: registrations or page.wait_for_timeout(50))
    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": live.url, "registrationId": registrations[0]["registrationId"], "data": json.dumps(payload)})
    cdp.detach()


def deliver_until_shown(page, live, payload: dict, tries: int = 3) -> list[dict]:
    """Deliver ``payload`` and wait for its notification; hand it over again if none shows.

    One full CI run (2026-12-02) saw no notification for 20 s after a re-push handed over right
    after a notification click; it did not happen again in isolation or in the whole browser
    suite run by itself. The hand-over is the DevTools protocol's, not the app's, so it is tried
    again here; what the notification says is still asserted by the caller."""
    def shown():
        return [n for n in shown_notifications(page) if n["tag"] == payload["tag"]]

    for attempt in range(tries):
        deliver_push(page, live, payload)
        try:
            return wait_until(shown, timeout=7.0)
        except AssertionError:
            if attempt == tries - 1:
                raise
    return []


SHOWN = """async () => (await (await navigator.serviceWorker.ready).getNotifications())
  .map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data, actions: n.actions.map((a) => a.action) }))"""


def shown_notifications(page) -> list[dict]:
    return page.evaluate(SHOWN)


def click_notification(page, tag: str, action: str = "") -> None:
    """No protocol clicks a system notification: the page asks the service worker to run its own
    notificationclick handler on the shown notification (the same function, see static/sw.js)."""
    page.evaluate("""async ([tag, action]) => (await navigator.serviceWorker.ready).active
        .postMessage({ type: "test-notificationclick", tag, action })""", [tag, action])
