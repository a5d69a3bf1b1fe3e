"""The email outbox against a real SMTP server on loopback: sent once, retried with backoff through
outages (server down, 4xx, 5xx, a server that never answers) and sent when the server returns;
``send-test-email`` through the real command line."""
from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from coach.models import MailMessage
from coach.services.delivery.mail import (
    MailConfigError,
    mail_problem,
    parse_smtp_url,
    queue_mail,
    run_mail_tick,
)
from coach.services.delivery.outbox import claim_due, finish
from tests.mailserver import MailServer

NOW = datetime(2026, 12, 1, 19, 42)  # rows made with now=NOW take it as their created_at too


def queue(n: int = 1, **fields) -> list[MailMessage]:
    for i in range(n):
        queue_mail(fields.get("to", f"worker{i}@example.org"), "A family asked you to get in touch",
                   "Open their page:\nhttp://localhost/worker/families/1\n", "alert", f"test:{i}", now=NOW)
    return list(MailMessage.select().order_by(MailMessage.id))


def reload(row: MailMessage) -> MailMessage:
    return MailMessage.get_by_id(row.id)


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


# --- settings -------------------------------------------------------------------------------------

def test_smtp_urls_are_parsed_with_their_defaults():
    plain = parse_smtp_url("smtp://mail.example.org")
    assert (plain.host, plain.port, plain.use_ssl, plain.starttls, plain.username) == (
        "mail.example.org", 25, False, False, None)
    tls = parse_smtp_url("smtp://me%40example.org:p%3Ass@mail.example.org:587?starttls=1")
    assert (tls.port, tls.starttls, tls.username, tls.password) == (587, True, "me@example.org", "p:ss")
    implicit = parse_smtp_url("smtps://mail.example.org")
    assert (implicit.port, implicit.use_ssl) == (465, True)


@pytest.mark.parametrize("url, words", [
    ("http://mail.example.org", "must start with smtp://"),
    ("smtp://:25", "no host"),
    ("smtp://mail.example.org:99999", "not a URL"),
    ("smtps://mail.example.org?starttls=1", "already encrypted"),
])
def test_bad_smtp_urls_say_what_is_wrong(url, words):
    with pytest.raises(MailConfigError, match=words):
        parse_smtp_url(url)


def test_without_smtp_nothing_is_mailed_and_the_outbox_keeps_it(app):
    (row,) = queue()
    assert "not configured" in mail_problem()
    assert run_mail_tick(NOW) == {"mail_sent": 0, "mail_retrying": 0, "mail_failed": 0}
    assert reload(row).status == "pending" and reload(row).attempts == 0


def test_one_cause_queues_one_email(app):
    assert queue_mail("w@example.org", "Subject", "Body", "alert", "support:1:worker") is True
    assert queue_mail("w@example.org", "Subject", "Body", "alert", "support:1:worker") is False
    assert MailMessage.select().count() == 1
    with pytest.raises(ValueError):
        queue_mail("w@example.org\nBcc: x@example.org", "Subject", "Body", "alert")


# --- sending --------------------------------------------------------------------------------------

def test_a_queued_email_is_sent_once_by_the_tick(mail_app, smtp):
    rows = queue(3)
    assert run_mail_tick(NOW) == {"mail_sent": 3, "mail_retrying": 0, "mail_failed": 0}
    received = smtp.wait_for(3)
    assert sorted(m.to[0] for m in received) == [r.to_address for r in rows]
    first = received[0]
    assert first.mail_from == "attune@example.org"
    assert first.subject == "A family asked you to get in touch"
    assert first.message["Auto-Submitted"] == "auto-generated"
    assert "http://localhost/worker/families/1" in first.text
    assert all(reload(r).status == "sent" and reload(r).sent_at == NOW for r in rows)

    assert run_mail_tick(NOW + timedelta(minutes=5))["mail_sent"] == 0
    assert len(smtp.received) == 3


def test_server_down_is_retried_with_backoff_and_sent_when_it_returns(mail_app, smtp):
    (row,) = queue()
    smtp.stop()
    assert run_mail_tick(NOW) == {"mail_sent": 0, "mail_retrying": 1, "mail_failed": 0}
    row = reload(row)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, NOW + timedelta(minutes=1))
    assert "Connection" in row.last_error or "refused" in row.last_error.lower()

    assert run_mail_tick(NOW + timedelta(seconds=30))["mail_retrying"] == 0  # not due yet
    assert run_mail_tick(NOW + timedelta(minutes=1))["mail_retrying"] == 1
    assert reload(row).next_attempt_at == NOW + timedelta(minutes=3)  # then 2 minutes later

    smtp.start()
    assert run_mail_tick(NOW + timedelta(minutes=3))["mail_sent"] == 1
    assert len(smtp.wait_for(1)) == 1 and reload(row).status == "sent" and reload(row).last_error is None


@pytest.mark.parametrize("reply, step, times", [
    ("451 4.3.0 Mail server temporarily rejected message", "DATA", 2),
    ("421 4.7.0 Try again later", "RCPT", 1),  # 421 closes the session: the second is not tried
    ("554 5.7.1 Relay access denied", "DATA", 2),
    ("550 5.1.1 Mailbox unavailable", "RCPT", 2),
])
def test_smtp_errors_are_retried_and_nothing_is_lost(mail_app, smtp, reply, step, times):
    rows = queue(2)
    smtp.fail(reply, times=times, at=step)
    assert run_mail_tick(NOW) == {"mail_sent": 0, "mail_retrying": 2, "mail_failed": 0}
    assert reload(rows[0]).last_error.startswith(f"SMTP {reply[:3]}")
    assert smtp.received == []
    assert run_mail_tick(NOW + timedelta(minutes=1)) == {"mail_sent": 2, "mail_retrying": 0, "mail_failed": 0}
    assert len(smtp.wait_for(2)) == 2


def test_one_refused_message_does_not_hold_back_the_others(mail_app, smtp):
    rows = queue(3)
    smtp.fail("550 5.1.1 No such user", times=1, at="RCPT")
    assert run_mail_tick(NOW) == {"mail_sent": 2, "mail_retrying": 1, "mail_failed": 0}
    assert [reload(r).status for r in rows] == ["pending", "sent", "sent"]


def test_a_server_that_never_answers_times_out_and_is_retried(mail_app):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True).start()
    mail_app.config.update(SMTP_URL=f"smtp://127.0.0.1:{silent.getsockname()[1]}", SMTP_TIMEOUT=1)
    (row,) = queue()
    try:
        assert run_mail_tick(NOW)["mail_retrying"] == 1
    finally:
        silent.close()
    assert "timed out" in reload(row).last_error


def test_an_email_is_given_up_after_two_days_of_failures(mail_app, smtp):
    (row,) = queue()
    smtp.stop()
    assert run_mail_tick(NOW + timedelta(days=2))["mail_failed"] == 1
    assert reload(row).status == "failed"


def test_a_crashed_senders_email_is_sent_after_its_lease_and_the_late_writer_loses(mail_app, smtp):
    (row,) = queue()
    (claimed,) = claim_due(MailMessage, NOW, 10, 300)  # a sender that died before sending
    assert run_mail_tick(NOW + timedelta(minutes=1))["mail_sent"] == 0  # its lease still holds
    assert run_mail_tick(NOW + timedelta(minutes=6))["mail_sent"] == 1
    assert finish(claimed, status="failed") is False  # the dead sender's late write changes nothing
    assert reload(row).status == "sent" and len(smtp.received) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # loopback only
def test_smtp_credentials_from_the_url_are_used(app):
    with MailServer(auth=("attune", "s3cret:pw")) as server:
        app.config.update(SMTP_URL=server.url.replace("s3cret:pw", "s3cret%3Apw"), SMTP_TIMEOUT=5)
        (row,) = queue()
        assert run_mail_tick(NOW)["mail_sent"] == 1
        assert server.logins == ["attune"] and len(server.wait_for(1)) == 1

        app.config.update(SMTP_URL=server.url.replace("s3cret:pw", "wrong"), SMTP_TIMEOUT=1)
        queue_mail("w@example.org", "Subject", "Body", "alert", "again", now=NOW)
        assert run_mail_tick(NOW)["mail_retrying"] == 1  # a bad password is an outage, not a loss
        assert len(server.received) == 1


# --- send-test-email ------------------------------------------------------------------------------

def test_send_test_email_sends_at_once(mail_app, smtp):
    result = invoke(mail_app, "send-test-email", "--to", "me@example.org")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["sent"] is True
    (message,) = smtp.wait_for(1)
    assert message.to == ["me@example.org"] and message.subject == "Attune test email"
    assert MailMessage.get().status == "sent"


def test_send_test_email_explains_failures(app, smtp):
    result = invoke(app, "send-test-email", "--to", "me@example.org")
    assert result.exit_code == 1 and "COACH_SMTP_URL is not set" in result.output

    app.config.update(SMTP_URL=smtp.url, SMTP_TIMEOUT=5)
    smtp.stop()
    result = invoke(app, "send-test-email", "--to", "me@example.org")
    assert result.exit_code == 1 and "was not sent" in result.output
    assert MailMessage.get().status == "failed"  # a failed test is not retried later

    result = invoke(app, "send-test-email", "--to", "not an address")
    assert result.exit_code == 2 and "not an email address" in result.output


def test_init_db_says_whether_email_works(app, smtp):
    result = invoke(app, "init-db")
    assert result.exit_code == 0 and "Email is not configured (COACH_SMTP_URL is not set)" in result.output
    app.config["SMTP_URL"] = smtp.url
    assert f"Email goes through 127.0.0.1:{smtp.port}" in invoke(app, "init-db").output


def self_signed_context(folder) -> ssl.SSLContext:
    """A server TLS context with a certificate for 127.0.0.1 that no trust store knows."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


def test_smtps_refuses_a_certificate_it_cannot_verify(app, tmp_path):
    with MailServer(tls=self_signed_context(tmp_path)) as server:
        app.config.update(SMTP_URL=server.url, SMTP_TIMEOUT=5)
        (row,) = queue()
        assert run_mail_tick(NOW)["mail_retrying"] == 1  # kept, not sent to an unverified server
    assert server.received == [] and "CERTIFICATE_VERIFY_FAILED" in reload(row).last_error


def test_smtps_sends_to_a_server_whose_certificate_is_trusted(app, tmp_path, monkeypatch):
    context = self_signed_context(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))  # OpenSSL's trust store for this test
    with MailServer(tls=context) as server:
        app.config.update(SMTP_URL=server.url, SMTP_TIMEOUT=5)
        (row,) = queue()
        assert run_mail_tick(NOW)["mail_sent"] == 1
        assert len(server.wait_for(1)) == 1 and reload(row).status == "sent"
