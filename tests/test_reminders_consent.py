"""Reminders off stays off: ``DELETE /api/push/subscriptions`` keeps the endpoint as opted out; a
later ``POST`` of it (every app open sends one) answers 200 ``{"device": null, "opted_out": true}``
and stores nothing, unless the body says ``"resubscribe": true`` (the parent tapped "Turn on")."""
from __future__ import annotations

import pytest

from coach.models import PushOptOut, PushSubscription

from . import factories
from .parent_helpers import ParentClient
from .pushservice import TestSubscription


def subscription(endpoint: str = "https://fcm.googleapis.com/fcm/send/device-1") -> dict:
    return TestSubscription(endpoint).info()


@pytest.fixture
def parent(app):
    return ParentClient(app, factories.make_family())


def post(parent, info, **extra):
    return parent.api("POST", "/api/push/subscriptions", json=info | extra)


def turn_off(parent, info):
    return parent.api("DELETE", "/api/push/subscriptions", json={"endpoint": info["endpoint"]})


def test_off_survives_the_next_app_open(parent):
    info = subscription()
    assert post(parent, info).status_code == 201
    assert turn_off(parent, info).status_code == 204
    again = post(parent, info)  # the next app open sends the same subscription
    assert again.status_code == 200
    assert again.get_json() == {"device": None, "opted_out": True}
    assert PushSubscription.select().count() == 0
    assert parent.get("/api/me").get_json()["push_devices"] == []


def test_resubscribe_true_turns_it_back_on(parent):
    info = subscription()
    post(parent, info)
    turn_off(parent, info)
    on = post(parent, info, resubscribe=True)
    assert on.status_code == 201 and on.get_json()["device"]["id"] and on.get_json()["opted_out"] is False
    assert PushSubscription.select().count() == 1 and PushOptOut.select().count() == 0
    assert post(parent, info).status_code == 200 and PushSubscription.select().count() == 1


@pytest.mark.parametrize("value", ["yes", 1, None, [True]])
def test_resubscribe_must_be_a_boolean(parent, value):
    info = subscription()
    post(parent, info)
    turn_off(parent, info)
    response = post(parent, info, resubscribe=value)
    assert response.status_code == 422 and "resubscribe" in response.get_json()["fields"]
    assert PushSubscription.select().count() == 0 and PushOptOut.select().count() == 1


def test_resubscribe_false_is_an_ordinary_open(parent):
    info = subscription()
    post(parent, info)
    turn_off(parent, info)
    assert post(parent, info, resubscribe=False).get_json()["opted_out"] is True
    assert PushSubscription.select().count() == 0


def test_a_device_already_forgotten_can_still_be_turned_off(parent):
    info = subscription()  # never stored (e.g. pruned after the push service said 410)
    assert turn_off(parent, info).status_code == 204
    assert post(parent, info).get_json()["opted_out"] is True
    assert PushSubscription.select().count() == 0


def test_another_accounts_device_is_404_and_stays_on(app, parent):
    info = subscription()
    post(parent, info)
    other = ParentClient(app, factories.make_family())
    response = turn_off(other, info)
    assert response.status_code == 404 and response.get_json()["message"].endswith(".")
    assert PushSubscription.select().count() == 1 and PushOptOut.select().count() == 0


def test_off_is_per_account_on_a_shared_phone(app, parent):
    info = subscription()
    post(parent, info)
    turn_off(parent, info)
    other = ParentClient(app, factories.make_family())
    assert post(other, info).status_code == 201  # the other parent hasn't said no
    assert post(parent, info).get_json()["opted_out"] is True


def test_settings_remove_keeps_that_device_off(parent):
    info = subscription()
    device_id = post(parent, info).get_json()["device"]["id"]
    assert parent.form(f"/settings/devices/{device_id}/remove").status_code == 302
    assert post(parent, info).get_json() == {"device": None, "opted_out": True}


def test_opting_out_keeps_no_usable_endpoint(parent):
    info = subscription()
    post(parent, info)
    turn_off(parent, info)
    (row,) = PushOptOut.select()
    assert info["endpoint"] not in row.endpoint_hash and len(row.endpoint_hash) == 64
