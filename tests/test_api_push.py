"""``/api/push``: the VAPID public key, subscriptions upserted by endpoint, and the test push
(sent for real to the loopback push service and decrypted there)."""
from __future__ import annotations

import pytest

from coach.models import PushSubscription
from coach.services.delivery.subscriptions import application_server_key, device_label
from tests.pushservice import PushService, TestSubscription

from . import factories
from .parent_helpers import VAPID_PEM, ParentClient

ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/130.0 Mobile Safari/537.36"


@pytest.fixture
def parent(app):
    app.config["VAPID_PRIVATE_KEY"] = VAPID_PEM
    return ParentClient(app, factories.make_family())


def subscription(endpoint: str = "https://fcm.googleapis.com/fcm/send/device-1") -> dict:
    return TestSubscription(endpoint).info()


def test_public_key_is_the_vapid_key_as_base64url(parent):
    key = parent.get("/api/push/public-key").get_json()["public_key"]
    assert key == application_server_key(VAPID_PEM) and len(key) == 87 and "=" not in key


def test_public_key_without_vapid_is_503(app, parent):
    app.config["VAPID_PRIVATE_KEY"] = ""
    response = parent.get("/api/push/public-key")
    assert response.status_code == 503 and response.get_json()["error"] == "push_unavailable"


def test_subscription_is_upserted_by_endpoint(parent):
    info = subscription()
    first = parent.api("POST", "/api/push/subscriptions", json=info, headers={"User-Agent": ANDROID})
    assert first.status_code == 201 and first.get_json()["device"]["label"] == "Chrome on Android"
    renewed = subscription()  # same endpoint, new keys (the browser re-subscribed)
    again = parent.api("POST", "/api/push/subscriptions", json=renewed, headers={"User-Agent": ANDROID})
    assert again.status_code == 200
    row = PushSubscription.get()
    assert PushSubscription.select().count() == 1
    assert (row.p256dh, row.auth, row.user_agent) == (renewed["keys"]["p256dh"], renewed["keys"]["auth"], ANDROID)


def test_an_endpoint_moves_to_the_account_now_using_the_browser(app, parent):
    info = subscription()
    other = ParentClient(app, factories.make_family())
    other.api("POST", "/api/push/subscriptions", json=info)
    parent.api("POST", "/api/push/subscriptions", json=info)
    assert PushSubscription.get().user_id == parent.user.id


@pytest.mark.parametrize(("change", "field"), [
    ({"endpoint": "http://push.example.org/x"}, "endpoint"),
    ({"endpoint": "ftp://push.example.org/x"}, "endpoint"),
    ({"endpoint": "https://" + "a" * 1000 + ".org/"}, "endpoint"),
    ({"endpoint": 5}, "endpoint"),
    ({"keys": {"p256dh": "abc", "auth": "A" * 22}}, "keys.p256dh"),
    ({"keys": {"p256dh": "B" * 87 + "!", "auth": "A" * 22}}, "keys.p256dh"),
    ({"keys": {"auth": "A" * 22}}, "keys.p256dh"),
    ({"keys": None}, "keys.auth"),
])
def test_bad_subscriptions_are_422(parent, change, field):
    body = subscription() | change
    response = parent.api("POST", "/api/push/subscriptions", json=body)
    assert response.status_code == 422 and field in response.get_json()["fields"]
    assert PushSubscription.select().count() == 0


def test_short_auth_secret_is_refused(parent):
    body = subscription()
    body["keys"]["auth"] = "AAAA"
    response = parent.api("POST", "/api/push/subscriptions", json=body)
    assert response.status_code == 422 and "keys.auth" in response.get_json()["fields"]


def test_loopback_http_endpoints_are_allowed_for_local_testing(parent):
    response = parent.api("POST", "/api/push/subscriptions", json=subscription("http://127.0.0.1:9999/push/x"))
    assert response.status_code == 201


def test_delete_subscription(app, parent):
    info = subscription()
    parent.api("POST", "/api/push/subscriptions", json=info)
    other = ParentClient(app, factories.make_family())
    assert other.api("DELETE", "/api/push/subscriptions", json={"endpoint": info["endpoint"]}).status_code == 404
    assert parent.api("DELETE", "/api/push/subscriptions", json={"endpoint": info["endpoint"]}).status_code == 204
    assert PushSubscription.select().count() == 0
    assert parent.api("DELETE", "/api/push/subscriptions", json={"endpoint": info["endpoint"]}).status_code == 404
    assert parent.api("DELETE", "/api/push/subscriptions", json={}).status_code == 422


def test_test_push_without_devices_explains(parent):
    body = parent.api("POST", "/api/push/test").get_json()
    assert body["sent"] == 0 and "Turn them on" in body["message"]


def test_test_push_reaches_the_device(app, parent):
    with PushService() as ps:
        app.config.update(PUSH_ALLOWED_HOSTS=(ps.host,), PUSH_TIMEOUT=5)
        device = ps.subscribe()
        assert parent.api("POST", "/api/push/subscriptions", json=device.info()).status_code == 201
        response = parent.api("POST", "/api/push/test")
        assert response.status_code == 200 and response.get_json()["sent"] == 1
        (received,) = ps.wait_for(1)
        payload = received.json()
    assert payload["title"] and payload["web_push"] == 8030 and payload["notification"]["navigate"]


@pytest.mark.parametrize(("agent", "label"), [
    (ANDROID, "Chrome on Android"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Version/17.4 Mobile/15E148 Safari/604.1",
     "Safari on iPhone"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Windows"),
    ("", "Browser"),
])
def test_device_labels(agent, label):
    assert device_label(agent) == label
