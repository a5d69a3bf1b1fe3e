"""A support request reaches a person: one push to the worker's devices and one email within one tick
(urgent ones to the duty address too), nothing twice, exactly one escalation when nobody follows
up, and no note text or child name in any email or push — asserted on the bytes the loopback SMTP
server received and on the decrypted push."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from coach.delivery_cli import send_due
from coach.errors import AppError
from coach.models import MailMessage, StaffAlert, SupportRequest, utcnow
from coach.services.families import support
from coach.services.families.caseload import mark_followed_up
from coach.services.families.checkins import parse_checkin, record_checkin
from coach.services.families.support import (
    ask_for_support,
    escalate_overdue,
    open_escalations,
    overdue_requests,
    request_status,
)
from tests import factories
from tests.delivery_helpers import subscribe

NOW = datetime(2026, 12, 1, 19, 42)  # rows made with now=NOW take it as their created_at too
NOTE = "Jamie-private-note: I shouted at Sam and I feel awful"
CHILD = "Sam"


@pytest.fixture
def care_app(push_app, mail_app):
    """Pushes to the loopback push service, mail to the loopback SMTP server, a duty address."""
    push_app.config["DUTY_EMAIL"] = "duty@example.org"
    return push_app


@pytest.fixture
def worker():
    return factories.make_user("worker", name="Maria")


@pytest.fixture
def family(worker):
    return factories.make_family(worker, child_name=CHILD, display_name="Jamie")


def assert_private(smtp, pushes):
    """Neither the note nor the child's name (nor the parent's name) leaves in any message."""
    for mail in smtp.received:
        for secret in (NOTE, CHILD, "Jamie"):
            assert secret.encode() not in mail.content and secret not in mail.text and secret not in mail.subject
    for push in pushes:
        for secret in (NOTE, CHILD, "Jamie"):
            assert secret.encode() not in push.payload


def test_a_help_request_reaches_the_worker_by_push_and_email_within_one_tick(care_app, ps, smtp, worker, family):
    sub, _row = subscribe(ps, worker)
    request = ask_for_support(family, family.user, source="help", safe="yes", note=NOTE, now=NOW)

    summary = send_due(NOW)

    assert (summary["alerts_sent"], summary["mail_sent"]) == (1, 1)
    (push,) = ps.wait_for(1)
    assert push.endpoint == sub.endpoint
    payload = push.json()
    assert payload["title"] == "A family asked for help"
    assert payload["body"] == "A family on your caseload asked you to get in touch."
    assert payload["url"] == f"/worker/families/{family.id}" and payload["tag"] == f"support-{request.id}"
    assert "delivery_id" not in payload and "ack_token" not in payload and "actions" not in payload
    assert payload["notification"]["navigate"] == f"http://localhost/worker/families/{family.id}"
    (mail,) = smtp.wait_for(1)
    assert mail.to == [worker.email] and mail.subject == "A family asked you to get in touch"
    assert f"http://localhost/worker/families/{family.id}" in mail.text
    assert_private(smtp, [push])

    again = send_due(NOW + timedelta(minutes=10))
    assert (again["alerts_sent"], again["mail_sent"]) == (0, 0)
    assert len(ps.received) == 1 and len(smtp.received) == 1


def test_an_urgent_request_also_goes_to_the_duty_address_and_admins(care_app, ps, smtp, worker, family):
    admin = factories.make_user("admin")
    subscribe(ps, worker)
    subscribe(ps, admin)
    ask_for_support(family, family.user, source="help", safe="unsure", note=NOTE, now=NOW)

    summary = send_due(NOW)

    assert (summary["alerts_sent"], summary["mail_sent"]) == (2, 2)
    mails = {m.to[0]: m for m in smtp.wait_for(2)}
    assert set(mails) == {worker.email, "duty@example.org"}
    assert "may not be safe right now" in mails[worker.email].text
    assert mails["duty@example.org"].subject == "Urgent: a family may not be safe right now"
    pushes = ps.wait_for(2)
    assert {p.json()["title"] for p in pushes} == {"Urgent: a family may not be safe"}
    assert {p.urgency for p in pushes} == {"high"}
    assert_private(smtp, pushes)


def test_a_family_without_a_worker_reaches_the_duty_address(care_app, smtp):
    family = factories.make_family(None, child_name=CHILD, display_name="Jamie")
    ask_for_support(family, family.user, source="help", safe="yes", now=NOW)
    send_due(NOW)
    (mail,) = smtp.wait_for(1)
    assert mail.to == ["duty@example.org"] and "no family worker" in mail.text


def test_without_a_duty_address_urgent_requests_go_to_every_active_admin(care_app, smtp, family):
    care_app.config["DUTY_EMAIL"] = ""
    admins = [factories.make_user("admin"), factories.make_user("admin")]
    retired = factories.make_user("admin")
    retired.active = False
    retired.save()
    ask_for_support(family, family.user, source="help", safe="no", now=NOW)
    send_due(NOW)
    received = {m.to[0] for m in smtp.wait_for(3)}
    assert received == {family.worker.email, *(a.email for a in admins)}


def test_a_worker_without_devices_is_recorded_and_still_emailed(care_app, ps, smtp, worker, family):
    ask_for_support(family, family.user, source="help", now=NOW)
    summary = send_due(NOW)
    assert (summary["alerts_no_device"], summary["mail_sent"]) == (1, 1)
    assert StaffAlert.get().status == "no_device" and ps.received == []
    assert smtp.wait_for(1)[0].to == [worker.email]


def test_a_checkin_asking_for_support_alerts_without_its_private_note(care_app, ps, smtp, worker, family):
    subscribe(ps, worker)
    data = parse_checkin({"id": "0f8fad5b-d9cb-469f-a165-70867728950e", "tried": "yes", "note": NOTE,
                          "wants_support": True, "client_created_at": f"{utcnow():%Y-%m-%dT%H:%M:%SZ}"})
    checkin, created = record_checkin(family, data, family.user)
    assert created
    (request,) = SupportRequest.select()
    assert (request.source, request.checkin_id, request.user_id, request.note) == (
        "checkin", checkin.id, family.user_id, None)
    send_due(request.created_at)  # a check-in's request is made on the real clock
    assert_private(smtp, ps.wait_for(1))
    assert len(smtp.wait_for(1)) == 1


# --- escalation -----------------------------------------------------------------------------------

def test_an_unanswered_request_is_escalated_exactly_once(care_app, ps, smtp, worker, family):
    subscribe(ps, worker)
    request = ask_for_support(family, family.user, source="help", note=NOTE, now=NOW)
    assert request.respond_by == NOW + timedelta(hours=24)
    send_due(NOW)  # the worker's own alert
    assert send_due(NOW + timedelta(hours=23))["escalated"] == 0

    late = NOW + timedelta(hours=24, minutes=1)
    summary = send_due(late)
    assert (summary["escalated"], summary["mail_sent"], summary["alerts_sent"]) == (1, 1, 1)
    assert send_due(late + timedelta(minutes=5))["escalated"] == 0
    mails = smtp.wait_for(2)
    escalations = [m for m in mails if m.to == ["duty@example.org"]]
    assert len(escalations) == 1 and escalations[0].subject == "Not followed up yet: a family asked for help"
    assert f"http://localhost/worker/families/{family.id}\r\n" in escalations[0].text
    pushes = ps.wait_for(2)
    assert pushes[1].json()["url"] == f"/worker/families/{family.id}"
    assert [p.json()["title"] for p in pushes] == ["A family asked for help", "Not followed up yet"]
    assert len(ps.received) == 2
    assert_private(smtp, pushes)
    assert [r["id"] for r in open_escalations()] == [request.id]
    assert overdue_requests(late)[0]["escalated_at"] == late

    mark_followed_up(family, request.id, worker, now=late + timedelta(hours=1))
    assert open_escalations() == [] and overdue_requests(late + timedelta(hours=2)) == []


def test_a_followed_up_request_is_not_escalated(app, worker, family):
    request = ask_for_support(family, family.user, source="help", now=NOW)
    mark_followed_up(family, request.id, worker, now=NOW + timedelta(hours=2))
    assert escalate_overdue(NOW + timedelta(days=3)) == 0
    assert MailMessage.select().where(MailMessage.kind == "escalation").count() == 0


def test_the_response_time_comes_from_the_settings(app, family):
    app.config["SUPPORT_RESPONSE_HOURS"] = 4
    request = ask_for_support(family, family.user, source="help", now=NOW)
    assert request.respond_by == NOW + timedelta(hours=4)
    assert "within 4 hours" in MailMessage.get().body


# --- what the parent sees -------------------------------------------------------------------------

def test_the_parent_sees_open_then_followed_up_by_name(app, worker, family):
    first = ask_for_support(family, family.user, source="help", now=NOW)
    second = ask_for_support(family, family.user, source="low_mood", now=NOW + timedelta(hours=1))
    other = factories.make_family(worker)
    ask_for_support(other, other.user, source="help", now=NOW)

    status = request_status(family, family.user, now=NOW + timedelta(hours=2))
    assert [s["id"] for s in status] == [second.id, first.id]
    assert status[0] == {"id": second.id, "urgent": False, "status": "open", "worker_name": "Maria",
                         "created_at": NOW + timedelta(hours=1), "respond_by": NOW + timedelta(hours=25),
                         "followed_up_at": None, "followed_up_by": None, "overdue": False}

    mark_followed_up(family, first.id, worker, note="Called, all fine", now=NOW + timedelta(hours=3))
    followed = request_status(family, family.user)[1]
    assert (followed["status"], followed["followed_up_by"], followed["followed_up_at"]) == (
        "followed_up", "Maria", NOW + timedelta(hours=3))
    assert "note" not in followed and "follow_up_note" not in followed


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, bad", [
    ({"source": "email"}, "source"),
    ({"safe": "maybe"}, "safe"),
    ({"safe": True}, "safe"),
    ({"note": "x" * 501}, "note"),
    ({"note": ["a list"]}, "note"),
    ({"note": "nul \x00 byte"}, "note"),
])
def test_bad_input_is_refused_and_nothing_is_stored(app, family, fields, bad):
    with pytest.raises(AppError) as caught:
        ask_for_support(family, family.user, **({"source": "help"} | fields))
    assert caught.value.status == 422 and bad in caught.value.fields
    assert SupportRequest.select().count() == MailMessage.select().count() == StaffAlert.select().count() == 0


def test_a_request_and_its_alerts_are_written_together_or_not_at_all(app, family, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("the outbox is unavailable")

    monkeypatch.setattr(support, "queue_mail", broken)
    with pytest.raises(RuntimeError):
        ask_for_support(family, family.user, source="help", safe="no")
    assert SupportRequest.select().count() == StaffAlert.select().count() == 0
