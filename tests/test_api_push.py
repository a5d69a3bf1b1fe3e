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


def test_delete_subscription(app, parent):
    info = subscription()
    parent.api("POST", "/api/push/subscriptions", json=info)
    other = ParentClient(app, factories.make_family())
    assert other.api("DELETE", "/api/push/subscriptions", json={"endpoint": info["endpoint"]}).status_code == 404
    assert parent.api("DELETE", "/api/push/subscriptions", json={"endpoint": info["endpoint"]}).status_code == 204
    assert PushSubscription.select().count() == 0
    # Again: still off (idempotent), nothing stored (tests/test_reminders_consent.py has the rest).
    assert parent.api("DELETE", "/api/push/subscriptions", json={"endpoint": info["endpoint"]}).status_code == 204
    assert PushSubscription.select().count() == 0
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


# --- issue 9 item 7: registration refuses what sending refuses ----------------------------------------

HOSTILE_ENDPOINTS = [
    # internal and metadata addresses
    "https://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/",
    "https://[fd00:ec2::254]/latest/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://10.0.0.1/push",
    "https://192.168.1.1/push",
    "https://172.16.0.1/push",
    "https://127.0.0.1/push",
    "https://127.0.0.1:5000/push",
    "http://127.0.0.1:5000/push",
    "http://localhost:8080/push",
    "https://localhost/push",
    "https://[::1]/push",
    "https://[::ffff:127.0.0.1]/push",
    "https://0.0.0.0/push",
    "https://2130706433/push",  # 127.0.0.1 as one number
    "https://0x7f000001/push",
    "https://017700000001/push",
    # userinfo and look-alike tricks
    "https://fcm.googleapis.com@evil.example/fcm/send/x",
    "https://fcm.googleapis.com:443@evil.example/x",
    "https://evil.example@fcm.googleapis.com/x",
    "https://user:pw@fcm.googleapis.com/x",
    "https://evil.example/fcm.googleapis.com",
    "https://evil.example/?https://fcm.googleapis.com/",
    "https://fcm.googleapis.com.evil.example/x",
    "https://evilfcm.googleapis.com/x",
    "https://fcm.googleapis.com%2F@evil.example/x",
    "https://fcm.googleapis.com%40evil.example/x",
    "https://fcm%2Egoogleapis%2Ecom/x",
    "https://fcm.googleapis.com\\@evil.example/x",
    "https://evil.example\\.fcm.googleapis.com/x",
    "https://fcm.googleapis.com\t.evil.example/x",
    "https://fcm.googleapis.com /x",
    "https://fcm.googleapis.com\r\nHost: evil/x",
    "https://fcm.googleapis.com\x00.evil.example/x",
    # IDN and width tricks
    "https://fcm.googleapis.c\u043em/x",  # a Cyrillic о
    "https://ｆｃｍ.googleapis.com/x",  # full-width letters
    "https://fcm.googleapis.com\u3002evil.example/x",  # an ideographic full stop
    "https://xn--fcm-googleapis-com.evil.example/x",
    "https://fcm.googleapis.com./x",
    # hosts off the allow-list, wrong schemes and ports
    "https://push.evil.example/x",
    "https://notify.windows.com/x",
    "https://a.b.notify.windows.com/x",
    "http://fcm.googleapis.com/fcm/send/x",
    "ftp://fcm.googleapis.com/x",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "//fcm.googleapis.com/x",
    "fcm.googleapis.com/x",
    "https://fcm.googleapis.com:8443/x",
    "https://fcm.googleapis.com:99999/x",
    "https://fcm.googleapis.com:-1/x",
    "https://fcm.googleapis.com:44 3/x",
    "https://[fcm.googleapis.com]/x",
    "https://[::1/x",
    "https:///x",
    "https://",
]


def test_the_hostile_table_is_big_enough():
    assert len(HOSTILE_ENDPOINTS) >= 47 and len(set(HOSTILE_ENDPOINTS)) == len(HOSTILE_ENDPOINTS)


@pytest.mark.parametrize("endpoint", HOSTILE_ENDPOINTS)
def test_hostile_endpoints_are_refused_as_sending_refuses_them(app, parent, endpoint):
    from coach.services.delivery.push import host_allowed

    assert not host_allowed(endpoint, app.config["PUSH_ALLOWED_HOSTS"])  # the sender would refuse it …
    response = parent.api("POST", "/api/push/subscriptions", json=subscription(endpoint))
    body = response.get_json()  # … so registration refuses it too, with a reason on the field
    assert response.status_code == 422 and set(body) >= {"error", "message", "fields"}
    assert "endpoint" in body["fields"] and PushSubscription.select().count() == 0


@pytest.mark.parametrize("endpoint", [
    "https://fcm.googleapis.com/fcm/send/dX9:APA91b",
    "https://updates.push.services.mozilla.com/wpush/v2/gAAAAA",
    "https://web.push.apple.com/QGuO7cJf",
    "https://wns2-par02p.notify.windows.com/w/?token=BQYAAA%3d%3d",
])
def test_real_push_services_are_accepted(parent, endpoint):
    assert parent.api("POST", "/api/push/subscriptions", json=subscription(endpoint)).status_code == 201


def test_a_listed_loopback_service_is_accepted_and_an_unlisted_one_refused(app, parent):
    app.config["PUSH_ALLOWED_HOSTS"] = ("127.0.0.1:9999",)
    listed = parent.api("POST", "/api/push/subscriptions", json=subscription("http://127.0.0.1:9999/push/x"))
    unlisted = parent.api("POST", "/api/push/subscriptions", json=subscription("http://127.0.0.1:9998/push/x"))
    assert (listed.status_code, unlisted.status_code) == (201, 422)


def _key(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _off_curve_point() -> bytes:
    good = bytearray(__import__("base64").urlsafe_b64decode(TestSubscription("x").p256dh + "=="))
    good[-1] ^= 1  # y no longer matches x: 65 bytes, 0x04 prefix, not on P-256
    return bytes(good)


@pytest.mark.parametrize(("keys", "field"), [
    ({"p256dh": _key(_off_curve_point())}, "keys.p256dh"),
    ({"p256dh": _key(b"\x04" + b"\x00" * 64)}, "keys.p256dh"),  # the point at "zero"
    ({"p256dh": _key(b"\x04" + b"\xff" * 64)}, "keys.p256dh"),  # coordinates past the field prime
    ({"p256dh": _key(b"\x02" + b"\x11" * 32)}, "keys.p256dh"),  # compressed: browsers send uncompressed
    ({"p256dh": _key(b"\x04" + b"\x11" * 63)}, "keys.p256dh"),  # 64 bytes
    ({"p256dh": _key(b"\x04" + b"\x11" * 65)}, "keys.p256dh"),  # 66 bytes
    ({"p256dh": ""}, "keys.p256dh"),
    ({"p256dh": 12}, "keys.p256dh"),
    ({"auth": _key(b"\x01" * 15)}, "keys.auth"),
    ({"auth": _key(b"\x01" * 17)}, "keys.auth"),
    ({"auth": _key(b"\x01" * 32)}, "keys.auth"),
    ({"auth": "AAAA AAAA AAAA AAAA AAAA"}, "keys.auth"),
    ({"auth": ["A" * 22]}, "keys.auth"),
])
def test_keys_sending_could_not_use_are_refused(parent, keys, field):
    body = subscription()
    body["keys"] |= keys
    response = parent.api("POST", "/api/push/subscriptions", json=body)
    assert response.status_code == 422 and field in response.get_json()["fields"]
    assert PushSubscription.select().count() == 0


def test_a_new_device_past_the_cap_replaces_the_least_recently_seen(app, parent):
    from datetime import timedelta

    from coach.models import utcnow

    app.config["MAX_DEVICES"] = 3
    for n in range(3):
        assert parent.api("POST", "/api/push/subscriptions",
                          json=subscription(f"https://fcm.googleapis.com/fcm/send/d{n}")).status_code == 201
    rows = list(PushSubscription.select().order_by(PushSubscription.id))
    for n, row in enumerate(rows):  # d1 was seen longest ago, d0 most recently
        row.last_seen_at = utcnow() - timedelta(days=[1, 30, 5][n])
        row.save()

    response = parent.api("POST", "/api/push/subscriptions",
                          json=subscription("https://fcm.googleapis.com/fcm/send/new-phone"))

    assert response.status_code == 201
    assert response.get_json()["replaced"] == {"id": rows[1].id, "label": "Browser"}
    endpoints = {row.endpoint.rsplit("/", 1)[1] for row in PushSubscription.select()}
    assert endpoints == {"d0", "d2", "new-phone"}
    again = parent.api("POST", "/api/push/subscriptions",  # a known device re-registering replaces nothing
                       json=subscription("https://fcm.googleapis.com/fcm/send/d0"))
    assert again.status_code == 200 and again.get_json()["replaced"] is None
    assert PushSubscription.select().count() == 3


def test_the_cap_is_per_parent(app, parent):
    app.config["MAX_DEVICES"] = 1
    other = ParentClient(app, factories.make_family())
    other.api("POST", "/api/push/subscriptions", json=subscription("https://fcm.googleapis.com/fcm/send/o"))
    parent.api("POST", "/api/push/subscriptions", json=subscription("https://fcm.googleapis.com/fcm/send/p"))
    assert PushSubscription.select().count() == 2


def test_test_push_is_rate_limited_per_parent(app, parent):
    with PushService() as ps:
        app.config.update(PUSH_ALLOWED_HOSTS=(ps.host,), PUSH_TIMEOUT=5)
        assert parent.api("POST", "/api/push/subscriptions", json=ps.subscribe().info()).status_code == 201
        answers = [parent.api("POST", "/api/push/test") for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert len(ps.wait_for(5)) == 5
        refused = answers[-1]
        assert 0 < int(refused.headers["Retry-After"]) <= 600
        body = refused.get_json()
        assert body["error"] == "too_many_test_pushes" and "minute" in body["message"]
        other = ParentClient(app, factories.make_family())  # another parent is not held back
        other.api("POST", "/api/push/subscriptions", json=ps.subscribe().info())
        assert other.api("POST", "/api/push/test").status_code == 200
