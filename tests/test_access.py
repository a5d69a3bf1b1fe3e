"""Every route × every role gets the expected status. New routes must join ROUTES: the coverage
test fails when the app has a route the table doesn't list."""
from __future__ import annotations

import pytest

from coach.services.people.invites import create_invite

from . import factories
from .admin_helpers import admin_params
from .parent_helpers import parent_params

ROLES = ("anonymous", "parent", "worker", "other_worker", "admin")


def expect(anonymous, parent, worker, other_worker, admin):
    return dict(zip(ROLES, (anonymous, parent, worker, other_worker, admin), strict=True))


ALL_200 = expect(200, 200, 200, 200, 200)
# (method, Flask rule, expected status per role). Values for <params> come from the world fixture.
ROUTES = [
    ("GET", "/healthz", ALL_200),
    ("GET", "/metrics", expect(404, 404, 404, 404, 404)),  # only with the bearer token (test_operations.py)
    # Twilio's webhooks: proved by X-Twilio-Signature, never by a session (test_text_replies.py)
    ("POST", "/sms/twilio/inbound", expect(403, 403, 403, 403, 403)),
    ("POST", "/sms/twilio/status", expect(403, 403, 403, 403, 403)),
    ("GET", "/login", expect(200, 302, 302, 302, 302)),
    ("POST", "/logout", expect(302, 302, 302, 302, 302)),
    ("POST", "/login", expect(422, 422, 422, 422, 422)),  # empty form: re-rendered with messages
    ("GET", "/join/<token>", expect(303, 303, 303, 303, 303)),  # token into the session, on to /join
    ("POST", "/join/<token>", expect(422, 422, 422, 422, 422)),
    ("GET", "/join", ALL_200),  # every client opened the invite first (see test_route_access)
    ("POST", "/join", expect(422, 422, 422, 422, 422)),
    ("GET", "/account/password", expect(302, 200, 200, 200, 200)),
    ("POST", "/account/password", expect(302, 422, 422, 422, 422)),  # empty form: nothing changed
    ("GET", "/", expect(302, 200, 302, 302, 302)),
    ("GET", "/worker/", expect(302, 403, 200, 200, 200)),
    ("GET", "/worker/invites", expect(302, 403, 200, 200, 200)),
    ("POST", "/worker/invites", expect(302, 403, 200, 200, 200)),  # label optional, days default
    ("POST", "/worker/invites/<int:invite_id>/revoke", expect(302, 403, 302, 404, 404)),
    ("GET", "/admin/", expect(302, 403, 403, 403, 200)),
    # --- parent app (pages, /api/*, /manifest.webmanifest, /sw.js) ---
    ("GET", "/checkin/<int:delivery_id>", expect(302, 200, 403, 403, 403)),
    ("POST", "/checkin/<int:delivery_id>", expect(302, 422, 403, 403, 403)),  # no answer chosen
    ("GET", "/reflection/<int:reflection_id>", expect(302, 200, 403, 403, 403)),
    ("POST", "/reflection/<int:reflection_id>", expect(302, 422, 403, 403, 403)),  # no answer written
    ("GET", "/journal", expect(302, 200, 403, 403, 403)),
    ("GET", "/journal/print", expect(302, 200, 403, 403, 403)),
    ("GET", "/journal/prompts/<int:delivery_id>", expect(302, 200, 403, 403, 403)),
    ("GET", "/journal/<entry_id>/edit", expect(302, 200, 403, 403, 403)),
    ("POST", "/journal/<entry_id>/edit", expect(302, 302, 403, 403, 403)),  # empty: no feeling, no note
    ("GET", "/journal/<entry_id>/delete", expect(302, 200, 403, 403, 403)),  # asks first
    ("POST", "/journal/<entry_id>/delete", expect(302, 302, 403, 403, 403)),  # last: the entry goes
    ("GET", "/settings", expect(302, 200, 403, 403, 403)),
    ("POST", "/settings", expect(302, 422, 403, 403, 403)),  # empty form: times missing
    ("GET", "/settings/country", expect(302, 200, 403, 403, 403)),
    ("GET", "/settings/timezone", expect(302, 200, 403, 403, 403)),
    ("GET", "/welcome", expect(302, 200, 403, 403, 403)),
    ("GET", "/welcome/time", expect(302, 200, 403, 403, 403)),
    ("POST", "/welcome/time", expect(302, 422, 403, 403, 403)),  # nothing chosen: nothing changed
    ("GET", "/welcome/done", expect(302, 200, 403, 403, 403)),
    ("POST", "/settings/timezone", expect(302, 422, 403, 403, 403)),  # empty: no such zone
    ("POST", "/settings/country", expect(302, 302, 403, 403, 403)),  # empty: "not set", a valid choice
    ("POST", "/settings/devices/<int:device_id>/remove", expect(302, 302, 403, 403, 403)),
    ("GET", "/settings/household", expect(302, 200, 403, 403, 403)),
    ("POST", "/settings/household", expect(302, 200, 403, 403, 403)),  # makes an invite link
    ("POST", "/api/household/invites", expect(401, 201, 403, 403, 403)),
    ("GET", "/settings/delete", expect(302, 200, 403, 403, 403)),
    ("POST", "/settings/delete", expect(302, 422, 403, 403, 403)),  # not confirmed: nothing deleted
    ("GET", "/offline", ALL_200),
    # --- help (public page; only a parent can ask for contact) ---
    ("GET", "/help", ALL_200),
    ("POST", "/help", expect(302, 422, 403, 403, 403)),  # no contact=1: nothing sent
    ("POST", "/help/low-mood", expect(302, 422, 403, 403, 403)),  # no choice: nothing sent
    ("GET", "/sw.js", ALL_200),
    ("GET", "/manifest.webmanifest", ALL_200),
    ("GET", "/api/me", expect(401, 200, 403, 403, 403)),
    ("PATCH", "/api/me/settings", expect(401, 415, 403, 403, 403)),  # a form, not JSON
    ("GET", "/api/me/export", expect(401, 200, 403, 403, 403)),
    ("DELETE", "/api/me", expect(401, 415, 403, 403, 403)),
    # workers and admins subscribe their own devices for support alerts
    ("GET", "/api/push/public-key", expect(401, 200, 200, 200, 200)),
    ("POST", "/api/push/subscriptions", expect(401, 415, 415, 415, 415)),
    ("DELETE", "/api/push/subscriptions", expect(401, 415, 415, 415, 415)),
    ("POST", "/api/push/test", expect(401, 200, 403, 403, 403)),
    ("GET", "/api/today", expect(401, 200, 403, 403, 403)),
    ("POST", "/api/checkins", expect(401, 415, 403, 403, 403)),
    ("GET", "/api/checkins", expect(401, 200, 403, 403, 403)),
    ("PATCH", "/api/checkins/<checkin_id>", expect(401, 415, 403, 403, 403)),  # a form, not JSON
    ("POST", "/api/support-requests", expect(401, 415, 403, 403, 403)),  # a form, not JSON
    ("GET", "/api/support-requests", expect(401, 200, 403, 403, 403)),
    ("POST", "/api/deliveries/<int:delivery_id>/opened", expect(401, 200, 403, 403, 403)),
    ("POST", "/api/deliveries/<int:delivery_id>/ack", expect(415, 415, 415, 415, 415)),  # token only
    ("POST", "/api/deliveries/<int:delivery_id>/snooze", expect(415, 415, 415, 415, 415)),  # token only
    # --- worker dashboard ---
    ("GET", "/worker/export.csv", expect(302, 403, 200, 200, 200)),  # other_worker: header row only
    ("GET", "/worker/families/<int:family_id>", expect(302, 403, 200, 404, 200)),
    ("GET", "/worker/families/<int:family_id>/export.csv", expect(302, 403, 200, 404, 200)),
    # no request_id in the form: re-rendered with a message; another worker's family is a 404 first
    ("POST", "/worker/families/<int:family_id>/follow-up", expect(302, 403, 422, 404, 422)),
    # empty form: kind and outcome missing, nothing logged; another worker's family is a 404 first
    ("POST", "/worker/families/<int:family_id>/contacts", expect(302, 403, 422, 404, 422)),
    ("POST", "/worker/families/<int:family_id>/phone", expect(302, 403, 302, 404, 302)),  # empty: removed
    # user_id is the admin's: not in the household, so nothing is removed
    ("POST", "/worker/families/<int:family_id>/caregivers/<int:user_id>/remove", expect(302, 403, 404, 404, 404)),
    ("GET", "/worker/settings", expect(302, 403, 200, 200, 200)),
    ("POST", "/worker/settings", expect(302, 403, 302, 302, 302)),  # empty: each family's own zone
    # --- admin area ---
    ("GET", "/admin/prompts", expect(302, 403, 403, 403, 200)),
    ("GET", "/admin/prompts/new", expect(302, 403, 403, 403, 200)),
    ("POST", "/admin/prompts/new", expect(302, 403, 403, 403, 422)),  # empty form: checks listed
    ("GET", "/admin/prompts/<int:prompt_id>", expect(302, 403, 403, 403, 200)),
    ("POST", "/admin/prompts/<int:prompt_id>", expect(302, 403, 403, 403, 422)),
    ("POST", "/admin/prompts/<int:prompt_id>/status", expect(302, 403, 403, 403, 422)),  # no status
    ("GET", "/admin/prompts/<int:prompt_id>/revisions/<int:version>", expect(302, 403, 403, 403, 200)),
    ("POST", "/admin/prompts/<int:prompt_id>/revisions/<int:version>/restore", expect(302, 403, 403, 403, 302)),
    ("POST", "/admin/prompts/check", expect(302, 403, 403, 403, 400)),  # a form, not JSON
    ("GET", "/admin/prompts/<int:prompt_id>/translations/<language>", expect(302, 403, 403, 403, 200)),
    ("POST", "/admin/prompts/<int:prompt_id>/translations/<language>", expect(302, 403, 403, 403, 422)),
    ("POST", "/admin/prompts/<int:prompt_id>/translations/<language>/check", expect(302, 403, 403, 403, 400)),
    ("GET", "/admin/prompts/export.json", expect(302, 403, 403, 403, 200)),
    ("POST", "/admin/prompts/import", expect(302, 403, 403, 403, 400)),  # no file
    ("GET", "/admin/users", expect(302, 403, 403, 403, 200)),
    ("POST", "/admin/users", expect(302, 403, 403, 403, 422)),
    ("GET", "/admin/users/<int:user_id>", expect(302, 403, 403, 403, 200)),
    ("POST", "/admin/users/<int:user_id>/deactivate", expect(302, 403, 403, 403, 302)),
    ("POST", "/admin/users/<int:user_id>/reactivate", expect(302, 403, 403, 403, 302)),
    ("POST", "/admin/users/<int:user_id>/reset", expect(302, 403, 403, 403, 200)),  # shows the link
    ("POST", "/admin/users/<int:user_id>/reassign", expect(302, 403, 403, 403, 422)),  # none chosen
    ("GET", "/admin/resources", expect(302, 403, 403, 403, 200)),
    ("POST", "/admin/resources", expect(302, 403, 403, 403, 422)),
    ("GET", "/admin/resources/<int:resource_id>", expect(302, 403, 403, 403, 200)),
    ("POST", "/admin/resources/<int:resource_id>", expect(302, 403, 403, 403, 422)),
    ("POST", "/admin/resources/<int:resource_id>/move", expect(302, 403, 403, 403, 422)),  # no direction
    ("POST", "/admin/resources/<int:resource_id>/hide", expect(302, 403, 403, 403, 302)),
    ("POST", "/admin/resources/<int:resource_id>/show", expect(302, 403, 403, 403, 302)),
    ("GET", "/admin/audit", expect(302, 403, 403, 403, 200)),
    ("GET", "/reset/<reset_token>", expect(303, 303, 303, 303, 303)),  # anyone holding the link
    ("GET", "/reset", expect(404, 404, 404, 404, 404)),  # no reset link opened in this browser
    ("POST", "/reset", expect(404, 404, 404, 404, 404)),
    ("POST", "/reset/<reset_token>", expect(422, 422, 422, 422, 422)),  # empty form: nothing used
    ("GET", "/forgot", ALL_200),
    ("POST", "/forgot", expect(422, 422, 422, 422, 422)),  # empty form: nothing queued
]


@pytest.fixture
def world(app):
    """A worker with one family and one pending invite, another worker, and an admin."""
    worker = factories.make_user("worker")
    family = factories.make_family(worker=worker)
    invite, token = create_invite(worker)
    return {
        "users": {
            "parent": family.user,
            "worker": worker,
            "other_worker": factories.make_user("worker"),
            "admin": (admin := factories.make_user("admin")),
        },
        "params": {"token": token, "invite_id": invite.id, "family_id": family.id,
                   **admin_params(admin), **parent_params(app, family)},
    }


def fill(rule: str, params: dict) -> str:
    path = rule
    for name, value in params.items():
        for converter in ("", "int:"):
            path = path.replace(f"<{converter}{name}>", str(value))
    assert "<" not in path, f"no test value for a parameter in {rule}"
    return path


def test_every_route_is_in_the_table(app):
    listed = {(method, rule) for method, rule, _ in ROUTES}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, rule.rule) not in listed:
                missing.append(f"{method} {rule.rule}")
    assert not missing, f"add these routes to ROUTES: {missing}"


@pytest.mark.parametrize("role", ROLES)
def test_route_access(app, world, role):
    """One client per role walks the whole table (a fresh world per role keeps invites pending)."""
    failures = []
    for method, rule, expected in ROUTES:
        client = app.test_client()
        if role != "anonymous":
            _login(client, world["users"][role])
        path = fill(rule, world["params"])
        # The invite page renders for every role, so it always offers a CSRF token.
        join_page = client.get(fill("/join/<token>", world["params"]), follow_redirects=True)
        token = factories.extract_csrf(join_page.get_data(as_text=True))
        if method == "GET":
            response = client.get(path)
        else:
            response = client.open(path, method=method, data={"csrf_token": token})
        if response.status_code != expected[role]:
            failures.append(f"{method} {path}: {response.status_code} != {expected[role]}")
    assert not failures, failures


def _login(client, user):
    token = factories.extract_csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302


def test_anonymous_page_redirects_to_login_with_next(client):
    response = client.get("/worker/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/worker/")


def test_wrong_role_page_gets_friendly_403(app, world):
    client = app.test_client()
    _login(client, world["users"]["parent"])
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "This page is not for your account" in response.get_data(as_text=True)


def test_json_clients_get_json_401_and_403(app, world):
    client = app.test_client()
    response = client.get("/worker/", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    _login(client, world["users"]["parent"])
    response = client.get("/admin/", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert set(response.get_json()) == {"error", "message"}
