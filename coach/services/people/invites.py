"""Invites: single-use enrolment links a family worker hands to a parent.

Only a SHA-256 hash of the token is stored, so a database leak does not leak working links.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app

from ...errors import AppError
from ...i18n import N_
from ...models import Family, Invite, User, utcnow


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(worker: User, days: int | None = None, label: str = "") -> tuple[Invite, str]:
    """Make an invite for ``worker``'s caseload; returns the row and the raw token (shown once)."""
    if worker.role not in ("worker", "admin") or not worker.active:
        raise AppError(422, N_("Only an active family worker can invite families."), code="not_a_worker")
    days = current_app.config["INVITE_DAYS"] if days is None else days
    if not 1 <= days <= 90:
        raise AppError(422, N_("An invite can last from 1 to 90 days."), fields={"days": N_("Choose 1 to 90 days.")})
    token = secrets.token_urlsafe(32)
    invite = Invite.create(token_hash=hash_token(token), worker=worker, label=label.strip()[:80],
                           expires_at=utcnow() + timedelta(days=days))
    return invite, token


def invite_url(token: str) -> str:
    """The absolute enrolment link for a token, built from ``COACH_BASE_URL``."""
    return f"{current_app.config['BASE_URL']}/join/{token}"


def find_usable_invite(token: str) -> Invite:
    """The pending invite for a token; AppError 404 (unknown) or 410 (used, revoked, expired)."""
    invite = Invite.get_or_none(Invite.token_hash == hash_token(token or ""))
    if invite is None:
        raise AppError(404, N_("This invite link isn't one we know. Check it was copied whole, "
                            "or ask your family worker for a new one."), code="invite_unknown")
    reasons = {
        "used": "This invite link has already been used. If that was you, sign in instead.",
        "revoked": "This invite link was cancelled. Ask your family worker for a new one.",
        "expired": "This invite link has expired. Ask your family worker for a new one.",
    }
    if invite.state != "pending":
        raise AppError(410, reasons[invite.state], code=f"invite_{invite.state}")
    return invite


def claim(invite: Invite, family: Family) -> None:
    """Mark the invite used by ``family``; the conditional update makes a second use lose a race."""
    now = utcnow()
    updated = (Invite.update(used_at=now, family=family)
               .where(Invite.id == invite.id, Invite.used_at.is_null(), Invite.revoked_at.is_null(),
                      Invite.expires_at > now)
               .execute())
    if updated != 1:
        raise AppError(410, N_("This invite link has just been used or has expired."), code="invite_used")


def revoke_invite(invite: Invite) -> None:
    """Cancel a pending invite so its link no longer works."""
    if invite.state != "pending":
        raise AppError(409, N_("Only a pending invite can be cancelled."), code="invite_not_pending")
    Invite.update(revoked_at=utcnow()).where(Invite.id == invite.id).execute()
