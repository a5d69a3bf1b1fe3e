"""Engagement and reach: two separate signals for each family, the flags above them and the order of
the call list, defined once for the caseload page, the family page, the CSV exports and the tests.

Days are the family's own calendar days (``Family.timezone``); ``now`` is injectable everywhere so
tests can time-travel. **A check-in's day** is the family's local date of the moment the parent made
it: ``min(client_created_at, received_at)`` (a phone clock running fast can't move it into the future).

**Engagement** (from check-ins only; first matching rule wins):

1. ``paused`` — ``paused_until`` is today or later (local).
2. ``disengaged`` — no check-in for 10+ days.
3. ``slipping`` — no check-in for 4+ days; or, once past the first week, check-ins on fewer than
   ``needed`` of the last 7 days (today included), where ``needed`` is 3, or half the family's prompt
   days a week (rounded up) when they chose fewer than 6.
4. ``new`` — enrolled less than 7 days ago.
5. ``engaged`` — everything else.

"No check-in for N days" counts local calendar days from the last check-in's day to today; a family
that never checked in is measured from its enrolment day. The **trend** compares the days with a
check-in in the last 7 days against the 7 before: up, down or steady.

**Reach** (from devices only): ``push`` — at least one working device; ``failing`` — devices, but
every one has errors and none succeeded in the last 10 days; ``none`` — no device set up. (There is
no text-message channel yet; when there is, it joins here.)

**Flags**, shown above both signals: *asked for support* (a support request nobody has marked
followed up) and *next step due* (the latest contact's next-step date has come).

**Call order** (who needs a call first): asked for support; next step due; disengaged or slipping;
new or engaged; *waiting* (the latest contact set a next step that is not yet due, or reached the
family in the last 7 days without setting one); paused. Within a group, the longest since a check-in
first, then by name.

**Funnel over 7 and 28 days**, the activity strip: strip.py. **Streak**: the number the parent sees
(long_streaks.py).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache
from math import ceil

from peewee import Select

from ...i18n import N_, _, day_words, ngettext
from ...models import Family, utcnow
from .activity import (
    Activity,
    LastContact,
    as_date,
    as_datetime,
    load_activity,
    local_date,
    local_days,
    local_time,
    made_at,
    parse_contact,
)
from .long_streaks import finish_long_streaks, streak
from .strip import PERIODS, STRIP_DAYS, DayCell, Funnel, funnels, percent, strip_cells

__all__ = ["PERIODS", "local_date", "local_time", "made_at", "percent"]  # re-exported for the pages

#: Engagement statuses in the order the caseload's tiles show them.
STATUSES = ("disengaged", "slipping", "new", "engaged", "paused")
#: In English (the CSV export's values); the pages show them through ``_`` (marked with ``N_``).
STATUS_LABELS = {
    "disengaged": N_("Disengaged"),
    "slipping": N_("Slipping"),
    "new": N_("New"),
    "engaged": N_("Engaged"),
    "paused": N_("Paused"),
}
REACHES = ("push", "failing", "none")
#: In the parent app's words: prompts arrive as "reminders" on their phone.
REACH_LABELS = {"push": N_("Reminders on"), "failing": N_("Reminders failing"), "none": N_("No device")}

SLIPPING_DAYS = 4
DISENGAGED_DAYS = 10
NEW_DAYS = 7
WEEK_DAYS = 7
ENGAGED_WEEK_DAYS = 3
DEVICE_OK_DAYS = 10
RECENT_REACH_DAYS = 7
#: Call-order groups, first called first.
NEED_GROUPS = ("support", "next_step_due", "falling_away", "steady", "waiting", "paused")


def subscription_works(error_count: int, last_ok_at: datetime | None, now: datetime) -> bool:
    """A device works unless its pushes fail and none succeeded in the last 10 days."""
    return not error_count or (last_ok_at is not None and last_ok_at >= now - timedelta(days=DEVICE_OK_DAYS))


@lru_cache(maxsize=128)
def week_days_needed(days_of_week: str) -> int:
    """Check-in days in the last 7 that count as engaged: 3, or half the prompt days if fewer than 6."""
    prompt_days = len({ch for ch in days_of_week if ch.isdigit()}) or 7
    return min(ENGAGED_WEEK_DAYS, ceil(prompt_days / 2))


def days_in_week(checkin_days: Iterable[date], today: date, weeks_back: int = 0) -> int:
    """Days with a check-in among the 7 ending today (``weeks_back=1``: the 7 before those)."""
    last = today - timedelta(days=WEEK_DAYS * weeks_back)
    first = last - timedelta(days=WEEK_DAYS - 1)
    return sum(1 for day in checkin_days if first <= day <= last)


# --- engagement -----------------------------------------------------------------------------------

@dataclass(slots=True)  # built once per family of a 10,000-family caseload: kept light
class StatusFacts:
    """What the engagement rules look at, all in the family's local calendar."""

    today: date
    enrolled_on: date
    last_checkin_on: date | None = None
    paused_until: date | None = None
    week_days: int = 0  # days with a check-in among the last 7, today included
    needed: int = ENGAGED_WEEK_DAYS

    @property
    def days_since_checkin(self) -> int:
        """Days from the last check-in's day (or enrolment, if none yet) to today."""
        return max(0, (self.today - (self.last_checkin_on or self.enrolled_on)).days)


class Reason(str):
    """A status's one-line reason: in English as a string (the CSV export's value), and in the
    reader's language through :meth:`shown` (the pages)."""

    def __new__(cls, msgid: str, **params):
        shown = {k: v for k, v in params.items() if not k.startswith("english_")}
        english = {**shown, **{k[len("english_"):]: v for k, v in params.items() if k.startswith("english_")}}
        reason = super().__new__(cls, msgid % english if english else msgid)
        reason.msgid, reason.params = msgid, shown
        return reason

    def shown(self) -> str:
        params = {k: day_words(v, "short_day") if isinstance(v, date) else v.shown() if isinstance(v, Reason)
                  else v for k, v in self.params.items()}
        return _(self.msgid, **params)


def _joined(days: int) -> Reason:
    if days in (0, 1):
        return Reason(N_("Joined today") if days == 0 else N_("Joined yesterday"))
    return Reason(N_("Joined %(num)d days ago"), num=days)


def _checked_in(days: int, week_days: int) -> Reason:
    if days in (0, 1):
        msgid = N_("Checked in today · %(days)d of the last %(week)d days") if days == 0 else \
            N_("Checked in yesterday · %(days)d of the last %(week)d days")
        return Reason(msgid, days=week_days, week=WEEK_DAYS)
    return Reason(N_("Checked in %(num)d days ago · %(days)d of the last %(week)d days"), num=days,
                  days=week_days, week=WEEK_DAYS)


def classify(facts: StatusFacts) -> tuple[str, Reason]:
    """The family's engagement and a one-line reason a worker can act on (rules: module docstring)."""
    since = facts.days_since_checkin
    never = facts.last_checkin_on is None
    if facts.paused_until is not None and facts.paused_until >= facts.today:
        return "paused", Reason(N_("Paused until %(day)s"), day=facts.paused_until,
                                english_day=f"{facts.paused_until:%-d %b}")
    quiet = (Reason(N_("No check-in since joining %(num)d days ago"), num=since) if never
             else Reason(N_("No check-in for %(num)d days"), num=since))
    if since >= DISENGAGED_DAYS:
        return "disengaged", quiet
    if since >= SLIPPING_DAYS:
        return "slipping", quiet
    enrolled_days = (facts.today - facts.enrolled_on).days
    if enrolled_days < NEW_DAYS:
        return "new", _joined(enrolled_days)
    if facts.week_days < facts.needed:
        return "slipping", Reason(N_("Checked in on %(days)d of the last %(week)d days"), days=facts.week_days,
                                  week=WEEK_DAYS)
    return "engaged", _checked_in(since, facts.week_days)


def trend(this_week: int, last_week: int) -> str:
    """``up``, ``down`` or ``steady``: check-in days this week against the week before."""
    return "up" if this_week > last_week else "down" if this_week < last_week else "steady"


# --- reach ----------------------------------------------------------------------------------------

def reach_of(devices: int, working_devices: int) -> str:
    """``push``, ``failing`` or ``none`` (rules: module docstring)."""
    if working_devices:
        return "push"
    return "failing" if devices else "none"


class HasReach:
    """``reach`` and its label from ``devices`` and ``working_devices``: a family's or one
    caregiver's (household_engagement)."""

    devices: int
    working_devices: int

    @property
    def reach(self) -> str:
        return reach_of(self.devices, self.working_devices)

    @property
    def reach_label(self) -> str:
        return REACH_LABELS[self.reach]


def reach_next_step(reach: str, parent: str) -> str:
    """What the worker can ask the parent to do, in plain words, or "" when prompts get through."""
    if reach == "failing":
        return _("Prompts stopped reaching %(name)s's phone. Ask %(name)s to open Attune and turn reminders on "
                 "again in Settings.", name=parent)
    if reach == "none":
        return _("%(name)s has not turned on reminders, so prompts wait in the app. Ask %(name)s to open Attune "
                 "on their phone and tap “Turn on reminders”.", name=parent)
    return ""


# --- contacts and call order ------------------------------------------------------------------------

def contact_state(contact: LastContact | None, today: date) -> str:
    """``due`` (the next step's date has come), ``waiting`` (a next step is set for later, or the
    family was reached in the last 7 days without one), or ""."""
    if contact is None:
        return ""
    if contact.next_step_on is not None:
        return "due" if contact.next_step_on <= today else "waiting"
    if contact.outcome == "reached" and (today - contact.on).days < RECENT_REACH_DAYS:
        return "waiting"
    return ""


def need_group(status: str, open_support: int, contact: str) -> str:
    """Which call-order group a family is in (NEED_GROUPS, first called first)."""
    if open_support:
        return "support"
    if contact == "due":
        return "next_step_due"
    if status == "paused":
        return "paused"
    if contact == "waiting":
        return "waiting"
    return "falling_away" if status in ("disengaged", "slipping") else "steady"


def need_key(group: str, days_since_checkin: int, name: str) -> tuple:
    """The sort key of the call list: group, then longest since a check-in, then name."""
    return NEED_GROUPS.index(group), -days_since_checkin, name.lower()


# --- one family, measured ---------------------------------------------------------------------------

@dataclass
class FamilyEngagement(HasReach):
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
    week_days: int = 0
    last_week_days: int = 0
    contact: LastContact | None = None
    #: The strip's inputs, kept so the cells are built only when something shows them.
    strip_source: tuple[dict[date, tuple], set[date]] = field(default=({}, set()), repr=False)

    @cached_property
    def strip(self) -> list[DayCell]:
        """The last 28 days, oldest first: one cell per day (the activity strip)."""
        return strip_cells(self.today, *self.strip_source)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def trend(self) -> str:
        return trend(self.week_days, self.last_week_days)

    @property
    def trend_words(self) -> str:
        """"4 days this week, up from 2", or "…, same as the week before"."""
        days = ngettext("%(num)d day this week", "%(num)d days this week", self.week_days)
        if self.trend == "steady":
            return _("%(days)s, same as the week before", days=days)
        if self.trend == "up":
            return _("%(days)s, up from %(num)d", days=days, num=self.last_week_days)
        return _("%(days)s, down from %(num)d", days=days, num=self.last_week_days)

    @property
    def reason_words(self) -> str:
        """The reason in the reader's language (``reason`` stays English for the CSV)."""
        return self.reason.shown() if isinstance(self.reason, Reason) else _(self.reason)

    @property
    def contact_state(self) -> str:
        return contact_state(self.contact, self.today)

    @property
    def next_step_due(self) -> bool:
        return self.contact_state == "due"

    @property
    def need_group(self) -> str:
        return need_group(self.status, self.open_support, self.contact_state)

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
        return _("Last %(num)d days: check-ins on %(checked)d days; %(delivered)d prompts delivered, "
                 "%(opened)d opened.", num=len(levels), checked=levels.count("checked"),
                 delivered=self.month.delivered, opened=self.month.opened)


def _engagement(family: Family, data: Activity, now: datetime) -> tuple[FamilyEngagement, bool]:
    today = local_date(now, family.timezone)
    deliveries = data.deliveries.get(family.id, {})
    days = data.checkin_days.get(family.id, set())
    last_at = data.last_checkin.get(family.id)
    count, working, last_ok = data.devices.get(family.id, (0, 0, None))
    open_support, _since = data.support.get(family.id, (0, None))
    strip_start = today - timedelta(days=STRIP_DAYS - 1)
    facts = StatusFacts(
        today=today, enrolled_on=local_date(family.created_at, family.timezone),
        last_checkin_on=local_date(last_at, family.timezone) if last_at else None,
        paused_until=family.paused_until, week_days=days_in_week(days, today),
        needed=week_days_needed(family.days_of_week))
    status, reason = classify(facts)
    run, needs_more = streak(days, today, family.days_of_week, known_from=strip_start - timedelta(days=1))
    row = FamilyEngagement(
        family=family, today=today, status=status, reason=reason, periods=funnels(today, deliveries),
        streak=run, last_checkin_at=last_at, days_since_checkin=facts.days_since_checkin,
        devices=count, working_devices=working, last_push_ok_at=last_ok, open_support=open_support,
        week_days=facts.week_days, last_week_days=days_in_week(days, today, weeks_back=1),
        contact=data.contacts.get(family.id), strip_source=(deliveries, days))
    return row, needs_more


def measure_families(families: Sequence[Family], scope: Select | Iterable[int] | None = None,
                     now: datetime | None = None) -> list[FamilyEngagement]:
    """Signals and metrics for many families in a fixed number of queries, whatever their number:
    five always (deliveries, check-ins, devices, support requests, latest contacts), one when a
    family's last check-in is older than the window, and one when a streak runs back past the window.

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
        finish_long_streaks([row for row in rows if row.family.id in extend], data,
                            datetime.combine(since, datetime.min.time()))
    return rows


def measure_family(family: Family, now: datetime | None = None) -> FamilyEngagement:
    """Signals and metrics for one family."""
    return measure_families([family], now=now)[0]


def sort_by_need(rows: Iterable[FamilyEngagement]) -> list[FamilyEngagement]:
    """The call list's order (module docstring)."""
    return sorted(rows, key=lambda row: need_key(row.need_group, row.days_since_checkin, row.family.display_name))


def status_counts(statuses: Iterable[str]) -> dict[str, int]:
    """How many families hold each engagement status, in tile order (zeros included)."""
    counts = dict.fromkeys(STATUSES, 0)
    for status in statuses:
        counts[status] += 1
    return counts


# --- the whole caseload, cheaply: for its order, counts and pages --------------------------------------

@dataclass(frozen=True)
class CaseEntry:
    """One family of the caseload index: its engagement, call-order group and sort key."""

    family_id: int
    status: str
    group: str
    key: tuple


#: Ranked index rows, remembered per process: an entry is a pure function of the row (which holds
#: every input: a new check-in, contact or support request changes it) and the family's today.
_RANKED: dict[tuple, CaseEntry] = {}
_RANKED_MAX = 50_000


def _rank_row(row: tuple, today: date, now: datetime) -> CaseEntry:
    family_id, name, tz, created, paused, days_of_week, recent, last, support, contact = row
    made = recent.split(",") if recent else []
    finder = local_days(tz, today - timedelta(days=10), now.date() + timedelta(days=2))
    last_at = as_datetime(max(made)) if made else as_datetime(last)
    facts = StatusFacts(
        today=today, enrolled_on=local_date(as_datetime(created), tz),
        last_checkin_on=finder.day(last_at) if last_at else None,
        paused_until=as_date(paused) if paused else None,
        week_days=days_in_week(finder.days_of(made), today), needed=week_days_needed(days_of_week))
    status = classify(facts)[0]
    group = need_group(status, support, contact_state(parse_contact(contact, tz), today))
    return CaseEntry(family_id, status, group, need_key(group, facts.days_since_checkin, name))


def rank_caseload(rows: Iterable[tuple], now: datetime) -> list[CaseEntry]:
    """The caseload index (``activity.caseload_index`` rows) classified by the same rules as
    measure_families and sorted into call order: enough for the tiles, the status filter and
    paging without measuring every family."""
    entries, todays = [], {}
    for row in rows:
        tz = row[2]
        today = todays.get(tz) or todays.setdefault(tz, local_date(now, tz))
        key = (row, today)
        entry = _RANKED.get(key)
        if entry is None:
            if len(_RANKED) >= _RANKED_MAX:
                _RANKED.clear()  # a day's turnover; simpler than an LRU and as good here
            entry = _RANKED[key] = _rank_row(row, today, now)
        entries.append(entry)
    entries.sort(key=lambda entry: entry.key)
    return entries
