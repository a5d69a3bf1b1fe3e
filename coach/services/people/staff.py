"""Staff accounts: creating workers and admins, deactivation, one-time password-reset links, and
moving families between caseloads.

Reset links carry a random token; only its SHA-256 hash is stored (``PasswordReset.token_hash``).
A link works once, for :data:`RESET_HOURS` hours, and at most :data:`OPENED_MINUTES` minutes after
it is first opened. An admin's link is passed on by the admin; a link asked for on ``/forgot`` is
emailed (``coach.services.people.forgot``).
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from peewee import JOIN, fn

from ...db import db
from ...errors import AppError
from ...i18n import N_, _
from ...models import Family, Invite, PasswordReset, User, new_session_token, utcnow
from ...security import audit
from .accounts import EMAIL_RE, create_user, hash_password, normalise_email, password_problem
from .invites import hash_token

STAFF_ROLES = ("worker", "admin")
RESET_HOURS = 48
OPENED_MINUTES = 30


def staff() -> list[User]:
    """Workers and admins, each with ``caseload_size``, active first, then by name."""
    query = (User.select(User, fn.COUNT(Family.id).alias("caseload_size"))
             .join(Family, JOIN.LEFT_OUTER, on=(Family.worker == User.id))
             .where(User.role.in_(STAFF_ROLES))
             .group_by(User.id)
             .order_by(User.active.desc(), User.role, fn.LOWER(User.name), User.email))
    return list(query)


def get_staff(user_id: int) -> User:
    """The worker or admin with this id; AppError 404 for anyone else."""
    user = User.get_or_none(User.id == user_id, User.role.in_(STAFF_ROLES))
    if user is None:
        raise AppError(404, N_("There is no worker or admin with that id."), code="user_not_found")
    return user


def create_staff(name: str, email: str, role: str, password: str, send_link: bool,
                 creator: User) -> tuple[User, str | None]:
    """Create a worker or admin with a password, or with a one-time set-password link.

    Returns ``(user, token)``; ``token`` is the raw reset token when a link was asked for.
    """
    name = (name or "").strip()
    fields = {}
    if not name:
        fields["name"] = N_("Enter the person's name.")
    elif len(name) > 80:
        fields["name"] = _("The name is %(count)d characters; the limit is 80.", count=len(name))
    if not EMAIL_RE.match(normalise_email(email)):
        fields["email"] = N_("Enter an email address like name@example.org.")
    if role not in STAFF_ROLES:
        fields["role"] = N_("Choose family worker or admin.")
    if not send_link:
        problem = password_problem(password) if password else (
            N_("Enter a password, or choose to make a set-password link instead."))
        if problem:
            fields["password"] = problem
    if fields:
        raise AppError(422, N_("Some of the details need another look."), fields=fields)
    with db.atomic():
        # With a link, the account starts with a long random password nobody knows.
        user = create_user(email, password if not send_link else secrets.token_urlsafe(32), role, name)
        audit("user_create", "user", user.id, actor=creator, role=role, email=user.email,
              set_password_by="link" if send_link else "admin")
        token = new_reset(user, creator) if send_link else None
    return user, token


def set_active(user: User, active: bool, by: User) -> User:
    """Deactivate (their sessions end at once) or reactivate a worker or admin.

    Nobody can deactivate themselves, and the last active admin can't be deactivated. Deactivating
    also cancels the person's pending invite links and unused reset links.
    """
    if user.active == active:
        return user
    if not active and user.id == by.id:
        raise AppError(409, N_("You can't deactivate your own account. Ask another admin."),
                       code="cannot_deactivate_self")
    if not active and user.role == "admin":
        others = User.select().where(User.role == "admin", User.active, User.id != user.id).count()
        if others == 0:
            raise AppError(409, N_("This is the last active admin; make another admin first."),
                           code="last_admin")
    now = utcnow()
    with db.atomic():
        User.update(active=active).where(User.id == user.id).execute()
        if not active:
            (Invite.update(revoked_at=now)
             .where(Invite.worker == user.id, Invite.used_at.is_null(), Invite.revoked_at.is_null(),
                    Invite.expires_at > now).execute())
            (PasswordReset.update(expires_at=now)
             .where(PasswordReset.user == user.id, PasswordReset.used_at.is_null(),
                    PasswordReset.expires_at > now).execute())
        audit("user_reactivate" if active else "user_deactivate", "user", user.id, actor=by,
              email=user.email)
    return User.get_by_id(user.id)


# --- one-time reset links -----------------------------------------------------------------------

def create_reset_link(user: User, by: User) -> str:
    """Make a one-time password-reset link for an active account; returns the raw token."""
    if not user.active:
        raise AppError(409, N_("This account is deactivated. Reactivate it before resetting the password."),
                       code="user_inactive")
    with db.atomic():
        return new_reset(user, by)


def new_reset(user: User, by: User) -> str:
    now = utcnow()
    # Only the newest link works: older unused ones expire now.
    (PasswordReset.update(expires_at=now)
     .where(PasswordReset.user == user.id, PasswordReset.used_at.is_null(),
            PasswordReset.expires_at > now).execute())
    token = secrets.token_urlsafe(32)
    PasswordReset.create(token_hash=hash_token(token), user=user, created_by=by,
                         expires_at=now + timedelta(hours=RESET_HOURS))
    audit("password_reset_link", "user", user.id, actor=by, email=user.email)
    return token


def reset_url(token: str) -> str:
    """The absolute link for a reset token, built from ``COACH_BASE_URL``."""
    return f"{current_app.config['BASE_URL']}/reset/{token}"


def find_usable_reset(token: str) -> PasswordReset:
    """The unused, unexpired reset for a token; AppError 404 (unknown) or 410 (used or expired)."""
    reset = PasswordReset.get_or_none(PasswordReset.token_hash == hash_token(token or ""))
    if reset is None:
        raise AppError(404, "This reset link isn't one we know. Check it was copied whole, or ask "
                            "for a new one on the sign-in page.", code="reset_unknown")
    if reset.used_at is not None:
        raise AppError(410, "This reset link has already been used. Ask for a new one on the "
                            "sign-in page if you need it.", code="reset_used")
    if reset.expires_at <= utcnow() or not reset.user.active:
        raise AppError(410, N_("This reset link has expired. Ask for a new one on the sign-in page."),
                       code="reset_expired")
    return reset


def open_reset(token: str) -> PasswordReset:
    """The link was opened: it now expires within :data:`OPENED_MINUTES` minutes (a link copied out
    of a log or a browser history later is worthless). Raises as :func:`find_usable_reset`."""
    reset = find_usable_reset(token)
    soon = utcnow() + timedelta(minutes=OPENED_MINUTES)
    (PasswordReset.update(expires_at=soon)
     .where(PasswordReset.id == reset.id, PasswordReset.expires_at > soon).execute())
    return reset


def use_reset(token: str, password: str) -> User:
    """Set a new password with a reset link, which then stops working."""
    reset = find_usable_reset(token)
    problem = password_problem(password)
    if problem:
        raise AppError(422, problem, fields={"password": problem})
    now = utcnow()
    with db.atomic():
        # The conditional update makes a second use of the same link lose any race.
        claimed = (PasswordReset.update(used_at=now)
                   .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_null(),
                          PasswordReset.expires_at > now).execute())
        if claimed != 1:
            raise AppError(410, N_("This reset link has just been used or has expired."), code="reset_used")
        # A new session token signs the account out everywhere: whoever knew the old password too.
        User.update(password_hash=hash_password(password), session_token=new_session_token()).where(
            User.id == reset.user_id).execute()
        audit("password_reset_used", "user", reset.user_id, actor=reset.user)
    return User.get_by_id(reset.user_id)


# --- caseloads ----------------------------------------------------------------------------------

def caseload(worker: User) -> list[Family]:
    """The families a worker looks after, by name."""
    return list(Family.select().where(Family.worker == worker.id).order_by(Family.display_name))


def reassign_families(from_worker: User, family_ids: list[int], to_worker_id: int | None,
                      by: User) -> int:
    """Move chosen families from one worker's caseload to another active worker's."""
    if not family_ids:
        raise AppError(422, N_("Choose at least one family to move."), fields={"families": N_("Choose at least one family.")})
    to_worker = User.get_or_none(User.id == to_worker_id) if to_worker_id else None
    if to_worker is None or to_worker.role != "worker" or not to_worker.active:
        raise AppError(422, N_("Choose an active family worker to move the families to."),
                       fields={"to_worker": N_("Choose an active family worker.")})
    if to_worker.id == from_worker.id:
        raise AppError(422, N_("Those families are already with this worker; choose someone else."),
                       fields={"to_worker": N_("Choose a different worker.")})
    ids = sorted(set(family_ids))
    with db.atomic():
        moved = (Family.update(worker=to_worker)
                 .where(Family.id.in_(ids), Family.worker == from_worker.id).execute())
        if moved != len(ids):
            raise AppError(409, N_("Some of those families aren't in this caseload any more. Reload the "
                                   "page and try again."), code="caseload_changed")
        audit("families_reassign", "user", from_worker.id, actor=by, families=ids,
              from_worker=from_worker.email, to_worker=to_worker.email)
    return moved
