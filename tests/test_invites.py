"""Invites and enrolment: single use, expiry, revocation, and a join form that writes nothing on
bad input."""
from __future__ import annotations

from datetime import timedelta

import pytest

from coach.errors import AppError
from coach.models import Family, Invite, User, utcnow
from coach.services.people.accounts import ENROLMENT_REFUSED
from coach.services.people.invites import create_invite, find_usable_invite, hash_token

from . import factories

GOOD = {
    "display_name": "Amira",
    "email": "amira@example.org",
    "password": "a long enough password",
    "child_name": "Noor",
    "child_birth_month": "2026-01",
    "timezone": "Europe/London",
    "window_start": "19:00",
    "window_end": "20:30",
}


def _join(client, token, **overrides):
    page = client.get(f"/join/{token}", follow_redirects=True)  # the token moves into the session
    data = dict(GOOD, **overrides, csrf_token=factories.extract_csrf(page.get_data(as_text=True)))
    return client.post("/join", data=data)


@pytest.fixture
def worker(app):
    return factories.make_user("worker", name="Jo Worker")


def test_token_is_stored_hashed(worker):
    invite, token = create_invite(worker)
    assert invite.token_hash == hash_token(token) and token not in invite.token_hash
    assert (invite.expires_at - utcnow()).days in (13, 14)


def test_join_enrols_signs_in_and_assigns_worker(client, worker):
    _invite, token = create_invite(worker)
    page = client.get(f"/join/{token}", follow_redirects=True)
    assert page.status_code == 200 and "Jo Worker invited you" in page.get_data(as_text=True)
    response = _join(client, token)
    assert response.status_code == 302 and response.headers["Location"] == "/welcome"  # onboarding
    assert "remember_token=" in " ".join(response.headers.getlist("Set-Cookie"))
    family = Family.get()
    assert family.worker_id == worker.id and family.child_name == "Noor"
    assert family.user.email == "amira@example.org" and family.user.role == "parent"
    assert family.next_due_at is not None
    home = client.get("/")
    assert home.status_code == 200 and "Hello, Amira" in home.get_data(as_text=True)


def test_invite_is_single_use(client, app, worker):
    _invite, token = create_invite(worker)
    assert _join(client, token).status_code == 302
    other = app.test_client()
    response = other.get(f"/join/{token}")
    assert response.status_code == 410
    assert "already been used" in response.get_data(as_text=True)
    assert User.select().where(User.role == "parent").count() == 1


def test_expired_and_revoked_and_unknown_links_get_friendly_pages(client, worker):
    invite, token = create_invite(worker, days=1)
    Invite.update(expires_at=utcnow() - timedelta(minutes=1)).where(Invite.id == invite.id).execute()
    response = client.get(f"/join/{token}")
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    invite2, token2 = create_invite(worker)
    Invite.update(revoked_at=utcnow()).where(Invite.id == invite2.id).execute()
    assert "cancelled" in client.get(f"/join/{token2}").get_data(as_text=True)
    response = client.get("/join/not-a-real-token")
    assert response.status_code == 404 and "isn&#39;t one we know" in response.get_data(as_text=True)


def test_expired_link_refuses_a_submission_too(client, worker):
    invite, token = create_invite(worker)
    page = client.get(f"/join/{token}", follow_redirects=True)
    Invite.update(expires_at=utcnow() - timedelta(seconds=1)).where(Invite.id == invite.id).execute()
    data = dict(GOOD, csrf_token=factories.extract_csrf(page.get_data(as_text=True)))
    assert client.post("/join", data=data).status_code == 410
    assert client.post(f"/join/{token}", data=data).status_code == 410  # the link's own URL too
    assert Family.select().count() == 0


@pytest.mark.parametrize("field,value,message", [
    ("display_name", "", "Tell us what to call you."),
    ("email", "not-an-email", "Enter an email address like name@example.org."),
    ("password", "short", "Use at least 10 characters."),
    ("child_birth_month", "2019-01", "Attune is for children up to five years old."),
    ("child_birth_month", "2099-01", "That month is in the future."),
    ("child_birth_month", "March", "Enter the month and year, like 2025-03."),
    ("timezone", "Mars/Olympus", "We don't know that time zone."),
    ("window_start", "25:00", "Use a time like 18:30."),
    ("window_end", "19:10", "Make the window at least 30 minutes long"),
    ("child_name", "x" * 61, "Use at most 60 characters."),
])
def test_bad_join_input_rerenders_with_message_and_writes_nothing(client, worker, field, value, message):
    _invite, token = create_invite(worker)
    response = _join(client, token, **{field: value})
    assert response.status_code == 422
    body = response.get_data(as_text=True).replace("&#39;", "'")
    assert message in body
    assert 'aria-invalid="true"' in body
    assert User.select().where(User.role == "parent").count() == 0
    assert Invite.get().used_at is None


def test_taken_email_is_not_confirmed_and_leaves_invite_usable(client, worker):
    """Anyone holding an invite could otherwise test which emails have accounts."""
    factories.make_user("worker", email="amira@example.org")
    _invite, token = create_invite(worker)
    response = _join(client, token, email="Amira@Example.org")
    body = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 422
    assert "already exists" not in body and ENROLMENT_REFUSED in body
    assert Family.select().count() == 0 and Invite.get().used_at is None
    assert find_usable_invite(token)


def test_worker_creates_and_revokes_invites_in_the_browser(client, auth, worker):
    auth.login(worker)
    page = client.get("/worker/invites")
    token = factories.extract_csrf(page.get_data(as_text=True))
    response = client.post("/worker/invites", data={"label": "Smith family", "days": "7", "csrf_token": token})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "http://localhost/join/" in body
    invite = Invite.get()
    assert invite.label == "Smith family" and invite.worker_id == worker.id
    response = client.post(f"/worker/invites/{invite.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    assert Invite.get().state == "revoked"


def test_invite_form_rejects_bad_days(client, auth, worker):
    auth.login(worker)
    token = factories.extract_csrf(client.get("/worker/invites").get_data(as_text=True))
    response = client.post("/worker/invites", data={"days": "500", "csrf_token": token})
    assert response.status_code == 422 and "Choose 1 to 90 days." in response.get_data(as_text=True)
    assert Invite.select().count() == 0


def test_only_workers_can_make_invites(app):
    parent = factories.make_user("parent")
    with pytest.raises(AppError):
        create_invite(parent)
