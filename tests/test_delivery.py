"""The sending half of the delivery engine against a loopback push service: claim, send, record."""
from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import format_datetime

import pytest

from coach.models import PushSubscription, User, utcnow
from coach.services.delivery import sending as service
from coach.services.delivery.sending import (
    SubscriptionResult,
    claim_batch,
    record_push_result,
    retry_delay,
    run_send_tick,
    send_test_push,
)
from tests import factories
from tests.delivery_helpers import NOW, make_due, reload, subscribe


def test_sent_marks_delivery_and_subscription(push_app, ps):
    delivery = make_due()
    _sub, row = subscribe(ps, delivery.family.user)
    PushSubscription.update(error_count=2, first_error_at=NOW - timedelta(days=1)).execute()

    counts = run_send_tick(NOW)

    assert counts == {"sent": 1, "failed": 0, "no_device": 0, "retrying": 0, "expired": 0}
    (msg,) = ps.wait_for(1)  # the service logs a push just after answering it
    assert msg.status == 201 and msg.json()["delivery_id"] == delivery.id
    delivery = reload(delivery)
    assert (delivery.status, delivery.sent_at, delivery.last_status_code) == ("sent", NOW, 201)
    assert delivery.attempts == 1 and delivery.lease_until is None
    row = reload(row)
    assert (row.last_ok_at, row.error_count, row.first_error_at) == (NOW, 0, None)


@pytest.mark.parametrize("status", [404, 410])
def test_gone_subscription_is_deleted(push_app, ps, status):
    delivery = make_due()
    sub, row = subscribe(ps, delivery.family.user)
    ps.respond(status, endpoint=sub.endpoint)

    counts = run_send_tick(NOW)

    assert counts["no_device"] == 1
    assert PushSubscription.get_or_none(id=row.id) is None
    assert reload(delivery).status == "no_device"


def test_one_device_gone_one_working_is_sent(push_app, ps):
    delivery = make_due()
    gone, gone_row = subscribe(ps, delivery.family.user)
    _ok, ok_row = subscribe(ps, delivery.family.user)
    ps.respond(410, endpoint=gone.endpoint)

    assert run_send_tick(NOW)["sent"] == 1

    assert len(ps.wait_for(2)) == 2
    assert reload(delivery).status == "sent"
    assert PushSubscription.get_or_none(id=gone_row.id) is None
    assert reload(ok_row).last_ok_at == NOW


def test_no_subscription_is_no_device(push_app, ps):
    delivery = make_due()
    assert run_send_tick(NOW)["no_device"] == 1
    assert reload(delivery).status == "no_device" and ps.received == []


def test_429_retries_at_retry_after(push_app, ps):
    delivery = make_due()
    subscribe(ps, delivery.family.user)
    ps.respond(429, times=1, headers={"Retry-After": "120"})

    assert run_send_tick(NOW)["retrying"] == 1
    delivery = reload(delivery)
    assert (delivery.status, delivery.last_status_code) == ("pending", 429)
    assert delivery.next_attempt_at == NOW + timedelta(seconds=120)

    assert run_send_tick(NOW + timedelta(seconds=60))["sent"] == 0  # not yet
    assert run_send_tick(NOW + timedelta(seconds=120))["sent"] == 1
    delivery = reload(delivery)
    assert (delivery.status, delivery.attempts) == ("sent", 2)


def test_retry_after_forms():
    throttled = SubscriptionResult(1, "e", 429, None, None, "throttled")
    assert retry_delay(throttled, 1) == timedelta(seconds=service.DEFAULT_RETRY_AFTER)
    throttled.retry_after = format_datetime(datetime.now().astimezone() + timedelta(minutes=5), usegmt=False)
    assert timedelta(minutes=4) < retry_delay(throttled, 1) <= timedelta(minutes=5)
    throttled.retry_after = "soon"
    assert retry_delay(throttled, 1) == timedelta(seconds=service.DEFAULT_RETRY_AFTER)
    failing = SubscriptionResult(1, "e", 503, None, None, "retry")
    assert [retry_delay(failing, n).total_seconds() / 60 for n in (1, 2, 3, 4, 10)] == [1, 2, 4, 8, 60]


def test_5xx_backs_off_then_expires_after_the_local_day(push_app, ps):
    delivery = make_due()
    subscribe(ps, delivery.family.user)
    ps.respond(500)

    assert run_send_tick(NOW)["retrying"] == 1
    first = reload(delivery)
    assert (first.status, first.next_attempt_at, first.last_status_code) == (
        "pending", NOW + timedelta(minutes=1), 500)
    assert run_send_tick(first.next_attempt_at)["retrying"] == 1
    assert reload(delivery).next_attempt_at == first.next_attempt_at + timedelta(minutes=2)

    pushes = len(ps.wait_for(2))
    assert run_send_tick(delivery.expires_at + timedelta(seconds=1))["expired"] == 1
    assert reload(delivery).status == "expired" and len(ps.received) == pushes


def test_backoff_past_the_day_end_expires_at_once(push_app, ps):
    delivery = make_due(expires_at=NOW + timedelta(seconds=30))
    subscribe(ps, delivery.family.user)
    ps.respond(503)
    assert run_send_tick(NOW)["expired"] == 1
    assert reload(delivery).status == "expired"


@pytest.mark.parametrize("status", [400, 403, 413])
def test_client_errors_are_counted_and_the_subscription_kept(push_app, ps, status):
    delivery = make_due()
    sub, row = subscribe(ps, delivery.family.user)
    ps.respond(status, endpoint=sub.endpoint)

    assert run_send_tick(NOW)["failed"] == 1

    delivery, row = reload(delivery), reload(row)
    assert (delivery.status, delivery.last_status_code) == ("failed", status)
    assert (row.error_count, row.first_error_at) == (1, NOW)


def test_persistent_client_errors_delete_the_subscription(push_app, ps):
    delivery = make_due()
    sub, row = subscribe(ps, delivery.family.user)
    PushSubscription.update(error_count=4, first_error_at=NOW - timedelta(days=4)).execute()
    ps.respond(403, endpoint=sub.endpoint)
    run_send_tick(NOW)
    assert PushSubscription.get_or_none(id=row.id) is None


def test_timeout_is_retried(push_app, ps):
    push_app.config["PUSH_TIMEOUT"] = 1
    delivery = make_due()
    subscribe(ps, delivery.family.user)
    ps.stall(3, times=1)

    assert run_send_tick(NOW)["retrying"] == 1
    delivery = reload(delivery)
    assert (delivery.status, delivery.last_error) == ("pending", "timeout")
    assert delivery.next_attempt_at == NOW + timedelta(minutes=1)


def test_disallowed_host_is_never_contacted(push_app, ps):
    delivery = make_due()
    evil = PushSubscription.create(user=delivery.family.user, endpoint="http://10.0.0.1:80/push/x",
                                   p256dh=ps.subscribe().p256dh, auth="AAAAAAAAAAAAAAAAAAAAAA")
    assert run_send_tick(NOW)["failed"] == 1
    assert ps.received == [] and reload(evil).error_count == 1

    other = make_due()
    evil.user = other.family.user
    evil.save()
    subscribe(ps, other.family.user)
    assert run_send_tick(NOW)["sent"] == 1


def test_past_day_end_expires_without_sending(push_app, ps):
    delivery = make_due(expires_at=NOW - timedelta(minutes=1))
    subscribe(ps, delivery.family.user)
    assert claim_batch(NOW, 10, 60) == []
    assert reload(delivery).status == "expired" and ps.received == []


def test_crash_after_claim_is_sent_once_after_the_lease(push_app, ps):
    delivery = make_due()
    subscribe(ps, delivery.family.user)
    (claimed,) = claim_batch(NOW, 10, 60)  # … and the process dies here
    assert reload(claimed).status == "sending"

    assert run_send_tick(NOW + timedelta(seconds=30))["sent"] == 0  # the lease still holds
    assert run_send_tick(NOW + timedelta(seconds=61))["sent"] == 1
    assert run_send_tick(NOW + timedelta(seconds=200))["sent"] == 0
    assert [m.json()["delivery_id"] for m in ps.wait_for(1)] == [delivery.id]
    assert reload(delivery).attempts == 2


def test_sequential_ticks_never_send_twice(push_app, ps):
    deliveries = [make_due() for _ in range(5)]
    for item in deliveries:
        subscribe(ps, item.family.user)

    first = run_send_tick(NOW, batch_size=2)  # three batches, pipelined
    second = run_send_tick(NOW)

    assert first["sent"] == 5 and second["sent"] == 0
    assert sorted(m.json()["delivery_id"] for m in ps.wait_for(5)) == sorted(d.id for d in deliveries)


def test_a_stale_sender_cannot_overwrite(push_app, ps):
    delivery = make_due()
    (mine,) = claim_batch(NOW, 10, 60)
    (theirs,) = claim_batch(NOW + timedelta(seconds=61), 10, 60)  # my lease ran out; re-claimed
    ok = SubscriptionResult(1, "e", 201, None, None, "ok")
    assert record_push_result(mine, [ok], NOW) is None
    assert reload(delivery).status == "sending"
    assert record_push_result(theirs, [ok], NOW) == "sent"


def test_send_test_push(push_app, ps):
    family = factories.make_family()
    sub, _row = subscribe(ps, family.user)
    gone, gone_row = subscribe(ps, family.user)
    ps.respond(410, endpoint=gone.endpoint)

    result = send_test_push(family.user)

    assert (result["devices"], result["sent"], result["removed"]) == (2, 1, 1)
    assert PushSubscription.get_or_none(id=gone_row.id) is None
    test_msg = next(m for m in ps.wait_for(2) if m.endpoint == sub.endpoint)
    assert test_msg.json()["tag"] == "attune-test" and test_msg.topic == "attune-test"
    assert utcnow() - timedelta(minutes=1) < reload(_row).last_ok_at


def test_a_payload_that_cannot_be_built_fails_alone(push_app, ps, monkeypatch):
    delivery = make_due()
    subscribe(ps, delivery.family.user)
    monkeypatch.setattr("coach.services.delivery.push.MAX_PAYLOAD_BYTES", 100)
    assert run_send_tick(NOW)["failed"] == 1
    delivery = reload(delivery)
    assert delivery.status == "failed" and "payload" in delivery.last_error and ps.received == []


def test_an_error_mid_tick_still_records_what_was_pushed(push_app, ps, monkeypatch):
    first, _second = make_due(), make_due()
    for item in (first, _second):
        subscribe(ps, item.family.user)
    real_claim, calls = service.claim_with_expired, []

    def failing_claim(*args):
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real_claim(*args)

    monkeypatch.setattr(service, "claim_with_expired", failing_claim)
    with pytest.raises(RuntimeError):
        run_send_tick(NOW, batch_size=1)
    assert reload(first).status == "sent"


def test_a_deactivated_parent_gets_no_push(push_app, ps):
    delivery = make_due()
    subscribe(ps, delivery.family.user)
    User.update(active=False).where(User.id == delivery.family.user_id).execute()
    assert run_send_tick(NOW)["no_device"] == 1 and ps.received == []
