"""The push payload, the allowed-host guard and the sender, checked on the wire."""
from __future__ import annotations

import json
import time

import http_ece
import pytest
from py_vapid import Vapid

from coach.services.delivery.ack import verify_ack_token
from coach.services.delivery.push import (
    MAX_PAYLOAD_BYTES,
    PushMessage,
    PushSender,
    encode_payload,
    encrypt_payload,
    host_allowed,
    load_vapid,
)
from coach.services.delivery.sending import run_send_tick
from tests.delivery_helpers import NOW, VAPID_PEM, make_due, subscribe
from tests.pushservice import PushService

SUBJECT = "mailto:admin@attune.example"


ALLOWED = ("fcm.googleapis.com", "updates.push.services.mozilla.com", "web.push.apple.com",
           "*.notify.windows.com", "127.0.0.1:8123", "localhost:9000", "[::1]:7000")


@pytest.mark.parametrize("endpoint", [
    "https://fcm.googleapis.com/fcm/send/abc",
    "https://FCM.googleapis.com:443/fcm/send/abc",
    "https://updates.push.services.mozilla.com/wpush/v2/x",
    "https://web.push.apple.com/QH",
    "https://wns2-par02p.notify.windows.com/w/?token=x",
    "http://127.0.0.1:8123/push/a",
    "http://localhost:9000/push/a",
    "http://[::1]:7000/push/a",
    "https://127.0.0.1:8123/push/a",  # listed explicitly with its port
])
def test_allowed_hosts(endpoint):
    assert host_allowed(endpoint, ALLOWED)


@pytest.mark.parametrize("endpoint", [
    "http://fcm.googleapis.com/fcm/send/abc",  # public host over http
    "https://fcm.googleapis.com:8443/fcm/send/abc",  # odd port
    "https://fcm.googleapis.com.evil.example/x",  # suffix trick
    "https://evil.example/fcm.googleapis.com",
    "https://fcm.googleapis.com@evil.example/x",  # userinfo trick
    "https://evil.example@fcm.googleapis.com/x",
    "https://user:pw@fcm.googleapis.com/x",
    "https://evil.example\\@fcm.googleapis.com/x",
    "https://notify.windows.com/x",  # the wildcard needs a label
    "https://a.b.notify.windows.com/x",  # … exactly one
    "https://evilnotify.windows.com/x",
    "http://127.0.0.1:8124/push/a",  # loopback, but not the listed port
    "http://127.0.0.1/push/a",
    "http://127.0.0.2:8123/push/a",
    "https://10.0.0.1/push",  # IP literal not listed
    "http://169.254.169.254:80/latest",
    "ftp://fcm.googleapis.com/x",
    "https://fcm.googleapis.com:99999/x",
    "",
])
def test_refused_hosts(endpoint):
    assert not host_allowed(endpoint, ALLOWED)


def test_default_hosts_are_https_public_services(app):
    allowed = app.config["PUSH_ALLOWED_HOSTS"]
    assert host_allowed("https://fcm.googleapis.com/fcm/send/x", allowed)
    assert not host_allowed("http://127.0.0.1:5000/push/x", allowed)


def test_delivery_payload_on_the_wire(push_app, ps):
    delivery = make_due()
    subscribe(ps, delivery.family.user)
    started = time.time()

    assert run_send_tick(NOW)["sent"] == 1

    (msg,) = ps.wait_for(1)
    assert len(msg.payload) <= MAX_PAYLOAD_BYTES
    data = msg.json()
    tag = f"attune-{NOW.date().isoformat()}"
    assert data["title"] == "Notice Sam's cues"
    assert data["body"] == "When Sam looks away, pause and wait for them to come back."
    assert data["url"] == f"/checkin/{delivery.id}"
    assert data["tag"] == tag and len(tag) <= 32
    assert data["delivery_id"] == delivery.id
    assert verify_ack_token(delivery.id, data["ack_token"])
    assert data["actions"] == [{"action": "tried", "title": "I tried it"}, {"action": "later", "title": "Later"}]
    assert data["web_push"] == 8030
    assert data["notification"] == {"title": data["title"], "body": data["body"], "tag": tag,
                                    "navigate": f"http://localhost/checkin/{delivery.id}"}
    assert (msg.ttl, msg.urgency, msg.topic) == (12 * 3600, "normal", tag)
    assert msg.headers["content-encoding"] == "aes128gcm"
    assert msg.headers["authorization"].startswith("vapid t=")
    assert msg.claims["aud"] == ps.base_url and msg.claims["sub"] == push_app.config["VAPID_SUBJECT"]
    assert started < msg.claims["exp"] <= time.time() + 24 * 3600


def test_child_name_falls_back_and_prompt_may_be_missing(push_app, ps):
    from tests import factories

    nameless = make_due(factories.make_family(child_name=None))
    promptless = make_due(prompt=None)
    for item in (nameless, promptless):
        subscribe(ps, item.family.user)
    run_send_tick(NOW)
    by_id = {m.json()["delivery_id"]: m.json() for m in ps.wait_for(2)}
    assert by_id[nameless.id]["title"] == "Notice your child's cues"
    assert by_id[promptless.id]["title"] and by_id[promptless.id]["url"] == f"/checkin/{promptless.id}"


def test_encryption_matches_http_ece():
    from tests.pushservice import TestSubscription

    sub = TestSubscription("https://push.example/x")
    body = encrypt_payload(b'{"title":"hi"}', sub.p256dh, sub.auth)
    assert http_ece.decrypt(body, private_key=sub.private_key, auth_secret=sub.auth_secret,
                            version="aes128gcm") == b'{"title":"hi"}'
    assert body != encrypt_payload(b'{"title":"hi"}', sub.p256dh, sub.auth)  # fresh key and salt


def test_longest_possible_payload_fits(push_app):
    from coach.models import Delivery, Family, Prompt
    from coach.services.delivery.push import build_payload

    prompt = Prompt(title="{child} " + "t" * 32, body=("{child} " * 3 + "b" * 140)[:140])
    family = Family(child_name="C" * 60)
    delivery = Delivery(id=2**31 - 1, family=family, prompt=prompt, local_date=NOW.date())
    assert len(encode_payload(build_payload(delivery))) <= MAX_PAYLOAD_BYTES // 2


def test_payload_over_budget_is_refused():
    with pytest.raises(ValueError):
        encode_payload({"body": "x" * MAX_PAYLOAD_BYTES})


def test_each_origin_gets_its_own_audience_and_tokens_are_reused():
    other = PushService()
    with PushService() as first, other:
        subs = [first.subscribe(), first.subscribe(), other.subscribe(), other.subscribe()]
        sender = PushSender(VAPID_PEM, SUBJECT, timeout=5, ttl=60, concurrency=4)
        results = sender.send_many([PushMessage(s.endpoint, s.p256dh, s.auth, b'{"n":1}') for s in subs])
        assert [r.status for r in results] == [201] * 4
        for service in (first, other):
            msgs = service.wait_for(2)
            assert {m.claims["aud"] for m in msgs} == {service.base_url}
            assert len({m.headers["authorization"] for m in msgs}) == 1  # signed once per origin


def test_redirects_are_not_followed():
    with PushService() as service, PushService() as internal:
        target = internal.subscribe()
        sub = service.subscribe()
        service.respond(307, headers={"Location": target.endpoint})
        sender = PushSender(VAPID_PEM, SUBJECT, timeout=5, ttl=60)
        (result,) = sender.send_many([PushMessage(sub.endpoint, sub.p256dh, sub.auth, b"{}")])
        assert result.status == 307 and not result.ok
        assert internal.received == []


def test_connection_refused_is_retryable():
    with PushService() as service:
        sub = service.subscribe()
    sender = PushSender(VAPID_PEM, SUBJECT, timeout=2, ttl=60)
    (result,) = sender.send_many([PushMessage(sub.endpoint, sub.p256dh, sub.auth, b"{}")])
    assert result.status is None and result.retryable


def test_bad_subscription_keys_are_not_retryable():
    with PushService() as service:
        sub = service.subscribe()
        sender = PushSender(VAPID_PEM, SUBJECT, timeout=2, ttl=60)
        (result,) = sender.send_many([PushMessage(sub.endpoint, "bm90LWEta2V5", sub.auth, b"{}")])
        assert result.error and not result.retryable and service.received == []


def test_vapid_key_forms():
    key = load_vapid(VAPID_PEM)
    raw = Vapid.from_pem(VAPID_PEM.encode()).private_key.private_numbers().private_value.to_bytes(32, "big")
    import base64

    assert load_vapid(base64.urlsafe_b64encode(raw).decode().rstrip("=")).public_key == key.public_key
    with pytest.raises(RuntimeError):
        PushSender("", SUBJECT)
    assert json.loads(encode_payload({"a": "é"})) == {"a": "é"}
