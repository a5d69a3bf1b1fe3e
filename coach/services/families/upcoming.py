"""Words that are always true on the parent's pages: when the next prompt comes (named on days
without one, and on the saved screen), whether prompts are paused and until when, and the rolling
count of days with a check-in (``days_noticed``: the last 30 local days, so the 1st of a month
never shows 0 next to a long streak)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ...i18n import _
from ...i18n import day_words as words_for_day
from ...models import Family, User, utcnow
from ..delivery.scheduling import is_allowed_day, local_today, local_window
from .streaks import checkin_dates

ROLLING_DAYS = 30
#: How far ahead to look for a prompt day (a pause may be long); beyond it we say nothing exact.
LOOK_AHEAD_DAYS = 400


@dataclass(frozen=True)
class NextPrompt:
    day: date
    words: str  # "later today", "tomorrow", "on Thursday", "on Thursday 10 December"
    window: str  # "between 18:00 and 20:00"


def next_prompt_day(family: Family, now: datetime | None = None, after_today: bool = False) -> date | None:
    """The family's next local date with a prompt: today while its window is still ahead (unless
    ``after_today``), else the next chosen weekday after any pause. None when no weekday is chosen."""
    now = now or utcnow()
    today = local_today(family, now)
    if not family.days_of_week:
        return None
    day = today
    if after_today or not (is_allowed_day(family, today) and local_window(family, today)[1] > now):
        day = today + timedelta(days=1)
    for _step in range(LOOK_AHEAD_DAYS):
        if is_allowed_day(family, day):
            return day
        day += timedelta(days=1)
    return None


def day_words(day: date, today: date) -> str:
    """A day as a parent says it: "later today", "tomorrow", "on Thursday", "on Thursday 10 December"."""
    ahead = (day - today).days
    if ahead <= 0:
        return _("later today")
    if ahead == 1:
        return _("tomorrow")
    if ahead < 7:
        return _("on %(day)s", day=words_for_day(day, "weekday"))
    return _("on %(day)s", day=words_for_day(day))


def next_prompt(family: Family, now: datetime | None = None, after_today: bool = False) -> NextPrompt | None:
    """When the next prompt comes, in words; None when no weekday is chosen."""
    now = now or utcnow()
    day = next_prompt_day(family, now, after_today)
    if day is None:
        return None
    return NextPrompt(day, day_words(day, local_today(family, now)),
                      _("between %(start)s and %(end)s", start=family.window_start, end=family.window_end))


def paused_until(family: Family, now: datetime | None = None) -> date | None:
    """The last paused local date when prompts are paused today or later, else None."""
    until = family.paused_until
    return until if until is not None and until >= local_today(family, now or utcnow()) else None


def days_noticed(family: Family, user: User, now: datetime | None = None, window: int = ROLLING_DAYS) -> int:
    """Local days with at least one of ``user``'s check-ins in the last ``window`` days, today included."""
    return rolling_days(family, user, local_today(family, now or utcnow()), window)


def rolling_days(family: Family, user: User, today: date, days: int = ROLLING_DAYS) -> int:
    """How many of the ``days`` local days ending with ``today`` have at least one check-in (home
    and the journal both count this way)."""
    start = today - timedelta(days=days - 1)
    return sum(1 for day in checkin_dates(family, user, since=start) if start <= day <= today)
