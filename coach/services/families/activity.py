"""A caseload's activity, loaded in a fixed number of queries whatever its size, and the date
helpers the engagement rules use.

Each query covers every family in the caseload at once (``family_id IN (subquery)``) and returns
plain driver tuples: a 200-family caseload is thousands of rows, so the loops here parse only what
they use and map moments to local days by bisecting each timezone's local midnights.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from math import ceil, floor
from typing import NamedTuple
from zoneinfo import ZoneInfo

from peewee import SQL, Case, Cast, ModelSelect, fn

from ...db import db, is_postgres
from ...models import Caregiver, CheckIn, ContactLog, Delivery, Family, PushSubscription, SupportRequest
from .streaks import LOOKBACK_DAYS

# --- dates ---------------------------------------------------------------------------------------

@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar date of a naive-UTC moment in an IANA timezone."""
    return moment.replace(tzinfo=UTC).astimezone(_zone(timezone)).date()


def local_time(moment: datetime, timezone: str) -> datetime:
    """A naive-UTC moment as an aware datetime in an IANA timezone."""
    return moment.replace(tzinfo=UTC).astimezone(_zone(timezone))


def as_datetime(value: object) -> datetime | None:
    """Aggregates over expressions come back as text on SQLite and as datetimes on PostgreSQL."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


_EPOCH = datetime(1970, 1, 1)
_HOUR = timedelta(hours=1)
_HOURS = [f"{hour:02}" for hour in range(24)]


class _LocalDays:
    """Maps naive-UTC moments to one timezone's local dates over a range of days, fast enough for
    a year of check-ins: SQLite's ISO text is looked up by its UTC hour (``"2026-03-20 18"``), other
    values by bisecting the UTC instants of the local midnights. Built once a day (see local_days)."""

    def __init__(self, timezone: str, first: date, last: date):
        zone = _zone(timezone)
        self.timezone = timezone
        self.days = [first + timedelta(days=n) for n in range((last - first).days + 2)]
        self.instants = [datetime.combine(day, datetime.min.time(), zone).astimezone(UTC).replace(tzinfo=None)
                         for day in self.days]
        self.texts = [instant.isoformat(" ") for instant in self.instants]
        # Every UTC hour that lies inside one local day, by its ISO prefix; an hour holding a local
        # midnight (offsets like +5:30) is left out, and its values are bisected one by one.
        self.by_hour: dict[str, date] = {}
        dates: dict[int, str] = {}
        for index, day in enumerate(self.days[:-1]):
            first_hour = ceil((self.instants[index] - _EPOCH) / _HOUR)
            for hour in range(first_hour, floor((self.instants[index + 1] - _EPOCH) / _HOUR)):
                utc_day = hour // 24
                prefix = dates.get(utc_day) or dates.setdefault(
                    utc_day, (_EPOCH.date() + timedelta(days=utc_day)).isoformat() + " ")
                self.by_hour[prefix + _HOURS[hour % 24]] = day

    def day(self, value: object) -> date:
        """The local date of one moment (a datetime, or ISO text)."""
        if isinstance(value, str):
            found = self.by_hour.get(value[:13])
            if found is not None:
                return found
        keys = self.texts if isinstance(value, str) else self.instants
        index = bisect_right(keys, value)
        if 0 < index < len(keys):
            return self.days[index - 1]
        return local_date(as_datetime(value), self.timezone)  # outside the prepared range

    def days_of(self, values: list) -> set[date]:
        """The local dates of many moments (the hot loop: a dictionary lookup per text value)."""
        by_hour, day = self.by_hour, self.day
        if values and isinstance(values[0], str):
            return {by_hour.get(value[:13]) or day(value) for value in values}
        return {day(value) for value in values}


@lru_cache(maxsize=32)
def local_days(timezone: str, first: date, last: date) -> _LocalDays:
    """The day finder for a timezone and range; the ranges move once a day, so this is reused."""
    return _LocalDays(timezone, first, last)


def as_date(value: object) -> date:
    """A date from the driver: a date, or ISO text on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def made_at(client_created_at: datetime, received_at: datetime) -> datetime:
    """When a check-in was made: the client's time, but never later than the server received it."""
    return min(client_created_at, received_at)



# --- loading ------------------------------------------------------------------------------------

class LastContact(NamedTuple):
    """A family's latest logged contact: when (``on``, the family's local date), its kind and
    outcome, and the next step's date if one was set."""

    on: date
    kind: str
    outcome: str
    next_step_on: date | None


@dataclass
class Activity:
    """A caseload's recent activity, keyed by family id.

    ``deliveries`` maps a local date to ``(status, opened, checked_in)``: whether the prompt was
    opened and whether any check-in is linked to it.
    """

    deliveries: dict[int, dict[date, tuple[str, bool, bool]]] = field(default_factory=dict)
    checkin_days: dict[int, set[date]] = field(default_factory=dict)
    last_checkin: dict[int, datetime] = field(default_factory=dict)
    devices: dict[int, tuple[int, int, datetime | None]] = field(default_factory=dict)
    support: dict[int, tuple[int, datetime]] = field(default_factory=dict)
    contacts: dict[int, LastContact] = field(default_factory=dict)


def database_identity() -> tuple:
    """Which database this is (file or name, and schema): part of the keys of anything remembered."""
    return (db.obj.database, str(db.obj.connect_params.get("options", "")))


def _rows(query) -> list[tuple]:
    """Plain tuples from the driver, unconverted: the loops below parse only what they use."""
    return db.execute(query).fetchall()


def _joined(expr):
    """A group's values as one comma-separated text: one row per family instead of one per
    delivery or check-in (the driver's per-row cost is where a big caseload spends its time)."""
    if is_postgres():
        return fn.string_agg(Cast(expr, "text"), ",")
    return fn.group_concat(expr, ",")


def _flag(condition) -> Case:
    return Case(None, [(condition, "1")], "0")


def _made_expr():
    """``min(client_created_at, received_at)`` in SQL: when a check-in was made (see made_at)."""
    return Case(None, [(CheckIn.client_created_at < CheckIn.received_at, CheckIn.client_created_at)],
                CheckIn.received_at)


def _load_deliveries(data: Activity, scope, since: date) -> None:
    """Each family's deliveries since ``since``, as ``date:status:opened:checked_in`` entries."""
    linked = fn.EXISTS(CheckIn.select(CheckIn.id).where(CheckIn.delivery == Delivery.id))
    entry = (Cast(Delivery.local_date, "text").concat(":").concat(Delivery.status).concat(":")
             .concat(_flag(Delivery.opened_at.is_null(False))).concat(":").concat(_flag(linked)))
    rows = _rows(Delivery.select(Delivery.family, _joined(entry))
                 .where(Delivery.family.in_(scope), Delivery.local_date >= since).group_by(Delivery.family))
    dates: dict[str, date] = {}
    for family_id, joined in rows:
        days = data.deliveries[family_id] = {}
        for item in joined.split(","):
            day, status, opened, checked = item.split(":")
            when = dates.get(day) or dates.setdefault(day, date.fromisoformat(day[:10]))
            days[when] = (status, opened == "1", checked == "1")


def _load_checkins(data: Activity, scope, families: dict[int, Family], since: date, now: datetime) -> None:
    """Check-in days in the window, then the last check-in of families with none made in it.

    A check-in received before the window was also made before it, so a family whose latest
    window check-in was made inside the window needs no second look.
    """
    received_since = datetime.combine(since, datetime.min.time()) - timedelta(days=1)
    rows = _rows(CheckIn.select(CheckIn.family, _joined(_made_expr()))
                 .where(CheckIn.family.in_(scope), CheckIn.received_at >= received_since)
                 .group_by(CheckIn.family))
    first, last = since - timedelta(days=2), now.date() + timedelta(days=2)
    for family_id, joined in rows:
        family = families.get(family_id)
        if family is not None:
            made = joined.split(",")
            data.checkin_days[family_id] = local_days(family.timezone, first, last).days_of(made)
            data.last_checkin[family_id] = as_datetime(max(made))
    older = [family_id for family_id in families
             if data.last_checkin.get(family_id, received_since) <= received_since]
    if older:
        rows = _rows(CheckIn.select(CheckIn.family, fn.MAX(_made_expr()))
                     .where(CheckIn.family.in_(older)).group_by(CheckIn.family))
        data.last_checkin.update((family_id, as_datetime(made)) for family_id, made in rows)


def load_activity(scope, families: dict[int, Family], since: date, now: datetime,
                  ok_since: datetime) -> Activity:
    """One query per kind of data, over every family in ``scope`` at once (5, or 4 when no family
    needs an older last check-in)."""
    data = Activity()
    _load_deliveries(data, scope, since)
    _load_checkins(data, scope, families, since, now)
    working = Case(None, [((PushSubscription.error_count == 0) | (PushSubscription.last_ok_at >= ok_since), 1)], 0)
    rows = _rows(PushSubscription.select(Family.id, fn.COUNT(PushSubscription.id), fn.SUM(working),
                                         fn.MAX(PushSubscription.last_ok_at))
                 .join(Caregiver, on=(Caregiver.user == PushSubscription.user))
                 .join(Family, on=(Family.id == Caregiver.family))  # every caregiver's devices
                 .where(Family.id.in_(scope)).group_by(Family.id))
    data.devices = {family_id: (count, int(ok or 0), as_datetime(last_ok))
                    for family_id, count, ok, last_ok in rows}
    rows = _rows(SupportRequest.select(SupportRequest.family, fn.COUNT(SupportRequest.id),
                                       fn.MIN(SupportRequest.created_at))
                 .where(SupportRequest.family.in_(scope), SupportRequest.followed_up_at.is_null())
                 .group_by(SupportRequest.family))
    data.support = {family_id: (count, as_datetime(first)) for family_id, count, first in rows}
    latest = ContactLog.alias("newer")
    rows = _rows(ContactLog.select(ContactLog.family, _contact_text(ContactLog))
                 .where(ContactLog.family.in_(scope), ~fn.EXISTS(
                     latest.select(SQL("1")).where(latest.family == ContactLog.family,
                                                   latest.id > ContactLog.id))))
    data.contacts = {family_id: parse_contact(text, families[family_id].timezone)
                     for family_id, text in rows if family_id in families}
    return data


def _contact_text(model):
    """A contact as one text, ``created_at|kind|outcome|next_step_on``: the same on both databases."""
    return (Cast(model.created_at, "text").concat("|").concat(model.kind).concat("|")
            .concat(model.outcome).concat("|").concat(fn.COALESCE(Cast(model.next_step_on, "text"), "")))


def parse_contact(text: str | None, timezone: str) -> LastContact | None:
    """The LastContact from ``_contact_text``'s text (None for a family never contacted)."""
    if not text:
        return None
    created, kind, outcome, next_step = text.split("|")
    return LastContact(local_date(as_datetime(created), timezone), kind, outcome,
                       as_date(next_step) if next_step else None)


#: The caseload index's columns, in order (see caseload_index).
INDEX_COLUMNS = ("id", "display_name", "timezone", "created_at", "paused_until", "days_of_week",
                 "recent_made", "last_made", "open_support", "last_contact")


def caseload_index(families: ModelSelect, now: datetime) -> list[tuple]:
    """One row per family of ``families`` (a ``Family.select()`` with its filters), with what the
    call order and the engagement rules need, in one query: every family of a 10,000-family caseload
    costs a few index seeks, never a scan of its history.

    ``recent_made``: when each check-in received in the last 8 days was made (joined text);
    ``last_made``: when the latest received check-in was made (for families quiet for 8 days);
    ``open_support``: support requests not followed up; ``last_contact``: ``_contact_text``.
    """
    recent = (CheckIn.select(_joined(_made_expr()))
              .where(CheckIn.family == Family.id, CheckIn.received_at >= now - timedelta(days=8)))
    last = (CheckIn.select(_made_expr()).where(CheckIn.family == Family.id)
            .order_by(CheckIn.received_at.desc()).limit(1))
    support = (SupportRequest.select(fn.COUNT(SupportRequest.id))
               .where(SupportRequest.family == Family.id, SupportRequest.followed_up_at.is_null()))
    contact = ContactLog.alias("latest_contact")
    latest = (contact.select(_contact_text(contact)).where(contact.family == Family.id)
              .order_by(contact.id.desc()).limit(1))
    query = families.select(Family.id, Family.display_name, Family.timezone, Family.created_at,
                            Family.paused_until, Family.days_of_week, recent.alias("recent_made"),
                            last.alias("last_made"), support.alias("open_support"),
                            latest.alias("last_contact"))
    return _rows(query)


def older_fingerprints(families: dict[int, Family], before: datetime) -> dict[int, tuple[int, str]]:
    """How many check-ins each family had received before ``before``, and the latest receipt: an
    index-only query that tells whether their older days can have changed."""
    rows = _rows(CheckIn.select(CheckIn.family, fn.COUNT(SQL("*")), fn.MAX(CheckIn.received_at))
                 .where(CheckIn.family.in_(list(families)), CheckIn.received_at < before)
                 .group_by(CheckIn.family))
    return {family_id: (count, str(latest)) for family_id, count, latest in rows}


def older_checkin_days(families: dict[int, Family],
                       before: datetime) -> tuple[dict[int, set[date]], dict[int, tuple[int, str]]]:
    """Every check-in day received before ``before`` for the families whose streak needs them, and
    the same fingerprint of those check-ins as ``older_fingerprints`` gives."""
    rows = _rows(CheckIn.select(CheckIn.family, _joined(_made_expr()), fn.COUNT(SQL("*")),
                                fn.MAX(CheckIn.received_at))
                 .where(CheckIn.family.in_(list(families)), CheckIn.received_at < before)
                 .group_by(CheckIn.family))
    first, last = before.date() - timedelta(days=LOOKBACK_DAYS), before.date() + timedelta(days=1)
    days = {family_id: local_days(families[family_id].timezone, first, last).days_of(joined.split(","))
            for family_id, joined, _count, _latest in rows}
    return days, {family_id: (count, str(latest)) for family_id, _joined, count, latest in rows}
