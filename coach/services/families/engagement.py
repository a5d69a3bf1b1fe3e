"""Engagement: each family's status and metrics, defined once for the caseload page, the family page
and the CSV exports.

Days are the family's own calendar days (``Family.timezone``); ``now`` is injectable everywhere so
tests can time-travel. The rules, in one place:

**A check-in's day** is the family's local date of the moment the parent made it:
``min(client_created_at, received_at)`` (a phone clock running fast can't move it into the
future). Last check-in, days since, the streak and the activity strip all use it.

**Status** (first matching rule wins):

1. ``support`` — the family has a support request nobody has marked followed up.
2. ``paused`` — ``paused_until`` is today or later (local).
3. ``disengaged`` — no check-in for 10+ days, or no working device (no push subscription, or every
   subscription has errors and none succeeded in the last 10 days).
4. ``slipping`` — no check-in for 4+ days.
5. ``new`` — enrolled less than 7 days ago (and not flagged above).
6. ``engaged`` — everything else.

"No check-in for N days" counts local calendar days from the last check-in's day to today; a
family that never checked in is measured from its enrolment day.

**Need order** for sorting the caseload: support, disengaged, slipping, new, engaged, paused; then
the longest time since a check-in first.

**Funnel over 7 and 28 days** (the period is the last N local days, today included). The rates
share one denominator, the *prompts* offered in the period: deliveries whose status is final
(everything except ``pending``/``sending``, so today's prompt counts once it has gone out or failed).

- *delivered*: prompts with status ``sent``;
- *opened*: prompts with ``opened_at`` set (also a prompt opened in the app without a push);
- *checked in*: prompts with at least one check-in linked to them. A check-in with no prompt
  (made offline, say) counts for the streak and last check-in but not for this rate.

**Streak**: the same number the parent sees (``services/streaks.py``): check-in days in the run that
reaches today, where up to two missed prompt days in a row are forgiven, days that aren't prompt
days (``days_of_week``) are neutral, and today never counts as missed.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache
from threading import Lock
from typing import NamedTuple

from peewee import Select

from ...models import Family, utcnow
from .activity import (
    Activity,
    database_identity,
    load_activity,
    local_date,
    local_time,
    made_at,
    older_checkin_days,
    older_fingerprints,
)
from .streaks import GRACE_DAYS, count_streak

__all__ = ["local_date", "local_time", "made_at"]  # re-exported: the worker pages use them too

#: Statuses in the order the rules are tried (see the module docstring).
STATUS_RULE_ORDER = ("support", "paused", "disengaged", "slipping", "new", "engaged")
#: Statuses in the order the caseload is sorted: who needs a call first.
NEED_ORDER = ("support", "disengaged", "slipping", "new", "engaged", "paused")
STATUS_LABELS = {
    "support": "Asked for support",
    "disengaged": "Disengaged",
    "slipping": "Slipping",
    "new": "New",
    "engaged": "Engaged",
    "paused": "Paused",
}

SLIPPING_DAYS = 4
DISENGAGED_DAYS = 10
NEW_DAYS = 7
DEVICE_OK_DAYS = 10
PERIODS = (7, 28)
STRIP_DAYS = 28
OPEN_STATUSES = ("pending", "sending")  # not yet offered: left out of every rate


# --- small helpers --------------------------------------------------------------------------------

def percent(part: int, whole: int) -> int | None:
    """A whole-number percentage, or None when there is nothing to divide by."""
    return round(100 * part / whole) if whole else None


def subscription_works(error_count: int, last_ok_at: datetime | None, now: datetime) -> bool:
    """A device works unless its pushes fail and none succeeded in the last 10 days."""
    return not error_count or (last_ok_at is not None and last_ok_at >= now - timedelta(days=DEVICE_OK_DAYS))


# --- status ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StatusFacts:
    """What the status rules look at, all in the family's local calendar."""

    today: date
    enrolled_on: date
    last_checkin_on: date | None = None
    paused_until: date | None = None
    open_support: int = 0
    support_since: date | None = None
    devices: int = 0
    working_devices: int = 0

    @property
    def days_since_checkin(self) -> int:
        """Days from the last check-in's day (or enrolment, if none yet) to today."""
        return max(0, (self.today - (self.last_checkin_on or self.enrolled_on)).days)


def _ago(days: int) -> str:
    return {0: "today", 1: "yesterday"}.get(days, f"{days} days ago")


def classify(facts: StatusFacts) -> tuple[str, str]:
    """The family's status and a one-line reason a worker can act on (rules: module docstring)."""
    since = facts.days_since_checkin
    never = facts.last_checkin_on is None
    if facts.open_support:
        when = _ago((facts.today - facts.support_since).days) if facts.support_since else "recently"
        many = f" ({facts.open_support} requests open)" if facts.open_support > 1 else ""
        return "support", f"Asked to hear from you {when}{many}"
    if facts.paused_until is not None and facts.paused_until >= facts.today:
        return "paused", f"Paused until {facts.paused_until:%-d %b}"
    if since >= DISENGAGED_DAYS:
        if never:
            return "disengaged", f"No check-in since joining {since} days ago"
        return "disengaged", f"No check-in for {since} days"
    if not facts.working_devices:
        if not facts.devices:
            return "disengaged", "No device set up for notifications"
        return "disengaged", "Notifications are failing on every device"
    if since >= SLIPPING_DAYS:
        if never:
            return "slipping", f"No check-in since joining {since} days ago"
        return "slipping", f"No check-in for {since} days"
    enrolled_days = (facts.today - facts.enrolled_on).days
    if enrolled_days < NEW_DAYS:
        return "new", f"Joined {_ago(enrolled_days)}"
    return "engaged", f"Checked in {_ago(since)}"


# --- streak ---------------------------------------------------------------------------------------

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


# --- metrics --------------------------------------------------------------------------------------

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
    title: str


@dataclass
class FamilyEngagement:
    """Everything the caseload, the family page and the CSV say about one family."""

    family: Family
    today: date
    status: str
    reason: str
    periods: dict[int, Funnel]
    streak: int
    last_checkin_at: datetime | None
    days_since_checkin: int
    devices: int
    working_devices: int
    last_push_ok_at: datetime | None
    open_support: int
    #: The strip's inputs, kept so the cells are built only when something shows them.
    strip_source: tuple[dict[date, tuple], set[date]] = field(default=({}, set()), repr=False)

    @cached_property
    def strip(self) -> list[DayCell]:
        """The last 28 days, oldest first: one cell per day (the activity strip)."""
        deliveries, checkin_days = self.strip_source
        return [_cell(day, deliveries.get(day), day in checkin_days) for day in _strip_days(self.today)]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def week(self) -> Funnel:
        return self.periods[7]

    @property
    def month(self) -> Funnel:
        return self.periods[28]

    @property
    def last_checkin_on(self) -> date | None:
        return local_date(self.last_checkin_at, self.family.timezone) if self.last_checkin_at else None

    @property
    def strip_summary(self) -> str:
        """The activity strip in one sentence (its accessible name)."""
        levels = [cell.level for cell in self.strip]
        return (f"Last {len(levels)} days: check-ins on {levels.count('checked')} days; "
                f"{self.month.delivered} prompts delivered, {self.month.opened} opened.")


_LEVEL_WORDS = {
    "checked": "checked in",
    "opened": "prompt opened",
    "delivered": "prompt delivered",
    "due": "prompt due later",
    "missed": "prompt not delivered",
    "none": "no prompt",
}


@lru_cache(maxsize=64)
def _strip_days(today: date) -> tuple[date, ...]:
    return tuple(today - timedelta(days=n) for n in range(STRIP_DAYS - 1, -1, -1))


@lru_cache(maxsize=1024)
def _day_label(day: date) -> str:
    return f"{day:%a %-d %b}"


@lru_cache(maxsize=64)
def _cell_kind(status: str | None, opened: bool, checked: bool) -> tuple[str, str]:
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
        words.append("prompt delivered")
    elif status and status not in OPEN_STATUSES:
        words.append("prompt not delivered")
    if opened:
        words.append("opened")
    if checked:
        words.append("checked in")
    return level, ", ".join(words) if words else _LEVEL_WORDS[level]


@lru_cache(maxsize=8192)  # the same day and outcome recur across a caseload's families
def _cell(day: date, delivery: tuple | None, checked: bool) -> DayCell:
    level, words = _cell_kind(delivery[0] if delivery else None, bool(delivery and delivery[1]), checked)
    return DayCell(day, level, f"{_day_label(day)}: {words}")


def _funnels(today: date, deliveries: dict[date, tuple]) -> dict[int, Funnel]:
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


# --- measuring ------------------------------------------------------------------------------------

def _engagement(family: Family, data: Activity, now: datetime) -> tuple[FamilyEngagement, bool]:
    today = local_date(now, family.timezone)
    deliveries = data.deliveries.get(family.id, {})
    days = data.checkin_days.get(family.id, set())
    last_at = data.last_checkin.get(family.id)
    count, working, last_ok = data.devices.get(family.id, (0, 0, None))
    open_support, support_since = data.support.get(family.id, (0, None))
    strip_start = today - timedelta(days=STRIP_DAYS - 1)
    facts = StatusFacts(
        today=today, enrolled_on=local_date(family.created_at, family.timezone),
        last_checkin_on=local_date(last_at, family.timezone) if last_at else None,
        paused_until=family.paused_until, open_support=open_support,
        support_since=local_date(support_since, family.timezone) if support_since else None,
        devices=count, working_devices=working)
    status, reason = classify(facts)
    run, needs_more = streak(days, today, family.days_of_week, known_from=strip_start - timedelta(days=1))
    row = FamilyEngagement(
        family=family, today=today, status=status, reason=reason,
        periods=_funnels(today, deliveries),
        streak=run, last_checkin_at=last_at, days_since_checkin=facts.days_since_checkin,
        devices=count, working_devices=working, last_push_ok_at=last_ok, open_support=open_support,
        strip_source=(deliveries, days))
    return row, needs_more


def measure_families(families: Sequence[Family], scope: Select | Iterable[int] | None = None,
                     now: datetime | None = None) -> list[FamilyEngagement]:
    """Status and metrics for many families in a fixed number of queries, whatever their number:
    four always (deliveries, check-ins, devices, support requests), one when a family's last
    check-in is older than the window, and one when a streak runs back past the window (its older
    check-ins, or only their fingerprints when the streak is remembered: _StreakMemo).

    ``scope`` selects the same families' ids (a subquery keeps the SQL small for big caseloads);
    it defaults to the list of their ids. Rows come back in the order of ``families``.
    """
    now = now or utcnow()
    if not families:
        return []
    by_id = {family.id: family for family in families}
    scope = [family.id for family in families] if scope is None else scope
    # The earliest local date any timezone can be on, minus a day of slack for UTC offsets.
    since = now.date() - timedelta(days=STRIP_DAYS + 1)
    data = load_activity(scope, by_id, since, now, ok_since=now - timedelta(days=DEVICE_OK_DAYS))
    rows, extend = [], {}
    for family in families:
        row, needs_more = _engagement(family, data, now)
        rows.append(row)
        if needs_more:
            extend[family.id] = family
    if extend:
        _long_streaks([row for row in rows if row.family.id in extend], data,
                      datetime.combine(since, datetime.min.time()))
    return rows


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


def _long_streaks(rows: list[FamilyEngagement], data: Activity, before: datetime) -> None:
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


def measure_family(family: Family, now: datetime | None = None) -> FamilyEngagement:
    """Status and metrics for one family."""
    return measure_families([family], now=now)[0]


def sort_by_need(rows: Iterable[FamilyEngagement]) -> list[FamilyEngagement]:
    """Who needs a call first: need order, then longest since a check-in, then name."""
    return sorted(rows, key=lambda row: (NEED_ORDER.index(row.status), -row.days_since_checkin,
                                         row.family.display_name.lower()))


def status_counts(rows: Iterable[FamilyEngagement]) -> dict[str, int]:
    """How many families hold each status, in need order (zeros included)."""
    counts = dict.fromkeys(NEED_ORDER, 0)
    for row in rows:
        counts[row.status] += 1
    return counts
