"""A family's page and CSV: caseload scope, the timeline (with failure reasons), notes shown only when
shared and always escaped, the audit trail of note views, and following up support requests."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from coach.models import AuditEvent, Delivery, Prompt, SupportRequest, utcnow

from . import factories
from .conftest import Auth
from .test_engagement import add_checkin, add_delivery, add_device


@pytest.fixture
def story(app):
    """A worker's family with a week of history: a shared note, a private one, failures, a request."""
    worker = factories.make_user("worker", name="Wren Worker")
    family = factories.make_family(worker=worker, display_name="Hana Family", timezone="UTC",
                                   created_at=utcnow() - timedelta(days=40), days_of_week="024")
    add_device(family, last_ok_at=utcnow() - timedelta(days=1))
    prompt = Prompt.create(theme="repair", skill="reconnect", title="Come back together", body="b",
                           question="How did it go?", status="published",
                           answers=[{"label": "We had a cuddle", "tried": "yes"},
                                    {"label": "Not today", "tried": "not_yet"}])
    today = utcnow().date()
    now = utcnow()
    sent = add_delivery(family, today - timedelta(days=1), opened=True, prompt=prompt)
    add_checkin(family, now - timedelta(days=1), sent, note="<script>alert('hi')</script> we hugged",
                shared=True, felt=4, answer=0, prompt=prompt, wants_support=True)
    private = add_delivery(family, today - timedelta(days=2), prompt=prompt)
    add_checkin(family, now - timedelta(days=2), private, note="my private words", shared=False, felt=1,
                tried="not_yet", answer=1, prompt=prompt)
    add_delivery(family, today - timedelta(days=3), status="failed", code=410)
    add_delivery(family, today - timedelta(days=4), status="no_device")
    add_delivery(family, today - timedelta(days=5), status="expired", code=503)
    request = SupportRequest.create(family=family, created_at=now - timedelta(days=1))
    return {"worker": worker, "family": family, "request": request}


def login(app, user):
    client = app.test_client()
    Auth(client).login(user)
    return client


def page(client, family, **args) -> str:
    response = client.get(f"/worker/families/{family.id}", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_timeline_tells_what_happened(app, story):
    html = page(login(app, story["worker"]), story["family"])
    assert "Come back together" in html
    assert "Tried it · “We had a cuddle” · felt good" in html
    assert "<strong>asked for support</strong>" in html
    # Failures in plain words, each with the next step (the push service's code stays in brackets).
    assert ("Not sent. This phone stopped accepting notifications (it was reset, or reminders were turned off; "
            "the push service said 410). Ask Hana Family to open Attune and turn reminders on again.") in html
    assert ("Not sent: no working device, so the prompt waited in the app. Ask Hana Family to open Attune "
            "and turn reminders on.") in html
    assert ("Not delivered before the day ended. Last try: The push service was having problems (503). "
            "Attune tries again until the day ends") in html
    assert "push service said 503 — it was having problems" not in html
    assert "Mon, Wed, Fri" in html and "Europe/London" not in html
    assert 'class="chip chip-support">Asked for support' in html
    assert '<svg class="strip strip-big" viewBox="0 0 278 24" role="group"' in html
    assert " style=" not in html


def test_a_snoozed_prompt_says_later_not_due(app, story):
    today = add_delivery(story["family"], utcnow().date(), status="pending")
    Delivery.update(snoozes=1, sent_at=today.due_at, next_attempt_at=today.due_at + timedelta(hours=1)).where(
        Delivery.id == today.id).execute()
    html = page(login(app, story["worker"]), story["family"])
    assert "Sent 18:00; Hana Family tapped Later, so it comes again at 19:00" in html
    assert "Due at 18:00" not in html


def test_notes_are_escaped_and_private_ones_never_shown(app, story):
    html = page(login(app, story["worker"]), story["family"])
    assert "&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt; we hugged" in html
    assert "<script>alert" not in html
    assert "my private words" not in html
    assert "Not yet · “Not today” · felt really hard" in html  # the private check-in itself still shows


def test_viewing_shared_notes_is_audited(app, story):
    client = login(app, story["worker"])
    page(client, story["family"])
    event = AuditEvent.get(AuditEvent.action == "view_notes")
    assert (event.actor_id, event.target_type, event.target_id) == (story["worker"].id, "family",
                                                                    str(story["family"].id))
    assert event.detail == {"notes": 1, "via": "page"}


def test_no_audit_when_no_note_is_shown(app):
    worker = factories.make_user("worker")
    family = factories.make_family(worker=worker)
    add_checkin(family, utcnow(), note="kept to myself", shared=False)
    html = page(login(app, worker), family)
    assert "kept to myself" not in html
    assert AuditEvent.select().where(AuditEvent.action == "view_notes").count() == 0


def test_another_worker_gets_404_and_admin_gets_in(app, story):
    family_id = story["family"].id
    other = login(app, factories.make_user("worker"))
    for path in (f"/worker/families/{family_id}", f"/worker/families/{family_id}/export.csv"):
        response = other.get(path)
        assert response.status_code == 404
        assert "Hana Family" not in response.get_data(as_text=True)
    response = other.post(f"/worker/families/{family_id}/follow-up", data={
        "csrf_token": Auth(other).csrf_token("/worker/"), "request_id": story["request"].id})
    assert response.status_code == 404
    assert SupportRequest.get_by_id(story["request"].id).followed_up_at is None
    admin = login(app, factories.make_user("admin"))
    assert "Hana Family" in page(admin, story["family"])
    assert AuditEvent.select().where(AuditEvent.action == "view_notes").count() == 1


def test_history_length_is_checked(app, story):
    client = login(app, story["worker"])
    assert "90 days" in page(client, story["family"], days=90)
    response = client.get(f"/worker/families/{story['family'].id}?days=7")
    assert response.status_code == 400
    assert "Choose 28, 90 or 365 days of history." in response.get_data(as_text=True)


# --- support follow-up -----------------------------------------------------------------------------

def follow_up(client, family, **data):
    data.setdefault("csrf_token", Auth(client).csrf_token(f"/worker/families/{family.id}"))
    return client.post(f"/worker/families/{family.id}/follow-up", data=data)


def test_follow_up_records_who_when_and_note(app, story):
    client = login(app, story["worker"])
    html = page(client, story["family"])
    assert "Mark followed up" in html
    response = follow_up(client, story["family"], request_id=story["request"].id,
                         note="Called <b>her</b>; visit on Tuesday")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/worker/families/{story['family'].id}#support")
    saved = SupportRequest.get_by_id(story["request"].id)
    assert saved.followed_up_by_id == story["worker"].id and saved.followed_up_at is not None
    assert saved.follow_up_note == "Called <b>her</b>; visit on Tuesday"
    html = page(client, story["family"])
    assert "Followed up by Wren Worker" in html
    assert "Called &lt;b&gt;her&lt;/b&gt;; visit on Tuesday" in html
    assert "Mark followed up" not in html
    assert 'class="chip chip-support">Asked for support' not in html  # the status moved on
    assert AuditEvent.select().where(AuditEvent.action == "support_followed_up").count() == 1

    again = follow_up(client, story["family"], request_id=story["request"].id)
    assert again.status_code == 409
    assert "Someone has already marked this request followed up." in again.get_data(as_text=True)


def test_follow_up_bad_input_writes_nothing(app, story):
    client = login(app, story["worker"])
    too_long = follow_up(client, story["family"], request_id=story["request"].id, note="x" * 501)
    assert too_long.status_code == 422
    assert "Use at most 500 characters." in too_long.get_data(as_text=True)
    missing = follow_up(client, story["family"], note="hello")
    assert missing.status_code == 422
    assert "Choose which request you followed up." in missing.get_data(as_text=True)
    stranger = factories.make_family(worker=story["worker"])
    theirs = SupportRequest.create(family=stranger)
    wrong = follow_up(client, story["family"], request_id=theirs.id)
    assert wrong.status_code == 404
    assert "That support request isn&#39;t one of this family&#39;s." in wrong.get_data(as_text=True)
    assert SupportRequest.select().where(SupportRequest.followed_up_at.is_null(False)).count() == 0
    assert AuditEvent.select().where(AuditEvent.action == "support_followed_up").count() == 0


def test_follow_up_needs_the_csrf_token(app, story):
    client = login(app, story["worker"])
    response = follow_up(client, story["family"], request_id=story["request"].id, csrf_token="")
    assert response.status_code == 400
    assert SupportRequest.get_by_id(story["request"].id).followed_up_at is None


# --- per-family CSV --------------------------------------------------------------------------------

def test_family_csv_has_history_shared_notes_only_and_is_audited(app, story):
    add_checkin(story["family"], utcnow(), note="=HYPERLINK(\"http://evil\")", shared=True)
    client = login(app, story["worker"])
    response = client.get(f"/worker/families/{story['family'].id}/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="family-{story["family"].id}-hana-family.csv"')
    text = response.get_data(as_text=True)
    assert "my private words" not in text
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [row["delivery"] for row in rows[:3]] == ["Expired", "No device", "Failed"]
    notes = [row["shared_note"] for row in rows if row["shared_note"]]
    assert notes == ["<script>alert('hi')</script> we hugged", "'=HYPERLINK(\"http://evil\")"]
    assert rows[-2]["answer"] == "We had a cuddle" and rows[-2]["felt"] == "good"
    event = AuditEvent.get(AuditEvent.action == "view_notes")
    assert event.detail == {"notes": 2, "via": "csv"}
