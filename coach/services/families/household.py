"""Households (DESIGN "Reach → Household"): up to ``MAX_CAREGIVERS`` caregivers share one family.

The child, the schedule, the window and the day's one ``Delivery`` are the family's; each caregiver
has their own login, devices, check-ins (``CheckIn.user``), journal and streak, and their notes are
never shown to another caregiver. ``caregivers`` / ``caregiver_ids`` are the one place the code asks
who a family's parents are; ``family_of`` is the way back from a person to their family.

A caregiver invites another with a single-use link (``/join/<token>``, only its SHA-256 stored) that
expires after ``INVITE_DAYS``; the fifth caregiver is refused at the invite and again at the join.
"""
from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from peewee import Value, fn

from ...db import is_postgres, write_transaction
from ...errors import AppError
from ...i18n import N_, _
from ...models import MAX_CAREGIVERS, Caregiver, CheckIn, Family, HouseholdInvite, User, utcnow
from ..people.invites import hash_token

#: A household invite lasts this long.
INVITE_DAYS = 7
#: Said when a household already has ``MAX_CAREGIVERS`` (in the reader's words: :func:`full_message`).
FULL = N_("A household can have up to %(most)d caregivers, and this one has %(most)d. "
          "Ask your family worker if someone needs to leave it first.")


def full_message() -> str:
    """``FULL`` in the reader's language, with the number filled in."""
    return _(FULL, most=MAX_CAREGIVERS)


def caregivers(family: Family | int) -> list[User]:
    """The family's caregivers, first to join first (the one helper for "the family's parents")."""
    family_id = family if isinstance(family, int) else family.id
    return list(User.select().join(Caregiver, on=(Caregiver.user == User.id))
                .where(Caregiver.family == family_id).order_by(Caregiver.joined_at, Caregiver.id))


def caregiver_ids(family_ids) -> dict[int, list[int]]:
    """``{family id: [caregiver user ids]}`` for many families in one query (delivery, caseload)."""
    found: dict[int, list[int]] = defaultdict(list)
    ids = list(family_ids)
    if ids:
        rows = (Caregiver.select(Caregiver.family, Caregiver.user).where(Caregiver.family.in_(ids))
                .order_by(Caregiver.joined_at, Caregiver.id).tuples())
        for family_id, user_id in rows:
            found[family_id].append(user_id)
    return found


def family_of(user: User | int) -> Family | None:
    """The family this person is a caregiver in, or None (staff, or a removed caregiver)."""
    user_id = user if isinstance(user, int) else user.id
    return (Family.select().join(Caregiver, on=(Caregiver.family == Family.id))
            .where(Caregiver.user == user_id).first())


def seat_main_contacts() -> int:
    """Give every family without a household its main contact (``Family.user``) as first caregiver,
    in one statement (migration v13, and bulk loads that insert families directly)."""
    lonely = Family.select(Family.id, Family.user, Family.created_at, Value(False)).where(
        ~fn.EXISTS(Caregiver.select(Caregiver.id).where(Caregiver.family == Family.id)))
    columns = [Caregiver.family, Caregiver.user, Caregiver.joined_at, Caregiver.share_presence]
    return Caregiver.insert_from(lonely, columns).execute() or 0


def add_caregiver(family: Family, user: User, now=None) -> Caregiver:
    """Put ``user`` in ``family``'s household (inside the caller's transaction); 409 when it is full.

    On PostgreSQL the family row is locked first, so two joins at once can't make a fifth."""
    if is_postgres():
        Family.select(Family.id).where(Family.id == family.id).for_update().execute()
    if Caregiver.select().where(Caregiver.family == family.id).count() >= MAX_CAREGIVERS:
        raise AppError(409, full_message(), code="household_full")
    return Caregiver.create(family=family, user=user, joined_at=now or utcnow())


def household_view(family: Family, viewer: User) -> list[dict]:
    """``GET /api/me``'s ``household``: each caregiver's name and whether it is the caller."""
    return [{"name": person.label, "you": person.id == viewer.id} for person in caregivers(family)]


# --- invites --------------------------------------------------------------------------------------

def create_invite(family: Family, by: User) -> tuple[HouseholdInvite, str]:
    """A new single-use link for another caregiver; 409 when the household is already full."""
    if Caregiver.select().where(Caregiver.family == family.id).count() >= MAX_CAREGIVERS:
        raise AppError(409, full_message(), code="household_full")
    token = secrets.token_urlsafe(32)
    invite = HouseholdInvite.create(token_hash=hash_token(token), family=family, invited_by=by,
                                    expires_at=utcnow() + timedelta(days=INVITE_DAYS))
    return invite, token


def find_invite(token: str) -> HouseholdInvite | None:
    """The household invite for ``token`` whatever its state, or None when it is not one."""
    return HouseholdInvite.get_or_none(HouseholdInvite.token_hash == hash_token(token or ""))


def usable_invite(token: str) -> HouseholdInvite:
    """The pending household invite for ``token``; AppError 404 / 410 with a sentence to show."""
    invite = find_invite(token)
    if invite is None:
        raise AppError(404, N_("This invite link isn't one we know. Check it was copied whole, or ask "
                               "for a new one."), code="invite_unknown")
    if invite.used_at is not None:
        raise AppError(410, N_("This invite link has already been used. If that was you, sign in instead."),
                       code="invite_used")
    if invite.expires_at <= utcnow():
        raise AppError(410, N_("This invite link has expired. Ask for a new one from Settings in Attune."),
                       code="invite_expired")
    return invite


@dataclass
class Joining:
    """What the caregiver's join page asks: their own name, email, password and language."""

    display_name: str
    email: str
    password: str
    language: str = "en"


def join(invite: HouseholdInvite, joining: Joining) -> User:
    """Create the caregiver's account in the invite's household, all or nothing; returns the user.

    The invite is claimed by a conditional update, so a link enrols one person however often it is
    posted at once; a full household refuses with 409 and writes nothing."""
    from ..people.accounts import ENROLMENT_REFUSED, create_user

    now = utcnow()
    with write_transaction():
        family = Family.get_by_id(invite.family_id)
        try:
            user = create_user(joining.email, joining.password, "parent", joining.display_name)
        except AppError as error:
            if error.code != "email_taken":
                raise
            raise AppError(422, ENROLMENT_REFUSED, code="enrolment_refused") from None
        User.update(language=joining.language).where(User.id == user.id).execute()
        user.language = joining.language
        add_caregiver(family, user, now)
        claimed = (HouseholdInvite.update(used_at=now, used_by=user)
                   .where(HouseholdInvite.id == invite.id, HouseholdInvite.used_at.is_null(),
                          HouseholdInvite.expires_at > now).execute())
        if claimed != 1:
            raise AppError(410, N_("This invite link has just been used or has expired."), code="invite_used")
    return user


# --- leaving --------------------------------------------------------------------------------------

def remove_caregiver(user: User) -> Family | None:
    """Take ``user`` out of their household (inside the caller's transaction), with their own
    check-ins; the family's main contact passes to the next caregiver. Returns the family when
    others remain in it, or None when ``user`` was its last caregiver (the caller erases it)."""
    family = family_of(user)
    if family is None:
        return None
    others = [person for person in caregivers(family) if person.id != user.id]
    if not others:
        return None
    CheckIn.delete().where(CheckIn.user == user.id).execute()
    Caregiver.delete().where(Caregiver.user == user.id).execute()
    if family.user_id == user.id:
        Family.update(user=others[0].id).where(Family.id == family.id).execute()
        family.user = others[0]
    return family


# --- "Sam checked in too today" -------------------------------------------------------------------

def set_share_presence(user: User, on: bool) -> None:
    """The caregiver's own answer to "tell the others in my household when I've checked in"."""
    Caregiver.update(share_presence=on).where(Caregiver.user == user.id).execute()


def shares_presence(user: User) -> bool:
    row = Caregiver.get_or_none(Caregiver.user == user.id)
    return bool(row and row.share_presence)


def also_checked_in(family: Family, viewer: User, since_utc, until_utc) -> list[str]:
    """Names of the other caregivers who checked in within the viewer's local day (given in UTC),
    when the viewer and each of them agreed to share it; never what they wrote or answered."""
    if not shares_presence(viewer):
        return []
    rows = (User.select(User.name, User.email).join(Caregiver, on=(Caregiver.user == User.id))
            .where(Caregiver.family == family.id, Caregiver.user != viewer.id, Caregiver.share_presence,
                   fn.EXISTS(CheckIn.select(CheckIn.id).where(
                       CheckIn.user == User.id, CheckIn.family == family.id,
                       CheckIn.client_created_at >= since_utc, CheckIn.client_created_at < until_utc)))
            .order_by(Caregiver.joined_at))
    return [person.label for person in rows]


def local_day_bounds(family: Family, day: date):
    """A local date of the family as naive UTC ``[start, end)`` times."""
    zone = ZoneInfo(family.timezone)
    start = datetime.combine(day, datetime.min.time(), zone).astimezone(UTC).replace(tzinfo=None)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC).replace(tzinfo=None)
    return start, end

