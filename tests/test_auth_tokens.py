"""One-time links (invites, password resets) keep their tokens out of logs and caches: the token
moves into the session and the browser goes on to a token-free URL; an opened reset link lasts 30
minutes."""
from __future__ import annotations

from datetime import timedelta

import pytest

from coach.models import PasswordReset, User, utcnow
from coach.services.people import staff
from coach.services.people.invites import create_invite

from . import factories
from .test_invites import GOOD


@pytest.fixture
def worker(app):
    return factories.make_user("worker", name="Jo Worker")


def _private(response):
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_invite_link_swaps_its_token_for_the_session_and_a_plain_url(client, worker):
    _invite, token = create_invite(worker)
    opened = client.get(f"/join/{token}")
    assert opened.status_code == 303 and opened.headers["Location"] == "/join"
    _private(opened)
    page = client.get("/join")
    assert page.status_code == 200 and "Jo Worker invited you" in page.get_data(as_text=True)
    assert token not in page.get_data(as_text=True)
    _private(page)

    data = dict(GOOD, csrf_token=factories.extract_csrf(page.get_data(as_text=True)))
    response = client.post("/join", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/welcome"
    assert User.by_email(GOOD["email"]).role == "parent"


def test_join_without_an_opened_invite_explains_what_to_do(client):
    response = client.get("/join")
    assert response.status_code == 404
    assert "Open the invite link" in response.get_data(as_text=True)
    _private(response)


def test_bad_invite_links_still_say_why_without_a_redirect(client, worker):
    response = client.get("/join/not-a-real-token")
    assert response.status_code == 404
    _private(response)


def _reset_link(worker):
    return staff.create_reset_link(worker, factories.make_user("admin"))


def test_reset_link_swaps_its_token_and_sets_the_password(app, client, worker):
    token = _reset_link(worker)
    opened = client.get(f"/reset/{token}")
    assert opened.status_code == 303 and opened.headers["Location"] == "/reset"
    _private(opened)
    page = client.get("/reset")
    assert page.status_code == 200 and worker.email in page.get_data(as_text=True)
    _private(page)
    csrf = factories.extract_csrf(page.get_data(as_text=True))
    response = client.post("/reset", data={"csrf_token": csrf, "password": "my new long password",
                                           "confirm": "my new long password"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    fresh = app.test_client()
    csrf = factories.extract_csrf(fresh.get("/login").get_data(as_text=True))
    assert fresh.post("/login", data={"email": worker.email, "password": "my new long password",
                                      "csrf_token": csrf}).status_code == 302


def test_an_opened_reset_link_expires_within_thirty_minutes(app, client, worker):
    token = _reset_link(worker)
    client.get(f"/reset/{token}")
    reset = PasswordReset.get()
    assert reset.expires_at <= utcnow() + timedelta(minutes=30)
    # Someone who copied the link from a log later finds it dead.
    PasswordReset.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    assert app.test_client().get(f"/reset/{token}").status_code == 410
    assert client.get("/reset").status_code == 410


def test_reset_without_an_opened_link_explains_what_to_do(client):
    response = client.get("/reset")
    assert response.status_code == 404 and "Open the reset link" in response.get_data(as_text=True)
