"""Sign-in, sign-out, throttling, CSRF and security headers, through the real HTTP surface."""
from __future__ import annotations

from coach.models import LoginFailure

from . import factories


def _login_form(client, email, password, token=None, next_url=None):
    token = token or factories.extract_csrf(client.get("/login").get_data(as_text=True))
    path = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(path, data={"email": email, "password": password, "csrf_token": token})


def test_worker_signs_in_and_lands_on_caseload(client):
    worker = factories.make_user("worker")
    response = _login_form(client, worker.email.upper(), factories.PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/worker/"
    assert "remember_token" not in response.headers.get("Set-Cookie", "")


def test_parent_is_remembered_on_their_phone(client):
    family = factories.make_family()
    response = _login_form(client, family.user.email, factories.PASSWORD)
    assert response.headers["Location"] == "/"
    cookies = " ".join(response.headers.getlist("Set-Cookie"))
    assert "remember_token=" in cookies and "HttpOnly" in cookies


def test_next_is_followed_only_when_it_is_local(client):
    worker = factories.make_user("worker")
    response = _login_form(client, worker.email, factories.PASSWORD, next_url="/worker/invites")
    assert response.headers["Location"] == "/worker/invites"
    client.post("/logout", data={"csrf_token": factories.extract_csrf(client.get("/worker/").get_data(as_text=True))})
    response = _login_form(client, worker.email, factories.PASSWORD, next_url="https://evil.example/")
    assert response.headers["Location"] == "/worker/"


def test_wrong_password_says_so_and_counts(client):
    worker = factories.make_user("worker")
    response = _login_form(client, worker.email, "wrong password")
    assert response.status_code == 401
    assert "don&#39;t match" in response.get_data(as_text=True)
    assert LoginFailure.select().count() == 2  # one for the account, one for the address


def test_deactivated_account_cannot_sign_in(client):
    worker = factories.make_user("worker")
    worker.active = False
    worker.save()
    assert _login_form(client, worker.email, factories.PASSWORD).status_code == 401


def test_empty_form_rerenders_with_messages(client):
    response = _login_form(client, "", "")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Enter your email address." in body and "Enter your password." in body


def test_throttling_blocks_after_ten_failures_even_with_right_password(client):
    worker = factories.make_user("worker")
    for _ in range(10):
        assert _login_form(client, worker.email, "nope nope nope").status_code == 401
    response = _login_form(client, worker.email, factories.PASSWORD)
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.get_data(as_text=True)


def test_throttling_per_address_covers_many_accounts(client):
    for n in range(10):
        _login_form(client, f"nobody{n}@example.org", "whatever whatever")
    worker = factories.make_user("worker")
    assert _login_form(client, worker.email, factories.PASSWORD).status_code == 429


def test_post_without_csrf_token_is_refused(client):
    worker = factories.make_user("worker")
    response = client.post("/login", data={"email": worker.email, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


def test_json_post_without_csrf_header_gets_json_error(client, auth):
    worker = factories.make_user("worker")
    auth.login(worker)
    response = client.post("/worker/invites", json={"days": 3})
    assert response.status_code == 400
    assert response.get_json()["error"] == "csrf_failed"


def test_logout_needs_post_and_ends_session(client, auth):
    worker = factories.make_user("worker")
    auth.login(worker)
    assert client.get("/logout").status_code == 405
    token = factories.extract_csrf(client.get("/worker/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/worker/").status_code == 302


def test_deactivation_ends_an_open_session(client, auth):
    worker = factories.make_user("worker")
    auth.login(worker)
    assert client.get("/worker/").status_code == 200
    worker.active = False
    worker.save()
    assert client.get("/worker/").status_code == 302


def test_security_headers_and_csp_without_inline_script(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.get_data(as_text=True)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookies_when_served_over_https(app):
    from coach import create_app

    https_app = create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"],
                            "SECRET_KEY": "x", "BASE_URL": "https://attune.example",
                            "INSTANCE_PATH": app.instance_path})
    assert https_app.config["SESSION_COOKIE_SECURE"] is True
    assert https_app.config["REMEMBER_COOKIE_SECURE"] is True


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"  # see test_operations.py


def test_unknown_page_is_a_friendly_404_and_json_404_for_api(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "couldn" in response.get_data(as_text=True)
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert set(response.get_json()) == {"error", "message"}


def test_password_reset_ends_every_open_session(app, client, auth):
    from coach.services.people.staff import create_reset_link, use_reset

    worker = factories.make_user("worker")
    auth.login(worker)
    assert client.get("/worker/").status_code == 200
    admin = factories.make_user("admin")
    token = create_reset_link(worker, admin)
    use_reset(token, "a brand new password")
    assert client.get("/worker/").status_code == 302  # the old session no longer signs anyone in
    fresh = app.test_client()
    token = factories.extract_csrf(fresh.get("/login").get_data(as_text=True))
    response = fresh.post("/login", data={"email": worker.email, "password": "a brand new password",
                                          "csrf_token": token})
    assert response.status_code == 302 and fresh.get("/worker/").status_code == 200


def test_remember_me_cookie_stops_working_after_reset(app, client):
    from coach.services.people.staff import create_reset_link, use_reset

    family = factories.make_family()
    token = factories.extract_csrf(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": family.user.email, "password": factories.PASSWORD, "csrf_token": token})
    remember = client.get_cookie("remember_token")
    assert remember is not None
    use_reset(create_reset_link(family.user, factories.make_user("admin")), "another new password")
    other = app.test_client()
    other.set_cookie("remember_token", remember.value)
    assert other.get("/").status_code == 302
