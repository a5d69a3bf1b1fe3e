"""Sign-in throttling that slows a password guesser without locking the real owner out.

Every password check is recorded *before* it happens, inside one serialised write transaction that
first decides whether the check may happen at all, so parallel guesses cannot slip past the limit
(no count-then-insert race). A successful check removes its own record again.

Three keys are counted over ``COACH_LOGIN_WINDOW_MINUTES``:

- ``ip:<address>`` — after ``COACH_LOGIN_MAX_FAILURES`` failures that address waits until the
  oldest of them leaves the window. It blocks only that address, never an account.
- ``email:<address>`` — after the limit, each further check on the account must wait a growing
  delay after the latest failure: 1, 2, 4, 8 … minutes, capped at the window.
- ``device:<nonce>`` — a browser that signed in to this account before carries a signed
  known-device cookie (see ``coach.security``). It skips the address and account rules, so the
  owner can sign in during an attack; after the limit of its own failures it loses that privilege.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app

from ...db import db, is_postgres, write_transaction
from ...models import LoginFailure, utcnow

#: Any constant: the PostgreSQL advisory lock that serialises throttle decisions across processes.
_PG_LOCK = 0x5A77_0001
_KEEP = timedelta(days=1)


@dataclass
class Attempt:
    """The outcome of asking to check a password: ``wait_minutes`` > 0 means refused."""

    wait_minutes: int = 0
    recorded: list[int] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return self.wait_minutes == 0


def account_key(email: str) -> str:
    """The throttle key of an account (also used by the privacy erase)."""
    return f"email:{(email or '').strip().lower()}"


def _recent(key: str, since) -> list:
    """Times of ``key``'s failures since ``since``, newest first."""
    query = (LoginFailure.select(LoginFailure.created_at)
             .where(LoginFailure.key == key, LoginFailure.created_at > since)
             .order_by(LoginFailure.created_at.desc()))
    return [row.created_at for row in query]


def _minutes_until(moment, now) -> int:
    seconds = (moment - now).total_seconds()
    return 0 if seconds <= 0 else int(seconds // 60) + 1


def _wait_for_address(times: list, now, limit: int, window: timedelta) -> int:
    if len(times) < limit:
        return 0
    return _minutes_until(times[limit - 1] + window, now)


def _wait_for_account(times: list, now, limit: int, window: timedelta) -> int:
    if len(times) < limit:
        return 0
    delay = min(timedelta(minutes=2 ** min(len(times) - limit, 16)), window)
    return _minutes_until(times[0] + delay, now)


def begin_attempt(email: str, ip: str, device: str | None = None) -> Attempt:
    """Decide whether a password may be checked now and, if so, record the check as a failure
    until :func:`attempt_succeeded` says otherwise. ``device`` is the nonce of a valid
    known-device cookie for this account, or None."""
    limit = int(current_app.config["LOGIN_MAX_FAILURES"])
    window = timedelta(minutes=int(current_app.config["LOGIN_WINDOW_MINUTES"]))
    with write_transaction():
        if is_postgres():
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK,))
        now = utcnow()
        since = now - window
        keys = [account_key(email)]
        trusted = device is not None and len(_recent(f"device:{device}", since)) < limit
        if device is not None:
            keys.append(f"device:{device}")
        if not trusted:
            keys.append(f"ip:{ip}")
            wait = max(_wait_for_address(_recent(f"ip:{ip}", since), now, limit, window),
                       _wait_for_account(_recent(keys[0], since), now, limit, window))
            if wait:
                return Attempt(wait_minutes=wait)
        recorded = [LoginFailure.create(key=key, created_at=now).id for key in keys]
        LoginFailure.delete().where(LoginFailure.created_at < now - _KEEP).execute()
    return Attempt(recorded=recorded)


def attempt_succeeded(attempt: Attempt) -> None:
    """The password was right: the check no longer counts as a failure."""
    if attempt.recorded:
        LoginFailure.delete().where(LoginFailure.id.in_(attempt.recorded)).execute()


# --- "Forgot your password?" ----------------------------------------------------------------------

#: Reset emails one address may be sent per hour, and requests one network address may make.
FORGOT_PER_EMAIL = 3
FORGOT_WINDOW = timedelta(hours=1)


def forgot_email_key(email: str) -> str:
    """The throttle key of reset requests for an email address (also used by the privacy erase)."""
    return f"forgot-email:{(email or '').strip().lower()}"


def begin_forgot(email: str, ip: str) -> int:
    """Record a reset request and return 0, or the minutes to wait when the address typed (at most
    :data:`FORGOT_PER_EMAIL` an hour, so nobody can flood a mailbox) or the network address (the
    sign-in limit per window) asked too often. Counted the same whether or not an account exists."""
    per_ip = int(current_app.config["LOGIN_MAX_FAILURES"])
    ip_window = timedelta(minutes=int(current_app.config["LOGIN_WINDOW_MINUTES"]))
    email_key, ip_key = forgot_email_key(email), f"forgot-ip:{ip}"
    with write_transaction():
        if is_postgres():
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK,))
        now = utcnow()
        wait = max(_wait_for_address(_recent(ip_key, now - ip_window), now, per_ip, ip_window),
                   _wait_for_address(_recent(email_key, now - FORGOT_WINDOW), now, FORGOT_PER_EMAIL,
                                     FORGOT_WINDOW))
        if wait:
            return wait
        for key in (email_key, ip_key):
            LoginFailure.create(key=key, created_at=now)
    return 0
