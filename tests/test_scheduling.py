"""Planning deliveries: local dates, windows across DST, weekdays, pauses, idempotence, settings
changes and the cost of a tick (coach/services/delivery/scheduling.py)."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest

from coach.db import db
from coach.models import STRAND_WEEKS, THEME_STRANDS, Delivery, Family, Prompt
from coach.services.delivery import scheduling
from coach.services.delivery.scheduling import (
    local_window,
    next_due_after,
    plan_due_deliveries,
    reschedule_family,
)

from .factories import make_family

MONDAY = date(2026, 11, 23)


def at(text: str) -> datetime:
    """A naive UTC instant from ISO text."""
    return datetime.fromisoformat(text)


@pytest.fixture
def library(app):
    """One published prompt per theme for every age: planning needs a prompt, not the starter set."""
    for theme in ("cues", "rupture", "repair"):
        strand = THEME_STRANDS[theme]
        Prompt.create(theme=theme, skill="s", title=f"A {theme} prompt", body="b", question="q",
                      answers=[{"label": "Yes", "tried": "yes"}], status="published",
                      strand=strand, week=STRAND_WEEKS[strand])


def due_family(now: datetime, **kwargs) -> Family:
    """A family due for planning at ``now`` (London, 18:00–20:00 unless told otherwise)."""
    return make_family(next_due_at=now - timedelta(minutes=1), **kwargs)


def deliveries(family: Family) -> list[Delivery]:
    return list(Delivery.select().where(Delivery.family == family.id).order_by(Delivery.local_date))


def reload(family: Family) -> Family:
    return Family.get_by_id(family.id)


# --- windows across DST ---------------------------------------------------------------------------

@pytest.mark.parametrize("zone, day, start, end", [
    # spring forward: 02:00→03:00 in New York, 01:00→02:00 in London; 01:30 EST is 06:30 UTC
    ("America/New_York", date(2026, 3, 8), at("2026-03-08T06:30"), at("2026-03-08T07:30")),
    ("Europe/London", date(2026, 3, 29), at("2026-03-29T01:30"), at("2026-03-29T02:30")),
    # fall back: 01:30 happens twice; the window starts at the first one and lasts three real hours
    ("America/New_York", date(2026, 11, 1), at("2026-11-01T05:30"), at("2026-11-01T08:30")),
    ("Europe/London", date(2026, 10, 25), at("2026-10-25T00:30"), at("2026-10-25T03:30")),
])
def test_window_straddling_dst_change(app, zone, day, start, end):
    family = make_family(timezone=zone, window_start="01:30", window_end="03:30")
    assert local_window(family, day) == (start, end)


def test_time_in_the_gap_moves_forward(app):
    family = make_family(timezone="America/New_York", window_start="02:30", window_end="02:45")
    # 02:30 does not exist on 8 March 2026; it is read as 03:30 EDT (07:30 UTC)
    assert local_window(family, date(2026, 3, 8)) == (at("2026-03-08T07:30"), at("2026-03-08T07:45"))


@pytest.mark.parametrize("zone, day, tick, expires", [
    ("America/New_York", date(2026, 3, 8), at("2026-03-08T05:00"), at("2026-03-09T04:00")),
    ("Europe/London", date(2026, 3, 29), at("2026-03-29T00:10"), at("2026-03-29T23:00")),
    ("America/New_York", date(2026, 11, 1), at("2026-11-01T04:10"), at("2026-11-02T05:00")),
    ("Europe/London", date(2026, 10, 25), at("2026-10-24T23:10"), at("2026-10-26T00:00")),
])
def test_planning_on_dst_days(library, zone, day, tick, expires):
    family = due_family(tick, timezone=zone, window_start="01:30", window_end="03:30")
    assert plan_due_deliveries(now=tick) == 1
    [delivery] = deliveries(family)
    start, end = local_window(family, day)
    assert delivery.local_date == day
    assert start <= delivery.due_at < end
    assert delivery.due_at.second == 0 and delivery.next_attempt_at == delivery.due_at
    assert delivery.expires_at == expires  # the next local midnight; that day is 23 or 25 hours long


def test_window_ending_before_it_starts_ends_at_midnight(app):
    family = make_family(timezone="UTC", window_start="22:00", window_end="01:00")
    assert local_window(family, MONDAY) == (at("2026-11-23T22:00"), at("2026-11-24T00:00"))


# --- who is planned, for which date ---------------------------------------------------------------

def test_auckland_and_los_angeles_get_their_own_local_dates(library):
    now = at("2026-11-20T20:00")  # Saturday 09:00 in Auckland, Friday 12:00 in Los Angeles
    auckland = due_family(now, timezone="Pacific/Auckland")
    los_angeles = due_family(now, timezone="America/Los_Angeles")
    assert plan_due_deliveries(now=now) == 2
    [nz] = deliveries(auckland)
    [la] = deliveries(los_angeles)
    assert nz.local_date == date(2026, 11, 21)
    assert at("2026-11-21T05:00") <= nz.due_at < at("2026-11-21T07:00")
    assert la.local_date == date(2026, 11, 20)
    assert at("2026-11-21T02:00") <= la.due_at < at("2026-11-21T04:00")
    assert reload(auckland).next_due_at == at("2026-11-21T11:00")  # Sunday 00:00 NZDT
    assert reload(los_angeles).next_due_at == at("2026-11-21T08:00")  # Saturday 00:00 PST


def test_mon_wed_fri_only(library):
    family = due_family(at("2026-11-23T09:00"), days_of_week="024")
    assert plan_due_deliveries(now=at("2026-11-23T09:00")) == 1  # Monday
    assert reload(family).next_due_at == at("2026-11-25T00:00")  # Wednesday (London is on GMT)
    assert plan_due_deliveries(now=at("2026-11-24T12:00")) == 0  # nothing due on Tuesday
    assert plan_due_deliveries(now=at("2026-11-25T00:00")) == 1
    assert reload(family).next_due_at == at("2026-11-27T00:00")  # Friday
    assert plan_due_deliveries(now=at("2026-11-27T00:00")) == 1
    assert reload(family).next_due_at == at("2026-11-30T00:00")  # Monday again
    assert [d.local_date.weekday() for d in deliveries(family)] == [0, 2, 4]


def test_a_day_that_is_not_chosen_gets_nothing_and_moves_on(library):
    family = due_family(at("2026-11-24T09:00"), days_of_week="024")  # due on a Tuesday
    assert plan_due_deliveries(now=at("2026-11-24T09:00")) == 0
    assert reload(family).next_due_at == at("2026-11-25T00:00")


def test_pause_skips_days_up_to_and_including_paused_until(library):
    now = at("2026-11-23T09:00")
    family = due_family(now, paused_until=date(2026, 11, 25))
    assert plan_due_deliveries(now=now) == 0
    assert reload(family).next_due_at == at("2026-11-26T00:00")
    assert plan_due_deliveries(now=at("2026-11-26T00:00")) == 1
    assert deliveries(family)[0].local_date == date(2026, 11, 26)


def test_next_due_after_respects_weekdays_and_pause(app):
    family = make_family(timezone="America/New_York", days_of_week="4",
                         paused_until=date(2026, 11, 27))
    # Friday 27th is paused, so the next Friday; 00:00 EST is 05:00 UTC
    assert next_due_after(family, at("2026-11-23T15:00")) == at("2026-12-04T05:00")
    family.paused_until = None
    assert next_due_after(family, at("2026-11-23T15:00")) == at("2026-11-27T05:00")
    # Late on Friday evening local (already Saturday in UTC): the next Friday, never today
    assert next_due_after(family, at("2026-11-28T03:00")) == at("2026-12-04T05:00")


def test_no_weekday_chosen_plans_nothing_and_looks_again_within_a_week(library):
    now = at("2026-11-23T09:00")
    family = due_family(now, days_of_week="")
    assert plan_due_deliveries(now=now) == 0
    assert now < reload(family).next_due_at <= now + timedelta(days=8)


def test_scheduler_down_for_three_days_sends_one_prompt_for_today(library):
    family = make_family(next_due_at=at("2026-11-20T00:00"))
    now = at("2026-11-23T09:00")
    assert plan_due_deliveries(now=now) == 1
    assert [d.local_date for d in deliveries(family)] == [date(2026, 11, 23)]
    assert reload(family).next_due_at == at("2026-11-24T00:00")


def test_window_already_ended_skips_to_the_next_day(library):
    now = at("2026-11-23T21:00")  # London 21:00; the window was 18:00–20:00
    family = due_family(now)
    assert plan_due_deliveries(now=now) == 0
    assert deliveries(family) == []
    assert reload(family).next_due_at == at("2026-11-24T00:00")


def test_inside_the_window_plans_today(library):
    now = at("2026-11-23T19:30")
    family = due_family(now)
    assert plan_due_deliveries(now=now) == 1
    [delivery] = deliveries(family)
    assert delivery.local_date == MONDAY
    assert at("2026-11-23T18:00") <= delivery.due_at < at("2026-11-23T20:00")


def test_delivery_records_prompt_theme_version_and_times(library):
    now = at("2026-11-23T00:05")
    family = due_family(now)
    plan_due_deliveries(now=now)
    [delivery] = deliveries(family)
    assert delivery.status == "pending" and delivery.attempts == 0
    assert delivery.prompt.status == "published"
    assert delivery.theme == delivery.prompt.theme == "cues"
    assert delivery.prompt_version == delivery.prompt.version
    assert delivery.expires_at == at("2026-11-24T00:00")


def test_due_time_is_deterministic(library):
    now = at("2026-11-23T00:05")
    family = due_family(now, window_start="07:00", window_end="21:00")
    plan_due_deliveries(now=now)
    first = deliveries(family)[0].due_at
    Delivery.delete().execute()
    Family.update(next_due_at=now).execute()
    plan_due_deliveries(now=now)
    assert deliveries(family)[0].due_at == first
    assert first == scheduling.planned_times(reload(family), MONDAY)[0]


def test_planning_twice_is_idempotent(library):
    now = at("2026-11-23T09:00")
    family = due_family(now)
    assert plan_due_deliveries(now=now) == 1
    assert plan_due_deliveries(now=now) == 0
    Family.update(next_due_at=now).execute()  # as if another planner had not seen the advance
    assert plan_due_deliveries(now=now) == 0
    assert len(deliveries(family)) == 1
    assert reload(family).next_due_at == at("2026-11-24T00:00")


def test_batches_loop_until_nothing_is_due(library):
    now = at("2026-11-23T09:00")
    families = [due_family(now) for _ in range(7)]
    assert plan_due_deliveries(now=now, limit=3) == 7
    assert all(len(deliveries(f)) == 1 for f in families)


def test_unscheduled_and_broken_families_do_not_stop_the_tick(library):
    now = at("2026-11-23T09:00")
    make_family(next_due_at=None)
    broken = due_family(now, timezone="Mars/Olympus_Mons")
    healthy = due_family(now)
    assert plan_due_deliveries(now=now) == 1
    assert len(deliveries(healthy)) == 1
    assert reload(broken).next_due_at == now + timedelta(days=1)


def test_no_published_prompt_creates_nothing_but_moves_on(app):
    now = at("2026-11-23T09:00")
    family = due_family(now)
    assert plan_due_deliveries(now=now) == 0
    assert reload(family).next_due_at == at("2026-11-24T00:00")


def test_two_planners_at_once_create_one_delivery_per_family(library, app):
    now = at("2026-11-23T09:00")
    families = [due_family(now) for _ in range(60)]
    results, errors = [], []
    barrier = threading.Barrier(2)

    def planner():
        with app.app_context(), db.connection_context():
            barrier.wait()
            try:
                results.append(plan_due_deliveries(now=now, limit=7))
            except Exception as error:  # noqa: BLE001 - the assertion below reports it
                errors.append(error)

    threads = [threading.Thread(target=planner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(results) == 60
    assert Delivery.select().count() == 60
    assert all(len(deliveries(f)) == 1 for f in families)


# --- settings changes -----------------------------------------------------------------------------

def test_reschedule_makes_a_new_window_count_today(library):
    now = at("2026-11-23T20:30")
    family = due_family(now)
    assert plan_due_deliveries(now=now) == 0  # 18:00–20:00 is over
    family.window_start, family.window_end = "21:00", "22:00"
    family.save()
    reschedule_family(family, now=now)
    assert reload(family).next_due_at <= now
    assert plan_due_deliveries(now=now) == 1
    [delivery] = deliveries(family)
    assert delivery.local_date == MONDAY
    assert at("2026-11-23T21:00") <= delivery.due_at < at("2026-11-23T22:00")


def test_reschedule_retimes_todays_planned_delivery_without_a_second(library):
    now = at("2026-11-23T09:00")
    family = due_family(now)
    plan_due_deliveries(now=now)
    family.window_start, family.window_end = "12:00", "13:00"
    family.save()
    reschedule_family(family, now=now)
    assert reload(family).next_due_at == at("2026-11-24T00:00")
    assert plan_due_deliveries(now=now) == 0
    [delivery] = deliveries(family)
    assert at("2026-11-23T12:00") <= delivery.due_at < at("2026-11-23T13:00")
    assert delivery.next_attempt_at == delivery.due_at


def test_reschedule_keeps_a_delivery_already_sent(library):
    now = at("2026-11-23T19:00")
    family = due_family(now)
    plan_due_deliveries(now=now)
    Delivery.update(status="sent", attempts=1).execute()
    sent_due = deliveries(family)[0].due_at
    family.window_start, family.window_end = "19:30", "21:00"
    family.save()
    reschedule_family(family, now=now)
    assert plan_due_deliveries(now=now) == 0
    [delivery] = deliveries(family)
    assert delivery.status == "sent" and delivery.due_at == sent_due
    assert reload(family).next_due_at == at("2026-11-24T00:00")


def test_reschedule_after_pausing_today_withdraws_the_unsent_prompt(library):
    now = at("2026-11-23T09:00")
    family = due_family(now)
    plan_due_deliveries(now=now)
    family.paused_until = date(2026, 11, 24)
    family.save()
    reschedule_family(family, now=now)
    assert deliveries(family) == []
    assert reload(family).next_due_at == at("2026-11-25T00:00")


def test_reschedule_after_a_timezone_change_uses_the_new_local_day(library):
    now = at("2026-11-23T09:00")
    family = make_family(next_due_at=at("2026-11-24T00:00"))  # today's window has been dealt with
    family.timezone = "Pacific/Auckland"  # 22:00 there; 18:00–20:00 is over
    family.save()
    reschedule_family(family, now=now)
    assert reload(family).next_due_at == at("2026-11-23T11:00")  # Tuesday 00:00 NZDT
    family.window_start, family.window_end = "22:30", "23:30"
    family.save()
    reschedule_family(family, now=now)
    assert reload(family).next_due_at <= now
    assert plan_due_deliveries(now=now) == 1
    assert deliveries(family)[0].local_date == MONDAY


# --- cost of a tick -------------------------------------------------------------------------------

class QueryCounter:
    """Counts the SQL statements the live database executes."""

    def __init__(self, monkeypatch):
        self.statements: list[str] = []
        real = db.obj.execute_sql

        def counting(sql, params=None, *args, **kwargs):
            self.statements.append(sql)
            return real(sql, params, *args, **kwargs)

        monkeypatch.setattr(db.obj, "execute_sql", counting)

    def run(self, fn, *args, **kwargs):
        self.statements.clear()
        result = fn(*args, **kwargs)
        return result, len(self.statements)


def test_an_idle_tick_costs_the_same_whatever_is_enrolled(library, monkeypatch):
    now = at("2026-11-23T09:00")
    for _ in range(3):
        make_family(next_due_at=now + timedelta(hours=3))
    counter = QueryCounter(monkeypatch)
    _, few = counter.run(plan_due_deliveries, now=now)
    for _ in range(30):
        make_family(next_due_at=now + timedelta(hours=3))
    _, many = counter.run(plan_due_deliveries, now=now)
    assert few == many == 1


def test_a_busy_tick_costs_the_same_for_3_or_30_due_families(library, monkeypatch):
    now = at("2026-11-23T09:00")
    counter = QueryCounter(monkeypatch)
    for _ in range(3):
        due_family(now)
    created, few = counter.run(plan_due_deliveries, now=now)
    assert created == 3
    for _ in range(30):
        due_family(now)
    created, many = counter.run(plan_due_deliveries, now=now)
    assert created == 30
    assert few == many
