"""The parent's journal: past check-ins by week, a five-week calendar of dots by theme, counts over
the last 30 days (never "0" because a calendar month just began), a kind reflection, and editing or
deleting one's own recent entries."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from peewee import JOIN

from ...db import db
from ...errors import AppError
from ...i18n import N_, _, ngettext
from ...i18n import day_words as words_for_day
from ...inputs import parse_int, text_problem
from ...models import (
    REFLECTED,
    THEME_NAMES,
    THEMES,
    CheckIn,
    Delivery,
    Family,
    Prompt,
    PromptTranslation,
    User,
    utcnow,
)
from ...security import audit
from ..programme.reflection import question_for
from ..programme.translations import prompt_for_reader, translations_for
from .checkins import NOTE_MAX, feeling, local_today, made_at, to_local
from .upcoming import ROLLING_DAYS

TRIED_LABELS = {"yes": N_("Tried it"), "not_yet": N_("Not yet"), "skip": N_("Skipped"),
                "no_chance": N_("The moment didn't come up"), REFLECTED: N_("Your weekly reflection")}
JOURNAL_LIMIT = 300
#: An entry can be changed or deleted for this long after it was made.
EDIT_DAYS = 7
CALENDAR_WEEKS = 5
#: Each theme's dot also has its own shape, so the calendar doesn't rely on colour alone.
THEME_SHAPES = {"cues": "circle", "rupture": "square", "repair": "diamond"}


@dataclass
class JournalEntry:
    """One check-in as the journal shows it."""

    id: str
    day: date
    theme: str | None
    theme_name: str
    title: str
    question: str
    answer_label: str | None
    tried_label: str
    felt: tuple[str, str] | None
    felt_value: int | None
    note: str | None
    shared: bool
    wants_support: bool
    delivery_id: int | None
    editable: bool
    made: datetime
    reflection_id: int | None = None  # the answer to a weekly reflection: its delivery


@dataclass
class JournalWeek:
    label: str
    entries: list[JournalEntry] = field(default_factory=list)


@dataclass
class CalendarDay:
    day: date
    themes: list[str]
    label: str  # the day and what happened, in words (what a screen reader reads)
    words: str  # what happened: the themes, "no check-in" or "still to come"
    today: bool
    future: bool


@dataclass
class Journal:
    weeks: list[JournalWeek]
    calendar: list[list[CalendarDay]]
    rolling_counts: dict[str, int]
    rolling_total: int  # check-ins in the last 30 days
    rolling_days: int  # days with a check-in in the last 30 days
    reflection: str
    theme: str | None = None  # the theme filter, if any

    @property
    def month_total(self) -> int:
        """Home's "check-ins" figure: the last 30 days, so it never drops to 0 on the 1st."""
        return self.rolling_total


def week_label(monday: date, today: date) -> str:
    """"This week", "Last week", or "Week of 3 November"."""
    this_monday = today - timedelta(days=today.weekday())
    if monday == this_monday:
        return _("This week")
    if monday == this_monday - timedelta(days=7):
        return _("Last week")
    return _("Week of %(day)s", day=words_for_day(monday, "day_month" if monday.year == today.year
                                                  else "month_year"))


def day_words(day: date) -> str:
    """"Tuesday 3 November" ("martes 3 de noviembre")."""
    return words_for_day(day)


def can_change(checkin: CheckIn, now: datetime | None = None) -> bool:
    """Whether the entry is recent enough to edit or delete."""
    return (now or utcnow()) - made_at(checkin) <= timedelta(days=EDIT_DAYS)


def _entry(checkin: CheckIn, prompt: Prompt | None, family: Family, now: datetime,
           language: str = "en", translation: PromptTranslation | None = None) -> JournalEntry:
    if checkin.tried == REFLECTED and checkin.delivery_id is not None:
        return _reflection_entry(checkin, family, now)
    text = (prompt_for_reader(prompt, language, family.child_name, translation)
            if prompt is not None else None)
    answer_label = None
    if text is not None and checkin.answer is not None and checkin.answer < len(text.answers):
        answer_label = text.answers[checkin.answer]
    theme = prompt.theme if prompt is not None else None
    return JournalEntry(
        id=str(checkin.id),
        day=to_local(family, made_at(checkin)).date(),
        theme=theme,
        theme_name=_(THEME_NAMES.get(theme, N_("Check-in"))),
        title=text.title if text is not None else _("A check-in"),
        question=text.question if text is not None else "",
        answer_label=answer_label,
        tried_label=_(TRIED_LABELS.get(checkin.tried, checkin.tried)),
        felt=feeling(checkin.felt),
        felt_value=checkin.felt,
        note=checkin.note,
        shared=checkin.shared_with_worker,
        wants_support=checkin.wants_support,
        delivery_id=checkin.delivery_id,
        editable=can_change(checkin, now),
        made=made_at(checkin),
    )


def _reflection_entry(checkin: CheckIn, family: Family, now: datetime) -> JournalEntry:
    """The answer to a weekly reflection: its question as the title, the answer as the note."""
    local_date = checkin.delivery.local_date
    return JournalEntry(
        id=str(checkin.id), day=to_local(family, made_at(checkin)).date(), theme=None,
        theme_name=_("Your week"), title=question_for(family, local_date), question="",
        answer_label=None, tried_label=TRIED_LABELS[REFLECTED], felt=None, felt_value=None,
        note=checkin.note, shared=checkin.shared_with_worker, wants_support=False,
        delivery_id=checkin.delivery_id, editable=can_change(checkin, now), made=made_at(checkin),
        reflection_id=checkin.delivery_id)


def reflection(counts: dict[str, int], repairs: int, total: int, child: str) -> str:
    """One kind sentence about the last 30 days; never a judgement about how much."""
    enough = _("Being in sync some of the time is enough.")
    if repairs:
        return ngettext("You came back together once in the last 30 days.",
                        "You came back together %(num)d times in the last 30 days.", repairs) + " " + enough
    if counts.get("rupture"):
        return ngettext("You noticed a moment out of sync in the last 30 days. Noticing is how repair begins.",
                        "You noticed %(num)d moments out of sync in the last 30 days. Noticing is how repair "
                        "begins.", counts["rupture"])
    if counts.get("cues"):
        return ngettext("You tuned in to %(child)s's signals once in the last 30 days.",
                        "You tuned in to %(child)s's signals %(num)d times in the last 30 days.",
                        counts["cues"], child=child)
    if total:
        return ngettext("You checked in once in the last 30 days. Every moment counts.",
                        "You checked in %(num)d times in the last 30 days. Every moment counts.", total)
    return _("Your check-ins will gather here. There's no right amount.")


def parse_theme(value: str | None) -> str | None:
    """The ``?theme=`` filter: a theme, or None for all; AppError 422 for an unknown one."""
    if not value:
        return None
    if value not in THEMES:
        raise AppError(422, _("There's no theme with that name, so the journal shows every check-in."),
                       fields={"theme": _("Choose one of the themes listed.")})
    return value


def _calendar(by_day: dict[date, list[str]], today: date) -> list[list[CalendarDay]]:
    start = today - timedelta(days=today.weekday() + 7 * (CALENDAR_WEEKS - 1))
    weeks = []
    for w in range(CALENDAR_WEEKS):
        week = []
        for d in range(7):
            day = start + timedelta(days=7 * w + d)
            themes = by_day.get(day, [])
            if day > today:
                words = _("still to come")
            elif themes:
                words = ", ".join(_(THEME_NAMES[t]) for t in themes)
            else:
                words = _("no check-in")
            label = f"{day_words(day)}{_(' (today)') if day == today else ''}: {words}"
            week.append(CalendarDay(day, themes, label, words, day == today, day > today))
        weeks.append(week)
    return weeks


def build_journal(family: Family, user: User, now: datetime | None = None, theme: str | None = None) -> Journal:
    """Caregiver ``user``'s own journal in the family as of ``now`` (never another caregiver's
    entries): newest week first (only ``theme``'s entries when given), the five-week calendar and
    the last 30 days' counts; prompts in ``user``'s language."""
    language = user.language
    now = now or utcnow()
    today = local_today(family, now)
    first = today - timedelta(days=ROLLING_DAYS - 1)
    rows = (CheckIn.select(CheckIn, Prompt, Delivery.id, Delivery.local_date)
            .join(Prompt, JOIN.LEFT_OUTER).join_from(CheckIn, Delivery, JOIN.LEFT_OUTER)
            .where(CheckIn.family == family, CheckIn.user == user.id)
            .order_by(CheckIn.client_created_at.desc()).limit(JOURNAL_LIMIT))
    weeks: dict[date, JournalWeek] = {}
    counts = dict.fromkeys(THEMES, 0)
    by_day: dict[date, list[str]] = {}
    days: set[date] = set()
    repairs = total = 0
    rows = list(rows)
    translated = translations_for((c.prompt_id for c in rows), language)
    for checkin in rows:
        prompt = checkin.prompt if checkin.prompt_id is not None else None
        entry = _entry(checkin, prompt, family, now, language, translated.get(checkin.prompt_id))
        if entry.theme and entry.theme not in by_day.setdefault(entry.day, []):
            by_day[entry.day].append(entry.theme)
        if first <= entry.day <= today:
            total += 1
            days.add(entry.day)
            if entry.theme in counts:
                counts[entry.theme] += 1
            if entry.theme == "repair" and checkin.tried == "yes":
                repairs += 1
        if theme and entry.theme != theme:
            continue
        monday = entry.day - timedelta(days=entry.day.weekday())
        weeks.setdefault(monday, JournalWeek(week_label(monday, today))).entries.append(entry)
    ordered = [weeks[monday] for monday in sorted(weeks, reverse=True)]
    for themes in by_day.values():
        themes.sort(key=THEMES.index)
    return Journal(weeks=ordered, calendar=_calendar(by_day, today), rolling_counts=counts,
                   rolling_total=total, rolling_days=len(days),
                   reflection=reflection(counts, repairs, total, family.child_name or _("your child")), theme=theme)


# --- one entry: read, edit, delete ----------------------------------------------------------------

def own_entry(family: Family, user: User, checkin_id: str) -> CheckIn:
    """Caregiver ``user``'s check-in with this id; AppError 404 for anyone else's or a malformed id."""
    try:
        key = uuid.UUID(checkin_id)
    except (ValueError, TypeError):
        key = None
    checkin = key and CheckIn.get_or_none(CheckIn.id == key, CheckIn.family == family, CheckIn.user == user.id)
    if not checkin:
        raise AppError(404, _("That journal entry isn't here. It may have been deleted."), code="not_found")
    return checkin


def entry_view(family: Family, checkin: CheckIn, now: datetime | None = None,
               language: str = "en") -> JournalEntry:
    prompt = checkin.prompt if checkin.prompt_id is not None else None
    translation = translations_for([checkin.prompt_id], language).get(checkin.prompt_id)
    return _entry(checkin, prompt, family, now or utcnow(), language, translation)


def _too_old(action: str) -> AppError:
    if action == "changed":
        return AppError(409, _("Entries can be changed for %(days)d days after you make them; this one "
                               "is older, so it stays as it is.", days=EDIT_DAYS), code="too_old")
    return AppError(409, _("Entries can be deleted for %(days)d days after you make them; this one "
                           "is older, so it stays as it is.", days=EDIT_DAYS), code="too_old")


def edit_entry(checkin: CheckIn, felt: str, note: str, shared: bool, now: datetime | None = None) -> CheckIn:
    """Change how connected the parent felt, the note and whether the worker may see it.

    ``felt`` is "" (not said) or "1".."5"; AppError 422 with fields, or 409 when too old."""
    if not can_change(checkin, now):
        raise _too_old("changed")
    fields: dict[str, str] = {}
    felt_value = None
    if felt:
        felt_value = parse_int(felt, 1, 5)
        if felt_value is None:
            fields["felt"] = _("Choose one of the faces, or leave it empty.")
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        fields["note"] = _("Keep the note to %(max)d characters or fewer (it has %(length)d).",
                           max=NOTE_MAX, length=len(note))
    elif note and text_problem(note):
        fields["note"] = text_problem(note)
    if fields:
        raise AppError(422, _("Some of the details need another look."), fields=fields)
    with db.atomic():
        CheckIn.update(felt=felt_value, note=note, shared_with_worker=shared).where(
            CheckIn.id == checkin.id).execute()
        audit("checkin_edited", "checkin", checkin.id)
    return CheckIn.get_by_id(checkin.id)


def delete_entry(checkin: CheckIn, now: datetime | None = None) -> None:
    """Delete a recent entry (its support request, if any, stays with the worker)."""
    if not can_change(checkin, now):
        raise _too_old("deleted")
    with db.atomic():
        CheckIn.delete().where(CheckIn.id == checkin.id).execute()
        audit("checkin_deleted", "family", checkin.family_id)


def past_delivery(family: Family, delivery_id: int) -> Delivery:
    """One of the family's past (or today's) prompts, to read again; AppError 404 otherwise."""
    delivery = Delivery.get_or_none(Delivery.id == delivery_id, Delivery.family == family)
    if delivery is None or delivery.prompt_id is None or delivery.local_date > local_today(family):
        raise AppError(404, _("That prompt isn't one of yours to read again."), code="not_found")
    return delivery
