"""People: creating workers and admins, deactivation ending sessions, one-time reset links, and
moving families between caseloads — through the admin pages and the /reset/<token> page."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from coach.errors import AppError
from coach.models import AuditEvent, Family, Invite, PasswordReset, User, utcnow
from coach.services.people import staff as people
from coach.services.people.invites import create_invite, hash_token

from . import admin_helpers, factories
from .admin_helpers import csrf_for, sign_in

LINK_RE = re.compile(r"http://localhost/reset/([\w-]+)")


# Fixtures: an admin ("Ada Admin") and a ``client`` signed in as them.
admin = admin_helpers.admin
client = admin_helpers.admin_client


def test_people_list_shows_roles_status_and_caseload_size(client):
    worker = factories.make_user("worker", name="Wren Worker")
    factories.make_family(worker=worker)
    factories.make_family(worker=worker)
    factories.make_family()  # no worker
    html = client.get("/admin/users").get_data(as_text=True)
    row = re.search(r"Wren Worker</a>.*?</tr>", html, re.S).group(0)
    assert "Family worker" in row and "Active" in row and '<td class="num">2</td>' in row
    assert "1 family has no family worker." in html


def test_create_worker_with_a_password(app, client):
    response = client.post("/admin/users", data={
        "csrf_token": csrf_for(client), "name": "New Worker", "email": "New@Example.org", "role": "worker",
        "set_password": "now", "password": factories.PASSWORD})
    assert response.status_code == 302
    user = User.by_email("new@example.org")
    assert (user.role, user.name, user.active) == ("worker", "New Worker", True)
    sign_in(app, user)  # the password works
    assert AuditEvent.get(AuditEvent.action == "user_create").detail["set_password_by"] == "admin"


def test_create_admin_with_a_set_password_link(app, client):
    response = client.post("/admin/users", data={
        "csrf_token": csrf_for(client), "name": "Second Admin", "email": "two@example.org", "role": "admin",
        "set_password": "link"})
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    token = LINK_RE.search(html).group(1)
    assert "It works once, for 48 hours" in html
    user = User.by_email("two@example.org")
    reset = PasswordReset.get(PasswordReset.user == user)
    assert reset.token_hash == hash_token(token) and token not in reset.token_hash
    assert timedelta(hours=47) < reset.expires_at - utcnow() <= timedelta(hours=48)


def test_create_explains_every_problem(client):
    factories.make_user("worker", email="taken@example.org")
    response = client.post("/admin/users", data={
        "csrf_token": csrf_for(client), "name": "", "email": "nope", "role": "parent", "set_password": "now",
        "password": "short"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for message in ("Enter the person&#39;s name.", "Enter an email address like name@example.org.",
                    "Choose family worker or admin.", "Use at least 10 characters."):
        assert message in html
    response = client.post("/admin/users", data={
        "csrf_token": csrf_for(client), "name": "Dup", "email": "taken@example.org", "role": "worker",
        "set_password": "link"})
    assert response.status_code == 409 and "already exists" in response.get_data(as_text=True)
    assert User.select().where(User.name == "Dup").count() == 0


def test_deactivating_a_worker_ends_their_session_at_once(app, client):
    worker = factories.make_user("worker")
    worker_client = sign_in(app, worker)
    assert worker_client.get("/worker/").status_code == 200
    _invite, token = create_invite(worker)
    response = client.post(f"/admin/users/{worker.id}/deactivate", data={"csrf_token": csrf_for(client)})
    assert response.status_code == 302
    # The same session cookie is refused on the very next request.
    response = worker_client.get("/worker/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert Invite.get(Invite.token_hash == hash_token(token)).state == "revoked"
    client.post(f"/admin/users/{worker.id}/reactivate", data={"csrf_token": csrf_for(client)})
    assert User.get_by_id(worker.id).active
    sign_in(app, worker)


def test_admins_cannot_deactivate_themselves(admin, client):
    response = client.post(f"/admin/users/{admin.id}/deactivate", data={"csrf_token": csrf_for(client)})
    assert response.status_code == 409
    assert "You can&#39;t deactivate your own account" in response.get_data(as_text=True)
    assert User.get_by_id(admin.id).active


def test_last_active_admin_is_kept(app):
    only, spare = factories.make_user("admin"), factories.make_user("admin")
    people.set_active(spare, False, only)
    with pytest.raises(AppError) as raised:
        people.set_active(only, False, spare)
    assert raised.value.code == "last_admin" and User.get_by_id(only.id).active


def test_staff_pages_are_only_for_staff(client):
    family = factories.make_family()
    assert client.get(f"/admin/users/{family.user.id}").status_code == 404
    assert client.get("/admin/users/999999").status_code == 404


# --- reset links ---------------------------------------------------------------------------------

def _make_link(client, user) -> str:
    response = client.post(f"/admin/users/{user.id}/reset", data={"csrf_token": csrf_for(client)})
    assert response.status_code == 200
    return LINK_RE.search(response.get_data(as_text=True)).group(1)


def _reset_form(app, token, password, confirm=None):
    anon = app.test_client()
    page = anon.get(f"/reset/{token}", follow_redirects=True)  # the token moves into the session
    csrf = factories.extract_csrf(page.get_data(as_text=True))
    return anon.post("/reset", data={"csrf_token": csrf, "password": password,
                                              "confirm": password if confirm is None else confirm})


def test_reset_link_sets_a_new_password_once(app, client):
    worker = factories.make_user("worker")
    token = _make_link(client, worker)
    page = app.test_client().get(f"/reset/{token}", follow_redirects=True)
    assert page.status_code == 200 and worker.email in page.get_data(as_text=True)
    assert _reset_form(app, token, "short").status_code == 422
    response = _reset_form(app, token, "a brand new password", "another password")
    assert response.status_code == 422 and "The two passwords don&#39;t match." in response.get_data(as_text=True)
    response = _reset_form(app, token, "a brand new password")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    sign_in_with = app.test_client()
    csrf = factories.extract_csrf(sign_in_with.get("/login").get_data(as_text=True))
    assert sign_in_with.post("/login", data={"email": worker.email, "password": "a brand new password",
                                             "csrf_token": csrf}).status_code == 302
    # Single use: the link is gone now.
    response = app.test_client().get(f"/reset/{token}")
    assert response.status_code == 410 and "already been used" in response.get_data(as_text=True)
    assert AuditEvent.get(AuditEvent.action == "password_reset_used").actor.id == worker.id


def test_reset_links_expire_and_only_the_newest_works(app, client):
    worker = factories.make_user("worker")
    first = _make_link(client, worker)
    second = _make_link(client, worker)
    assert app.test_client().get(f"/reset/{first}").status_code == 410
    assert app.test_client().get(f"/reset/{second}").status_code == 303  # on to /reset
    PasswordReset.update(expires_at=utcnow() - timedelta(minutes=1)).execute()
    response = app.test_client().get(f"/reset/{second}")
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert app.test_client().get("/reset/not-a-real-token").status_code == 404


def test_reset_link_stops_working_when_the_account_is_deactivated(app, client, admin):
    worker = factories.make_user("worker")
    token = _make_link(client, worker)
    people.set_active(worker, False, admin)
    assert app.test_client().get(f"/reset/{token}").status_code == 410
    response = client.post(f"/admin/users/{worker.id}/reset", data={"csrf_token": csrf_for(client)})
    assert response.status_code == 409 and "Reactivate it" in response.get_data(as_text=True)


def test_a_reset_link_cannot_be_used_twice_even_in_a_race(app, admin):
    worker = factories.make_user("worker")
    token = people.create_reset_link(worker, admin)
    people.use_reset(token, "first new password")
    with pytest.raises(AppError) as raised:
        people.use_reset(token, "second new password")
    assert raised.value.status == 410


# --- caseloads -----------------------------------------------------------------------------------

def test_reassign_moves_chosen_families_and_is_audited(client):
    from_worker, to_worker = factories.make_user("worker"), factories.make_user("worker", name="Tia To")
    moving = [factories.make_family(worker=from_worker) for _ in range(2)]
    staying = factories.make_family(worker=from_worker)
    html = client.get(f"/admin/users/{from_worker.id}").get_data(as_text=True)
    assert "Caseload: 3 families" in html and "Tia To" in html
    response = client.post(f"/admin/users/{from_worker.id}/reassign", data={
        "csrf_token": csrf_for(client), "families": [str(f.id) for f in moving], "to_worker": str(to_worker.id)})
    assert response.status_code == 302
    assert [f.worker_id for f in Family.select().where(Family.id.in_([f.id for f in moving]))] == [to_worker.id] * 2
    assert Family.get_by_id(staying.id).worker_id == from_worker.id
    event = AuditEvent.get(AuditEvent.action == "families_reassign")
    assert sorted(event.detail["families"]) == sorted(f.id for f in moving)
    assert event.detail["to_worker"] == to_worker.email


def test_reassign_refuses_bad_choices_and_changes_nothing(client, admin):
    from_worker, other = factories.make_user("worker"), factories.make_user("worker")
    mine = factories.make_family(worker=from_worker)
    theirs = factories.make_family(worker=other)
    token = csrf_for(client)
    path = f"/admin/users/{from_worker.id}/reassign"
    response = client.post(path, data={"csrf_token": token, "to_worker": str(other.id)})
    assert response.status_code == 422 and "Choose at least one family" in response.get_data(as_text=True)
    response = client.post(path, data={"csrf_token": token, "families": [str(mine.id)], "to_worker": str(admin.id)})
    assert response.status_code == 422 and "active family worker" in response.get_data(as_text=True)
    response = client.post(path, data={"csrf_token": token, "families": [str(mine.id), str(theirs.id)],
                                       "to_worker": str(other.id)})
    assert response.status_code == 409
    assert Family.get_by_id(mine.id).worker_id == from_worker.id
