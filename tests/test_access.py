"""Every route × every role gets the expected status. New routes must join ROUTES: the coverage
test fails when the app has a route the table doesn't list."""
from __future__ import annotations

import pytest

from coach.services.invites import create_invite

from . import factories

ROLES = ("anonymous", "parent", "worker", "other_worker", "admin")


def expect(anonymous, parent, worker, other_worker, admin):
    return dict(zip(ROLES, (anonymous, parent, worker, other_worker, admin), strict=True))


ALL_200 = expect(200, 200, 200, 200, 200)
# (method, Flask rule, expected status per role). Values for <params> come from the world fixture.
ROUTES = [
    ("GET", "/healthz", ALL_200),
    ("GET", "/login", expect(200, 302, 302, 302, 302)),
    ("POST", "/logout", expect(302, 302, 302, 302, 302)),
    ("POST", "/login", expect(422, 422, 422, 422, 422)),  # empty form: re-rendered with messages
    ("GET", "/join/<token>", ALL_200),
    ("POST", "/join/<token>", expect(422, 422, 422, 422, 422)),
    ("GET", "/", expect(302, 200, 302, 302, 302)),
    ("GET", "/worker/", expect(302, 403, 200, 200, 200)),
    ("GET", "/worker/invites", expect(302, 403, 200, 200, 200)),
    ("POST", "/worker/invites", expect(302, 403, 200, 200, 200)),  # label optional, days default
    ("POST", "/worker/invites/<int:invite_id>/revoke", expect(302, 403, 302, 404, 404)),
    ("GET", "/admin/", expect(302, 403, 403, 403, 200)),
    # --- parent app (pages, /api/*, /manifest.webmanifest, /sw.js) ---
    # --- worker dashboard ---
    # --- admin area ---
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
            "admin": factories.make_user("admin"),
        },
        "params": {"token": token, "invite_id": invite.id, "family_id": family.id},
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
        join_page = client.get(fill("/join/<token>", world["params"]))
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
