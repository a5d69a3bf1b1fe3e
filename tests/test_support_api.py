"""``/api/support-requests``: a parent asks for their worker as JSON and lists their own requests;
bad input is a 422 with nothing stored; workers, admins and anonymous visitors are refused."""
from __future__ import annotations

import pytest

from coach.models import MailMessage, StaffAlert, SupportRequest
from coach.services.families.caseload import mark_followed_up

from . import factories
from .parent_helpers import ParentClient


@pytest.fixture
def worker():
    return factories.make_user("worker", name="Maria")


@pytest.fixture
def parent(app, worker):
    return ParentClient(app, factories.make_family(worker, child_name="Sam"))


def nothing_stored() -> bool:
    return SupportRequest.select().count() == MailMessage.select().count() == StaffAlert.select().count() == 0


def test_a_parent_asks_and_gets_the_request_back(parent, worker):
    response = parent.api("POST", "/api/support-requests", json={"safe": "no", "note": "  Please call.  "})

    assert response.status_code == 201, response.get_json()
    body = response.get_json()["support_request"]
    assert set(body) == {"id", "urgent", "status", "worker_name", "respond_by"}
    assert (body["urgent"], body["status"], body["worker_name"]) == (True, "open", "Maria")
    assert body["respond_by"].endswith("Z")
    row = SupportRequest.get_by_id(body["id"])
    assert (row.family_id, row.user_id, row.source, row.safe, row.note) == (
        parent.family.id, parent.user.id, "help", "no", "Please call.")
    assert StaffAlert.select().where(StaffAlert.user == worker).count() == 1
    assert MailMessage.select().where(MailMessage.to_address == worker.email).count() == 1


def test_safe_and_note_may_be_left_out(parent):
    response = parent.api("POST", "/api/support-requests", json={})
    assert response.status_code == 201
    assert response.get_json()["support_request"]["urgent"] is False
    assert SupportRequest.get().safe is None


def test_the_list_holds_only_the_parents_own_requests_newest_first(app, parent, worker):
    other = ParentClient(app, factories.make_family(worker))
    assert other.api("POST", "/api/support-requests", json={"safe": "yes"}).status_code == 201
    first = parent.api("POST", "/api/support-requests", json={"safe": "yes"}).get_json()["support_request"]
    second = parent.api("POST", "/api/support-requests", json={"safe": "unsure"}).get_json()["support_request"]
    mark_followed_up(parent.family, first["id"], worker)

    response = parent.api("GET", "/api/support-requests")

    assert response.status_code == 200
    listed = response.get_json()["support_requests"]
    assert [r["id"] for r in listed] == [second["id"], first["id"]]
    assert [r["status"] for r in listed] == ["open", "followed_up"]
    assert listed[1]["followed_up_by"] == "Maria" and listed[1]["followed_up_at"].endswith("Z")
    assert all("note" not in r and "family_id" not in r for r in listed)


@pytest.mark.parametrize("body, field", [
    ({"safe": "maybe"}, "safe"),
    ({"safe": 1}, "safe"),
    ({"note": "x" * 501}, "note"),
    ({"note": 42}, "note"),
    ({"note": {"text": "hi"}}, "note"),
    ({"note": "hello\x00there"}, "note"),
])
def test_bad_input_is_422_and_nothing_is_stored(parent, body, field):
    response = parent.api("POST", "/api/support-requests", json=body)
    assert response.status_code == 422
    payload = response.get_json()
    assert payload["error"] == "invalid" and payload["message"].endswith(".") and field in payload["fields"]
    assert nothing_stored()


def test_a_body_that_is_not_a_json_object_is_refused(parent):
    assert parent.api("POST", "/api/support-requests", json=["no"]).status_code == 400
    assert parent.api("POST", "/api/support-requests", data="safe=no",
                      headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 415
    assert parent.api("POST", "/api/support-requests", json={"safe": "no"}, csrf=False).status_code == 400
    assert nothing_stored()


@pytest.mark.parametrize("role", ["worker", "admin"])
def test_staff_cannot_ask_or_list(app, role):
    user = factories.make_user(role)
    client = app.test_client()
    token = factories.extract_csrf(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token})
    token = factories.extract_csrf(client.get("/worker/").get_data(as_text=True))
    headers = {"X-CSRFToken": token}
    assert client.post("/api/support-requests", json={"safe": "no"}, headers=headers).status_code == 403
    assert client.get("/api/support-requests").status_code == 403
    assert nothing_stored()


def test_anonymous_visitors_get_401(client):
    assert client.get("/api/support-requests").status_code == 401
    token = factories.extract_csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/api/support-requests", json={"safe": "no"}, headers={"X-CSRFToken": token})
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    assert nothing_stored()
