"""The activity strip's days and the prompt funnel, built from a family's loaded deliveries (see
engagement.py for where they are shown): one cell per local day, cached because the same day and
outcome recur across a caseload's families."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

from ...i18n import N_

STRIP_DAYS = 28
PERIODS = (7, 28)
OPEN_STATUSES = ("pending", "sending")  # not yet offered: left out of every rate


def percent(part: int, whole: int) -> int | None:
    """A whole-number percentage, or None when there is nothing to divide by."""
    return round(100 * part / whole) if whole else None


@dataclass(frozen=True)
class Funnel:
    """Prompts offered over a period, and how many were delivered, opened and checked in."""

    days: int
    prompts: int = 0
    delivered: int = 0
    opened: int = 0
    checked_in: int = 0

    def rate(self, part: int) -> int | None:
        return percent(part, self.prompts)

    def show(self, part: int) -> str:
        """``"5/7 · 71%"``, or ``"0/0"`` when no prompt was offered."""
        rate = self.rate(part)
        return f"{part}/{self.prompts}" + ("" if rate is None else f" · {rate}%")


class DayCell(NamedTuple):
    """One day of the activity strip: ``level`` is checked, opened, delivered, due, missed or none."""

    day: date
    level: str
    title: str  # in English: "Wed 18 Mar: prompt delivered, opened"
    words: tuple[str, ...] = ()  # what happened, each marked with N_ (the page shows them through _)


_LEVEL_WORDS = {
    "checked": N_("checked in"),
    "opened": N_("prompt opened"),
    "delivered": N_("prompt delivered"),
    "due": N_("prompt due later"),
    "missed": N_("prompt not delivered"),
    "none": N_("no prompt"),
}

@lru_cache(maxsize=64)
def _strip_days(today: date) -> tuple[date, ...]:
    return tuple(today - timedelta(days=n) for n in range(STRIP_DAYS - 1, -1, -1))


@lru_cache(maxsize=1024)
def _day_label(day: date) -> str:
    return f"{day:%a %-d %b}"


@lru_cache(maxsize=64)
def _cell_kind(status: str | None, opened: bool, checked: bool) -> tuple[str, tuple[str, ...]]:
    """A day's level and its words, from the day's prompt status and what the parent did."""
    if checked:
        level = "checked"
    elif opened:
        level = "opened"
    elif status == "sent":
        level = "delivered"
    elif status in OPEN_STATUSES:
        level = "due"
    elif status:
        level = "missed"
    else:
        level = "none"
    words = []
    if status == "sent":
        words.append(N_("prompt delivered"))
    elif status and status not in OPEN_STATUSES:
        words.append(N_("prompt not delivered"))
    if opened:
        words.append(N_("opened"))
    if checked:
        words.append(N_("checked in"))
    return level, tuple(words) if words else (_LEVEL_WORDS[level],)


@lru_cache(maxsize=8192)  # the same day and outcome recur across a caseload's families
def _cell(day: date, delivery: tuple | None, checked: bool) -> DayCell:
    level, words = _cell_kind(delivery[0] if delivery else None, bool(delivery and delivery[1]), checked)
    return DayCell(day, level, f"{_day_label(day)}: {', '.join(words)}", words)


def funnels(today: date, deliveries: dict[date, tuple]) -> dict[int, Funnel]:
    """The funnel of every period in PERIODS, in one pass over the family's recent deliveries."""
    starts = [(days, today - timedelta(days=days - 1)) for days in PERIODS]
    counts = {days: [0, 0, 0, 0] for days in PERIODS}
    for day, (status, was_opened, checked) in deliveries.items():
        if day > today or status in OPEN_STATUSES:
            continue
        sent = status == "sent"
        for days, start in starts:
            if day >= start:
                tally = counts[days]
                tally[0] += 1
                tally[1] += sent
                tally[2] += was_opened
                tally[3] += checked
    return {days: Funnel(days, *tally) for days, tally in counts.items()}


def strip_cells(today: date, deliveries: dict[date, tuple], checkin_days: set[date]) -> list[DayCell]:
    """The last 28 days, oldest first: one cell per day."""
    return [_cell(day, deliveries.get(day), day in checkin_days) for day in _strip_days(today)]
