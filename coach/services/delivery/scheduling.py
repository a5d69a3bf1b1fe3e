"""Planning deliveries: which family gets a prompt on which local date, and when
(DESIGN.md "Scheduling and delivery", step 1). Sending is ``delivery.py``'s job.

Decisions:

- Timestamps are naive UTC (``models.utcnow()``). ``Family.window_start``/``window_end`` are local
  ``"HH:MM"``; ``days_of_week`` holds digits Monday=0 … Sunday=6 (``"0123456"`` daily, ``"024"``
  Mon/Wed/Fri); ``paused_until`` is a local date, and no prompt comes on a day ``<= paused_until``.
- ``Family.next_due_at`` is the UTC instant of local midnight starting the next local day the family
  may get a prompt; NULL means "not scheduled" (``reschedule_family`` sets it). A tick selects
  ``next_due_at <= now`` through its index, so its cost grows with the families due, not enrolled.
- A due family is planned for the local date of ``now`` only: a scheduler that was down for three
  days sends one prompt, for today, not three.
- Today not allowed (weekday, pause) → no delivery. Today's window already ended → no delivery
  either (no stale prompt at night). Otherwise — inside or before the window — today is planned.
  In every case ``next_due_at`` moves to the start of the next allowed local day.
- ``due_at`` is a whole minute drawn from ``[window start, window end)`` measured in real (UTC)
  minutes, so a window across a DST fold is an hour longer and one across a gap an hour shorter. A
  ``due_at`` already past (planned inside the window) simply sends at once.
  ``next_attempt_at = due_at``; ``expires_at`` is the next local midnight in UTC.
- Local times that don't exist (DST gap) move forward by the gap (02:30 → 03:30 on a New York
  spring-forward night); ambiguous ones (fold) mean their first occurrence. A window whose end is
  not after its start ends at local midnight (windows don't cross midnight).
- Deterministic: the minute and the prompt are drawn from one ``random.Random("<family id>:<local
  date ISO>")`` per family and date (``selection.PlanningDraws``), so tests can assert exact times.
- No published prompt → no delivery, but ``next_due_at`` still advances. A family whose settings
  can't be read (e.g. an unknown timezone) is logged and looked at again a day later; it never
  stops the tick for everyone else.
- Concurrency: due families are read, their deliveries inserted with ``ON CONFLICT (family,
  local_date) DO NOTHING`` and ``next_due_at`` advanced in one transaction. PostgreSQL locks the
  batch ``FOR UPDATE SKIP LOCKED`` so parallel planners split the work; SQLite takes the write lock
  up front (``BEGIN IMMEDIATE``) so planners in several processes queue. The unique index on
  ``(family, local_date)`` is the final guarantee of one delivery per family and date.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ...db import db, is_postgres, write_transaction
from ...models import Delivery, Family, utcnow
from ..programme.reflection import has_checkins_this_week, is_reflection_day
from ..programme.selection import (
    PlanningDraws,
    PromptCache,
    SelectionContext,
    as_date,
    choose_prompt,
    id_list,
    remember,
)

log = logging.getLogger(__name__)

RETRY_BROKEN_AFTER = timedelta(days=1)
PLANNING_FIELDS = (Family.id, Family.timezone, Family.window_start, Family.window_end,
                   Family.days_of_week, Family.paused_until, Family.child_birth_month,
                   Family.created_at, Family.recent_prompts)
INSERT_FIELDS = (Delivery.family, Delivery.local_date, Delivery.prompt, Delivery.prompt_version,
                 Delivery.theme, Delivery.due_at, Delivery.expires_at, Delivery.status,
                 Delivery.attempts, Delivery.next_attempt_at, Delivery.created_at, Delivery.kind)
INSERT_CHUNK = 500  # rows per multi-row INSERT on PostgreSQL (12 parameters each)


class FamilySchedule(NamedTuple):
    """The Family columns planning reads (``PLANNING_FIELDS``), as a plain tuple: building 10,000
    model instances, and reading their fields through descriptors, was a real share of a busy tick.
    It answers everything the functions here and in selection ask of a ``Family``."""

    id: int
    timezone: str
    window_start: str
    window_end: str
    days_of_week: str
    paused_until: date | str | None  # text when SQLite hands it back raw
    child_birth_month: str
    created_at: datetime | str  # the programme's week counts from enrolment
    recent_prompts: str  # what selection must not repeat (services/programme/selection.py)

    def age_months(self, on: date | datetime | None = None) -> int:
        """The child's age in whole months on a date (``Family.age_months``)."""
        return Family.age_months(self, on)


# --- local time ----------------------------------------------------------------------------------

def local_today(family: Family, now: datetime) -> date:
    """The family's local date at the naive-UTC instant ``now``."""
    return _local_date(now, family.timezone)


@lru_cache(maxsize=1024)
def _local_date(now: datetime, timezone: str) -> date:
    return now.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).date()


@lru_cache(maxsize=8192)  # a batch shares few (zone, date, time) triples: convert each once
def _to_utc(local_date: date, at: str, timezone: str) -> datetime:
    # fold=0: a time in a gap is read with the offset before it (moves forward), a fold's first one
    aware = datetime.combine(local_date, time.fromisoformat(at), tzinfo=ZoneInfo(timezone))
    return aware.astimezone(UTC).replace(tzinfo=None)


def day_start(family: Family, local_date: date) -> datetime:
    """Local midnight starting ``local_date``, as naive UTC (a skipped midnight moves forward)."""
    return _to_utc(local_date, "00:00", family.timezone)


def local_window(family: Family, local_date: date) -> tuple[datetime, datetime]:
    """The window's start and end on that local date as naive UTC datetimes (non-existent local
    times in a DST gap move forward; ambiguous ones in a fold take the first occurrence)."""
    start = _to_utc(local_date, family.window_start, family.timezone)
    end = _to_utc(local_date, family.window_end, family.timezone)
    if end <= start:
        end = _to_utc(local_date + timedelta(days=1), "00:00", family.timezone)
    return start, end


def planned_times(family: Family, local_date: date,
                  draws: PlanningDraws | None = None) -> tuple[datetime, datetime]:
    """``(due_at, expires_at)`` for the family's delivery on ``local_date`` (deterministic)."""
    start, end = local_window(family, local_date)
    minutes = max(1, int((end - start).total_seconds() // 60))
    fraction = (draws or PlanningDraws(family.id, local_date)).window_fraction
    due_at = start + timedelta(minutes=int(fraction * minutes))
    return due_at, day_start(family, local_date + timedelta(days=1))


def is_allowed_day(family: Family, local_date: date) -> bool:
    """True when the family takes prompts on that local date (weekday chosen, not paused)."""
    paused_until = as_date(family.paused_until)
    if paused_until is not None and local_date <= paused_until:
        return False
    return str(local_date.weekday()) in (family.days_of_week or "")


def next_due_after(family: Family, now: datetime) -> datetime | None:
    """When the family should next be planned: the start (local midnight, in UTC) of the next
    allowed local day after now's local date, respecting days_of_week and paused_until; None never
    (pause just pushes it to the day after paused_until)."""
    day = local_today(family, now) + timedelta(days=1)
    paused_until = as_date(family.paused_until)
    if paused_until is not None and paused_until >= day:
        day = min(paused_until, date.max - timedelta(days=30)) + timedelta(days=1)
    for _ in range(7):
        if is_allowed_day(family, day):
            return day_start(family, day)
        day += timedelta(days=1)
    # No weekday chosen: nothing is planned, and the settings are looked at again in a week.
    return day_start(family, day)


# --- planning ------------------------------------------------------------------------------------

def plan_due_deliveries(now: datetime | None = None, limit: int = 5000) -> int:
    """One planning pass: every family with ``next_due_at <= now`` gets a Delivery for its current
    local date (see the module docstring) and its ``next_due_at`` advanced to the next allowed local
    day. Works in batches of ``limit`` families, each one transaction, until nothing is due.
    Returns the number of deliveries created (a date that already had one creates none)."""
    now = now or utcnow()
    prompts: PromptCache | None = None
    created = 0
    while _any_due(now):  # a plain read first, so an idle tick never takes the write lock
        with write_transaction():
            families = _lock_due_batch(now, limit)
            if families:
                prompts = prompts or PromptCache.load()
                created += _plan_batch(families, now, prompts)
        if len(families) < limit:
            break
    return created


def _any_due(now: datetime) -> bool:
    return Family.select(Family.id).where(Family.next_due_at <= now).limit(1).exists()


def _lock_due_batch(now: datetime, limit: int) -> list[FamilySchedule]:
    query = (Family.select(*PLANNING_FIELDS)
             .where(Family.next_due_at <= now)
             .order_by(Family.next_due_at, Family.id)
             .limit(limit))
    if is_postgres():
        query = query.for_update(skip_locked=True)
    return [FamilySchedule._make(row) for row in db.execute(query)]


def _plan_batch(families: list[FamilySchedule], now: datetime, prompts: PromptCache) -> int:
    """Plan one locked batch: choose prompts, insert deliveries, advance next_due_at."""
    to_plan: list[tuple[FamilySchedule, date]] = []
    next_due: dict[int, datetime] = {}
    shared: dict[tuple, tuple[date | None, datetime]] = {}
    for family in families:
        try:
            today, next_due[family.id] = _day_plan(family, now, shared)
            if today is not None:
                to_plan.append((family, today))
        except Exception:  # one family's bad settings must not stop everyone's prompts
            log.exception("Cannot plan family %s; trying again in a day", family.id)
            next_due[family.id] = now + RETRY_BROKEN_AFTER
    context = SelectionContext.load(to_plan, now, prompts)
    rows, created_at = [], utcnow()
    for family, today in to_plan:
        try:
            row = _delivery_row(family, today, now, context, created_at)
        except Exception:  # e.g. an unreadable birth month: skip this family, not the batch
            log.exception("Cannot choose a prompt for family %s; trying again in a day", family.id)
            next_due[family.id] = now + RETRY_BROKEN_AFTER
            continue
        if row is not None:
            rows.append(row)
    created = _insert_ignoring_existing(sorted(rows))  # in index order: fewer pages touched
    recent = {family.id: family.recent_prompts for family, _ in to_plan}
    remembered = {row[0]: remember(recent.get(row[0]), row[1], row[2], context.repeat_days)
                  for row in rows if row[2] is not None}  # a reflection sends no prompt
    _set_next_due(next_due, remembered)
    return created


def _day_plan(family: Family, now: datetime,
              shared: dict[tuple, tuple[date | None, datetime]]) -> tuple[date | None, datetime]:
    """``(local date to plan today or None, next next_due_at)`` for the family at ``now``; families
    with the same schedule settings share the answer (``shared`` lives for one batch)."""
    key = (family.timezone, family.window_start, family.window_end, family.days_of_week,
           family.paused_until)
    if key not in shared:
        today = local_today(family, now)
        possible = is_allowed_day(family, today) and local_window(family, today)[1] > now
        shared[key] = (today if possible else None, next_due_after(family, now))
    return shared[key]


def _delivery_row(family: Family, local_date: date, now: datetime,
                 context: SelectionContext | None = None,
                 created_at: datetime | None = None) -> tuple | None:
    """The Delivery row (values of ``INSERT_FIELDS``) to insert for ``family`` on ``local_date``,
    or None when there is no prompt to send. The last prompt day of the family's week with a
    check-in to look back on is the weekly reflection instead (programme/reflection.py)."""
    draws = PlanningDraws(family.id, local_date)
    if is_reflection_day(family, local_date):
        state = context.state(family, local_date) if context is not None else None
        if state is None:
            context = SelectionContext.load([(family, local_date)], now,
                                            context.prompts if context is not None else None)
            state = context.state(family, local_date)
        if has_checkins_this_week(state.checkins, family, local_date):
            due_at, expires_at = planned_times(family, local_date, draws)
            return (family.id, local_date, None, None, None, due_at, expires_at, "pending", 0, due_at,
                    created_at or utcnow(), "reflection")
    prompt = choose_prompt(family, local_date, now, context, draws)
    if prompt is None:
        log.warning("No published prompt (in its languages) for family %s on %s", family.id, local_date)
        return None
    due_at, expires_at = planned_times(family, local_date, draws)
    return (family.id, local_date, prompt.id, prompt.version, prompt.theme, due_at, expires_at,
            "pending", 0, due_at, created_at or utcnow(), "prompt")


def _insert_ignoring_existing(rows: list[tuple]) -> int:
    """Insert rows, skipping any (family, local_date) that already has a delivery; the count added.

    Written by hand: peewee builds SQL value by value, which cost ten times the database's own work
    for 10,000 rows. ``ON CONFLICT (…) DO NOTHING`` means the same on SQLite (3.24+) and PostgreSQL
    and ignores only the unique index's conflict, never another error. SQLite runs one prepared
    statement per row (``executemany``, the fastest there); PostgreSQL gets multi-row statements,
    one round trip per ``INSERT_CHUNK`` rows.
    """
    if not rows:
        return 0
    columns = ", ".join(f'"{field.column_name}"' for field in INSERT_FIELDS)
    one_row = "(" + ", ".join([db.param] * len(INSERT_FIELDS)) + ")"
    head = f'INSERT INTO "{Delivery._meta.table_name}" ({columns}) VALUES '
    tail = ' ON CONFLICT ("family_id", "local_date") DO NOTHING'
    if not is_postgres():
        cursor = db.cursor()
        cursor.executemany(head + one_row + tail, rows)
        return cursor.rowcount
    created = 0
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start:start + INSERT_CHUNK]
        sql = head + ", ".join([one_row] * len(chunk)) + tail
        created += db.execute_sql(sql, [value for row in chunk for value in row]).rowcount
    return created


def _set_next_due(next_due: dict[int, datetime], remembered: dict[int, str] | None = None) -> None:
    """Advance ``next_due_at``; a family given a prompt also gets its new ``recent_prompts`` in the
    same write (one prepared UPDATE run per family: each row is rewritten once, not twice)."""
    remembered = remembered or {}
    values = [(Family.next_due_at.db_value(next_due[family_id]), text, family_id)
              for family_id, text in sorted(remembered.items())]
    if values and not is_postgres():
        db.cursor().executemany('UPDATE "family" SET "next_due_at" = ?, "recent_prompts" = ? '
                                'WHERE "id" = ?', values)
    for start in range(0, len(values) if is_postgres() else 0, INSERT_CHUNK):  # one round trip a chunk
        chunk = values[start:start + INSERT_CHUNK]
        rows = ", ".join(["(%s::timestamp, %s, %s)"] * len(chunk))
        db.execute_sql(f'UPDATE "family" AS f SET "next_due_at" = v.due, "recent_prompts" = v.recent '
                       f"FROM (VALUES {rows}) AS v(due, recent, id) WHERE f.id = v.id",
                       [value for row in chunk for value in row])
    # Families of one timezone and schedule share a value: one UPDATE per value, not per family.
    by_value: dict[datetime, list[int]] = defaultdict(list)
    for family_id, value in next_due.items():
        if family_id in remembered:
            continue
        by_value[value].append(family_id)
    for value in sorted(by_value):
        Family.update(next_due_at=value).where(Family.id.in_(id_list(sorted(by_value[value])))).execute()


# --- settings changes ----------------------------------------------------------------------------

def reschedule_family(family: Family, now: datetime | None = None) -> None:
    """Call after settings change (window, days, timezone, pause): recomputes next_due_at so a
    change takes effect today if today's delivery hasn't been planned yet and is still possible,
    never creating a second delivery for a date that has one.

    Today's delivery that was planned but never attempted follows the new settings too: it is
    re-timed into the new window, or removed when today is now paused, not a chosen weekday, or the
    new window has already ended (a prompt never goes out against the parent's new wishes)."""
    now = now or utcnow()
    today = local_today(family, now)
    possible = is_allowed_day(family, today) and local_window(family, today)[1] > now
    with write_transaction():
        planned = Delivery.get_or_none(Delivery.family == family.id, Delivery.local_date == today)
        if planned is not None and planned.status == "pending" and planned.attempts == 0:
            if _follow_new_settings(planned, family, today, possible):
                planned = None
        if planned is None and possible:
            value = min(day_start(family, today), now)
        else:
            value = next_due_after(family, now)
        Family.update(next_due_at=value).where(Family.id == family.id).execute()
    family.next_due_at = value


def _follow_new_settings(planned: Delivery, family: Family, today: date, possible: bool) -> bool:
    """Re-time or remove a delivery not yet attempted; True when it was removed."""
    untouched = ((Delivery.id == planned.id) & (Delivery.status == "pending")
                 & (Delivery.attempts == 0))
    if not possible:
        return Delivery.delete().where(untouched).execute() > 0
    due_at, expires_at = planned_times(family, today)
    Delivery.update(due_at=due_at, next_attempt_at=due_at, expires_at=expires_at).where(
        untouched).execute()
    return False
