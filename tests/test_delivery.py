"""The sending half of the delivery engine against a loopback push service: claim, send, record."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from email.utils import format_datetime

import pytest

from coach.models import PushSubscription, User, utcnow
from coach.services.delivery import recording
from coach.services.delivery import sending as service
from coach.services.delivery.sending import (
    SubscriptionResult,
    claim_batch,
    record_push_result,
    renew_leases,
    retry_delay,
    run_send_tick,
    send_test_push,
)
from tests import factories
from tests.delivery_helpers import NOW, make_due, reload, subscribe
from tests.waiting import wait_until


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
    assert retry_delay(throttled, 1) == timedelta(minutes=1)  # none given: the usual backoff
    throttled.retry_after = format_datetime(datetime.now().astimezone() + timedelta(minutes=5), usegmt=False)
    assert timedelta(minutes=4) < retry_delay(throttled, 1) <= timedelta(minutes=5)
    throttled.retry_after = "soon"
    assert retry_delay(throttled, 2) == timedelta(minutes=2)
    throttled.retry_after = " 90 "
    assert retry_delay(throttled, 2) == timedelta(seconds=90)
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


# --- issue 9 item 5: one push answer never aborts a batch -------------------------------------------

@pytest.mark.parametrize("value", [
    "²", "٣٠", "-5", "1e3", "3.5", "10 20", " ", "soon", "0x10", "+60", "\u00a0120",
    "99999999999999999999999999999999999999999999999999",  # more than a day: clamped
    "Wed, 21 Oct 2015 07:28:00 GMT",  # an HTTP-date in the past
    "Wed, 99 Foo 2026 99:99:99 GMT", "Mon, 01 Jan 10000 00:00:00 GMT", "x" * 5000,
])
def test_any_retry_after_gives_a_sane_delay(value):
    throttled = SubscriptionResult(1, "e", 429, None, value, "throttled")
    delay = retry_delay(throttled, 3)
    assert timedelta(seconds=service.MIN_RETRY_DELAY) <= delay <= timedelta(seconds=service.MAX_RETRY_AFTER)


def test_unreadable_retry_after_falls_back_to_the_normal_backoff():
    throttled = SubscriptionResult(1, "e", 429, None, "²", "throttled")
    assert [retry_delay(throttled, n) for n in (1, 3)] == [timedelta(minutes=1), timedelta(minutes=4)]
    throttled.retry_after = "99999999999999999999"
    assert retry_delay(throttled, 1) == timedelta(seconds=service.MAX_RETRY_AFTER)
    throttled.retry_after = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert retry_delay(throttled, 1) == timedelta(seconds=service.MIN_RETRY_DELAY)


def test_a_bad_retry_after_does_not_abort_the_batch(push_app, ps):
    odd, *others = [make_due() for _ in range(3)]
    odd_sub, _row = subscribe(ps, odd.family.user)
    for item in others:
        subscribe(ps, item.family.user)
    # The loopback service writes headers as Latin-1: these two characters go out as UTF-8 "²".
    ps.respond(429, headers={"Retry-After": "²".encode().decode("latin-1")}, endpoint=odd_sub.endpoint)

    counts = run_send_tick(NOW)

    assert (counts["sent"], counts["retrying"]) == (2, 1)
    assert [reload(d).status for d in others] == ["sent", "sent"]
    odd = reload(odd)
    assert (odd.status, odd.last_status_code, odd.lease_until) == ("pending", 429, None)
    assert odd.next_attempt_at == NOW + timedelta(minutes=1)


def test_an_error_deciding_one_delivery_is_recorded_against_it_alone(push_app, ps, monkeypatch):
    broken, *others = [make_due() for _ in range(3)]
    for item in (broken, *others):
        subscribe(ps, item.family.user)
    real_decide = recording.decide

    def decide(delivery, *args, **kwargs):
        if delivery.id == broken.id:
            raise ArithmeticError("a bug in one answer")
        return real_decide(delivery, *args, **kwargs)

    monkeypatch.setattr(recording, "decide", decide)
    counts = run_send_tick(NOW)

    assert (counts["sent"], counts["failed"]) == (2, 1)
    assert [reload(d).status for d in others] == ["sent", "sent"]
    broken = reload(broken)
    assert broken.status == "failed" and "a bug in one answer" in broken.last_error


def test_an_unparsable_stored_endpoint_fails_alone(push_app, ps):
    bad, good = make_due(), make_due()
    PushSubscription.create(user=bad.family.user, endpoint="https://[::1/push/x",
                            p256dh=ps.subscribe().p256dh, auth="AAAAAAAAAAAAAAAAAAAAAA")
    subscribe(ps, good.family.user)

    counts = run_send_tick(NOW)

    assert (counts["sent"], counts["failed"]) == (1, 1)
    assert (reload(bad).status, reload(good).status) == ("failed", "sent")


# --- issue 9 item 6: results written as pushes complete; short leases renewed while alive ------------

def _tick_in_thread(app, now=None) -> threading.Thread:
    """``run_send_tick`` on its own thread (as the scheduler runs it), so the test can watch the rows."""
    def run():
        with app.app_context():
            run_send_tick(now)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_each_delivery_is_recorded_as_soon_as_its_push_is_answered(push_app, ps):
    slow, fast = make_due(), make_due()
    slow_sub, _row = subscribe(ps, slow.family.user)
    subscribe(ps, fast.family.user)
    push_app.config["PUSH_TIMEOUT"] = 600  # no timeout may end the held push early
    ps.hold(endpoint=slow_sub.endpoint)  # the slow push stays unanswered until released

    tick = _tick_in_thread(push_app, NOW)
    try:
        # It must not wait for the slow push of its batch (held, not timed: the bound is a hang guard).
        wait_until(lambda: reload(fast).status == "sent", timeout=60,
                   what="the answered push to be recorded while another was in flight")
        assert reload(slow).status == "sending" and ps.in_flight == 1
    finally:
        ps.release()
        tick.join(30)
    assert reload(slow).status == "sent" and len(ps.wait_for(2)) == 2


def test_a_live_sender_keeps_renewing_a_short_lease(push_app, ps):
    push_app.config.update(PUSH_LEASE_SECONDS=3, PUSH_TIMEOUT=10)
    now = utcnow()
    delivery = make_due(now=now, expires_at=now + timedelta(hours=1))
    sub, _row = subscribe(ps, delivery.family.user)
    ps.stall(5, endpoint=sub.endpoint)  # in flight for longer than the lease

    tick = _tick_in_thread(push_app)
    leases = []
    while tick.is_alive():
        row = reload(delivery)
        if row.status == "sending":
            seen = utcnow()
            assert seen < row.lease_until <= seen + timedelta(seconds=3.5)  # short, and never lapsed
            assert claim_batch(seen, 10, 3) == []  # so no other sender can take it
            leases.append(row.lease_until)
        time.sleep(0.2)
    tick.join()

    assert len(set(leases)) >= 3  # renewed about every second
    assert reload(delivery).status == "sent" and len(ps.wait_for(1)) == 1


def test_a_lease_is_renewed_only_while_it_is_still_held(push_app, ps):
    delivery = make_due()
    (mine,) = claim_batch(NOW, 10, 30)
    assert renew_leases([mine], NOW + timedelta(seconds=10), 30) == set()
    assert reload(delivery).lease_until == mine.lease_until == NOW + timedelta(seconds=40)

    (theirs,) = claim_batch(NOW + timedelta(seconds=41), 10, 30)  # I stalled; my lease ran out
    assert renew_leases([mine], NOW + timedelta(seconds=42), 30) == {delivery.id}
    assert reload(delivery).lease_until == theirs.lease_until == NOW + timedelta(seconds=71)
    ok = SubscriptionResult(1, "e", 201, None, None, "ok")
    assert record_push_result(mine, [ok], NOW) is None  # nor can I record it

    assert record_push_result(theirs, [ok], NOW) == "sent"
    assert renew_leases([theirs], NOW + timedelta(seconds=50), 30) == set()  # recorded is not lost


def test_a_failing_write_stops_the_tick_and_leaves_the_rest_to_the_lease(push_app, ps, monkeypatch):
    deliveries = [make_due() for _ in range(4)]
    for item in deliveries:
        subscribe(ps, item.family.user)

    def broken_write(outcomes, now):
        raise RuntimeError("disk full")

    monkeypatch.setattr(recording, "record_outcomes", broken_write)
    with pytest.raises(RuntimeError, match="disk full"):  # raised, not hung
        run_send_tick(NOW, batch_size=2)
    statuses = [reload(d).status for d in deliveries]  # claimed ones wait for their lease to end
    assert "sending" in statuses and set(statuses) <= {"sending", "pending"}
    monkeypatch.undo()
    assert run_send_tick(NOW + timedelta(seconds=25))["sent"] == 4
