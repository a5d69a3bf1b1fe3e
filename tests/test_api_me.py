"""``/api/me``: the account, settings changes (re-planned at once), the data export and erasure."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from coach.models import (
    AuditEvent,
    CheckIn,
    Delivery,
    Family,
    Invite,
    PushSubscription,
    SupportRequest,
    User,
)
from coach.services.families.checkins import local_today
from coach.services.people.invites import create_invite, hash_token

from . import factories
from .parent_helpers import ParentClient, checkin_body, make_delivery


@pytest.fixture
def parent(app):
    return ParentClient(app, factories.make_family(child_name="Sam"))


def test_me_shows_account_settings_streak_and_devices(parent):
    PushSubscription.create(user=parent.user, endpoint="https://fcm.googleapis.com/fcm/send/abc",
                            p256dh="B" * 87, auth="A" * 22,
                            user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/130.0 Mobile Safari/537.36")
    body = parent.get("/api/me").get_json()
    assert body["user"]["email"] == parent.user.email and "password_hash" not in json.dumps(body)
    assert body["family"]["days_of_week"] == [0, 1, 2, 3, 4, 5, 6]
    assert body["family"]["days_label"] == "Every day"
    assert body["streak"] == {"days": 0, "checked_in_today": False,
                              "message": "Every check-in counts. Start whenever it suits you."}
    assert [d["label"] for d in body["push_devices"]] == ["Chrome on Android"]


def test_settings_change_is_saved_and_replanned(parent):
    before = Family.get_by_id(parent.family.id).next_due_at
    response = parent.api("PATCH", "/api/me/settings", json={
        "window_start": "07:00", "window_end": "08:30", "days_of_week": [0, 2, 4],
        "timezone": "America/New_York", "share_notes_default": True})
    assert response.status_code == 200, response.get_json()
    settings = response.get_json()["settings"]
    assert settings["days_label"] == "Monday, Wednesday and Friday"
    family = Family.get_by_id(parent.family.id)
    assert (family.window_start, family.window_end, family.days_of_week, family.timezone) == \
        ("07:00", "08:30", "024", "America/New_York")
    assert family.share_notes_default is True
    assert family.next_due_at is not None and family.next_due_at != before
    assert AuditEvent.select().where(AuditEvent.action == "settings_changed").count() == 1


def test_pause_until_a_date_and_resume(parent):
    until = (local_today(parent.family) + timedelta(days=7)).isoformat()
    assert parent.api("PATCH", "/api/me/settings", json={"paused_until": until}).status_code == 200
    family = Family.get_by_id(parent.family.id)
    assert family.paused_until.isoformat() == until
    assert family.next_due_at.date() >= family.paused_until  # nothing planned during the pause
    assert parent.api("PATCH", "/api/me/settings", json={"paused_until": None}).status_code == 200
    assert Family.get_by_id(parent.family.id).paused_until is None


BAD_SETTINGS = [
    ({"window_start": "19:00", "window_end": "19:15"}, "window_end"),
    ({"window_start": "25:00"}, "window_start"),
    ({"window_end": 1900}, "window_end"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"days_of_week": []}, "days_of_week"),
    ({"days_of_week": [7]}, "days_of_week"),
    ({"days_of_week": [True]}, "days_of_week"),
    ({"paused_until": "2001-01-01"}, "paused_until"),
    ({"paused_until": "next week"}, "paused_until"),
    ({"share_notes_default": "yes"}, "share_notes_default"),
    ({"email": "new@example.org"}, "email"),
]


def test_bad_settings_are_422_and_change_nothing(parent):
    """Each bad value next to a good one: the whole change is refused."""
    wrong = []
    for changes, field in BAD_SETTINGS:
        response = parent.api("PATCH", "/api/me/settings", json={"window_start": "06:00", **changes})
        if response.status_code != 422 or field not in response.get_json().get("fields", {}):
            wrong.append((changes, response.status_code, response.get_json()))
    assert not wrong
    assert Family.get_by_id(parent.family.id).window_start == "18:00"


def test_settings_need_json_and_csrf(parent):
    assert parent.api("PATCH", "/api/me/settings", data={"window_start": "06:00"}).status_code == 415
    assert parent.api("PATCH", "/api/me/settings", json={"window_start": "06:00"}, csrf=False).status_code == 400
    assert Family.get_by_id(parent.family.id).window_start == "18:00"


def test_export_has_the_familys_data_in_words(app, parent):
    delivery = make_delivery(parent.family)
    parent.api("POST", "/api/checkins", json=checkin_body(delivery_id=delivery.id, note="A calm bath.",
                                                          wants_support=True, answer=0, felt=4))
    PushSubscription.create(user=parent.user, endpoint="https://fcm.googleapis.com/x", p256dh="B" * 87, auth="A" * 22)
    response = parent.get("/api/me/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="attune-export-')
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == parent.user.email
    assert data["family"]["child_name"] == "Sam" and data["family"]["days"] == "Every day"
    (checkin,) = data["check_ins"]
    assert checkin["note"] == "A calm bath." and checkin["prompt"] == "Notice Sam's look-away"
    assert checkin["answer"] == "Yes, I waited for Sam" and checkin["feeling"] == "Close"
    assert [d["prompt"] for d in data["prompts_received"]] == ["Notice Sam's look-away"]
    assert data["prompts_received"][0]["status"] == "Sent to your phone"
    assert len(data["push_devices"]) == 1 and len(data["support_requests"]) == 1


def _keys(value, path="") -> list[tuple[str, str]]:
    """Every (path, key) in a JSON value, at every depth."""
    found = []
    if isinstance(value, dict):
        for key, inner in value.items():
            found.append((path, key))
            found += _keys(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            found += _keys(inner, f"{path}[{n}]")
    return found


def test_export_holds_no_secrets_or_internals_at_any_depth(app, parent):
    worker = factories.make_user("worker")
    invite, _token = create_invite(worker)
    Invite.update(used_at=invite.created_at, family=parent.family).where(Invite.id == invite.id).execute()
    delivery = make_delivery(parent.family, lease_until=None, attempts=2, last_status_code=201)
    Family.update(next_due_at=delivery.due_at).where(Family.id == parent.family.id).execute()
    parent.api("POST", "/api/checkins", json=checkin_body(delivery_id=delivery.id, wants_support=True))
    device = PushSubscription.create(user=parent.user, endpoint="https://fcm.googleapis.com/secret-endpoint",
                                     p256dh="B" * 87, auth="Z" * 22)
    text = parent.get("/api/me/export").get_data(as_text=True)
    data = json.loads(text)
    secret = {"password_hash", "session_token", "p256dh", "auth", "endpoint", "ack_token", "token",
              "token_hash", "lease_until", "next_due_at", "next_attempt_at"}
    found = [(path, key) for path, key in _keys(data) if key in secret or "token" in key]
    assert found == []
    user = User.get_by_id(parent.user.id)
    for value in (user.session_token, user.password_hash, device.endpoint, device.p256dh, device.auth,
                  invite.token_hash):
        assert value not in text
    # Answers and feelings are words, never the stored numbers.
    for checkin in data["check_ins"]:
        assert isinstance(checkin["answer"], str) and not isinstance(checkin["feeling"], int)


def test_delete_needs_confirmation(parent):
    for body in ({}, {"confirm": "yes"}, {"confirm": "someone@else.org"}):
        response = parent.api("DELETE", "/api/me", json=body)
        assert response.status_code == 422 and "confirm" in response.get_json()["fields"]
    assert User.get_or_none(User.id == parent.user.id) is not None


def test_delete_erases_the_family_and_signs_out(app, parent):
    worker = factories.make_user("worker")
    invite, token = create_invite(worker)
    Invite.update(used_at=invite.created_at, family=parent.family, label="The Smiths").where(Invite.id == invite.id).execute()
    delivery = make_delivery(parent.family)
    parent.api("POST", "/api/checkins", json=checkin_body(delivery_id=delivery.id, wants_support=True))
    PushSubscription.create(user=parent.user, endpoint="https://fcm.googleapis.com/y", p256dh="B" * 87, auth="A" * 22)
    other = factories.make_family()
    make_delivery(other)

    response = parent.api("DELETE", "/api/me", json={"confirm": parent.user.email.upper()})
    assert response.status_code == 200 and response.get_json()["deleted"] is True
    assert User.get_or_none(User.id == parent.user.id) is None
    assert Family.get_or_none(Family.id == parent.family.id) is None
    for model in (CheckIn, SupportRequest, PushSubscription):
        assert model.select().count() == 0
    assert Delivery.select().count() == 1  # the other family's
    kept = Invite.get(Invite.token_hash == hash_token(token))
    assert kept.family_id is None and kept.label == ""
    assert AuditEvent.select().where(AuditEvent.action == "account_deleted").count() == 1
    assert parent.get("/api/me").status_code == 401
    assert Family.get_by_id(other.id)
