"""Sessions that end when they should: sign-out, the remember-me cookie's server-side expiry, the
change-password page for every role, and distinct session tokens after an old database upgrades."""
from __future__ import annotations

from datetime import timedelta

import pytest

from coach.db import db, downgrade_to, init_db
from coach.models import AuditEvent, User

from . import factories


def _sign_in(client, user, password=factories.PASSWORD):
    token = factories.extract_csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})


def _copy_of(app, cookie_name, value):
    """A second browser holding nothing but one copied cookie."""
    other = app.test_client()
    other.set_cookie(cookie_name, value)
    return other


@pytest.mark.parametrize("cookie_name", ["session", "remember_token"])
def test_a_cookie_saved_before_sign_out_is_refused_after_it(app, client, cookie_name):
    family = factories.make_family()
    assert _sign_in(client, family.user).status_code == 302
    saved = client.get_cookie(cookie_name).value
    assert _copy_of(app, cookie_name, saved).get("/api/me").status_code == 200
    csrf = factories.extract_csrf(client.get("/settings").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302

    response = _copy_of(app, cookie_name, saved).get("/api/me")
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"


def test_signing_in_again_after_sign_out_works(client):
    family = factories.make_family()
    _sign_in(client, family.user)
    csrf = factories.extract_csrf(client.get("/settings").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": csrf})
    assert _sign_in(client, family.user).status_code == 302
    assert client.get("/api/me").status_code == 200


def test_remember_cookie_older_than_its_lifetime_is_refused_by_the_server(app, client, monkeypatch):
    family = factories.make_family()
    _sign_in(client, family.user)
    remembered = client.get_cookie("remember_token").value
    lifetime = app.config["REMEMBER_COOKIE_DURATION"]
    from coach import security

    real_now = security.utcnow
    monkeypatch.setattr(security, "utcnow", lambda: real_now() + lifetime - timedelta(minutes=1))
    assert _copy_of(app, "remember_token", remembered).get("/api/me").status_code == 200
    monkeypatch.setattr(security, "utcnow", lambda: real_now() + lifetime + timedelta(minutes=1))
    # The browser would have dropped the cookie by now; a copy kept elsewhere must not work either.
    assert _copy_of(app, "remember_token", remembered).get("/api/me").status_code == 401


# --- change password ------------------------------------------------------------------------------

def _change(client, current, new):
    page = client.get("/account/password")
    assert page.status_code == 200
    csrf = factories.extract_csrf(page.get_data(as_text=True))
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                  "csrf_token": csrf})


@pytest.mark.parametrize("role", ["parent", "worker", "admin"])
def test_every_role_can_change_their_password(app, client, role):
    user = factories.make_family().user if role == "parent" else factories.make_user(role)
    other_device = app.test_client()
    _sign_in(other_device, user)
    _sign_in(client, user)

    response = _change(client, factories.PASSWORD, "a fresh long password")

    assert response.status_code == 302
    home = client.get(response.headers["Location"], follow_redirects=True)
    assert home.status_code == 200 and "Your password is changed" in home.get_data(as_text=True)
    assert client.get("/account/password").status_code == 200  # this session is still signed in
    assert other_device.get("/account/password").status_code == 302  # the other one is not
    fresh = app.test_client()
    assert _sign_in(fresh, user, factories.PASSWORD).status_code == 401
    assert _sign_in(fresh, user, "a fresh long password").status_code == 302
    event = AuditEvent.get(AuditEvent.action == "password_changed")
    assert event.actor_id == user.id and event.detail is None


def test_parent_keeps_their_remembered_sign_in_after_changing_password(app, client):
    family = factories.make_family()
    _sign_in(client, family.user)
    _change(client, factories.PASSWORD, "a fresh long password")
    remembered = client.get_cookie("remember_token").value
    assert _copy_of(app, "remember_token", remembered).get("/api/me").status_code == 200


def test_wrong_current_password_and_short_new_one_are_explained(client):
    worker = factories.make_user("worker")
    _sign_in(client, worker)
    response = _change(client, "not my password", "a fresh long password")
    assert response.status_code == 422
    assert "current password isn" in response.get_data(as_text=True)
    response = _change(client, factories.PASSWORD, "short")
    assert response.status_code == 422
    assert "Use at least 10 characters." in response.get_data(as_text=True)
    assert User.get_by_id(worker.id).session_token == worker.session_token  # nothing changed
    assert client.get("/account/password").status_code == 200  # still signed in


def test_change_password_is_linked_for_every_role(app):
    family = factories.make_family()
    for user, page in ((family.user, "/settings"), (factories.make_user("worker"), "/worker/"),
                       (factories.make_user("admin"), "/admin/")):
        client = app.test_client()
        _sign_in(client, user)
        assert 'href="/account/password"' in client.get(page).get_data(as_text=True)


# --- migration ------------------------------------------------------------------------------------

def test_upgrading_a_version_1_database_gives_each_user_their_own_session_token(app):
    users = [factories.make_user("worker") for _ in range(4)] + [factories.make_family().user]
    downgrade_to(1)
    assert "session_token" not in {c.name for c in db.get_columns("user")}

    init_db()

    tokens = [User.get_by_id(u.id).session_token for u in users]
    assert len(set(tokens)) == len(users) and all(len(t) == 32 for t in tokens)
