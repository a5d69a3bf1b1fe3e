"""The contact log: a worker logs a call, text, visit or message with its outcome, a note and a next
step; bad input is explained with nothing stored; only the family's own worker (or an admin) may log
one; the caseload's order and the CSVs follow the latest contact."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from coach.models import AuditEvent, ContactLog, User, utcnow

from . import factories
from .conftest import Auth
from .test_worker_caseload import family_at


@pytest.fixture
def world(app):
    worker = factories.make_user("worker", name="Wren Worker")
    families = {
        "quiet": family_at(worker, "Alba Quiet", checked_in_days_ago=8),
        "slipping": family_at(worker, "Bo Slipping", checked_in_days_ago=5),
        "engaged": family_at(worker, "Cy Engaged"),
    }
    return {"worker": worker, "families": families}


def signed_in(app, user):
    client = app.test_client()
    auth = Auth(client)
    auth.login(user)
    return client, auth.csrf_token("/worker/")


def log(client, token, family, **fields):
    data = {"csrf_token": token, "kind": "call", "outcome": "reached", "note": "", "next_step_on": ""}
    data.update(fields)
    return client.post(f"/worker/families/{family.id}/contacts", data=data)


def names_in_order(client, path="/worker/") -> list[str]:
    html = client.get(path).get_data(as_text=True)
    names = ("Alba Quiet", "Bo Slipping", "Cy Engaged")
    return sorted(names, key=html.index)


def test_logging_a_call_with_a_next_step_moves_the_family_down(app, world):
    client, token = signed_in(app, world["worker"])
    quiet = world["families"]["quiet"]
    assert names_in_order(client) == ["Alba Quiet", "Bo Slipping", "Cy Engaged"]
    in_three_days = (utcnow() + timedelta(days=3)).date()
    response = log(client, token, quiet, note="Talked about bedtimes.", next_step_on=in_three_days.isoformat())
    assert response.status_code == 302 and response.headers["Location"].endswith("#contacts")
    entry = ContactLog.get(ContactLog.family == quiet.id)
    assert (entry.kind, entry.outcome, entry.note, entry.next_step_on, entry.worker_id) == (
        "call", "reached", "Talked about bedtimes.", in_three_days, world["worker"].id)
    assert AuditEvent.get(AuditEvent.action == "contact_logged").target_id == str(quiet.id)
    assert names_in_order(client) == ["Bo Slipping", "Cy Engaged", "Alba Quiet"]
    html = client.get(f"/worker/families/{quiet.id}").get_data(as_text=True)
    assert "Phone call · Reached" in html and "Talked about bedtimes." in html
    assert f"Next step: {in_three_days:%A %-d %B}" in html


def test_a_next_step_that_comes_due_puts_the_family_near_the_top(app, world):
    client, token = signed_in(app, world["worker"])
    engaged = world["families"]["engaged"]
    ContactLog.create(family=engaged, worker=world["worker"], kind="visit", outcome="reached",
                      next_step_on=utcnow().date(), created_at=utcnow() - timedelta(days=7))
    assert names_in_order(client) == ["Cy Engaged", "Alba Quiet", "Bo Slipping"]
    html = client.get("/worker/").get_data(as_text=True)
    assert '<span class="chip chip-due">Next step due</span>' in html
    assert "1 with a next step due" in html


def test_no_answer_keeps_the_family_where_it_was(app, world):
    client, token = signed_in(app, world["worker"])
    assert log(client, token, world["families"]["quiet"], outcome="no_answer").status_code == 302
    assert names_in_order(client) == ["Alba Quiet", "Bo Slipping", "Cy Engaged"]


def test_reached_without_a_next_step_waits_a_week(app, world):
    client, token = signed_in(app, world["worker"])
    assert log(client, token, world["families"]["quiet"], kind="visit").status_code == 302
    assert names_in_order(client) == ["Bo Slipping", "Cy Engaged", "Alba Quiet"]
    ContactLog.update(created_at=utcnow() - timedelta(days=7, hours=1)).execute()
    assert names_in_order(client) == ["Alba Quiet", "Bo Slipping", "Cy Engaged"]


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"kind": "fax"}, "kind", "Choose how you got in touch: call, text, visit, message or other."),
    ({"outcome": ""}, "outcome", "Choose what happened: reached, no answer, left a message or other."),
    ({"note": "x" * 1001}, "note", "Use at most 1,000 characters (you used 1,001)."),
    ({"next_step_on": "next week"}, "next_step_on", "Give the date as YYYY-MM-DD, for example 2026-12-08."),
    ({"next_step_on": "2026-02-30"}, "next_step_on", "Give the date as YYYY-MM-DD, for example 2026-12-08."),
    ({"next_step_on": "2020-01-01"}, "next_step_on", "Choose today or a later date for the next step."),
    ({"next_step_on": "2099-01-01"}, "next_step_on", "Choose a date within the next year."),
])
def test_bad_input_is_explained_and_nothing_is_stored(app, world, fields, field, message):
    client, token = signed_in(app, world["worker"])
    response = log(client, token, world["families"]["quiet"], **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Check the highlighted fields: nothing was saved." in html
    assert message.replace("'", "&#39;") in html
    assert ContactLog.select().count() == 0
    assert not AuditEvent.select().where(AuditEvent.action == "contact_logged").exists()


def test_without_the_csrf_token_nothing_is_logged(app, world):
    client, _token = signed_in(app, world["worker"])
    response = log(client, "", world["families"]["quiet"])
    assert response.status_code == 400
    assert ContactLog.select().count() == 0


def test_another_worker_cannot_log_a_contact_or_see_the_log(app, world):
    quiet = world["families"]["quiet"]
    ContactLog.create(family=quiet, worker=world["worker"], kind="call", outcome="reached", note="private to staff")
    other, token = signed_in(app, factories.make_user("worker"))
    assert log(other, token, quiet).status_code == 404
    assert other.get(f"/worker/families/{quiet.id}").status_code == 404
    assert "private to staff" not in other.get("/worker/export.csv").get_data(as_text=True)
    assert ContactLog.select().count() == 1


def test_an_admin_may_log_for_any_family(app, world):
    admin, token = signed_in(app, factories.make_user("admin", name="Robin Admin"))
    assert log(admin, token, world["families"]["slipping"], kind="message", outcome="left_message").status_code == 302
    entry = ContactLog.get()
    assert entry.worker.name == "Robin Admin"


def test_the_contact_log_is_never_shown_to_the_parent(app, world):
    quiet = world["families"]["quiet"]
    ContactLog.create(family=quiet, worker=world["worker"], kind="call", outcome="reached", note="staff only")
    client = app.test_client()
    Auth(client).login(User.get_by_id(quiet.user_id))
    for path in ("/", "/settings", "/journal", "/api/me", "/api/me/export"):
        assert "staff only" not in client.get(path).get_data(as_text=True), path


def test_csvs_carry_the_latest_contact_and_the_next_step(app, world):
    client, token = signed_in(app, world["worker"])
    quiet = world["families"]["quiet"]
    next_step = (utcnow() + timedelta(days=2)).date()
    ContactLog.create(family=quiet, worker=world["worker"], kind="call", outcome="no_answer",
                      created_at=utcnow() - timedelta(days=3))
    log(client, token, quiet, kind="text", note="=HYPERLINK(\"x\")", next_step_on=next_step.isoformat())
    text = client.get("/worker/export.csv").get_data(as_text=True)
    rows = {row["family"]: row for row in csv.DictReader(io.StringIO(text[1:]))}
    assert rows["Alba Quiet"]["last_contact_on"] == utcnow().date().isoformat()
    assert rows["Alba Quiet"]["last_contact"] == "Text message · Reached"
    assert rows["Alba Quiet"]["next_step_on"] == next_step.isoformat()
    assert rows["Alba Quiet"]["next_step_due"] == "no"
    assert rows["Alba Quiet"]["reach"] == "Reminders on"
    assert rows["Bo Slipping"]["last_contact_on"] == "" and rows["Bo Slipping"]["next_step_on"] == ""
    text = client.get(f"/worker/families/{quiet.id}/export.csv").get_data(as_text=True)
    contacts = [row for row in csv.DictReader(io.StringIO(text[1:])) if row["contact"]]
    assert [row["contact"] for row in contacts] == ["Phone call · No answer", "Text message · Reached"]
    assert contacts[1]["contact_note"] == "'=HYPERLINK(\"x\")" and contacts[1]["contact_by"] == "Wren Worker"
    assert contacts[1]["next_step_on"] == next_step.isoformat()
