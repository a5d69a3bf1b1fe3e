"""What a process keeps between requests to make a check-in cheaper (issue 14) changes nothing a
person could notice: a session cookie it has already checked still ends at its lifetime and still
fails when altered; a page's CSRF token is the same across a session's pages and still only works
for that session; addresses it has built follow the mount prefix."""
from __future__ import annotations

from coach import security

from . import factories
from .parent_helpers import ParentClient, checkin_body, make_delivery


def test_a_session_cookie_already_checked_still_expires_and_still_must_be_signed(app, monkeypatch):
    family = factories.make_family()
    parent = ParentClient(app, family)
    cookie = parent.client.get_cookie("session").value
    again = app.test_client()
    again.set_cookie("session", cookie)
    assert again.get("/api/me").status_code == 200  # checked once, and kept

    altered = app.test_client()
    altered.set_cookie("session", cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    assert altered.get("/api/me").status_code == 401

    lifetime = app.permanent_session_lifetime.total_seconds()
    real_time = security.time.time
    monkeypatch.setattr(security.time, "time", lambda: real_time() + lifetime + 60)
    assert again.get("/api/me").status_code == 401  # past its lifetime, as itsdangerous would say


def test_the_page_csrf_token_is_kept_for_the_session_and_works_only_for_it(app):
    family = factories.make_family()
    delivery = make_delivery(family)
    parent = ParentClient(app, family)
    first = factories.extract_csrf(parent.get(f"/checkin/{delivery.id}").get_data(as_text=True))
    second = factories.extract_csrf(parent.get("/").get_data(as_text=True))
    assert first == second == parent.csrf
    response = parent.api("POST", "/api/checkins", json=checkin_body(delivery_id=delivery.id),
                          headers={"X-CSRFToken": second})
    assert response.status_code == 201

    other = ParentClient(app, factories.make_family())
    assert other.csrf != first
    stolen = other.api("POST", "/api/checkins", json=checkin_body(), headers={"X-CSRFToken": first})
    assert stolen.status_code == 400  # another session's token is refused


def test_kept_addresses_follow_the_mount_prefix(app):
    family = factories.make_family()
    parent = ParentClient(app, family)
    plain = parent.get("/").get_data(as_text=True)
    mounted = parent.client.get("/", environ_overrides={"SCRIPT_NAME": "/attune"}).get_data(as_text=True)
    assert 'href="/static/css/app.css' in plain and 'href="/static/css/app.css' not in mounted
    assert 'href="/attune/static/css/app.css' in mounted
