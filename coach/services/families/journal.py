"""The parent's journal: past check-ins by week, this month's counts by theme, a kind reflection."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from peewee import JOIN

from ...models import THEME_NAMES, THEMES, CheckIn, Family, Prompt, utcnow
from ..programme.library import fill_child
from .checkins import FEELINGS, local_today, made_at, to_local

TRIED_LABELS = {"yes": "Tried it", "not_yet": "Not yet", "no_chance": "Didn't come up", "skip": "Skipped"}
JOURNAL_LIMIT = 300


@dataclass
class JournalEntry:
    """One check-in as the journal shows it."""

    id: str
    day: date
    theme: str | None
    theme_name: str
    title: str
    answer_label: str | None
    tried_label: str
    felt: tuple[str, str] | None
    note: str | None
    shared: bool
    wants_support: bool


@dataclass
class JournalWeek:
    label: str
    entries: list[JournalEntry] = field(default_factory=list)


@dataclass
class Journal:
    weeks: list[JournalWeek]
    month_counts: dict[str, int]
    month_total: int
    reflection: str


def week_label(monday: date, today: date) -> str:
    """"This week", "Last week", or "Week of 3 November"."""
    this_monday = today - timedelta(days=today.weekday())
    if monday == this_monday:
        return "This week"
    if monday == this_monday - timedelta(days=7):
        return "Last week"
    return f"Week of {monday.day} {monday.strftime('%B')}" + (
        f" {monday.year}" if monday.year != today.year else "")


def _entry(checkin: CheckIn, prompt: Prompt | None, family: Family) -> JournalEntry:
    answer_label = None
    if prompt is not None and checkin.answer is not None and checkin.answer < len(prompt.answers or []):
        answer_label = fill_child(prompt.answers[checkin.answer].get("label", ""), family.child_name)
    theme = prompt.theme if prompt is not None else None
    return JournalEntry(
        id=str(checkin.id),
        day=to_local(family, made_at(checkin)).date(),
        theme=theme,
        theme_name=THEME_NAMES.get(theme, "Check-in"),
        title=fill_child(prompt.title, family.child_name) if prompt is not None else "A check-in",
        answer_label=answer_label,
        tried_label=TRIED_LABELS.get(checkin.tried, checkin.tried),
        felt=FEELINGS.get(checkin.felt),
        note=checkin.note,
        shared=checkin.shared_with_worker,
        wants_support=checkin.wants_support,
    )


def reflection(counts: dict[str, int], repairs: int, total: int, child: str) -> str:
    """One kind sentence about this month; never a judgement about how much."""
    enough = "Being in sync some of the time is enough."
    if repairs:
        times = "once" if repairs == 1 else f"{repairs} times"
        return f"You came back together {times} this month. {enough}"
    if counts.get("rupture"):
        n = counts["rupture"]
        moments = "a moment" if n == 1 else f"{n} moments"
        return f"You noticed {moments} out of sync this month. Noticing is how repair begins."
    if counts.get("cues"):
        n = counts["cues"]
        return f"You tuned in to {child}'s signals {'once' if n == 1 else f'{n} times'} this month."
    if total:
        return f"You checked in {'once' if total == 1 else f'{total} times'} this month. Every moment counts."
    return "Your check-ins will gather here. There's no right amount."


def build_journal(family: Family, now: datetime | None = None) -> Journal:
    """The family's journal as of ``now``: newest week first, with this month's theme counts."""
    today = local_today(family, now or utcnow())
    rows = (CheckIn.select(CheckIn, Prompt).join(Prompt, JOIN.LEFT_OUTER)
            .where(CheckIn.family == family)
            .order_by(CheckIn.client_created_at.desc()).limit(JOURNAL_LIMIT))
    weeks: dict[date, JournalWeek] = {}
    counts = dict.fromkeys(THEMES, 0)
    repairs = month_total = 0
    for checkin in rows:
        prompt = checkin.prompt if checkin.prompt_id is not None else None
        entry = _entry(checkin, prompt, family)
        monday = entry.day - timedelta(days=entry.day.weekday())
        weeks.setdefault(monday, JournalWeek(week_label(monday, today))).entries.append(entry)
        if (entry.day.year, entry.day.month) == (today.year, today.month):
            month_total += 1
            if entry.theme in counts:
                counts[entry.theme] += 1
            if entry.theme == "repair" and checkin.tried == "yes":
                repairs += 1
    ordered = [weeks[monday] for monday in sorted(weeks, reverse=True)]
    return Journal(weeks=ordered, month_counts=counts, month_total=month_total,
                   reflection=reflection(counts, repairs, month_total, family.child_label))
