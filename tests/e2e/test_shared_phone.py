"""A shared phone, in real Chromium: parent A checks in while the server is failing and signs out
(warned that the check-in is waiting; A's push subscription leaves the phone and the server);
parent B signs in on the same browser and A's check-in is neither posted under B nor dropped; when
A signs in again it is saved once, under A's family, with its private note. Also: deleting the
account takes the phone's waiting check-ins and its subscription with it."""
from __future__ import annotations

import io
import json
import re
import threading
from datetime import timedelta

import pytest

from coach.models import CheckIn, PushSubscription
from tests.parent_helpers import make_delivery

from .conftest import PHONE, allow_notifications, make_parent, sign_in, wait_for_worker, wait_until
from .test_parent_quality import serious_violations

pytestmark = pytest.mark.e2e

NOTE = "A's private note: the bath-time wobble, and how we found each other again."
WARNING = ("1 check-in hasn't been sent yet. If you sign out now it will wait on this phone and go "
           "when you sign in again.")
CHECKIN_POSTS = ("POST", "/api/checkins")


class FlakyCheckins:
    """Wraps the live app's WSGI callable: answers every check-in POST with 503 while ``failing``,
    and records each one (body and ``X-Attune-Account``) under the test's current ``phase``."""

    def __init__(self, app):
        self.app = app
        self.inner = app.wsgi_app
        self.failing = False
        self.phase = ""
        self.posts: list[dict] = []
        self.lock = threading.Lock()
        app.wsgi_app = self

    def __call__(self, environ, start_response):
        if (environ["REQUEST_METHOD"], environ["PATH_INFO"]) == CHECKIN_POSTS:
            raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(raw)
            with self.lock:
                self.posts.append({"phase": self.phase, "id": json.loads(raw or b"{}").get("id"),
                                   "account": environ.get("HTTP_X_ATTUNE_ACCOUNT")})
            if self.failing:
                start_response("503 Service Unavailable", [("Content-Type", "application/json")])
                return [b'{"error": "unavailable", "message": "The server is having a rest."}']
        return self.inner(environ, start_response)

    def posted(self, phase: str, checkin_id: str) -> list[dict]:
        with self.lock:
            return [p for p in self.posts if p["phase"] == phase and p["id"] == checkin_id]

    def close(self) -> None:
        self.app.wsgi_app = self.inner


@pytest.fixture
def flaky(live):
    wrapper = FlakyCheckins(live.app)
    yield wrapper
    wrapper.close()


def checkins_of(live, family) -> list[CheckIn]:
    with live.context():
        return list(CheckIn.select().where(CheckIn.family == family.id))


def devices_of(live, family) -> int:
    with live.context():
        return PushSubscription.select().where(PushSubscription.user == family.user_id).count()


def outbox(page) -> list[dict]:
    return page.evaluate("self.AttuneOutbox.all()")


def flush_everywhere(page) -> int:
    """Send the outbox as the page does on load, then as the service worker does on Background
    Sync; resolves when both have finished (the worker reports "outbox-changed")."""
    left = page.evaluate("self.AttuneOutbox.flush(document.querySelector('meta[name=csrf-token]').content)")
    page.evaluate("""() => new Promise((resolve) => {
        navigator.serviceWorker.addEventListener("message", (event) => {
          if (event.data && event.data.type === "outbox-changed") resolve();
        });
        navigator.serviceWorker.controller.postMessage({ type: "flush-outbox" });
    })""")
    return left


def turn_on_reminders(page, context, live) -> None:
    page.locator("#notify-card[data-ready]").wait_for()  # asked on a tap, after the card explains
    allow_notifications(context, live)  # what the parent will answer when the browser asks
    page.get_by_role("switch", name="Reminders on this phone").click()
    page.get_by_text("Reminders are on.").wait_for()


def check_in_while_failing(page, flaky, delivery) -> str:
    """One tap, then a feeling and the private note added: both wait on the phone."""
    flaky.failing = True
    page.goto(f"/checkin/{delivery.id}")
    checkin_id = page.locator("[data-checkin-id]").input_value()
    page.locator(".answer-btn").first.click()
    page.locator("#checkin-waiting").wait_for()
    page.get_by_text("Very close").click()
    page.get_by_label("A note for yourself").fill(NOTE)
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Kept on this phone: it's added when you're online.").wait_for()
    return checkin_id


def open_sign_out(page):
    """Parents sign out in settings: go there (unless already) and return the Sign out button."""
    if not page.url.endswith("/settings"):
        page.goto("/settings")
    return page.get_by_role("button", name="Sign out", exact=True)


def checkins_waiting(page) -> list[dict]:
    return [e for e in outbox(page) if e["kind"] == "checkin"]


def sign_out_anyway(page) -> None:
    open_sign_out(page).click()
    page.get_by_role("dialog", name="Sign out?").get_by_role("button", name="Sign out anyway").click()
    page.wait_for_url(re.compile(r"/login"))


def sign_out_after_the_warning(page) -> None:
    """Tap Sign out, stay (focus comes back to the button), then tap again and sign out anyway."""
    open_sign_out(page).click()
    dialog = page.get_by_role("dialog", name="Sign out?")
    dialog.get_by_text(WARNING).wait_for()
    assert page.evaluate("document.activeElement.textContent") == "Stay signed in"  # the safe choice
    for name in ("Stay signed in", "Sign out anyway"):
        box = dialog.get_by_role("button", name=name).bounding_box()
        assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    dialog.get_by_role("button", name="Stay signed in").click()
    assert dialog.count() == 0 and page.url.endswith("/settings")
    assert page.evaluate("document.activeElement.textContent") == "Sign out"
    sign_out_anyway(page)


def test_a_shared_phone_keeps_each_parents_checkins_and_prompts_apart(page, context, live, flaky, device):
    parent_a, parent_b = make_parent(live), make_parent(live)
    with live.context():
        delivery = make_delivery(parent_a)

    # A signs in, turns reminders on, and checks in with a private note while the server fails.
    flaky.phase = "A"
    sign_in(page, parent_a)
    turn_on_reminders(page, context, live)
    wait_for_worker(page)
    assert devices_of(live, parent_a) == 1
    checkin_id = check_in_while_failing(page, flaky, delivery)
    entry, extras = outbox(page)
    assert entry["key"] == checkin_id and entry["owner"] == str(parent_a.user_id)
    assert extras["checkin"] == checkin_id and extras["owner"] == str(parent_a.user_id)
    assert extras["body"]["note"] == NOTE
    wait_until(lambda: flaky.posted("A", checkin_id))  # it was tried, and refused by the failing server

    # A signs out: warned first, and "Stay signed in" is a real choice.
    sign_out_after_the_warning(page)
    assert devices_of(live, parent_a) == 0  # off A's account on the server…
    assert page.evaluate("localStorage.getItem('e2e-subscribed')") is None  # …and unsubscribed here

    # B signs in on the same phone, with the server well again: A's check-in is not B's to send.
    flaky.failing = False
    flaky.phase = "B"
    sign_in(page, parent_b)
    wait_for_worker(page)
    assert flush_everywhere(page) == 0  # nothing of B's is waiting
    assert flaky.posted("B", checkin_id) == []  # never posted under B's session
    assert [e["key"] for e in checkins_waiting(page)] == [checkin_id]  # and not dropped either
    assert len(outbox(page)) == 2  # nor its note
    assert page.locator("#outbox-status").is_hidden()  # B isn't shown A's waiting check-in
    page.goto("/journal")
    assert page.get_by_text(NOTE).count() == 0
    assert checkins_of(live, parent_b) == [] and checkins_of(live, parent_a) == []

    # B signs out with nothing of B's own waiting: no warning.
    open_sign_out(page).click()
    page.wait_for_url(re.compile(r"/login"))

    # A signs in again later: A's check-in goes, once, under A's family, with its note.
    flaky.phase = "A again"
    sign_in(page, parent_a)
    wait_until(lambda: checkins_of(live, parent_a))
    wait_until(lambda: page.evaluate("self.AttuneOutbox.count()") == 0)
    flush_everywhere(page)  # a replay by the worker changes nothing
    (saved,) = checkins_of(live, parent_a)
    assert str(saved.id) == checkin_id and saved.note == NOTE and saved.delivery_id == delivery.id
    assert {p["account"] for p in flaky.posted("A again", checkin_id)} == {str(parent_a.user_id)}
    page.goto("/journal")
    page.get_by_text(NOTE).wait_for()


def test_the_warning_fits_360_px_light_and_dark_and_escape_stays(page, context, live, flaky):
    parent = make_parent(live)
    with live.context():
        first = make_delivery(parent)
        second = make_delivery(parent, local_date=first.local_date - timedelta(days=1))
    sign_in(page, parent)
    wait_for_worker(page)
    check_in_while_failing(page, flaky, first)
    check_in_while_failing(page, flaky, second)
    page.set_viewport_size({"width": 360, "height": 740})
    sign_out = open_sign_out(page)
    try:
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            sign_out.click()
            dialog = page.get_by_role("dialog", name="Sign out?")
            dialog.get_by_text("2 check-ins haven't been sent yet. If you sign out now they will wait on "
                               "this phone and go when you sign in again.").wait_for()
            assert serious_violations(page) == [], scheme
            box = dialog.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 360, scheme
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, scheme
            page.keyboard.press("Escape")  # the same as "Stay signed in"
            assert dialog.count() == 0 and page.url.endswith("/settings")
            assert page.evaluate("document.activeElement.textContent") == "Sign out"
    finally:
        page.set_viewport_size(PHONE)
    assert len(checkins_waiting(page)) == 2


SEND_AS = """async ([id, deliveryId, owner]) => {
  const entry = self.AttuneOutbox.checkinEntry({ id, delivery_id: deliveryId, tried: "yes", felt: 3,
    note: "Made by A.", shared_with_worker: false, wants_support: false,
    client_created_at: new Date().toISOString() }, null, owner);
  return self.AttuneOutbox.send(entry, document.querySelector('meta[name="csrf-token"]').content);
}"""


def test_a_post_that_may_be_another_accounts_is_kept_not_dropped(page, live):
    """The two refusals that can only mean "not this account": the server's wrong_account (someone
    signed in between asking and posting), and another family's prompt for an entry saved before
    entries recorded their owner."""
    parent_a, parent_b = make_parent(live), make_parent(live)
    with live.context():
        delivery = make_delivery(parent_a)
    sign_in(page, parent_b)
    checkin_id = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
    assert page.evaluate(SEND_AS, [checkin_id, delivery.id, str(parent_a.user_id)]) == "retry"
    assert page.evaluate(SEND_AS, [checkin_id, delivery.id, None]) == "retry"  # the server said 404
    assert checkins_of(live, parent_b) == [] and checkins_of(live, parent_a) == []

    page.evaluate("""async ([id, deliveryId]) => self.AttuneOutbox.put({ key: id, kind: "checkin",
        url: "/api/checkins", body: { id, delivery_id: deliveryId, tried: "yes", felt: 3, note: "Made by A.",
        shared_with_worker: false, wants_support: false, client_created_at: new Date().toISOString() },
        csrf: null, created: Date.now() })""", [checkin_id, delivery.id])  # as the previous version saved it
    page.evaluate("self.AttuneOutbox.flush(document.querySelector('meta[name=csrf-token]').content)")
    assert [e["key"] for e in outbox(page)] == [checkin_id]
    sign_out_anyway(page)
    sign_in(page, parent_a)
    wait_until(lambda: checkins_of(live, parent_a))
    assert [c.note for c in checkins_of(live, parent_a)] == ["Made by A."]


def test_deleting_the_account_erases_its_waiting_checkins_from_the_phone(page, context, live, flaky):
    parent = make_parent(live)
    with live.context():
        delivery = make_delivery(parent)
        email = parent.user.email
    sign_in(page, parent)
    turn_on_reminders(page, context, live)
    wait_for_worker(page)
    check_in_while_failing(page, flaky, delivery)
    assert len(outbox(page)) == 2  # the check-in and its note

    page.goto("/settings/delete")
    page.get_by_label(re.compile("email address", re.I)).fill("not-my-email@example.org")
    page.get_by_role("button", name="Delete my account and data").click()
    page.locator(".field-error").wait_for()  # a wrong confirmation erases nothing, here or there
    assert len(outbox(page)) == 2 and page.evaluate("localStorage.getItem('e2e-subscribed')") == "1"

    page.get_by_label(re.compile("email address", re.I)).fill(email.upper())
    page.get_by_role("button", name="Delete my account and data").click()
    page.wait_for_url(re.compile(r"/login"))
    assert page.evaluate("localStorage.getItem('e2e-subscribed')") is None
    sign_in(page, make_parent(live))
    assert outbox(page) == []  # the note left the phone with the account
    assert checkins_of(live, parent) == []


def test_a_check_in_page_left_open_by_a_does_not_save_as_b(page, context, live, flaky):
    """A opens today's check-in; meanwhile, in another tab, A signs out and B signs in. A's tap on
    Save is sent naming A: the server refuses it for B's session and it waits for A, not lost."""
    parent_a, parent_b = make_parent(live), make_parent(live)
    with live.context():
        delivery = make_delivery(parent_a)
    flaky.phase = "B signed in"
    sign_in(page, parent_a)
    wait_for_worker(page)
    page.goto(f"/checkin/{delivery.id}")
    checkin_id = page.locator("[data-checkin-id]").input_value()

    other = context.new_page()
    open_sign_out(other).click()
    other.wait_for_url(re.compile(r"/login"))
    sign_in(other, parent_b)
    other.close()

    page.locator(".answer-btn").first.click()
    page.locator("#checkin-waiting").wait_for()  # kept on the phone, not shown as an error
    assert [p["account"] for p in flaky.posted("B signed in", checkin_id)] == [str(parent_a.user_id)]
    assert checkins_of(live, parent_b) == [] and checkins_of(live, parent_a) == []
    assert [e["key"] for e in outbox(page)] == [checkin_id]

    flaky.phase = "A again"
    open_sign_out(page).click()  # B has nothing waiting, so signing out asks nothing
    page.wait_for_url(re.compile(r"/login"))
    sign_in(page, parent_a)
    wait_until(lambda: checkins_of(live, parent_a))
    (saved,) = checkins_of(live, parent_a)
    assert str(saved.id) == checkin_id and checkins_of(live, parent_b) == []
