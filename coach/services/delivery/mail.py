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
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from ...models import MailMessage, utcnow

log = logging.getLogger(__name__)

MAIL_KEYS = ("mail_sent", "mail_retrying", "mail_failed")
BATCH_SIZE = 50
LEASE_SECONDS = 300
BACKOFF_CAP_MINUTES = 60
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
    inserted = (MailMessage.insert(to_address=to, subject=subject[:200], body=body, kind=kind[:20],
                                   dedupe_key=dedupe_key, next_attempt_at=now or utcnow())
                .on_conflict_ignore().as_rowcount().execute())
    # A row count, not an id: SQLite's INSERT OR IGNORE leaves lastrowid at an earlier row.
    return inserted == 1
