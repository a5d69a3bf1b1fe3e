"""A shared phone's outbox names the account each check-in was made under (``X-Attune-Account``):
the server stores it only for that account and refuses anyone else with 409 ``wrong_account``, which
the outbox keeps for its owner (the browser story is tests/e2e/test_shared_phone.py)."""
from __future__ import annotations

from coach.models import CheckIn

from . import factories
from .parent_helpers import ParentClient, checkin_body, make_delivery


def test_a_checkin_made_under_another_account_is_refused_and_nothing_is_stored(app):
    owner = ParentClient(app, factories.make_family())
    other = ParentClient(app, factories.make_family())
    body = checkin_body(delivery_id=make_delivery(owner.family).id, note="Owner's private note.")

    refused = other.api("POST", "/api/checkins", json=body, headers={"X-Attune-Account": str(owner.user.id)})
    assert refused.status_code == 409
    problem = refused.get_json()
    assert problem["error"] == "wrong_account"
    assert problem["message"] == ("This check-in was made by another account on this phone. "
                                  "It will be sent when that account signs in.")
    assert CheckIn.select().count() == 0

    saved = owner.api("POST", "/api/checkins", json=body, headers={"X-Attune-Account": str(owner.user.id)})
    assert saved.status_code == 201
    (stored,) = CheckIn.select()
    assert stored.family_id == owner.family.id and stored.note == "Owner's private note."


def test_without_the_header_a_page_checks_in_as_whoever_is_signed_in(app):
    parent = ParentClient(app, factories.make_family())
    assert parent.api("POST", "/api/checkins", json=checkin_body()).status_code == 201


def test_a_garbled_account_header_is_refused_not_stored(app):
    parent = ParentClient(app, factories.make_family())
    for value in ("", "abc", "-1", str(parent.user.id) + "0"):
        response = parent.api("POST", "/api/checkins", json=checkin_body(), headers={"X-Attune-Account": value})
        assert response.status_code == 409, value
    assert CheckIn.select().count() == 0
