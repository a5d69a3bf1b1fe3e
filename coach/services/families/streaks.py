"""A gentle streak: how many days the parent has checked in lately, forgiving missed days.

Only the days a family chose for prompts can be missed; other days are neutral. Up to
``GRACE_DAYS`` missed prompt days in a row keep the streak going, and today never counts as missed
(the day isn't over). The wording never shames: a streak that lapsed simply starts again.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ...i18n import _
from ...models import CheckIn, Family, User, utcnow
from .checkins import local_today, made_at, to_local

GRACE_DAYS = 2
LOOKBACK_DAYS = 400


@dataclass(frozen=True)
class Streak:
    """``days``: check-in days in the current run; ``checked_in_today``; a kind sentence."""

    days: int
    checked_in_today: bool
    message: str


def checkin_dates(family: Family, user: User, since: date | None = None) -> set[date]:
    """The family's local dates on which caregiver ``user`` checked in (by when they made it)."""
    query = (CheckIn.select(CheckIn.client_created_at, CheckIn.received_at)
             .where(CheckIn.family == family, CheckIn.user == user.id))
    if since is not None:
        query = query.where(CheckIn.received_at >= datetime.combine(since, datetime.min.time())
                            - timedelta(days=1))
    return {to_local(family, made_at(row)).date() for row in query}


def count_streak(dates: Iterable[date], today: date, days_of_week: str = "0123456",
                 grace: int = GRACE_DAYS) -> int:
    """Check-in days in the run that reaches today, with ``grace`` missed prompt days allowed in a row."""
    dates = set(dates)
    scheduled = {int(d) for d in days_of_week if d.isdigit()} or set(range(7))
    count = 0
    missed_in_a_row = 0
    day = today
    for _step in range(LOOKBACK_DAYS):
        if day in dates:
            count += 1
            missed_in_a_row = 0
        elif day != today and day.weekday() in scheduled:
            missed_in_a_row += 1
            if missed_in_a_row > grace:
                break
        day -= timedelta(days=1)
    return count


def streak_message(days: int, checked_in_today: bool) -> str:
    """Encouraging words for a streak of any length, including none."""
    if days == 0:
        return _("Every check-in counts. Start whenever it suits you.")
    if days == 1:
        return _("You checked in today. That's a good start.") if checked_in_today else \
            _("You've checked in recently. Pick it up whenever you're ready.")
    if checked_in_today:
        return _("%(days)d days of noticing. Lovely to see you today.", days=days)
    return _("%(days)d days of noticing. Today's is here whenever you're ready.", days=days)


def family_streak(family: Family, user: User, now: datetime | None = None) -> Streak:
    """Caregiver ``user``'s own gentle streak in the family as of ``now``."""
    today = local_today(family, now or utcnow())
    dates = checkin_dates(family, user, since=today - timedelta(days=LOOKBACK_DAYS))
    days = count_streak(dates, today, family.days_of_week)
    checked_in_today = today in dates
    return Streak(days=days, checked_in_today=checked_in_today,
                  message=streak_message(days, checked_in_today))
