"""``/api/checkins``, ``/api/today`` and the notification's ``opened``/``ack``: every bad input gets a
4xx JSON error and stores nothing; a repeated id is idempotent; nobody reaches another family."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from coach.models import CheckIn, Delivery, SupportRequest, SupportResource
from coach.services.delivery.ack import make_ack_token

from . import factories
from .parent_helpers import ParentClient, checkin_body, make_delivery


@pytest.fixture
def parent(app):
    return ParentClient(app, factories.make_family(child_name="Sam"))


@pytest.fixture
def delivery(parent):
    return make_delivery(parent.family)


def post_checkin(parent, **fields):
    return parent.api("POST", "/api/checkins", json=checkin_body(**fields))


def assert_error(response, status: int, field: str | None = None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) >= {"error", "message"} and body["message"].endswith(".")
    if field:
        assert field in body["fields"], body
    return body


def test_checkin_is_created_with_its_client_uuid(parent, delivery):
    body = checkin_body(delivery_id=delivery.id, answer=2, tried="not_yet", felt=3,
                        note="  Bath time was loud.  ", shared_with_worker=True)
    response = parent.api("POST", "/api/checkins", json=body)
    assert response.status_code == 201
    saved = response.get_json()["checkin"]
    assert saved["id"] == body["id"] and saved["note"] == "Bath time was loud."
    row = CheckIn.get_by_id(uuid.UUID(body["id"]))
    assert (row.family_id, row.delivery_id, row.prompt_id) == (parent.family.id, delivery.id, delivery.prompt_id)
    assert (row.answer, row.tried, row.felt, row.shared_with_worker) == (2, "not_yet", 3, True)
    assert "support_resources" not in response.get_json()


def test_same_id_again_is_200_and_the_first_write_wins(parent, delivery):
    body = checkin_body(delivery_id=delivery.id, felt=2)
    assert parent.api("POST", "/api/checkins", json=body).status_code == 201
    again = parent.api("POST", "/api/checkins", json=body | {"felt": 5, "note": "changed"})
    assert again.status_code == 200
    assert again.get_json()["checkin"]["felt"] == 2 and again.get_json()["checkin"]["note"] is None
    assert CheckIn.select().count() == 1


def test_another_familys_uuid_is_a_conflict(app, parent):
    other = ParentClient(app, factories.make_family())
    body = checkin_body(note="mine")
    assert other.api("POST", "/api/checkins", json=body).status_code == 201
    assert_error(parent.api("POST", "/api/checkins", json=body | {"note": "theirs"}), 409, "id")
    assert CheckIn.select().count() == 1 and CheckIn.get().note == "mine"


def test_someone_elses_delivery_is_404_and_nothing_is_stored(parent):
    theirs = make_delivery(factories.make_family())
    assert_error(post_checkin(parent, delivery_id=theirs.id, wants_support=True), 404)
    assert_error(post_checkin(parent, delivery_id=999_999), 404)
    assert CheckIn.select().count() == 0 and SupportRequest.select().count() == 0


FUTURE = (datetime.now(UTC) + timedelta(days=2)).isoformat()
BAD_FIELDS = [
    ("id", "not-a-uuid"),
    ("id", str(uuid.uuid1())),  # a UUID, but not version 4
    ("id", None),
    ("tried", "maybe"),
    ("tried", None),
    ("felt", 0),
    ("felt", 6),
    ("felt", "3"),
    ("felt", True),
    ("felt", 2.5),
    ("note", "x" * 501),
    ("note", 42),
    ("shared_with_worker", "true"),
    ("shared_with_worker", 1),
    ("wants_support", None),
    ("client_created_at", FUTURE),
    ("client_created_at", "yesterday"),
    ("client_created_at", 1700000000),
    ("delivery_id", "1"),
    ("delivery_id", True),
    ("delivery_id", 0),
    ("answer", -1),
    ("answer", "0"),
]


def test_bad_values_are_422_with_the_field_named(parent):
    """One app for the whole list: each bad value alone in an otherwise valid body."""
    wrong = []
    for field, value in BAD_FIELDS:
        response = post_checkin(parent, **{field: value})
        body = response.get_json() or {}
        if response.status_code != 422 or body.get("error") != "invalid" or field not in body.get("fields", {}):
            wrong.append((field, value, response.status_code, body))
    assert not wrong
    assert CheckIn.select().count() == 0


def test_missing_required_fields_are_listed_together(parent):
    body = assert_error(parent.api("POST", "/api/checkins", json={}), 422)
    assert set(body["fields"]) == {"id", "tried", "client_created_at"}


def test_answer_must_be_one_of_the_prompts(parent, delivery):
    assert_error(post_checkin(parent, delivery_id=delivery.id, answer=3), 422, "answer")
    assert_error(post_checkin(parent, answer=0), 422, "answer")  # no prompt to answer
    assert post_checkin(parent, delivery_id=delivery.id, answer=0).status_code == 201


def test_note_limits(parent):
    assert post_checkin(parent, note="x" * 500).status_code == 201
    response = post_checkin(parent, note="   \n ")
    assert response.status_code == 201 and response.get_json()["checkin"]["note"] is None
    assert post_checkin(parent, note="  " + "x" * 500 + "  ").status_code == 201  # trimmed first


def test_a_day_ahead_is_allowed_for_phone_clocks(parent):
    soon = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    assert post_checkin(parent, client_created_at=soon).status_code == 201
    naive_utc = datetime.now(UTC).replace(tzinfo=None).isoformat()
    assert post_checkin(parent, client_created_at=naive_utc).status_code == 201


def test_not_json_is_415_and_bad_json_is_400(parent):
    assert_error(parent.api("POST", "/api/checkins", data="tried=yes",
                            content_type="application/x-www-form-urlencoded"), 415)
    assert_error(parent.api("POST", "/api/checkins", data="{not json", content_type="application/json"), 400)
    assert_error(parent.api("POST", "/api/checkins", json=[checkin_body()]), 400)
    assert CheckIn.select().count() == 0


def test_missing_csrf_token_is_refused(parent):
    body = assert_error(parent.api("POST", "/api/checkins", json=checkin_body(), csrf=False), 400)
    assert body["error"] == "csrf_failed"
    wrong = parent.api("POST", "/api/checkins", json=checkin_body(), headers={"X-CSRFToken": "forged"})
    assert_error(wrong, 400)
    assert CheckIn.select().count() == 0


def test_signed_out_and_staff_are_refused(app):
    anonymous = app.test_client()
    assert_error(anonymous.post("/api/checkins", json=checkin_body()), 400)  # no CSRF token at all
    worker = factories.make_user("worker")
    token = factories.extract_csrf(anonymous.get("/login").get_data(as_text=True))
    anonymous.post("/login", data={"email": worker.email, "password": factories.PASSWORD, "csrf_token": token})
    staff = anonymous.post("/api/checkins", json=checkin_body(), headers={"X-CSRFToken": token})
    assert staff.status_code == 403
    assert CheckIn.select().count() == 0


def test_support_request_is_made_with_the_checkin_and_resources_come_back(parent, delivery):
    SupportResource.create(name="Parent helpline", phone="0800 123 456", position=1)
    SupportResource.create(name="Hidden", phone="0800 000 000", active=False)
    response = post_checkin(parent, delivery_id=delivery.id, wants_support=True)
    assert response.status_code == 201
    assert [r["name"] for r in response.get_json()["support_resources"]] == ["Parent helpline"]
    request = SupportRequest.get()
    assert request.family_id == parent.family.id and str(request.checkin_id) == response.get_json()["checkin"]["id"]
    again = parent.api("POST", "/api/checkins", json={**checkin_body(), "id": response.get_json()["checkin"]["id"]})
    assert again.status_code == 200 and SupportRequest.select().count() == 1


def test_list_checkins_newest_first(parent):
    old = checkin_body(client_created_at=(datetime.now(UTC) - timedelta(days=2)).isoformat())
    new = checkin_body()
    for body in (old, new):
        parent.api("POST", "/api/checkins", json=body)
    post_checkin(ParentClient(parent.client.application, factories.make_family()))  # someone else's
    listed = parent.get("/api/checkins").get_json()["checkins"]
    assert [c["id"] for c in listed] == [new["id"], old["id"]]
    assert parent.get("/api/checkins?limit=1").get_json()["checkins"][0]["id"] == new["id"]
    assert_error(parent.get("/api/checkins?limit=0"), 422, "limit")


def test_today_is_null_without_a_delivery_and_filled_in_with_one(parent):
    assert parent.get("/api/today").get_json() == {"delivery": None}
    delivery = make_delivery(parent.family)
    make_delivery(parent.family, local_date=delivery.local_date - timedelta(days=1))
    today = parent.get("/api/today").get_json()["delivery"]
    assert today["id"] == delivery.id and today["url"] == f"/checkin/{delivery.id}"
    assert today["prompt"]["title"] == "Notice Sam's look-away"
    assert today["prompt"]["answers"][0] == {"label": "Yes, I waited for Sam", "tried": "yes"}
    assert today["checked_in"] is False
    post_checkin(parent, delivery_id=delivery.id)
    assert parent.get("/api/today").get_json()["delivery"]["checked_in"] is True


# --- the notification: ack ("I tried it") and opened ------------------------------------------

def test_ack_checks_in_once_per_delivery_without_a_session(app, delivery):
    client = app.test_client()  # the service worker: no cookie, no CSRF token
    token = make_ack_token(delivery.id)
    first = client.post(f"/api/deliveries/{delivery.id}/ack", json={"ack_token": token})
    assert first.status_code == 201
    second = client.post(f"/api/deliveries/{delivery.id}/ack", json={"ack_token": token})
    assert second.status_code == 200
    assert first.get_json()["checkin"]["id"] == second.get_json()["checkin"]["id"]
    row = CheckIn.get()
    assert (row.tried, row.delivery_id, row.family_id) == ("yes", delivery.id, delivery.family_id)
    assert Delivery.get_by_id(delivery.id).opened_at is not None


def test_ack_with_the_clients_uuid_and_after_a_full_checkin(app, parent, delivery):
    earlier = post_checkin(parent, delivery_id=delivery.id).get_json()["checkin"]["id"]
    response = app.test_client().post(f"/api/deliveries/{delivery.id}/ack",
                                      json={"ack_token": make_ack_token(delivery.id), "id": str(uuid.uuid4())})
    assert response.status_code == 200 and response.get_json()["checkin"]["id"] == earlier
    assert CheckIn.select().count() == 1


@pytest.mark.parametrize(("body", "status"), [
    ({"ack_token": "0" * 32}, 403),
    ({}, 403),
    ({"ack_token": 5}, 403),
    ({"ack_token": "VALID", "id": "nope"}, 422),
])
def test_bad_acks_store_nothing(app, delivery, body, status):
    if body.get("ack_token") == "VALID":
        body = body | {"ack_token": make_ack_token(delivery.id)}
    assert_error(app.test_client().post(f"/api/deliveries/{delivery.id}/ack", json=body), status)
    assert CheckIn.select().count() == 0


def test_ack_token_of_another_delivery_or_none_is_refused(app, delivery):
    client = app.test_client()
    other = make_delivery(factories.make_family())
    assert_error(client.post(f"/api/deliveries/{delivery.id}/ack", json={"ack_token": make_ack_token(other.id)}), 403)
    assert_error(client.post("/api/deliveries/424242/ack", json={"ack_token": make_ack_token(424242)}), 404)
    assert_error(client.post(f"/api/deliveries/{delivery.id}/ack", data={"ack_token": make_ack_token(delivery.id)}), 415)
    assert CheckIn.select().count() == 0


def test_opened_with_the_ack_token_is_recorded_once(app, delivery):
    client = app.test_client()
    url = f"/api/deliveries/{delivery.id}/opened"
    assert client.post(url, json={"ack_token": make_ack_token(delivery.id)}).get_json() == {"opened": True, "first": True}
    first = Delivery.get_by_id(delivery.id).opened_at
    assert client.post(url, json={"ack_token": make_ack_token(delivery.id)}).get_json()["first"] is False
    assert Delivery.get_by_id(delivery.id).opened_at == first
    assert_error(client.post(url, json={"ack_token": "f" * 32}), 403)


def test_opened_with_a_session_needs_csrf_and_the_familys_own_delivery(parent, delivery):
    url = f"/api/deliveries/{delivery.id}/opened"
    assert_error(parent.api("POST", url, csrf=False), 400)
    assert Delivery.get_by_id(delivery.id).opened_at is None
    assert parent.api("POST", url).status_code == 200
    assert Delivery.get_by_id(delivery.id).opened_at is not None
    theirs = make_delivery(factories.make_family())
    assert_error(parent.api("POST", f"/api/deliveries/{theirs.id}/opened"), 404)
    assert Delivery.get_by_id(theirs.id).opened_at is None


def test_a_replay_racing_the_first_write_returns_the_stored_row(parent, monkeypatch):
    """Page and service worker sending one id at once: the insert that loses gets the winner's row.
    (The insert goes first, so every repeat takes this way: its insert is refused, then read.)"""
    from peewee import IntegrityError

    from coach.services.families import checkins

    body = checkin_body(note="first")
    assert post_checkin(parent, **{k: body[k] for k in ("id", "note")}).status_code == 201
    refused = []
    real = checkins._existing

    def after_refusal(checkin_id, family, user):
        import sys

        refused.append(isinstance(sys.exc_info()[1], IntegrityError))
        return real(checkin_id, family, user)

    monkeypatch.setattr(checkins, "_existing", after_refusal)
    again = parent.api("POST", "/api/checkins", json=body | {"note": "second"})
    assert again.status_code == 200 and again.get_json()["checkin"]["note"] == "first"
    assert refused == [True] and CheckIn.select().count() == 1
