"""Texts coming back (DESIGN "Reach → Text messages"): Twilio's signed webhooks, check-ins by
digit, private notes, STOP/START/HELP, and delivery reports."""
from __future__ import annotations

from datetime import timedelta

import pytest

from coach.models import CheckIn, TextInbound, TextMessage, utcnow
from coach.services.delivery.sms import send_due_texts
from tests.parent_helpers import make_delivery
from tests.text_helpers import inbound, make_texter, reload_user, signed_post


@pytest.fixture
def text_app(app, twilio):
    app.config.update(twilio.config())
    return app


def test_a_reply_2_checks_in_once_even_when_twilio_retries_the_webhook(text_app, client, twilio):
    family = make_texter("sms")
    delivery = make_delivery(family)  # today's prompt: answers "Yes, I waited…", "I think so", "Not today"

    first = inbound(client, family, " 2 ", sid="SMretry")
    retry = inbound(client, family, " 2 ", sid="SMretry")

    assert first.status_code == retry.status_code == 200
    assert first.mimetype == "text/xml" and "<Response>" in first.get_data(as_text=True)
    (checkin,) = CheckIn.select()
    assert (checkin.delivery_id, checkin.answer, checkin.tried) == (delivery.id, 1, "yes")
    assert not checkin.shared_with_worker and checkin.note is None
    assert TextInbound.select().count() == 1
    send_due_texts()
    (thanks,) = twilio.posts  # one thanks, however often the webhook came
    assert thanks.form["Body"].startswith("Thanks, that's saved.")


def test_other_words_become_a_private_note_on_todays_checkin(text_app, client):
    family = make_texter("sms")
    make_delivery(family)
    inbound(client, family, "1")
    inbound(client, family, "She laughed when I waited for her")
    inbound(client, family, "End of the day was hard")  # a sentence starting with END is not a STOP

    (checkin,) = CheckIn.select()
    assert checkin.answer == 0 and checkin.note == "She laughed when I waited for her\nEnd of the day was hard"
    assert reload_user(family).sms_opt_in_at is not None
    assert checkin.shared_with_worker is False
    assert TextMessage.select().where(TextMessage.kind == "reply").count() == 3


def test_a_bad_or_missing_signature_is_refused_and_nothing_is_stored(text_app, client):
    family = make_texter("sms")
    make_delivery(family)
    form = {"From": reload_user(family).phone, "To": "+15005550006", "Body": "2", "MessageSid": "SMforged"}

    assert signed_post(client, "/sms/twilio/inbound", form, signature="").status_code == 403
    assert signed_post(client, "/sms/twilio/inbound", form, token="not-the-token").status_code == 403
    assert inbound(client, family, "STOP", signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    status = {"MessageSid": "SMx", "MessageStatus": "delivered"}
    assert signed_post(client, "/sms/twilio/status", status, token="not-the-token").status_code == 403
    assert CheckIn.select().count() == 0 and TextInbound.select().count() == 0
    assert TextMessage.select().count() == 0 and reload_user(family).sms_opt_in_at is not None


def test_an_unknown_number_gets_nothing_stored(text_app, client):
    form = {"From": "+447911199999", "To": "+15005550006", "Body": "2", "MessageSid": "SMstranger"}
    assert signed_post(client, "/sms/twilio/inbound", form).status_code == 200
    assert TextInbound.select().count() == 0 and TextMessage.select().count() == 0


def test_stop_stops_tomorrows_text_and_start_restores_it(text_app, client, twilio):
    family = make_texter("sms", window_start="00:00", window_end="23:59")
    user = reload_user(family)
    inbound(client, family, "Stop")
    inbound(client, family, "UNSUBSCRIBE")  # confirmed once only
    assert reload_user(family).sms_opt_in_at is None

    tomorrow = utcnow() + timedelta(days=1)
    make_delivery(family, local_date=tomorrow.date(), status="pending", sent_at=None,
                  due_at=tomorrow - timedelta(minutes=1), next_attempt_at=tomorrow - timedelta(minutes=1),
                  expires_at=tomorrow + timedelta(minutes=30))
    send_due_texts(tomorrow)  # after STOP: no text (and its devices, if any, would get the push again)
    assert [p.form["Body"] for p in twilio.posts] == [
        "Attune: you won't get any more texts from us. Reply START to get them again."]

    inbound(client, family, "start")
    assert reload_user(family).sms_opt_in_at is not None and reload_user(family).channel == "sms"
    send_due_texts(tomorrow)
    kinds = [row.kind for row in TextMessage.select().where(TextMessage.status == "sent").order_by(TextMessage.id)]
    assert kinds == ["stop", "confirm", "prompt"]
    assert all(p.form["To"] == user.phone for p in twilio.posts)
    # The confirmation and the prompt go in one batch, posted side by side: in either order.
    assert sorted(p.form["Body"][:30] for p in twilio.posts[1:]) == [
        "Attune: Notice Sam's look-away", "Attune: texts are back on, 1 m"]


def test_help_answers_with_the_help_line_even_after_stop(text_app, client, twilio):
    family = make_texter("sms", opted_in=None, country="GB")
    inbound(client, family, "help")
    send_due_texts()
    (post,) = twilio.posts
    assert post.form["Body"].startswith("Attune: one parenting moment a day") and "STOP" in post.form["Body"]


def test_delivery_reports_are_recorded_and_never_go_backwards(text_app, client, twilio):
    family = make_texter("sms")
    inbound(client, family, "hello")  # no prompt today: a note without a delivery, and a thanks
    send_due_texts()
    text = TextMessage.get()
    for state in ("delivered", "sent"):
        form = {"MessageSid": text.provider_sid, "MessageStatus": state, "To": text.to}
        assert signed_post(client, "/sms/twilio/status", form).status_code == 200
    text = TextMessage.get_by_id(text.id)
    assert text.provider_status == "delivered" and text.status_at is not None
    failed = {"MessageSid": text.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    signed_post(client, "/sms/twilio/status", failed)
    assert TextMessage.get_by_id(text.id).error == "30003: undelivered"


def test_answers_come_in_the_parents_language(text_app, client, twilio):
    family = make_texter("sms", country="ES")
    user = reload_user(family)
    user.language = "es"
    user.save()
    inbound(client, family, "AYUDA")
    inbound(client, family, "hola")
    send_due_texts()
    inbound(client, family, "STOP")  # (texts still waiting when STOP comes are not sent)
    send_due_texts()
    bodies = sorted(p.form["Body"] for p in twilio.posts)
    assert bodies[0].startswith("Attune: un momento de crianza al día") and "Responde STOP" in bodies[0]
    assert bodies[1] == "Attune: ya no te enviaremos más mensajes. Responde START para volver a recibirlos."
    assert bodies[2] == "Gracias, queda guardado en tu diario. Solo tú puedes verlo."
