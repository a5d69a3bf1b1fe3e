"""The contact log: a worker's calls, texts, visits and messages to a family, with the outcome, a
note only workers see, and an optional date for the next step.

The latest contact orders the caseload (engagement.contact_state): a next step not yet due moves a
family below those who need a call; once its date comes, "next step due" puts it near the top.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from peewee import JOIN

from ...errors import AppError
from ...i18n import N_, _
from ...models import CONTACT_KINDS, CONTACT_OUTCOMES, ContactLog, Family, User, utcnow

NOTE_MAX = 1000
#: How far ahead a next step may be planned.
NEXT_STEP_MAX_DAYS = 366
#: In English (the CSV export's values); the pages show them through ``_`` (marked with ``N_``).
KIND_WORDS = {"call": N_("Phone call"), "text": N_("Text message"), "visit": N_("Visit"), "message": N_("Message"),
              "other": N_("Other contact")}
OUTCOME_WORDS = {"reached": N_("Reached"), "no_answer": N_("No answer"), "left_message": N_("Left a message"),
                 "other": N_("Other")}


@dataclass(frozen=True)
class ContactInput:
    """A contact as typed: every field a string from the form."""

    kind: str = ""
    outcome: str = ""
    note: str = ""
    next_step_on: str = ""


def _next_step(text: str, today: date) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise ValueError("Give the date as YYYY-MM-DD, for example 2026-12-08.")
    if day < today:
        raise ValueError("Choose today or a later date for the next step.")
    if day > today + timedelta(days=NEXT_STEP_MAX_DAYS):
        raise ValueError("Choose a date within the next year.")
    return day


def validate_contact(given: ContactInput, today: date) -> dict:
    """The contact's fields ready to store, or AppError 422 naming every field that is wrong."""
    errors, values = {}, {}
    if given.kind not in CONTACT_KINDS:
        errors["kind"] = "Choose how you got in touch: call, text, visit, message or other."
    if given.outcome not in CONTACT_OUTCOMES:
        errors["outcome"] = "Choose what happened: reached, no answer, left a message or other."
    note = (given.note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = f"Use at most {NOTE_MAX:,} characters (you used {len(note):,})."
    try:
        values["next_step_on"] = _next_step(given.next_step_on or "", today)
    except ValueError as error:
        errors["next_step_on"] = str(error)
    if errors:
        raise AppError(422, "Check the highlighted fields: nothing was saved.", code="bad_contact", fields=errors)
    return {"kind": given.kind, "outcome": given.outcome, "note": note, **values}


def log_contact(family: Family, worker: User, given: ContactInput, today: date,
                now: datetime | None = None) -> ContactLog:
    """Record one contact with the family (``today`` is the worker's own date, which a next step
    may not be before). AppError 422 with field messages when anything is wrong; nothing is stored."""
    values = validate_contact(given, today)
    return ContactLog.create(family=family.id, worker=worker.id, created_at=now or utcnow(), **values)


def family_contacts(family: Family, limit: int | None = 100) -> list[ContactLog]:
    """The family's contacts, newest first, with who made them (one query)."""
    by = User.alias("contact_worker")
    query = (ContactLog.select(ContactLog, by).join(by, JOIN.LEFT_OUTER, on=(ContactLog.worker == by.id))
             .where(ContactLog.family == family.id).order_by(ContactLog.created_at.desc(), ContactLog.id.desc()))
    return list(query.limit(limit) if limit else query)


def contact_summary(kind: str, outcome: str) -> str:
    """"Phone call · Reached" (English: the CSV export)."""
    return f"{KIND_WORDS.get(kind, kind)} · {OUTCOME_WORDS.get(outcome, outcome)}"


def contact_words(kind: str, outcome: str) -> str:
    """``contact_summary`` in the reader's language, for the pages: "Llamada · Contactado"."""
    return f"{_(KIND_WORDS.get(kind, kind))} · {_(OUTCOME_WORDS.get(outcome, outcome))}"
