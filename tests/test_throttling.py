"""Sign-in throttling that slows a guesser without locking the real owner out: per address, per
account with a growing delay, known devices let through, the client address read through the
configured number of trusted proxies, and no race letting parallel guesses past the limit."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from coach import create_app
from coach.models import LoginFailure
from coach.services.people import throttle

from . import factories

ATTACKER = {"REMOTE_ADDR": "198.51.100.66"}
OWNER = {"REMOTE_ADDR": "203.0.113.10"}


def _csrf(client, environ):
    return factories.extract_csrf(client.get("/login", environ_base=environ).get_data(as_text=True))


def _sign_out(client, environ):
    csrf = factories.extract_csrf(client.get("/account/password", environ_base=environ).get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": csrf}, environ_base=environ).status_code == 302


def _try(client, email, password, environ, headers=None):
    return client.post("/login", environ_base=environ, headers=headers or {},
                       data={"email": email, "password": password, "csrf_token": _csrf(client, environ)})


@pytest.fixture
def proxied(app):
    """The app as the README deploys it: behind one reverse proxy (COACH_TRUSTED_PROXIES=1)."""
    behind = create_app({**app.config, "TESTING": True, "TRUSTED_PROXIES": 1})
    behind.test_client_class = type(app.test_client())
    return behind


def _via_proxy(client_address):
    return {"environ": {"REMOTE_ADDR": "127.0.0.1"}, "headers": {"X-Forwarded-For": client_address}}


def test_unknown_emails_from_one_address_do_not_block_an_admin_elsewhere(proxied):
    attacker, owner = proxied.test_client(), proxied.test_client()
    admin = factories.make_user("admin")
    for n in range(10):
        response = _try(attacker, f"nobody{n}@example.org", "guess guess guess", **_via_proxy("198.51.100.66"))
        assert response.status_code == 401
    assert _try(attacker, "nobody99@example.org", "guess", **_via_proxy("198.51.100.66")).status_code == 429

    assert _try(owner, admin.email, factories.PASSWORD, **_via_proxy("203.0.113.10")).status_code == 302


def test_guesses_on_one_account_from_many_addresses_get_a_growing_delay(app, monkeypatch):
    worker = factories.make_user("worker")
    for n in range(10):
        client = app.test_client()
        assert _try(client, worker.email, "wrong wrong wrong", {"REMOTE_ADDR": f"192.0.2.{n}"}).status_code == 401
    fresh = app.test_client()
    blocked = _try(fresh, worker.email, factories.PASSWORD, {"REMOTE_ADDR": "192.0.2.200"})
    assert blocked.status_code == 429 and "try again in 1 minute." in blocked.get_data(as_text=True)

    real_now = throttle.utcnow
    monkeypatch.setattr(throttle, "utcnow", lambda: real_now() + timedelta(seconds=61))
    assert _try(fresh, worker.email, "wrong again wrong", {"REMOTE_ADDR": "192.0.2.201"}).status_code == 401
    second = _try(fresh, worker.email, factories.PASSWORD, {"REMOTE_ADDR": "192.0.2.202"})
    assert second.status_code == 429 and "try again in 2 minutes" in second.get_data(as_text=True)


def test_the_owner_on_a_known_device_signs_in_during_an_attack(app):
    family = factories.make_family()
    phone = app.test_client()
    assert _try(phone, family.user.email, factories.PASSWORD, OWNER).status_code == 302
    _sign_out(phone, OWNER)
    attacker = app.test_client()
    for _ in range(12):
        _try(attacker, family.user.email, "guess guess guess", ATTACKER)
    assert _try(app.test_client(), family.user.email, factories.PASSWORD, OWNER).status_code == 429

    assert _try(phone, family.user.email, factories.PASSWORD, OWNER).status_code == 302
    assert phone.get("/api/me").status_code == 200


def test_a_known_device_cookie_only_helps_its_own_account(app):
    first, second = factories.make_user("worker"), factories.make_user("worker")
    laptop = app.test_client()
    _try(laptop, first.email, factories.PASSWORD, OWNER)
    _sign_out(laptop, OWNER)
    attacker = app.test_client()
    for _ in range(10):
        _try(attacker, second.email, "guess guess guess", ATTACKER)
    assert _try(laptop, second.email, factories.PASSWORD, OWNER).status_code == 429


def test_a_known_device_loses_its_pass_after_its_own_failures(app):
    worker = factories.make_user("worker")
    laptop = app.test_client()
    _try(laptop, worker.email, factories.PASSWORD, OWNER)
    _sign_out(laptop, OWNER)
    for _ in range(10):
        assert _try(laptop, worker.email, "not it not it", OWNER).status_code == 401
    assert _try(laptop, worker.email, factories.PASSWORD, OWNER).status_code == 429


def test_forty_parallel_guesses_check_at_most_the_limit(app):
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"  # production's cost: each check takes real time
    worker = factories.make_user("worker")
    clients = [app.test_client() for _ in range(40)]
    tokens = [_csrf(c, ATTACKER) for c in clients]
    start = threading.Barrier(len(clients))
    statuses = []

    def guess(client, token):
        start.wait()
        response = client.post("/login", environ_base=ATTACKER, data={
            "email": worker.email, "password": "parallel guess", "csrf_token": token})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(statuses) == 40 and set(statuses) <= {401, 429}
    assert statuses.count(401) <= app.config["LOGIN_MAX_FAILURES"]  # passwords actually checked
    assert statuses.count(401) >= 1


def test_a_successful_sign_in_leaves_no_failure_behind(app, client):
    worker = factories.make_user("worker")
    assert _try(client, worker.email, factories.PASSWORD, OWNER).status_code == 302
    assert LoginFailure.select().count() == 0


def test_forwarded_for_is_believed_only_from_the_configured_proxies(app):
    """Without trusted proxies (the default) a client can't dodge the address limit by inventing
    X-Forwarded-For headers."""
    direct = app.test_client()
    for n in range(10):
        _try(direct, f"nobody{n}@example.org", "guess guess guess", ATTACKER,
             headers={"X-Forwarded-For": f"10.0.0.{n}"})
    assert _try(direct, "x@example.org", "guess guess guess", ATTACKER,
                headers={"X-Forwarded-For": "10.0.0.99"}).status_code == 429
