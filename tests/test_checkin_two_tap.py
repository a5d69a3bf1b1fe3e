"""Two-tap check-ins: ``POST /api/checkins`` with only the answer (tried comes from the answer) and
the "add more" step, ``PATCH /api/checkins/<id>`` — yours only, within 48 h, fields checked,
asking for support exactly as a POST does (one request, one alert)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from coach.models import CheckIn, MailMessage, StaffAlert, SupportRequest
from coach.services.families.checkins import update_checkin

from . import factories
from .parent_helpers import ANSWERS, ParentClient, checkin_body, make_delivery, make_prompt


@pytest.fixture
def parent(app):
    worker = factories.make_user("worker")
    return ParentClient(app, factories.make_family(worker=worker))


@pytest.fixture
def delivery(parent):
    return make_delivery(parent.family)


def one_tap(parent, delivery, answer: int, **extra):
    body = {"id": str(uuid.uuid4()), "delivery_id": delivery.id, "answer": answer,
            "client_created_at": datetime.now(UTC).isoformat(), **extra}
    return parent.api("POST", "/api/checkins", json=body)


def patch(parent, checkin_id: str, body):
    return parent.api("PATCH", f"/api/checkins/{checkin_id}", json=body)


@pytest.mark.parametrize(("answer", "tried"), [(0, "yes"), (2, "not_yet")])
def test_one_tap_takes_tried_from_the_answer(parent, delivery, answer, tried):
    response = one_tap(parent, delivery, answer)
    assert response.status_code == 201, response.get_json()
    saved = response.get_json()["checkin"]
    assert (saved["answer"], saved["tried"], saved["felt"], saved["note"]) == (answer, tried, None, None)


def test_tried_is_the_chosen_answers_own_kind_not_its_position(parent):
    prompt = make_prompt(answers=[{"label": "Not yet", "tried": "not_yet"}, *ANSWERS[:2]])
    delivery = make_delivery(parent.family, prompt=prompt)
    assert one_tap(parent, delivery, 0).get_json()["checkin"]["tried"] == "not_yet"
    assert one_tap(parent, delivery, 2).get_json()["checkin"]["tried"] == "yes"


def test_the_answer_wins_over_a_contradicting_tried(parent, delivery):
    assert one_tap(parent, delivery, 2, tried="yes").get_json()["checkin"]["tried"] == "not_yet"


def test_one_tap_with_an_answer_the_prompt_lacks_stores_nothing(parent, delivery):
    response = one_tap(parent, delivery, 7)
    assert response.status_code == 422 and "answer" in response.get_json()["fields"]
    body = checkin_body(tried=None)  # neither tried nor answer
    del body["tried"]
    assert parent.api("POST", "/api/checkins", json=body).status_code == 422
    assert CheckIn.select().count() == 0


def test_add_more_sets_the_extras_and_returns_200(parent, delivery):
    checkin_id = one_tap(parent, delivery, 0).get_json()["checkin"]["id"]
    response = patch(parent, checkin_id, {"felt": 4, "note": "  She laughed at the bubbles. ",
                                          "shared_with_worker": True})
    assert response.status_code == 200
    saved = response.get_json()["checkin"]
    assert (saved["felt"], saved["note"], saved["shared_with_worker"]) == (4, "She laughed at the bubbles.", True)
    row = CheckIn.get_by_id(uuid.UUID(checkin_id))
    assert (row.tried, row.answer, row.felt, row.shared_with_worker) == ("yes", 0, 4, True)
    # Clearing the note unshares it: nothing is shared without a note.
    cleared = patch(parent, checkin_id, {"note": ""}).get_json()["checkin"]
    assert (cleared["note"], cleared["shared_with_worker"], cleared["felt"]) == (None, False, 4)


def test_another_parents_checkin_is_404_and_unchanged(app, parent, delivery):
    checkin_id = one_tap(parent, delivery, 0).get_json()["checkin"]["id"]
    other = ParentClient(app, factories.make_family())
    for target in (checkin_id, str(uuid.uuid4()), "not-a-uuid", "1"):
        response = patch(other, target, {"note": "mine now"})
        assert response.status_code == 404 and response.get_json()["error"] == "checkin_not_found"
    assert CheckIn.get_by_id(uuid.UUID(checkin_id)).note is None


def test_after_48_hours_it_is_409(parent, delivery):
    checkin_id = one_tap(parent, delivery, 0).get_json()["checkin"]["id"]
    received = CheckIn.get_by_id(uuid.UUID(checkin_id)).received_at
    CheckIn.update(received_at=received - timedelta(hours=48, minutes=1)).execute()
    response = patch(parent, checkin_id, {"felt": 2})
    assert response.status_code == 409 and response.get_json()["message"].endswith(".")
    assert CheckIn.get_by_id(uuid.UUID(checkin_id)).felt is None
    CheckIn.update(received_at=received - timedelta(hours=47, minutes=59)).execute()
    assert patch(parent, checkin_id, {"felt": 2}).status_code == 200


BAD = [
    ({"felt": 0}, "felt"), ({"felt": "4"}, "felt"), ({"felt": True}, "felt"),
    ({"note": 12}, "note"), ({"note": "x" * 501}, "note"), ({"note": "bad\x00text"}, "note"),
    ({"shared_with_worker": "yes"}, "shared_with_worker"), ({"wants_support": 1}, "wants_support"),
    ({"tried": "yes"}, "tried"), ({"answer": 1}, "answer"), ({"felt": 3, "received_at": "2020-01-01"}, "received_at"),
    ({}, "body"),
]


@pytest.mark.parametrize(("body", "field"), BAD)
def test_bad_fields_are_422_and_nothing_changes(parent, delivery, body, field):
    checkin_id = one_tap(parent, delivery, 0).get_json()["checkin"]["id"]
    response = patch(parent, checkin_id, body)
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert problem["error"] and problem["message"].endswith(".") and field in problem["fields"]
    row = CheckIn.get_by_id(uuid.UUID(checkin_id))
    assert (row.felt, row.note, row.wants_support) == (None, None, False)


def test_a_body_that_is_not_an_object_is_400(parent, delivery):
    checkin_id = one_tap(parent, delivery, 0).get_json()["checkin"]["id"]
    assert patch(parent, checkin_id, [1, 2]).status_code == 400


def test_asking_for_support_alerts_the_worker_once_like_a_post(parent, delivery):
    checkin_id = one_tap(parent, delivery, 0).get_json()["checkin"]["id"]
    assert SupportRequest.select().count() == 0
    first = patch(parent, checkin_id, {"wants_support": True})
    assert first.status_code == 200 and "support_resources" in first.get_json()
    alerts, mails = StaffAlert.select().count(), MailMessage.select().count()
    assert alerts + mails >= 1  # the worker is told, as for a POST with wants_support
    again = patch(parent, checkin_id, {"wants_support": True, "felt": 1})
    assert again.status_code == 200
    request = SupportRequest.get()
    assert SupportRequest.select().count() == 1 and str(request.checkin_id) == checkin_id
    assert request.source == "checkin" and request.note is None  # the note stays private
    assert (StaffAlert.select().count(), MailMessage.select().count()) == (alerts, mails)
    taken_back = patch(parent, checkin_id, {"wants_support": False})
    assert taken_back.status_code == 422 and CheckIn.get_by_id(uuid.UUID(checkin_id)).wants_support


def test_support_through_patch_matches_support_through_post(app, parent, delivery):
    post = ParentClient(app, factories.make_family(worker=parent.family.worker))
    post_delivery = make_delivery(post.family)
    one_tap(post, post_delivery, 0, wants_support=True)
    via_post = (StaffAlert.select().count(), MailMessage.select().count())
    checkin_id = one_tap(parent, delivery, 0).get_json()["checkin"]["id"]
    patch(parent, checkin_id, {"wants_support": True})
    assert (StaffAlert.select().count(), MailMessage.select().count()) == tuple(2 * n for n in via_post)


def test_patch_without_csrf_or_as_staff_is_refused(app, parent, delivery):
    checkin_id = one_tap(parent, delivery, 0).get_json()["checkin"]["id"]
    assert parent.api("PATCH", f"/api/checkins/{checkin_id}", json={"felt": 3}, csrf=False).status_code == 400
    assert CheckIn.get_by_id(uuid.UUID(checkin_id)).felt is None


def test_the_window_is_measured_from_when_it_was_received(parent, delivery):
    checkin_id = one_tap(parent, delivery, 0).get_json()["checkin"]["id"]
    received = CheckIn.get_by_id(uuid.UUID(checkin_id)).received_at
    update_checkin(parent.family, checkin_id, {"felt": 5}, parent.family.user, now=received + timedelta(hours=47))
    with pytest.raises(Exception) as refused:
        update_checkin(parent.family, checkin_id, {"felt": 1}, parent.family.user, now=received + timedelta(hours=49))
    assert refused.value.status == 409
    assert CheckIn.get_by_id(uuid.UUID(checkin_id)).felt == 5


def test_no_javascript_two_steps(parent, delivery):
    checkin_id = str(uuid.uuid4())
    first = parent.form(f"/checkin/{delivery.id}", {"id": checkin_id, "answer": "2"})
    assert first.status_code == 302 and first.headers["Location"].endswith(f"?saved={checkin_id}")
    page = parent.get(first.headers["Location"]).get_data(as_text=True)
    assert "Saved." in page and "Your next prompt comes" in page and f'value="{checkin_id}" data-more-id' in page
    empty = parent.form(f"/checkin/{delivery.id}", {"checkin_id": checkin_id})
    assert empty.status_code == 422
    assert "Nothing to add yet" in empty.get_data(as_text=True)
    more = parent.form(f"/checkin/{delivery.id}", {"checkin_id": checkin_id, "felt": "5", "note": "Giggles.",
                                                    "shared_with_worker": "on"})
    assert more.status_code == 302
    row = CheckIn.get_by_id(uuid.UUID(checkin_id))
    assert (row.tried, row.felt, row.note, row.shared_with_worker, row.wants_support) == (
        "not_yet", 5, "Giggles.", True, False)
    too_long = parent.form(f"/checkin/{delivery.id}", {"checkin_id": checkin_id, "note": "x" * 501})
    assert too_long.status_code == 422 and "500 characters or fewer" in too_long.get_data(as_text=True)
    assert CheckIn.get_by_id(uuid.UUID(checkin_id)).note == "Giggles."
