""""Later" (snooze): ``POST /api/deliveries/<id>/snooze`` with the ack token pushes the same delivery
again an hour later, while the family's day lasts, at most twice; 409 when it can't. The re-push
goes through the ordinary claim, so it happens once."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from coach.models import CheckIn, Delivery, utcnow
from coach.services.delivery.ack import make_ack_token
from coach.services.delivery.sending import run_send_tick
from coach.services.delivery.snooze import snooze_delivery
from tests import factories
from tests.delivery_helpers import NOW, make_due, reload, subscribe


def snooze(client, delivery, token=None):
    return client.post(f"/api/deliveries/{delivery.id}/snooze",
                       json={"ack_token": token or make_ack_token(delivery.id)})


def sent_delivery(now=NOW, **fields):
    """A delivery pushed at ``now`` whose local day ends at 23:59:59 (London = UTC in winter)."""
    return make_due(now=now, **({"status": "sent", "sent_at": now} | fields))


def test_later_pushes_the_same_delivery_again_after_an_hour_once(push_app, ps):
    delivery = sent_delivery()
    subscribe(ps, delivery.family.user)
    snoozed = snooze_delivery(delivery.id, make_ack_token(delivery.id), now=NOW)
    assert (snoozed.status, snoozed.snoozes, snoozed.next_attempt_at) == ("pending", 1, NOW + timedelta(hours=1))
    assert run_send_tick(NOW + timedelta(minutes=59))["sent"] == 0  # not before the hour
    assert ps.received == []
    assert run_send_tick(NOW + timedelta(minutes=60))["sent"] == 1
    (push,) = ps.wait_for(1)
    assert push.json()["delivery_id"] == delivery.id and push.json()["tag"]  # same tag: it replaces
    assert run_send_tick(NOW + timedelta(minutes=90))["sent"] == 0  # once
    assert reload(delivery).status == "sent" and len(ps.received) == 1


def test_the_api_answers_with_when_and_a_sentence(app):
    now = utcnow()
    delivery = sent_delivery(now=now, expires_at=now + timedelta(hours=5))
    response = snooze(app.test_client(), delivery)  # no session, no CSRF: the token proves it
    assert response.status_code == 200
    body = response.get_json()
    assert body["snoozed"] is True and body["snoozes"] == 1 and body["message"].endswith(".")
    assert reload(delivery).next_attempt_at >= now + timedelta(minutes=60)


def test_a_third_snooze_is_409(app):
    now = utcnow()
    delivery = sent_delivery(now=now, expires_at=now + timedelta(hours=5))
    client = app.test_client()
    assert snooze(client, delivery).status_code == 200
    Delivery.update(status="sent").execute()  # the re-push went out
    assert snooze(client, delivery).status_code == 200
    Delivery.update(status="sent").execute()
    third = snooze(client, delivery)
    assert third.status_code == 409 and third.get_json()["error"] == "snooze_limit"
    assert third.get_json()["message"].endswith(".")
    assert (reload(delivery).status, reload(delivery).snoozes) == ("sent", 2)


def test_no_snooze_when_the_day_would_end_first(app):
    now = utcnow()
    delivery = sent_delivery(now=now, expires_at=now + timedelta(minutes=59))
    response = snooze(app.test_client(), delivery)
    assert response.status_code == 409 and response.get_json()["error"] == "day_ending"
    assert (reload(delivery).status, reload(delivery).snoozes) == ("sent", 0)


def test_no_snooze_once_answered(app):
    now = utcnow()
    delivery = sent_delivery(now=now, expires_at=now + timedelta(hours=5))
    CheckIn.create(id=uuid.uuid4(), family=delivery.family, user=delivery.family.user_id, delivery=delivery, tried="yes",
                   client_created_at=now)
    response = snooze(app.test_client(), delivery)
    assert response.status_code == 409 and response.get_json()["error"] == "already_answered"
    assert reload(delivery).snoozes == 0


@pytest.mark.parametrize("status", ["failed", "expired", "no_device", "sending"])
def test_a_delivery_that_cannot_be_pushed_again_is_409(app, status):
    now = utcnow()
    delivery = sent_delivery(now=now, expires_at=now + timedelta(hours=5), status=status)
    assert snooze(app.test_client(), delivery).status_code == 409
    assert reload(delivery).status == status


def test_a_wrong_token_or_unknown_delivery_changes_nothing(app):
    now = utcnow()
    delivery = sent_delivery(now=now, expires_at=now + timedelta(hours=5))
    client = app.test_client()
    assert snooze(client, delivery, token="0" * 32).status_code == 403
    assert snooze(client, delivery, token=make_ack_token(delivery.id + 1)).status_code == 403
    assert client.post("/api/deliveries/999999/snooze",
                       json={"ack_token": make_ack_token(999999)}).status_code == 404
    assert client.post(f"/api/deliveries/{delivery.id}/snooze", data="x").status_code == 415
    assert reload(delivery).snoozes == 0


def test_answered_while_snoozed_is_not_pushed_again(push_app, ps):
    delivery = sent_delivery()
    subscribe(ps, delivery.family.user)
    snooze_delivery(delivery.id, make_ack_token(delivery.id), now=NOW)
    CheckIn.create(id=uuid.uuid4(), family=delivery.family, user=delivery.family.user_id, delivery=delivery, tried="yes",
                   client_created_at=NOW + timedelta(minutes=10))
    assert run_send_tick(NOW + timedelta(hours=1))["sent"] == 0
    assert ps.received == [] and reload(delivery).status == "sent"


def test_never_pushed_after_the_local_day_ends(push_app, ps):
    delivery = sent_delivery()  # the day ends at 23:59:59
    subscribe(ps, delivery.family.user)
    snooze_delivery(delivery.id, make_ack_token(delivery.id), now=NOW)
    counts = run_send_tick(NOW.replace(hour=23, minute=59, second=59) + timedelta(seconds=1))
    assert counts["sent"] == 0 and ps.received == []
    # It was delivered once: still "sent", not "expired", and never pushed again.
    assert reload(delivery).status == "sent"
    assert run_send_tick(NOW + timedelta(days=1))["sent"] == 0 and ps.received == []


def test_a_re_push_that_finds_no_device_keeps_it_sent(push_app, ps):
    delivery = sent_delivery()
    snooze_delivery(delivery.id, make_ack_token(delivery.id), now=NOW)
    run_send_tick(NOW + timedelta(hours=1))
    assert reload(delivery).status == "sent"


def test_two_families_one_snoozed_each_pushed_once(push_app, ps):
    first, second = sent_delivery(), sent_delivery(family=factories.make_family())
    for delivery in (first, second):
        subscribe(ps, delivery.family.user)
    snooze_delivery(first.id, make_ack_token(first.id), now=NOW)
    assert run_send_tick(NOW + timedelta(hours=1))["sent"] == 1
    (push,) = ps.wait_for(1)
    assert push.json()["delivery_id"] == first.id
