"""Accounts: creating users, checking passwords, and enrolling a parent's family."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_app_context
from peewee import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ...db import db
from ...errors import AppError
from ...i18n import N_, _, language_problem
from ...models import LANGUAGES, ROLES, Caregiver, Family, User, new_session_token, utcnow
from ...security import audit
from ..families.countries import country_for_timezone
from ..families.phones import parse_phone
from ..families.text_consent import apply_text_settings, clean_text_settings

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_PASSWORD = 10
ENROLMENT_REFUSED = N_("We couldn't create the account with those details. If you already have an "
                       "account, sign in instead.")


@functools.cache
def _dummy_hash() -> str:
    """A fixed hash to compare against when the email is unknown, so timing does not reveal
    accounts. Made on first use: a scrypt hash costs ≈ 0.2 s, which every process paid at start."""
    return generate_password_hash("attune-timing-equaliser")


def hash_password(password: str) -> str:
    """Werkzeug's default (scrypt); the test suite configures a cheaper method for speed."""
    method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
    return generate_password_hash(password, method=method) if method else generate_password_hash(password)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def password_problem(password: str) -> str | None:
    """A human sentence about what is wrong with a new password, or None."""
    if len(password or "") < MIN_PASSWORD:
        return _("Use at least %(num)d characters.", num=MIN_PASSWORD)
    if len(password) > 200:
        return _("Use at most 200 characters.")
    return None


def create_user(email: str, password: str, role: str, name: str = "") -> User:
    """Create an account; raises AppError 422 for bad input and 409 when the email is taken."""
    email = normalise_email(email)
    fields = {}
    if not EMAIL_RE.match(email):
        fields["email"] = _("Enter an email address like name@example.org.")
    problem = password_problem(password)
    if problem:
        fields["password"] = problem
    if role not in ROLES:
        fields["role"] = f"Role must be one of: {', '.join(ROLES)}."
    if fields:
        raise AppError(422, _("Some of the details need another look."), fields=fields)
    try:
        with db.atomic():
            return User.create(email=email, password_hash=hash_password(password),
                               role=role, name=name.strip()[:80])
    except IntegrityError:
        raise AppError(409, _("An account with that email already exists."), code="email_taken",
                       fields={"email": _("An account with that email already exists.")}) from None


def set_language(user: User, value: object) -> None:
    """The person's own language ("en" | "es"): AppError 422 naming ``language`` for anything else."""
    problem = language_problem(value)
    if problem:
        raise AppError(422, _("Some of the details need another look."), fields={"language": problem})
    if value != user.language:
        User.update(language=value).where(User.id == user.id).execute()
        user.language = value


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    user = User.by_email(normalise_email(email))
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    return user if user.active else None


def end_sessions(user: User) -> None:
    """Sign the account out everywhere: every session and remember-me cookie carries the old token."""
    User.update(session_token=new_session_token()).where(User.id == user.id).execute()


def change_password(user: User, current: str, new: str) -> User:
    """Set a new password after checking the current one; every other session is signed out.

    Raises AppError 422 with a message per field. Returns the user with its new session token.
    """
    if not check_password_hash(user.password_hash, current or ""):
        raise AppError(422, "Your current password isn't right.",
                       fields={"current_password": "Your current password isn't right. Check it and try again."})
    problem = password_problem(new)
    if not problem and new == current:
        problem = "Choose a password different from your current one."
    if problem:
        raise AppError(422, problem, fields={"new_password": problem})
    with db.atomic():
        User.update(password_hash=hash_password(new), session_token=new_session_token()).where(
            User.id == user.id).execute()
        audit("password_changed", "user", user.id, actor=user)
    return User.get_by_id(user.id)


@dataclass
class Enrolment:
    """What a parent fills in on the invite page (DESIGN.md `/join/<token>` fields)."""

    display_name: str
    email: str
    password: str
    child_name: str | None
    child_birth_month: str
    timezone: str
    window_start: str
    window_end: str
    phone: str | None = None  # optional; read in the country of the time zone
    channel: str = "push"  # push | sms | push_then_sms (offered only when texts are configured)
    sms_consent: bool = False  # the box beside text_consent.CONSENT_WORDS
    language: str = LANGUAGES[0]  # "en" | "es": their pages, reminders and emails


def enrol_family(enrolment: Enrolment, worker: User, claim_invite) -> Family:
    """Create the parent's account and family in one transaction.

    ``claim_invite(family)`` marks the invite used inside the same transaction and raises AppError
    if someone else used it first, so a token can never enrol two families.
    """
    country = country_for_timezone(enrolment.timezone)  # editable in settings
    phone = parse_phone(enrolment.phone, country)  # AppError 422 (field "phone") before anything is written
    texts = _text_choice(enrolment, phone)
    with db.atomic():
        try:
            user = create_user(enrolment.email, enrolment.password, "parent", enrolment.display_name)
        except AppError as error:
            if error.code != "email_taken":
                raise
            # Whoever holds an invite must not learn which emails have accounts.
            raise AppError(422, _(ENROLMENT_REFUSED), code="enrolment_refused") from None
        family = Family.create(
            user=user,
            worker=worker,
            display_name=enrolment.display_name.strip(),
            child_name=(enrolment.child_name or "").strip() or None,
            child_birth_month=enrolment.child_birth_month,
            timezone=enrolment.timezone,
            country=country,
            window_start=enrolment.window_start,
            window_end=enrolment.window_end,
            next_due_at=utcnow(),  # the planner works out the first real due time
        )
        Caregiver.create(family=family, user=user, joined_at=family.created_at)
        if phone:
            User.update(phone=phone).where(User.id == user.id).execute()
            user.phone = phone
        if enrolment.language in LANGUAGES and enrolment.language != user.language:
            User.update(language=enrolment.language).where(User.id == user.id).execute()
            user.language = enrolment.language
        claim_invite(family)
        apply_text_settings(user, texts, bool(phone), utcnow())  # texts chosen: the confirmation text
        return family


def _text_choice(enrolment: Enrolment, phone: str) -> dict:
    """The enrolment's channel and consent, checked as settings checks them; AppError 422 before
    anything is written."""
    clean, fields = {"phone": phone}, {}
    clean_text_settings(User(channel="push", phone="", sms_opt_in_at=None),
                        {"channel": enrolment.channel or "push", "sms_consent": bool(enrolment.sms_consent)},
                        clean, fields)
    if fields:
        raise AppError(422, "Some of the details need another look.", fields=fields)
    return clean


def month_is_plausible_birth(value: str, today: datetime | None = None) -> str | None:
    """A problem with a ``YYYY-MM`` birth month, or None (not in the future, under six years ago)."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value or ""):
        return _("Enter the month and year, like 2025-03.")
    today = today or utcnow()
    year, month = (int(x) for x in value.split("-"))
    months_old = (today.year - year) * 12 + today.month - month
    if months_old < 0:
        return _("That month is in the future.")
    if months_old >= 72:
        return _("Attune is for children up to five years old.")
    return None
