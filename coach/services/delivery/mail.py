"""Email: one outbox for every message that leaves by mail (DESIGN.md "Email").

``queue_mail`` writes a ``MailMessage`` row inside the caller's transaction, so an email exists
exactly when the event that caused it does; a web request never waits on SMTP. The scheduler's tick
(and ``send-due``) claims due rows under a lease, sends them over one SMTP connection with
Flask-Mail, and retries failures with backoff. SMTP settings come from ``COACH_SMTP_URL``:
``smtp://[user:pass@]host:port[?starttls=1]`` or ``smtps://`` (implicit TLS).
"""
from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app
from flask_mail import BadHeaderError, Connection, Message, _Mail

from ...db import db
from ...models import MailMessage, utcnow
from .outbox import backoff, claim_due, finish

log = logging.getLogger(__name__)

MAIL_KEYS = ("mail_sent", "mail_retrying", "mail_failed")
BATCH_SIZE = 50
LEASE_SECONDS = 300
GIVE_UP_AFTER = timedelta(days=2)  # past this a message is marked failed (and logged) instead of retried
DEFAULT_TIMEOUT = 10  # seconds per SMTP connection step


class MailConfigError(ValueError):
    """``COACH_SMTP_URL`` or ``COACH_MAIL_FROM`` cannot be used; the message says why."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to connect, parsed from ``COACH_SMTP_URL``."""

    host: str
    port: int
    use_ssl: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpSettings:
    """``smtp://[user:pass@]host[:port][?starttls=1]`` or ``smtps://…`` → settings; MailConfigError
    with a sentence for anything else. Ports default to 25 (smtp) and 465 (smtps)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise MailConfigError(f"COACH_SMTP_URL {url!r} is not a URL; use smtp://host:port.") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise MailConfigError("COACH_SMTP_URL must start with smtp:// or smtps://, "
                              "e.g. smtp://user:pass@mail.example.org:587?starttls=1.")
    if not parts.hostname:
        raise MailConfigError("COACH_SMTP_URL has no host, e.g. smtp://mail.example.org:587.")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[-1].lower() in ("1", "true", "yes", "on")
    if starttls and parts.scheme == "smtps":
        raise MailConfigError("COACH_SMTP_URL: smtps:// is already encrypted; drop ?starttls=1.")
    return SmtpSettings(
        host=parts.hostname, port=port or (465 if parts.scheme == "smtps" else 25),
        use_ssl=parts.scheme == "smtps", starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None)


def smtp_settings() -> SmtpSettings | None:
    """The configured SMTP server, or None when ``COACH_SMTP_URL`` is not set."""
    url = (current_app.config.get("SMTP_URL") or "").strip()
    return parse_smtp_url(url) if url else None


def mail_problem() -> str | None:
    """None when mail can be sent; otherwise a sentence saying why not (for ``/admin/`` and ``make run``)."""
    try:
        settings = smtp_settings()
    except MailConfigError as error:
        return str(error)
    if settings is None:
        return "Email is not configured (COACH_SMTP_URL is not set): nothing is mailed."
    if not (current_app.config.get("MAIL_FROM") or "").strip():
        return "COACH_MAIL_FROM is empty: set the address emails come from."
    return None


def mail_configured() -> bool:
    """True when ``COACH_SMTP_URL`` (and ``COACH_MAIL_FROM``) are set and usable."""
    return mail_problem() is None


# --- queueing -------------------------------------------------------------------------------------

def address_key(address: str) -> str:
    """A short stable stand-in for an address inside a dedupe key (keys are ≤ 120 characters)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:16]


def queue_mail(to: str, subject: str, body: str, kind: str, dedupe_key: str | None = None,
               now: datetime | None = None) -> bool:
    """Add an email to the outbox (in the caller's transaction); sent by the next tick.

    A ``dedupe_key`` already in the outbox queues nothing (returns False): one email per cause and
    address, however often the cause is replayed.
    """
    to = to.strip()
    if not to or "\n" in to or "\r" in to or "\n" in subject or "\r" in subject:
        raise ValueError("An email needs one address and a one-line subject.")
    now = now or utcnow()  # its age (give up after two days) counts from the cause's own time
    inserted = (MailMessage.insert(to_address=to, subject=subject[:200], body=body, kind=kind[:20],
                                   dedupe_key=dedupe_key, created_at=now, next_attempt_at=now)
                .on_conflict_ignore().as_rowcount().execute())
    # A row count, not an id: SQLite's INSERT OR IGNORE leaves lastrowid at an earlier row.
    return inserted == 1


# --- sending --------------------------------------------------------------------------------------

class _VerifiedConnection(Connection):
    """Flask-Mail's connection with a time-out and certificate checks: its own opens the socket
    with neither (a hung server would stall the scheduler; smtps would trust any certificate)."""

    def __init__(self, mail: _Mail, timeout: float) -> None:
        super().__init__(mail)
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP:
        mail, context = self.mail, ssl.create_default_context()
        if mail.use_ssl:
            host = smtplib.SMTP_SSL(mail.server, mail.port, timeout=self.timeout, context=context)
        else:
            host = smtplib.SMTP(mail.server, mail.port, timeout=self.timeout)
        if mail.use_tls:
            host.starttls(context=context)
        if mail.username and mail.password:
            host.login(mail.username, mail.password)
        return host


def open_connection(settings: SmtpSettings) -> _VerifiedConnection:
    """A Flask-Mail connection to the configured server (use as a context manager)."""
    state = _Mail(settings.host, settings.username, settings.password, settings.port,
                  settings.starttls, settings.use_ssl, current_app.config["MAIL_FROM"], 0, None,
                  False, False)  # never suppressed: tests send to a real SMTP server on loopback
    # What Mail.init_app registers (Message reads it), made from COACH_SMTP_URL at send time.
    current_app.extensions["mail"] = state
    return _VerifiedConnection(state, float(current_app.config.get("SMTP_TIMEOUT") or DEFAULT_TIMEOUT))


def as_message(row: MailMessage) -> Message:
    """The outbox row as a plain-text email."""
    return Message(subject=row.subject, recipients=[row.to_address], body=row.body,
                   sender=current_app.config["MAIL_FROM"],
                   extra_headers={"Auto-Submitted": "auto-generated"})


def describe_error(error: BaseException) -> str:
    """An SMTP failure as one short line for ``last_error`` and the logs."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()), (0, b""))
        return f"SMTP {code}: {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"[:300]
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) \
            else str(error.smtp_error)
        return f"SMTP {error.smtp_code}: {text}"[:300]
    return f"{type(error).__name__}: {error}"[:300]


def send_rows(rows: list[MailMessage], settings: SmtpSettings) -> list[str | None]:
    """Send each row over one connection; returns an error line per row (None: accepted).

    A connection that fails, or drops mid-batch, fails every row not yet sent (they are retried).
    """
    errors: list[str | None] = [None] * len(rows)
    index = 0
    try:
        with open_connection(settings) as connection:
            for index, row in enumerate(rows):
                try:
                    connection.send(as_message(row))
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                        smtplib.SMTPDataError, BadHeaderError, ValueError) as error:
                    errors[index] = describe_error(error)  # this message only; the session goes on
            index = len(rows)
    except (OSError, smtplib.SMTPException) as error:  # refused, timed out, dropped, 4xx/5xx greeting
        line = describe_error(error)
        errors[index:] = [errors[i] or line for i in range(index, len(rows))]
    return errors


def record_rows(rows: list[MailMessage], errors: list[str | None], now: datetime) -> Counter:
    """Write each row's result in one transaction: sent, pending again after a backoff, or failed."""
    counts: Counter = Counter()
    with db.atomic():
        for row, error in zip(rows, errors, strict=True):
            if error is None:
                key, fields = "mail_sent", {"status": "sent", "sent_at": now, "last_error": None}
            elif row.created_at + GIVE_UP_AFTER <= now or row.kind == "test":
                log.error("email %s to %s given up after %s attempts: %s", row.id, row.to_address,
                          row.attempts, error)
                key, fields = "mail_failed", {"status": "failed", "last_error": error}
            else:
                log.warning("email %s: attempt %s failed, will retry: %s", row.id, row.attempts, error)
                key, fields = "mail_retrying", {"status": "pending", "last_error": error,
                                                "next_attempt_at": now + backoff(row.attempts)}
            if finish(row, **fields):
                counts[key] += 1
    return counts


def run_mail_tick(now: datetime | None = None) -> dict[str, int]:
    """Claim and send due emails in batches until none is due; returns counts by outcome.

    With mail not configured nothing is sent and the outbox keeps every message for later.
    """
    counts: Counter = Counter({key: 0 for key in MAIL_KEYS})
    problem = mail_problem()
    if problem is not None:
        return dict(counts)
    settings = smtp_settings()
    while True:
        rows = claim_due(MailMessage, now or utcnow(), BATCH_SIZE, LEASE_SECONDS)
        if not rows:
            break
        result = record_rows(rows, send_rows(rows, settings), now or utcnow())
        counts.update(result)
        if result["mail_sent"] == 0:
            break  # the server is down or refusing: the rest waits for their next attempt
    return {key: counts[key] for key in MAIL_KEYS}


def send_test_email(to: str) -> MailMessage:
    """Send one test email at once (``send-test-email``); returns its outbox row, sent or failed.

    MailConfigError when mail is not configured.
    """
    problem = mail_problem()
    if problem is not None:
        raise MailConfigError(problem)
    now = utcnow()
    with db.atomic():
        row = MailMessage.create(
            to_address=to.strip(), subject="Attune test email", kind="test", next_attempt_at=now,
            body="This is a test email from Attune. Alerts about families who ask for help will come "
                 "from this address.\n")
    claimed = claim_due(MailMessage, now, 1, LEASE_SECONDS, where=MailMessage.id == row.id)
    record_rows(claimed, send_rows(claimed, smtp_settings()), utcnow())
    return MailMessage.get_by_id(row.id)
