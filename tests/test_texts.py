"""Prompts by text message (DESIGN "Reach → Text messages"), sent through the real send tick to a
loopback fake of Twilio's Messages API."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from coach.delivery_cli import send_due
from coach.models import Delivery, TextMessage
from coach.services.delivery.sms import send_due_texts, sms_problem
from coach.services.delivery.texts import MAX_TEXT, is_gsm7, plain, prompt_text, segments
from tests.delivery_helpers import NOW, make_due, reload, subscribe
from tests.text_helpers import make_texter, reload_user
from tests.twilio_fake import ACCOUNT_SID, FROM


@pytest.fixture
def text_app(push_app, twilio):
    push_app.config.update(twilio.config())
    return push_app


def test_an_sms_family_gets_one_text_in_its_window_instead_of_a_push(text_app, twilio, ps):
    family = make_texter("sms")
    subscribe(ps, family.user)  # a phone with notifications too: the parent chose texts instead
    delivery = make_due(family)

    first = send_due(NOW)
    again = send_due(NOW + timedelta(minutes=5))

    assert first["texts_sent"] == 1 and again["texts_sent"] == 0 and again["texts_queued"] == 0
    (post,) = twilio.posts
    assert post.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json" and post.account == ACCOUNT_SID
    assert post.form["To"] == reload_user(family).phone and post.form["From"] == FROM
    assert post.form["StatusCallback"] == "http://localhost/sms/twilio/status"
    assert post.form["Body"] == ("Attune: Notice Sam's cues\n"
                                 "When Sam looks away, pause and wait for them to come back.\nReply 1 Yes")
    assert ps.received == []  # text instead of push
    assert reload(delivery).status == "no_device"  # the prompt still waits in the app
    text = TextMessage.get()
    assert (text.status, text.kind, text.delivery_id) == ("sent", "prompt", delivery.id)
    assert text.provider_sid.startswith("SM") and text.sent_at == NOW


def test_push_then_sms_texts_only_when_no_device_took_the_push(text_app, twilio, ps):
    pushed = make_texter("push_then_sms")
    subscribe(ps, pushed.user)
    no_device = make_texter("push_then_sms")
    failing = make_texter("push_then_sms")
    failing_sub, _row = subscribe(ps, failing.user)
    ps.respond(500, endpoint=failing_sub.endpoint)  # its push service keeps failing: retried, not through
    for family in (pushed, no_device, failing):
        make_due(family)

    send_due(NOW)
    assert [p.form["To"] for p in twilio.posts] == [reload_user(no_device).phone]

    later = NOW + timedelta(minutes=31)  # the push still not through half an hour after it was due
    send_due(later)
    assert [p.form["To"] for p in twilio.posts] == [reload_user(no_device).phone, reload_user(failing).phone]
    assert TextMessage.select().where(TextMessage.user == pushed.user_id).count() == 0


def test_nothing_is_texted_outside_the_window(text_app, twilio):
    family = make_texter("sms")  # window 18:00–20:00 London (UTC in November)
    make_due(family, due_at=datetime(2026, 11, 26, 19, 50))

    assert send_due_texts(datetime(2026, 11, 26, 20, 5))["texts_queued"] == 0
    assert twilio.posts == [] and TextMessage.select().count() == 0


def test_provider_429_and_5xx_are_retried_and_4xx_recorded(text_app, twilio):
    text_app.config["TWILIO_CONCURRENCY"] = 1  # one at a time: the fake's scripted answers go in order
    throttled, broken, refused = make_texter("sms"), make_texter("sms"), make_texter("sms")
    for family in (throttled, broken, refused):
        make_due(family)
    twilio.respond(429, headers={"Retry-After": "120"})
    twilio.respond(503)
    twilio.respond(400, body={"code": 21211, "message": "The 'To' number is not a valid phone number."})

    first = send_due_texts(NOW)

    assert first["texts_sent"] == 0 and first["texts_retrying"] == 2 and first["texts_failed"] == 1
    rows = {row.user_id: row for row in TextMessage.select()}
    assert rows[throttled.user_id].next_attempt_at == NOW + timedelta(seconds=120)  # Retry-After honoured
    assert rows[broken.user_id].next_attempt_at == NOW + timedelta(minutes=1)
    failed = rows[refused.user_id]
    assert (failed.status, failed.last_status_code) == ("failed", 400)
    assert "21211" in failed.error and "not a valid phone number" in failed.error

    assert send_due_texts(NOW + timedelta(seconds=30))["texts_sent"] == 0  # nothing due yet
    retried = send_due_texts(NOW + timedelta(minutes=3))
    assert retried["texts_sent"] == 2
    assert len(twilio.posts) == 5 and len(twilio.delivered()) == 2
    assert TextMessage.get(TextMessage.user == refused.user_id).status == "failed"  # never sent again


def test_a_retry_that_would_fall_past_the_window_expires_instead(text_app, twilio):
    family = make_texter("sms")
    make_due(family, due_at=datetime(2026, 11, 26, 19, 55))
    twilio.respond(429, headers={"Retry-After": "900"})  # 20:12: after the window ends at 20:00

    assert send_due_texts(datetime(2026, 11, 26, 19, 57))["texts_expired"] == 1
    assert TextMessage.get().status == "expired"
    assert send_due_texts(datetime(2026, 11, 26, 20, 15))["texts_sent"] == 0


def test_without_twilio_settings_nothing_is_texted_and_it_says_why(push_app, twilio):
    make_due(make_texter("sms"))
    assert "COACH_TWILIO_ACCOUNT_SID" in sms_problem()
    assert send_due(NOW)["texts_queued"] == 0 and twilio.posts == []
    push_app.config.update(twilio.config(), TWILIO_API_BASE="http://example.org")
    assert "https" in sms_problem()  # plain http only to a loopback address


def test_the_text_is_gsm7_and_at_most_320_characters(text_app):
    family = make_texter("sms", child_name="Ana")
    delivery = make_due(family)
    prompt = delivery.prompt
    prompt.title = "It’s a “pause” — notice"
    prompt.body = ("Wait… and notice what {child} does next when the room goes quiet, then wait a little "
                   "longer than feels natural before you speak to them again")[:140]
    prompt.answers = [{"label": f"Answer number {n} is this one", "tried": "yes"} for n in range(5)]
    prompt.save()

    text = prompt_text(Delivery.get_by_id(delivery.id), reload_user(family))

    assert len(text) <= MAX_TEXT and is_gsm7(text) and segments(text) == 3
    head, body, replies = text.split("\n")
    assert head == "Attune: It's a \"pause\" - notice"  # curly quotes and dashes made plain: GSM-7
    assert body.startswith("Wait... and notice what Ana does next") and body.endswith("...")  # shortened
    assert replies == "Reply " + ", ".join(f"{n + 1} Answer number {n} is this one" for n in range(5))
    assert segments("é" * 160) == 1 and segments("á" * 70) == 1 and segments("á" * 71) == 2
    assert plain("a–b") == "a-b"


def test_a_discreet_family_gets_no_prompt_words(text_app, twilio):
    family = make_texter("sms", discreet=True)
    delivery = make_due(family)
    send_due_texts(NOW)
    (post,) = twilio.posts
    assert post.form["Body"] == f"Attune: A moment for today is ready. http://localhost/checkin/{delivery.id}"
    assert "Sam" not in post.form["Body"]


def test_send_test_sms_texts_at_once_and_says_why_when_it_cannot(text_app, twilio):
    family = make_texter("push", opted_in=None)  # a test goes whatever the channel
    runner = text_app.test_cli_runner()
    email = reload_user(family).email

    sent = runner.invoke(args=["send-test-sms", "--email", email])
    assert sent.exit_code == 0, sent.output
    assert '"status": "sent"' in sent.output and twilio.posts[0].form["Body"].startswith("Attune test message")

    twilio.respond(400, body={"code": 21614, "message": "'To' number is not a valid mobile number"})
    refused = runner.invoke(args=["send-test-sms", "--email", email])
    assert refused.exit_code == 1 and "not a valid mobile number" in refused.output
    text_app.config["TWILIO_FROM"] = ""
    off = runner.invoke(args=["send-test-sms", "--email", email])
    assert off.exit_code == 1 and "COACH_TWILIO_FROM" in off.output


def test_after_stop_an_sms_parents_devices_get_the_push_again(text_app, twilio, ps):
    family = make_texter("sms", opted_in=None)  # replied STOP: texts are off
    subscribe(ps, family.user)
    delivery = make_due(family)

    summary = send_due(NOW)

    assert summary["sent"] == 1 and summary["texts_queued"] == 0 and twilio.posts == []
    assert reload(delivery).status == "sent" and len(ps.wait_for(1)) == 1


def test_cron_send_due_counts_texts_in_status_and_metrics(text_app, twilio):
    import json

    make_due(make_texter("sms"))
    make_due(make_texter("sms"))
    text_app.config["METRICS_TOKEN"] = "texts-metrics"
    runner = text_app.test_cli_runner()

    summary = json.loads(runner.invoke(args=["send-due", "--now", NOW.isoformat()]).output)
    status = json.loads(runner.invoke(args=["status"]).output)
    metrics = text_app.test_client().get("/metrics", headers={"Authorization": "Bearer texts-metrics"})

    assert summary["texts_queued"] == summary["texts_sent"] == 2 and len(twilio.posts) == 2
    assert status["text_outbox"]["parents"] == 2
    assert status["text_outbox"]["backlog"] == 0 and status["text_outbox"]["problem"] is None
    assert 'attune_texts_total{outcome="sent"} 2.0' in metrics.get_data(as_text=True)
