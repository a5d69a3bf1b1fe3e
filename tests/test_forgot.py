"""Forgot password by email: the same answer for any address, a link that arrives by real SMTP,
a reset that signs the old sessions out, and a throttle so nobody can flood a mailbox."""
from __future__ import annotations

import re

import pytest

from coach.models import MailMessage, PasswordReset
from coach.services.delivery.mail import run_mail_tick

from . import factories

LINK_RE = re.compile(r"http://localhost(/reset/[A-Za-z0-9_-]+)")
NEW_PASSWORD = "a brand new long password"


def _ask(client, email: str):
    csrf = factories.extract_csrf(client.get("/forgot").get_data(as_text=True))
    return client.post("/forgot", data={"email": email, "csrf_token": csrf})


def _sign_in(client, email: str, password: str):
    csrf = factories.extract_csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf})


def test_the_sign_in_page_links_to_forgot_password(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/forgot"' in html and "Forgot your password?" in html


def test_the_answer_is_the_same_whether_or_not_the_account_exists(app, client):
    family = factories.make_family()
    known = _ask(client, family.user.email)
    unknown = _ask(app.test_client(), "nobody-here@example.org")
    assert known.status_code == unknown.status_code == 200

    def words(response, email):
        html = response.get_data(as_text=True).replace(email, "EMAIL")
        return re.sub(r'content="[^"]+"', "", html)  # the per-session CSRF token differs
    assert words(known, family.user.email) == words(unknown, "nobody-here@example.org")
    assert "we've emailed it a link" in words(known, family.user.email)
    # Both put one email in the outbox (the same work either way); only the account's has a link.
    to_account, to_nobody = MailMessage.select().order_by(MailMessage.id)
    assert to_account.to_address == family.user.email and LINK_RE.search(to_account.body)
    assert to_nobody.to_address == "nobody-here@example.org" and "no account uses it" in to_nobody.body
    assert "/reset/" not in to_nobody.body and PasswordReset.select().count() == 1


def test_a_deactivated_account_gets_no_link(app, client):
    worker = factories.make_user("worker")
    worker.active = False
    worker.save()
    assert _ask(client, worker.email).status_code == 200
    (mail,) = MailMessage.select()
    assert "no account uses it" in mail.body and PasswordReset.select().count() == 0


def test_a_bad_address_is_a_field_error_and_nothing_is_queued(client):
    response = _ask(client, "not an email")
    assert response.status_code == 422
    assert "Enter an email address like name@example.com." in response.get_data(as_text=True)
    assert MailMessage.select().count() == 0


def test_without_the_csrf_token_nothing_is_sent(client):
    factories.make_family(user=factories.make_user("parent", email="p@example.org"))
    response = client.post("/forgot", data={"email": "p@example.org"})
    assert response.status_code == 400 and MailMessage.select().count() == 0


def test_reset_by_email_end_to_end_signs_the_old_session_out(mail_app, smtp):
    family = factories.make_family()
    email = family.user.email
    old_phone = mail_app.test_client()
    assert _sign_in(old_phone, email, factories.PASSWORD).status_code == 302
    assert old_phone.get("/api/me").status_code == 200

    browser = mail_app.test_client()
    assert _ask(browser, email).status_code == 200
    assert run_mail_tick()["mail_sent"] == 1
    (mail,) = smtp.wait_for(1)
    assert mail.to == [email] and mail.subject == "Reset your Attune password"
    link = LINK_RE.search(mail.text).group(1)

    opened = browser.get(link)
    assert opened.status_code == 303 and opened.headers["Location"] == "/reset"
    assert opened.headers["Cache-Control"] == "no-store"
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    page = browser.get("/reset")
    assert page.status_code == 200 and email in page.get_data(as_text=True)
    csrf = factories.extract_csrf(page.get_data(as_text=True))
    done = browser.post("/reset", data={"csrf_token": csrf, "password": NEW_PASSWORD,
                                        "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/login"

    assert old_phone.get("/api/me").status_code == 401  # signed out everywhere
    assert _sign_in(mail_app.test_client(), email, factories.PASSWORD).status_code == 401
    fresh = mail_app.test_client()
    assert _sign_in(fresh, email, NEW_PASSWORD).status_code == 302
    assert fresh.get("/api/me").status_code == 200
    # The link worked once.
    assert mail_app.test_client().get(link).status_code == 410


def test_only_the_newest_emailed_link_works(app, client):
    family = factories.make_family()
    _ask(client, family.user.email)
    _ask(client, family.user.email)
    first, second = (LINK_RE.search(m.body).group(1) for m in MailMessage.select().order_by(MailMessage.id))
    assert app.test_client().get(first).status_code == 410
    assert app.test_client().get(second).status_code == 303


def test_one_address_gets_at_most_three_emails_an_hour(app):
    family = factories.make_family()
    for n in range(3):
        assert _ask(app.test_client(), family.user.email).status_code == 200, n
    refused = _ask(app.test_client(), family.user.email)
    assert refused.status_code == 429
    assert "Too many reset requests" in refused.get_data(as_text=True)
    assert MailMessage.select().count() == 3  # a mailbox gets at most three an hour
    # Unknown addresses are counted the same way, so the limit says nothing about who has an account.
    for _ in range(3):
        _ask(app.test_client(), "nobody@example.org")
    assert _ask(app.test_client(), "nobody@example.org").status_code == 429
    assert MailMessage.select().where(MailMessage.to_address == "nobody@example.org").count() == 3


def test_one_network_address_is_limited_across_emails(app, client):
    app.config["LOGIN_MAX_FAILURES"] = 4
    for n in range(4):
        assert _ask(client, f"someone{n}@example.org").status_code == 200
    assert _ask(client, "someone-else@example.org").status_code == 429


@pytest.mark.parametrize("role", ["worker", "admin"])
def test_staff_can_reset_by_email_too(mail_app, smtp, role):
    person = factories.make_user(role)
    browser = mail_app.test_client()
    assert _ask(browser, person.email.upper()).status_code == 200  # the address as typed, any case
    run_mail_tick()
    (mail,) = smtp.wait_for(1)
    assert mail.to == [person.email]
    browser.get(LINK_RE.search(mail.text).group(1))
    csrf = factories.extract_csrf(browser.get("/reset").get_data(as_text=True))
    browser.post("/reset", data={"csrf_token": csrf, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert _sign_in(mail_app.test_client(), person.email, NEW_PASSWORD).headers["Location"] == f"/{role}/"
