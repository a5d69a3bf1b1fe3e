"""The worker's view of a parent's streak (``services/families/streaks.py``) for a whole caseload:
counted from the 28 days the caseload loads, and finished with one more query only for the streaks
that run back past them, remembered per process while the older check-ins stay the same.
"""
from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime, timedelta
from functools import lru_cache
from threading import Lock
from typing import TYPE_CHECKING

from .activity import Activity, database_identity, older_checkin_days, older_fingerprints
from .streaks import GRACE_DAYS, count_streak

if TYPE_CHECKING:
    from .engagement import FamilyEngagement


@lru_cache(maxsize=256)
def _prompt_days_between(known_from: date, today: date, days_of_week: str) -> int:
    """Prompt days from ``known_from`` to yesterday."""
    weekdays = {int(ch) for ch in days_of_week if ch.isdigit()} or set(range(7))
    span = (today - known_from).days
    return sum(1 for n in range(1, span + 1) if (today - timedelta(days=n)).weekday() in weekdays)


def _may_reach(count: int, known_from: date, today: date, days_of_week: str) -> bool:
    """False when a run of ``count`` check-ins can't span back to ``known_from``: between two
    check-ins at most ``GRACE_DAYS`` prompt days are missed, so ``S`` prompt days need ``S ≤ 3c + 2``."""
    return _prompt_days_between(known_from, today, days_of_week) <= (GRACE_DAYS + 1) * count + GRACE_DAYS


def streak(checkin_days: set[date], today: date, days_of_week: str = "0123456",
           known_from: date | None = None) -> tuple[int, bool]:
    """The parent's own streak (``services/streaks.count_streak``), from the check-in days loaded.

    ``known_from`` is the first day ``checkin_days`` is complete for; the second value is True when
    the run may go on before it (the caller then loads older days and asks again). The probe adds
    imaginary check-ins just before ``known_from``: if they change the count, the walk reached them.
    """
    count = count_streak(checkin_days, today, days_of_week)
    if known_from is None or not _may_reach(count, known_from, today, days_of_week):
        return count, False
    probe = checkin_days | {known_from - timedelta(days=n) for n in range(1, GRACE_DAYS + 2)}
    return count, count_streak(probe, today, days_of_week) != count


class _StreakMemo:
    """Long streaks, remembered per process. A streak is a pure function of the family's check-in
    days, and the days received before the window never change (new check-ins are received now):
    an entry, keyed by the family, day and window's days, holds a fingerprint of those older
    check-ins (count, latest receipt) with the streak, and is used only while it still matches."""

    def __init__(self, size: int = 4096):
        self.size, self.values, self.lock = size, OrderedDict(), Lock()

    def get(self, key: tuple) -> tuple[tuple, int] | None:
        with self.lock:
            if key in self.values:
                self.values.move_to_end(key)
            return self.values.get(key)

    def put(self, key: tuple, fingerprint: tuple | None, value: int) -> None:
        with self.lock:
            self.values[key] = (fingerprint, value)
            if len(self.values) > self.size:
                self.values.popitem(last=False)


_streak_memo = _StreakMemo()


def finish_long_streaks(rows: list[FamilyEngagement], data: Activity, before: datetime) -> None:
    """Finish the streaks that run back past the window with one query: the older check-ins, or,
    when streaks are remembered, just their fingerprints (plus the older check-ins of any whose
    fingerprint changed, which only back-dated rows can cause)."""
    database = database_identity()
    keys = {row.family.id: (database, row.family.id, row.family.timezone, row.family.days_of_week, row.today,
                            before, frozenset(data.checkin_days.get(row.family.id, ())))
            for row in rows}
    remembered = {family_id: _streak_memo.get(key) for family_id, key in keys.items()}
    families = {row.family.id: row.family for row in rows}
    older, prints = {}, {}
    if any(remembered.values()):
        prints = older_fingerprints(families, before)
        families = {family_id: family for family_id, family in families.items()
                    if not remembered[family_id] or remembered[family_id][0] != prints.get(family_id)}
    if families:
        older, fresh_prints = older_checkin_days(families, before)
        prints.update(fresh_prints)
    for row in rows:
        family_id = row.family.id
        if family_id in families:
            every_day = data.checkin_days.get(family_id, set()) | older.get(family_id, set())
            row.streak = streak(every_day, row.today, row.family.days_of_week)[0]
            _streak_memo.put(keys[family_id], prints.get(family_id), row.streak)
        else:
            row.streak = remembered[family_id][1]


