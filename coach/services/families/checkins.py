"""Check-ins: validating the body (DESIGN.md "Check-in body"), storing each one exactly once, the
notification's one-tap "I tried it", the ``opened`` mark, and today's prompt for a family.

The check-in ``id`` is a UUID made on the phone, so an offline outbox can replay a check-in as often
as it likes: the first write wins and every repeat gets the stored row back.
"""
from __future__ import annotations

import re
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from peewee import JOIN, SQL, IntegrityError

from ...db import db
from ...errors import AppError
from ...i18n import N_, _
from ...inputs import parse_id, parse_int, text_problem
from ...models import THEME_NAMES, TRIED_CHOICES, CheckIn, Delivery, Family, Prompt, User, utcnow
from ...prepared import Prepared
from ...security import OWN_FAMILY
from ..delivery.ack import verify_ack_token
from ..programme.translations import prompt_for_reader
from . import resources
from .household import caregiver_ids, family_of
from .support import ask_for_support

NOTE_MAX = 500
UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.IGNORECASE)
#: Acks made without a client id get one derived from the delivery, so two taps make one row.
ACK_NAMESPACE = uuid.UUID("6c1f7f1e-3b51-4d5e-9a44-1d2a1f0c9b7e")
#: How connected the parent felt, 1..5: the faces on the check-in page and in the journal.
FEELINGS = {
    1: ("😞", N_("Far apart")),
    2: ("😕", N_("A bit distant")),
    3: ("😐", N_("In between")),
    4: ("🙂", N_("Close")),
    5: ("🥰", N_("Very close")),
}


def feeling(value: int | None) -> tuple[str, str] | None:
    """The face and its words for a felt value, in the reader's language (None when not said)."""
    face = FEELINGS.get(value)
    return (face[0], _(face[1])) if face else None


def feelings() -> dict[int, tuple[str, str]]:
    """Every face with its words, in the reader's language (the check-in and edit pages)."""
    return {value: feeling(value) for value in FEELINGS}


@dataclass(frozen=True)
class CheckInData:
    """A check-in body that passed validation (times are naive UTC)."""

    id: uuid.UUID
    delivery_id: int | None
    tried: str | None  # None: taken from the chosen answer
    felt: int | None
    note: str | None
    shared_with_worker: bool
    wants_support: bool
    client_created_at: datetime
    answer: int | None = None

# Every signed-in parent request reads these: their statements are built once (coach/prepared.py).
_CHECKIN_BY_ID = Prepared(lambda checkin_id: CheckIn.select().where(CheckIn.id == checkin_id).limit(1), CheckIn.id)
# The delivery with its prompt in one statement: the page and the check-in both read it.
_OWN_DELIVERY = Prepared(lambda delivery_id, family_id: (
    Delivery.select(Delivery, Prompt).join(Prompt, JOIN.LEFT_OUTER)
    .where((Delivery.id == delivery_id) & (Delivery.family == family_id)).limit(1)), Delivery.id, Delivery.family)
_ANY_CHECKIN = Prepared(lambda delivery_id, user_id: (
    CheckIn.select(SQL("1")).where(CheckIn.delivery == delivery_id, CheckIn.user == user_id).limit(1).tuples()),
    CheckIn.delivery, CheckIn.user)
_MARK_OPENED = Prepared(lambda opened_at, delivery_id: (
    Delivery.update(opened_at=opened_at).where(Delivery.id == delivery_id, Delivery.opened_at.is_null())),
    Delivery.opened_at, Delivery.id)


def family_for(user: User) -> Family:
    """The parent's family (every parent account has exactly one); AppError 404 otherwise.

    The signed-in user's was read with the session check (``security.OWN_FAMILY``): the first call
    in a request takes that one, later calls read it again."""
    own = getattr(user, "_get_current_object", lambda: user)()
    family = vars(own).pop(OWN_FAMILY, None)
    if family is None or family.id is None:
        family = family_of(user)
    if family is None:
        raise AppError(404, N_("This account has no family profile."), code="no_family")
    return family


def parse_client_time(value: object, now: datetime) -> datetime | None:
    """An ISO-8601 time as naive UTC, or None when it is not one or lies over a day ahead."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if not 2000 <= moment.year <= 9000:  # also keeps the UTC conversion below from overflowing
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if moment > now + timedelta(days=1):
        return None
    return moment


def _check_flag(body: dict, name: str, fields: dict) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        fields[name] = "Use true or false."
        return False
    return value


def parse_checkin(body: object, now: datetime | None = None) -> CheckInData:
    """Validate a check-in body; AppError 400 for a non-object, 422 with ``fields`` for bad values."""
    now = now or utcnow()
    if not isinstance(body, dict):
        raise AppError(400, N_("Send the check-in as a JSON object."), code="bad_request")
    fields: dict[str, str] = {}
    raw_id = body.get("id")
    if not isinstance(raw_id, str) or not UUID4_RE.fullmatch(raw_id):
        fields["id"] = N_("Send a version 4 UUID made on the device, like 0f8fad5b-d9cb-469f-a165-70867728950e.")
    delivery_id = body.get("delivery_id")
    if delivery_id is not None and parse_id(delivery_id, text=False) is None:
        fields["delivery_id"] = N_("Use the number of a prompt you received, or null.")
    tried = body.get("tried")
    # The two-tap body sends only the answer: ``tried`` then comes from that answer (record_checkin).
    if tried not in TRIED_CHOICES and not (tried is None and body.get("answer") is not None):
        fields["tried"] = f"Choose one of: {', '.join(TRIED_CHOICES)}, or send the answer."
    felt = body.get("felt")
    if felt is not None and parse_int(felt, 1, 5, text=False) is None:
        fields["felt"] = N_("Choose how connected you felt from 1 to 5, or leave it out.")
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        fields["note"] = N_("The note must be text.")
    elif isinstance(note, str):
        note = note.strip() or None
        if note and len(note) > NOTE_MAX:
            fields["note"] = f"Keep the note to {NOTE_MAX} characters or fewer (it has {len(note)})."
        elif note and text_problem(note):
            fields["note"] = text_problem(note)
    answer = body.get("answer")
    if answer is not None and parse_int(answer, 0, 9, text=False) is None:
        fields["answer"] = N_("Choose one of the prompt's answers, or leave it out.")
    shared = _check_flag(body, "shared_with_worker", fields)
    wants_support = _check_flag(body, "wants_support", fields)
    created = parse_client_time(body.get("client_created_at"), now)
    if created is None:
        fields["client_created_at"] = N_("Send the time the check-in was made, in ISO-8601 (not in the future).")
    if fields:
        raise AppError(422, N_("Some of the check-in details need another look."), fields=fields)
    return CheckInData(id=uuid.UUID(raw_id), delivery_id=delivery_id, tried=tried, felt=felt, note=note,
                       shared_with_worker=shared, wants_support=wants_support,
                       client_created_at=created, answer=answer)


def _existing(checkin_id: uuid.UUID, family: Family, user: User) -> CheckIn | None:
    """The stored check-in with this id; AppError 409 when another family's or caregiver's."""
    existing = _CHECKIN_BY_ID.first(checkin_id)
    if existing is not None and (existing.family_id != family.id or existing.user_id != user.id):
        raise AppError(409, N_("That check-in id is already used. Make a new one and try again."),
                       code="id_conflict", fields={"id": N_("Already used; generate a new UUID.")})
    return existing


def own_delivery(family: Family, delivery_id: int) -> Delivery:
    """The family's delivery with this id; AppError 404 for anyone else's (no hint it exists)."""
    delivery = _OWN_DELIVERY.first(delivery_id, family.id)
    if delivery is None:
        raise AppError(404, N_("We couldn't find that prompt among yours."), code="delivery_not_found")
    return delivery


def record_checkin(family: Family, data: CheckInData, user: User) -> tuple[CheckIn, bool]:
    """Store caregiver ``user``'s check-in once (with a support request when asked); returns
    ``(checkin, created)``. Each caregiver may check in on the family's delivery; theirs are separate.

    A repeat of a stored id returns the stored row unchanged, whatever the new body says. New ids
    are the common case, so the insert goes first and a repeat is found by its refusal (one
    statement less per check-in); a body this check-in could not be stored with (a delivery no
    longer yours, an answer not among the prompt's) still returns the stored row for a repeat. A
    check-in alone is one ``INSERT``, atomic by itself; with a support request both are one
    transaction.
    """
    try:
        delivery = own_delivery(family, data.delivery_id) if data.delivery_id is not None else None
        if delivery is not None and delivery.kind == "reflection":
            raise _reflection_is_not_a_prompt(delivery)
        prompt = delivery.prompt if delivery is not None else None
        if data.answer is not None and (prompt is None or data.answer >= len(prompt.answers or [])):
            raise AppError(422, N_("That answer isn't one of this prompt's choices."),
                           fields={"answer": N_("Choose one of the prompt's answers.")})
    except AppError:
        existing = _existing(data.id, family, user)
        if existing is not None:
            return existing, False
        raise
    tried = answer_tried(prompt, data.answer) if data.answer is not None else data.tried
    try:
        with db.atomic() if data.wants_support else nullcontext():
            checkin = CheckIn.create(
                id=data.id, family=family, user=user, delivery=delivery, prompt=prompt, answer=data.answer,
                tried=tried, felt=data.felt, note=data.note,
                shared_with_worker=data.shared_with_worker and data.note is not None,
                wants_support=data.wants_support, client_created_at=data.client_created_at)
            if data.wants_support:  # the check-in's note stays private: the request carries none
                ask_for_support(family, user, source="checkin", checkin=checkin)
    except IntegrityError:
        # A repeat of a stored id (an outbox replay, or page and service worker at once).
        existing = _existing(data.id, family, user)
        if existing is None:
            raise
        return existing, False
    return checkin, True


def answer_tried(prompt, answer: int) -> str:
    """What a chosen answer says about trying the idea: the answer's own ``tried`` value, whatever
    kinds the library has (``yes``, ``not_yet``, ``no_chance`` …); ``yes`` when it names none."""
    tried = (prompt.answers or [])[answer].get("tried") if prompt is not None else None
    return tried if isinstance(tried, str) and tried else "yes"


#: A check-in's extras may be added or changed this long after it was received.
EDIT_WINDOW = timedelta(hours=48)
PATCH_FIELDS = ("felt", "note", "shared_with_worker", "wants_support")


def parse_patch(body: object) -> dict:
    """Validate ``PATCH /api/checkins/<id>``: any of ``PATCH_FIELDS``; 422 with ``fields`` otherwise."""
    if not isinstance(body, dict):
        raise AppError(400, N_("Send the changes as a JSON object."), code="bad_request")
    fields: dict[str, str] = {}
    for name in body:
        if name not in PATCH_FIELDS:
            fields[str(name)[:40]] = "This can't be changed after a check-in is saved."
    changes: dict = {}
    if "felt" in body:
        felt = body["felt"]
        if felt is not None and parse_int(felt, 1, 5, text=False) is None:
            fields["felt"] = N_("Choose how connected you felt from 1 to 5, or null.")
        changes["felt"] = felt
    if "note" in body:
        note = body["note"]
        if note is not None and not isinstance(note, str):
            fields["note"] = N_("The note must be text.")
        else:
            note = (note or "").strip() or None
            if note and len(note) > NOTE_MAX:
                fields["note"] = f"Keep the note to {NOTE_MAX} characters or fewer (it has {len(note)})."
            elif note and text_problem(note):
                fields["note"] = text_problem(note)
        changes["note"] = note
    for flag in ("shared_with_worker", "wants_support"):
        if flag in body:
            changes[flag] = _check_flag(body, flag, fields)
    if not fields and not changes:
        raise AppError(422, N_("Send at least one of: felt, note, shared_with_worker, wants_support."),
                       fields={"body": N_("Nothing to change.")})
    if fields:
        raise AppError(422, N_("Some of the check-in details need another look."), fields=fields)
    return changes


def update_checkin(family: Family, checkin_id: str, changes: dict, user: User,
                   now: datetime | None = None) -> CheckIn:
    """The "add more" step: change a check-in's extras (felt, note, sharing, asking for support).

    Only the caregiver's own check-in (404 for anyone else's, with no hint it exists), only within
    ``EDIT_WINDOW`` of when it was received (409 after). ``wants_support`` can be asked for, not
    taken back (the worker has been told); asking goes through ``ask_for_support`` exactly as a
    POST does, once, however often the PATCH is repeated. A note is shared only while there is one.
    """
    now = now or utcnow()
    try:
        key = uuid.UUID(checkin_id) if UUID4_RE.fullmatch(checkin_id or "") else None
    except ValueError:
        key = None
    checkin = (CheckIn.get_or_none(CheckIn.id == key, CheckIn.family == family, CheckIn.user == user.id)
               if key else None)
    if checkin is None:
        raise AppError(404, N_("We couldn't find that check-in among yours."), code="checkin_not_found")
    if now - checkin.received_at > EDIT_WINDOW:
        raise AppError(409, N_("This check-in is more than two days old, so it can't be changed now."),
                       code="too_late")
    if changes.get("wants_support") is False and checkin.wants_support:
        raise AppError(422, N_("Your family worker has already been asked to get in touch."),
                       fields={"wants_support": N_("Already asked; it can't be taken back here.")})
    note = changes.get("note", checkin.note)
    shared = changes.get("shared_with_worker", checkin.shared_with_worker) and note is not None
    values = {CheckIn.note: note, CheckIn.shared_with_worker: shared}
    if "felt" in changes:
        values[CheckIn.felt] = changes["felt"]
    with db.atomic():
        CheckIn.update(values).where(CheckIn.id == checkin.id).execute()
        # Conditional, so two PATCHes at once make one request (and one alert), never two.
        if changes.get("wants_support") and CheckIn.update(wants_support=True).where(
                CheckIn.id == checkin.id, CheckIn.wants_support == False).execute():  # noqa: E712
            ask_for_support(family, user, source="checkin", checkin=checkin)
    return CheckIn.get_by_id(checkin.id)


def _acking_caregiver(delivery: Delivery, user: User | None) -> int:
    """Whose "I tried it" this is: the signed-in caregiver of the delivery's family (the service
    worker's request carries this browser's session), else the family's only caregiver; with
    several and no session, 409: the app opens to check in."""
    household = caregiver_ids([delivery.family_id]).get(delivery.family_id, [])
    if user is not None and getattr(user, "is_authenticated", False) and user.id in household:
        return user.id
    if len(household) == 1:
        return household[0]
    raise AppError(409, "Open Attune to check in: this phone isn't signed in to your account.",
                   code="sign_in_to_check_in")


def ack_delivery(delivery_id: int, token: str, checkin_id: str | None = None,
                 user: User | None = None) -> tuple[CheckIn, bool]:
    """The notification's "I tried it": one ``tried="yes"`` check-in per delivery and caregiver,
    proved by HMAC (whose: ``_acking_caregiver``)."""
    if not verify_ack_token(delivery_id, token):
        raise AppError(403, N_("That check-in link isn't valid. Open the app to check in."), code="bad_ack_token")
    delivery = Delivery.get_or_none(Delivery.id == delivery_id)
    if delivery is None:
        raise AppError(404, N_("That prompt is no longer stored."), code="delivery_not_found")
    if checkin_id is not None and (not isinstance(checkin_id, str) or not UUID4_RE.fullmatch(checkin_id)):
        raise AppError(422, N_("Send a version 4 UUID, or leave the id out."), fields={"id": N_("Not a UUID4.")})
    if delivery.kind == "reflection":
        raise _reflection_is_not_a_prompt(delivery)
    caregiver = _acking_caregiver(delivery, user)
    earlier = (CheckIn.select().where(CheckIn.delivery == delivery, CheckIn.user == caregiver)
               .order_by(CheckIn.received_at).first())
    if earlier is not None:
        return earlier, False
    new_id = uuid.UUID(checkin_id) if checkin_id else uuid.uuid5(ACK_NAMESPACE, f"ack:{delivery.id}:{caregiver}")
    now = utcnow()
    try:
        with db.atomic():
            checkin = CheckIn.create(id=new_id, family=delivery.family_id, user=caregiver, delivery=delivery,
                                     prompt=delivery.prompt_id, tried="yes", client_created_at=now)
            Delivery.update(opened_at=now).where(Delivery.id == delivery.id,
                                                 Delivery.opened_at.is_null()).execute()
    except IntegrityError:
        earlier = CheckIn.get_or_none(CheckIn.id == new_id)
        if earlier is None or earlier.delivery_id != delivery.id or earlier.user_id != caregiver:
            raise
        return earlier, False
    return checkin, True


def _reflection_is_not_a_prompt(delivery: Delivery) -> AppError:
    return AppError(409, "This is your weekly look back, not a prompt to try. Open it to answer its "
                    "question.", code="reflection",
                    fields={"delivery_id": "A weekly reflection takes an answer on its page, not a check-in."})


def mark_opened(delivery: Delivery) -> bool:
    """Record the first time the parent opened this prompt; later opens change nothing."""
    return bool(_MARK_OPENED.rowcount(utcnow(), delivery.id))


def has_checkin(delivery: Delivery, user: User) -> bool:
    """Whether caregiver ``user`` has checked in on this delivery."""
    return _ANY_CHECKIN.first(delivery.id, user.id) is not None


def local_today(family: Family, now: datetime | None = None) -> date:
    """The family's local date at ``now`` (naive UTC)."""
    moment = (now or utcnow()).replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(family.timezone)).date()


def to_local(family: Family, moment: datetime) -> datetime:
    """A stored naive-UTC time in the family's time zone."""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(family.timezone))


def made_at(checkin: CheckIn) -> datetime:
    """When a check-in was made: the phone's time, but never after the server received it
    (the same rule as the worker's dashboard, ``engagement.made_at``)."""
    return min(checkin.client_created_at, checkin.received_at)


def today_delivery(family: Family, now: datetime | None = None) -> Delivery | None:
    """Today's planned delivery for the family's local date, whether or not a push arrived."""
    return (Delivery.select().where(Delivery.family == family,
                                    Delivery.local_date == local_today(family, now)).first())


def prompt_view(delivery: Delivery, family: Family, language: str = "en") -> dict | None:
    """The delivery's prompt as a reader of ``language`` in this family sees it (``{child}``
    filled), or None. ``language`` names the words' language (English only when the reader
    switched language after the prompt was planned)."""
    prompt = delivery.prompt
    if prompt is None:
        return None
    text = prompt_for_reader(prompt, language, family.child_name)
    return {
        "id": prompt.id, "theme": prompt.theme, "theme_name": _(THEME_NAMES.get(prompt.theme, prompt.theme)),
        "language": text.language, "title": text.title, "body": text.body, "question": text.question,
        "answers": [{"label": label, "tried": a.get("tried", "yes")}
                    for label, a in zip(text.answers, prompt.answers or [], strict=False)],
        "why": text.why,
    }


def delivery_view(delivery: Delivery, family: Family, user: User) -> dict:
    """A delivery for the API and pages: its date, state, prompt and whether ``user`` checked in."""
    return {
        "id": delivery.id,
        "local_date": delivery.local_date.isoformat(),
        "status": delivery.status,
        "kind": delivery.kind,  # "prompt", or "reflection": the week's look back (no prompt)
        "url": f"/{'reflection' if delivery.kind == 'reflection' else 'checkin'}/{delivery.id}",
        "opened": delivery.opened_at is not None,
        "checked_in": has_checkin(delivery, user),
        "prompt": prompt_view(delivery, family, user.language),
    }


def checkin_view(checkin: CheckIn) -> dict:
    """A check-in as the API returns it."""
    return {
        "id": str(checkin.id),
        "delivery_id": checkin.delivery_id,
        "prompt_id": checkin.prompt_id,
        "answer": checkin.answer,
        "tried": checkin.tried,
        "felt": checkin.felt,
        "note": checkin.note,
        "shared_with_worker": checkin.shared_with_worker,
        "wants_support": checkin.wants_support,
        "client_created_at": checkin.client_created_at.isoformat() + "Z",
        "received_at": checkin.received_at.isoformat() + "Z",
    }


def recent_checkins(family: Family, user: User, limit: int = 50) -> list[CheckIn]:
    """The caregiver's own latest check-ins in the family, newest first (never another's)."""
    return list(CheckIn.select().where(CheckIn.family == family, CheckIn.user == user.id)
                .order_by(CheckIn.client_created_at.desc()).limit(limit))


def support_resources(country: str | None = None) -> list[dict]:
    """The shown support resources for ``country``, emergency first (the international list when
    it has none): shown at once when a parent asks for help."""
    return [resources.resource_view(r) for r in resources.for_country(country)[1]]
