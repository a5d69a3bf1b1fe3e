"""Choosing text messages in settings (DESIGN "Reach → Text messages"): a number, a channel and
explicit consent, one confirmation text; the worker sees the channel and the texts' state."""
from __future__ import annotations

import pytest

from coach.models import TextMessage, User
from coach.services.families.text_consent import CONSENT_WORDS
from tests import factories
from tests.conftest import Auth
from tests.parent_helpers import ParentClient


@pytest.fixture
def parent(app, twilio):
    app.config.update(twilio.config())
    return ParentClient(app, factories.make_family(country="GB"))


def test_texts_need_a_number_and_consent_then_one_confirmation_is_queued(parent):
    no_number = parent.api("PATCH", "/api/me/settings", json={"channel": "sms", "sms_consent": True})
    assert no_number.status_code == 422
    assert no_number.get_json()["fields"] == {"phone": "Add your mobile number to get text messages."}

    no_consent = parent.api("PATCH", "/api/me/settings", json={"channel": "sms", "phone": "07911 123456"})
    assert no_consent.status_code == 422
    assert no_consent.get_json()["fields"] == {"sms_consent": "To get text messages, tick the box to agree to them."}
    user = User.get_by_id(parent.user.id)
    assert (user.channel, user.phone, user.sms_opt_in_at) == ("push", "", None)  # nothing half-written

    agreed = parent.api("PATCH", "/api/me/settings",
                        json={"channel": "push_then_sms", "phone": "07911 123456", "sms_consent": True})
    assert agreed.status_code == 200
    settings = agreed.get_json()["settings"]
    assert (settings["channel"], settings["sms_opted_in"], settings["phone"]) == ("push_then_sms", True, "+447911123456")
    (confirm,) = TextMessage.select()
    assert confirm.kind == "confirm" and confirm.to == "+447911123456"
    assert "1 message a day" in confirm.body and "Reply STOP to cancel, HELP for help" in confirm.body

    # Already agreed for this number: changing the channel asks nothing and texts nothing more.
    assert parent.api("PATCH", "/api/me/settings", json={"channel": "sms"}).status_code == 200
    assert TextMessage.select().count() == 1
    # Back to notifications withdraws the agreement.
    parent.api("PATCH", "/api/me/settings", json={"channel": "push"})
    assert User.get_by_id(parent.user.id).sms_opt_in_at is None


def test_a_bad_channel_or_unconfigured_texts_are_refused_with_a_sentence(parent, app):
    bad = parent.api("PATCH", "/api/me/settings", json={"channel": "pigeon"})
    assert bad.status_code == 422 and "Choose notifications" in bad.get_json()["fields"]["channel"]
    app.config["TWILIO_AUTH_TOKEN"] = ""
    off = parent.api("PATCH", "/api/me/settings",
                     json={"channel": "sms", "phone": "07911 123456", "sms_consent": True})
    assert off.status_code == 422 and "aren't available" in off.get_json()["fields"]["channel"]


def test_the_settings_page_asks_with_the_consent_words(parent):
    page = parent.get("/settings").get_data(as_text=True)
    assert "How your daily prompt reaches you" in page
    assert "1 message a day. Msg &amp; data rates may apply. Reply STOP to cancel, HELP for help." in page
    assert CONSENT_WORDS.startswith("Text me my daily prompt")
    refused = parent.form("/settings", {"window_start": "18:00", "window_end": "20:00", "timezone": "Europe/London",
                                        "days": "daily", "phone": "07911 123456", "channel": "sms"})
    assert refused.status_code == 422 and "tick the box to agree" in refused.get_data(as_text=True)
    saved = parent.form("/settings", {"window_start": "18:00", "window_end": "20:00", "timezone": "Europe/London",
                                      "days": "daily", "phone": "07911 123456", "channel": "sms", "sms_consent": "y"})
    assert saved.status_code == 302
    assert User.get_by_id(parent.user.id).channel == "sms"


def test_the_worker_sees_the_channel_and_the_last_texts_state(app, twilio):
    from coach.services.delivery.sms import send_due_texts
    from tests.delivery_helpers import NOW, make_due
    from tests.text_helpers import make_texter

    app.config.update(twilio.config())
    worker = factories.make_user("worker")
    family = make_texter("sms", worker=worker)
    make_due(family)
    twilio.respond(400, body={"code": 21211, "message": "Invalid 'To' Phone Number"})
    send_due_texts(NOW)
    client = app.test_client()
    Auth(client).login(worker)

    page = client.get(f"/worker/families/{family.id}").get_data(as_text=True)

    assert "Text messages instead of notifications · agreed to texts 1 Nov 2026" in page
    assert "Last prompt text 26 Nov, 18:30: failed (21211: Invalid &#39;To&#39; Phone Number)." in page
    assert "has not turned on reminders" not in page  # texts reach them: no push next step


def test_the_export_holds_the_texts_and_deleting_the_account_erases_them(parent):
    parent.api("PATCH", "/api/me/settings", json={"channel": "sms", "phone": "07911 123456", "sms_consent": True})
    exported = parent.get("/api/me/export").get_json()
    assert exported["account"]["channel"] == "sms" and exported["account"]["sms_opt_in_at"]
    (text,) = exported["texts_sent"]
    assert text["to"] == "+447911123456" and text["text"].startswith("Attune: you're signed up")
    assert "provider_sid" not in text and "lease_until" not in text

    assert parent.api("DELETE", "/api/me", json={"confirm": "delete"}).status_code == 200
    assert TextMessage.select().count() == 0


def test_enrolment_offers_texts_with_consent_and_sends_the_confirmation(app, client, twilio):
    from coach.models import Family
    from coach.services.people.invites import create_invite

    app.config.update(twilio.config())
    _invite, token = create_invite(factories.make_user("worker"))
    page = client.get(f"/join/{token}", follow_redirects=True).get_data(as_text=True)
    assert "How your daily prompt reaches you" in page and "Msg &amp; data rates may apply" in page
    data = {"display_name": "Amira", "email": "amira@example.org", "password": "a long enough password",
            "child_birth_month": "2026-01", "timezone": "Europe/London", "window_start": "19:00",
            "window_end": "20:30", "phone": "07911 123456", "channel": "sms",
            "csrf_token": factories.extract_csrf(page)}

    refused = client.post("/join", data=data)
    assert refused.status_code == 422 and "tick the box to agree" in refused.get_data(as_text=True)
    assert Family.select().count() == 0 and User.select().where(User.role == "parent").count() == 0

    assert client.post("/join", data=data | {"sms_consent": "y"}).status_code == 302
    user = User.get(User.email == "amira@example.org")
    assert (user.channel, user.phone) == ("sms", "+447911123456") and user.sms_opt_in_at is not None
    (confirm,) = TextMessage.select()
    assert confirm.kind == "confirm" and confirm.to == "+447911123456"


def test_the_caseload_says_which_families_get_texts(app):
    from tests.text_helpers import make_texter

    worker = factories.make_user("worker")
    texted = make_texter("sms", worker=worker, display_name="Texted Family")
    make_texter("push_then_sms", worker=worker, display_name="Fallback Family")
    client = app.test_client()
    Auth(client).login(worker)

    page = client.get("/worker/").get_data(as_text=True)

    assert page.count('<span class="reach reach-push">By text</span>') == 1
    assert f"texts to {User.get_by_id(texted.user_id).phone}" in page and "texts when push fails" in page
