"""Staff alerts as Web Push to a worker's own devices, through the loopback push service: every
push-service answer handled (gone devices removed, 5xx and 429 retried with backoff, refused hosts
never contacted), a worker with no device recorded as ``no_device``, a crashed sender's alert sent
once its lease runs out."""
from __future__ import annotations

from datetime import datetime, timedelta

from coach.models import PushSubscription, StaffAlert
from coach.services.delivery.alerts import run_alert_tick
from coach.services.delivery.outbox import claim_due
from coach.services.families.support import ask_for_support
from tests import factories
from tests.delivery_helpers import subscribe

NOW = datetime(2026, 12, 1, 19, 42)  # rows made with now=NOW take it as their created_at too


def ask(worker=None, safe="yes"):
    worker = worker or factories.make_user("worker")
    family = factories.make_family(worker)
    ask_for_support(family, family.user, source="help", safe=safe, now=NOW)
    return worker, family


def alert() -> StaffAlert:
    return StaffAlert.get()


def test_every_device_of_the_worker_gets_the_alert(push_app, ps):
    worker, family = ask()
    subs = [subscribe(ps, worker)[0], subscribe(ps, worker)[0]]
    subscribe(ps, factories.make_user("worker"))  # another worker's phone stays quiet

    assert run_alert_tick(NOW)["alerts_sent"] == 1
    received = ps.wait_for(2)
    assert {r.endpoint for r in received} == {s.endpoint for s in subs}
    assert {r.topic for r in received} == {f"support-{alert().support_request_id}"}
    assert alert().status == "sent" and alert().sent_at == NOW
    assert run_alert_tick(NOW + timedelta(minutes=1))["alerts_sent"] == 0 and len(ps.received) == 2


def test_a_worker_with_no_devices_is_recorded_as_no_device(push_app, ps):
    ask()
    assert run_alert_tick(NOW) == {"alerts_sent": 0, "alerts_no_device": 1, "alerts_retrying": 0,
                                   "alerts_failed": 0}
    assert alert().status == "no_device" and ps.received == []


def test_a_deactivated_workers_devices_get_nothing(push_app, ps):
    worker, _family = ask()
    subscribe(ps, worker)
    worker.active = False
    worker.save()
    assert run_alert_tick(NOW)["alerts_no_device"] == 1 and ps.received == []


def test_an_unsubscribed_device_is_removed(push_app, ps):
    worker, _family = ask()
    _sub, row = subscribe(ps, worker)
    ps.respond(410)
    assert run_alert_tick(NOW)["alerts_no_device"] == 1
    assert not PushSubscription.select().where(PushSubscription.id == row.id).exists()


def test_push_service_errors_are_retried_with_backoff(push_app, ps):
    worker, _family = ask()
    subscribe(ps, worker)
    ps.respond(503, times=1)
    assert run_alert_tick(NOW)["alerts_retrying"] == 1
    assert (alert().status, alert().attempts, alert().next_attempt_at) == ("pending", 1, NOW + timedelta(minutes=1))
    assert run_alert_tick(NOW + timedelta(seconds=30))["alerts_sent"] == 0  # not due yet
    assert run_alert_tick(NOW + timedelta(minutes=1))["alerts_sent"] == 1
    assert [r.status for r in ps.wait_for(2)] == [503, 201]


def test_an_alert_that_cannot_go_for_a_day_is_given_up(push_app, ps):
    worker, _family = ask()
    subscribe(ps, worker)
    ps.respond(500)
    assert run_alert_tick(NOW + timedelta(hours=24))["alerts_failed"] == 1
    assert alert().status == "failed"


def test_a_device_on_a_host_not_allowed_is_never_contacted(push_app, ps):
    worker, _family = ask()
    PushSubscription.create(user=worker, endpoint="https://push.invalid/x", p256dh="B" + "A" * 86, auth="A" * 22)
    assert run_alert_tick(NOW)["alerts_failed"] == 1 and ps.received == []


def test_a_crashed_senders_alert_is_sent_once_its_lease_runs_out(push_app, ps):
    worker, _family = ask()
    subscribe(ps, worker)
    claim_due(StaffAlert, NOW, 10, 300)  # claimed by a sender that then died
    assert run_alert_tick(NOW + timedelta(minutes=1))["alerts_sent"] == 0
    assert run_alert_tick(NOW + timedelta(minutes=6))["alerts_sent"] == 1
    assert len(ps.wait_for(1)) == 1
