"""Engagement rules (coach/services/families/engagement.py): each status at its boundaries with a time-travelled
clock, the funnel metrics on a hand-built history with known answers, streaks and the activity strip.

The small ``add_*`` helpers here build history rows; the worker page tests import them too.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

import pytest

from coach.models import CheckIn, ContactLog, Delivery, Family, PushSubscription, SupportRequest
from coach.services.families import engagement, long_streaks
from coach.services.families.activity import LastContact, caseload_index, local_days
from coach.services.families.engagement import StatusFacts, classify, measure_families, measure_family, streak
from coach.services.families.streaks import count_streak, family_streak

from . import factories

NOW = datetime(2026, 3, 20, 12, 0)  # a Friday, noon UTC
TODAY = NOW.date()


# --- helpers (imported by tests/test_worker_*.py) --------------------------------------------------

def add_delivery(family, day: date, status: str = "sent", opened: bool = False, code: int | None = None,
                 error: str | None = None, prompt=None) -> Delivery:
    """A delivery for the family's local ``day`` (due 18:00 UTC that day)."""
    due = datetime.combine(day, time(18))
    return Delivery.create(
        family=family, local_date=day, prompt=prompt, theme=prompt.theme if prompt else None,
        due_at=due, expires_at=due + timedelta(hours=6), next_attempt_at=due, status=status,
        sent_at=due if status == "sent" else None, opened_at=due + timedelta(minutes=20) if opened else None,
        last_status_code=code, last_error=error)


def add_checkin(family, at: datetime, delivery: Delivery | None = None, note: str | None = None,
                shared: bool = False, received_at: datetime | None = None, **fields) -> CheckIn:
    """A check-in the parent made at ``at`` (UTC), received then unless ``received_at`` says otherwise."""
    fields.setdefault("tried", "yes")
    return CheckIn.create(id=uuid.uuid4(), family=family, user=family.user_id, delivery=delivery, note=note,
                          shared_with_worker=shared, client_created_at=at,
                          received_at=received_at or at, **fields)


def add_device(family, last_ok_at: datetime | None = None, error_count: int = 0) -> PushSubscription:
    return PushSubscription.create(user=family.user_id, endpoint=f"https://fcm.googleapis.com/{uuid.uuid4()}",
                                   p256dh="k", auth="a", last_ok_at=last_ok_at, error_count=error_count)


def make_family(worker=None, enrolled_days_ago: int = 60, device: bool = True, **fields):
    """A family enrolled ``enrolled_days_ago`` days before NOW, on UTC unless told, with a working device."""
    fields.setdefault("timezone", "UTC")
    family = factories.make_family(worker=worker, created_at=NOW - timedelta(days=enrolled_days_ago), **fields)
    if device:
        add_device(family, last_ok_at=NOW - timedelta(days=1))
    return family


def checked_in_days_ago(family, days: int) -> CheckIn:
    return add_checkin(family, datetime.combine(TODAY - timedelta(days=days), time(9)))


# --- the rules, as a pure function ---------------------------------------------------------------

def facts(**overrides) -> StatusFacts:
    values = {"today": TODAY, "enrolled_on": TODAY - timedelta(days=60), "last_checkin_on": TODAY,
              "week_days": 4}
    values.update(overrides)
    return StatusFacts(**values)


@pytest.mark.parametrize(("days", "status"), [
    (0, "engaged"), (3, "engaged"), (4, "slipping"), (9, "slipping"), (10, "disengaged"), (40, "disengaged"),
])
def test_days_since_checkin_boundaries(days, status):
    assert classify(facts(last_checkin_on=TODAY - timedelta(days=days)))[0] == status


@pytest.mark.parametrize(("week_days", "needed", "status"), [
    (3, 3, "engaged"), (2, 3, "slipping"), (0, 3, "slipping"), (2, 2, "engaged"), (1, 2, "slipping"),
    (1, 1, "engaged"),
])
def test_how_often_in_the_last_seven_days(week_days, needed, status):
    assert classify(facts(week_days=week_days, needed=needed))[0] == status


@pytest.mark.parametrize(("days_of_week", "needed"), [
    ("0123456", 3), ("012345", 3), ("01234", 3), ("024", 2), ("03", 1), ("5", 1),
])
def test_days_needed_follow_the_prompt_days(days_of_week, needed):
    assert engagement.week_days_needed(days_of_week) == needed


@pytest.mark.parametrize(("enrolled", "status"), [
    (0, "new"), (3, "new"), (4, "slipping"), (9, "slipping"), (10, "disengaged"),
])
def test_never_checked_in_is_measured_from_enrolment(enrolled, status):
    result = classify(facts(last_checkin_on=None, week_days=0, enrolled_on=TODAY - timedelta(days=enrolled)))
    assert result[0] == status


@pytest.mark.parametrize(("enrolled", "status"), [(0, "new"), (6, "new"), (7, "slipping")])
def test_new_lasts_seven_days_and_is_not_held_to_the_weekly_rule(enrolled, status):
    assert classify(facts(enrolled_on=TODAY - timedelta(days=enrolled), week_days=1))[0] == status


def test_devices_do_not_change_engagement():
    """Phone trouble is reach, not engagement: the rules have no device input at all."""
    assert "devices" not in StatusFacts.__dataclass_fields__
    assert engagement.reach_of(0, 0) == "none"
    assert engagement.reach_of(2, 0) == "failing"
    assert engagement.reach_of(2, 1) == "push"


@pytest.mark.parametrize(("paused_until", "status"), [
    (TODAY - timedelta(days=1), "engaged"), (TODAY, "paused"), (TODAY + timedelta(days=5), "paused"),
])
def test_paused_until_today_inclusive(paused_until, status):
    assert classify(facts(paused_until=paused_until))[0] == status


def test_paused_outranks_disengaged():
    assert classify(facts(paused_until=TODAY, last_checkin_on=TODAY - timedelta(days=30), week_days=0))[0] == "paused"


def test_reasons_read_as_sentences():
    assert classify(facts(last_checkin_on=TODAY - timedelta(days=5)))[1] == "No check-in for 5 days"
    assert classify(facts(last_checkin_on=None, enrolled_on=TODAY - timedelta(days=12)))[1] == \
        "No check-in since joining 12 days ago"
    assert classify(facts(enrolled_on=TODAY - timedelta(days=2)))[1] == "Joined 2 days ago"
    assert classify(facts(paused_until=date(2026, 4, 2)))[1] == "Paused until 2 Apr"
    assert classify(facts(last_checkin_on=TODAY - timedelta(days=1)))[1] == \
        "Checked in yesterday · 4 of the last 7 days"
    assert classify(facts(week_days=1))[1] == "Checked in on 1 of the last 7 days"


@pytest.mark.parametrize(("this_week", "last_week", "trend"), [(4, 2, "up"), (2, 4, "down"), (3, 3, "steady"),
                                                                (0, 0, "steady")])
def test_trend_against_the_week_before(this_week, last_week, trend):
    assert engagement.trend(this_week, last_week) == trend


def test_subscription_works_boundary():
    assert engagement.subscription_works(0, None, NOW)
    assert engagement.subscription_works(3, NOW - timedelta(days=10), NOW)
    assert not engagement.subscription_works(3, NOW - timedelta(days=10, seconds=1), NOW)
    assert not engagement.subscription_works(1, None, NOW)


def contact(days_ago: int, outcome: str = "reached", next_in: int | None = None) -> LastContact:
    return LastContact(TODAY - timedelta(days=days_ago), "call", outcome,
                       TODAY + timedelta(days=next_in) if next_in is not None else None)


@pytest.mark.parametrize(("latest", "state"), [
    (None, ""),
    (contact(0, next_in=1), "waiting"),         # a next step tomorrow: not yet
    (contact(3, next_in=0), "due"),             # its day has come
    (contact(9, next_in=-2), "due"),            # and stays due until the next contact
    (contact(6), "waiting"),                    # reached 6 days ago, no next step: they just spoke
    (contact(7), ""),                           # a week on, the family needs a call again
    (contact(0, outcome="no_answer"), ""),      # not reached: still needs a call
    (contact(0, outcome="left_message"), ""),
])
def test_contact_state_boundaries(latest, state):
    assert engagement.contact_state(latest, TODAY) == state


@pytest.mark.parametrize(("status", "support", "state", "group"), [
    ("engaged", 1, "waiting", "support"),           # asked for support: first, whatever else
    ("paused", 0, "due", "next_step_due"),          # a due next step outranks the rest
    ("disengaged", 0, "", "falling_away"),
    ("slipping", 0, "", "falling_away"),
    ("new", 0, "", "steady"),
    ("engaged", 0, "", "steady"),
    ("disengaged", 0, "waiting", "waiting"),         # called and planned: below those who need a call
    ("paused", 0, "", "paused"),
])
def test_call_order_groups(status, support, state, group):
    assert engagement.need_group(status, support, state) == group


# --- the two families -----------------------------------------------------------------------

def test_sofia_is_engaged_with_no_device_and_marcus_is_not_engaged(app):
    """Sofia checked in two days ago, on 4 of the last 6 days, on a 63-day streak, with no device:
    engaged, reach "no device". Marcus checked in once in six days, yesterday: not engaged."""
    sofia = make_family(display_name="Sofia", enrolled_days_ago=90, device=False)
    for n in range(2, 66):
        if n not in (3, 6):  # 4 of the last 6 days (2, 4, 5, 7…): two missed days, both forgiven
            checked_in_days_ago(sofia, n)
    marcus = make_family(display_name="Marcus", enrolled_days_ago=90)
    checked_in_days_ago(marcus, 1)
    rows = {row.family.display_name: row for row in measure_families([sofia, marcus], now=NOW)}
    assert rows["Sofia"].status == "engaged"
    assert (rows["Sofia"].reach, rows["Sofia"].reach_label) == ("none", "No device")
    assert rows["Sofia"].streak == 62  # days 2..65 but 3 and 6: today not yet counted as missed
    assert rows["Sofia"].days_since_checkin == 2
    assert rows["Marcus"].status == "slipping"
    assert rows["Marcus"].reason == "Checked in on 1 of the last 7 days"
    assert rows["Marcus"].reach == "push"


# --- the rules on real rows, with the clock moved ------------------------------------------------

def checked_in_daily(family, days: int) -> None:
    for n in range(days):
        checked_in_days_ago(family, n)


def test_status_time_travel_on_the_database(app):
    """The same family moves engaged → slipping → disengaged as the clock moves on."""
    family = make_family()
    checked_in_daily(family, 5)
    expected = {3: "engaged", 4: "slipping", 9: "slipping", 10: "disengaged"}
    for days, status in expected.items():
        later = NOW + timedelta(days=days)
        row = measure_family(family, now=later)
        assert (row.status, row.days_since_checkin) == (status, days), days


def test_device_rules_on_the_database(app):
    no_device = make_family(device=False)
    failing = make_family(device=False)
    add_device(failing, last_ok_at=NOW - timedelta(days=11), error_count=4)
    recovering = make_family(device=False)
    add_device(recovering, last_ok_at=NOW - timedelta(days=10), error_count=2)
    fresh = make_family(device=False)
    add_device(fresh)  # subscribed, never pushed yet, no errors: works
    for family in (no_device, failing, recovering, fresh):
        checked_in_daily(family, 4)
    rows = {row.family.id: row for row in measure_families([no_device, failing, recovering, fresh], now=NOW)}
    assert {row.status for row in rows.values()} == {"engaged"}  # reach never changes engagement
    assert rows[no_device.id].reach == "none"
    assert (rows[failing.id].reach, rows[failing.id].devices, rows[failing.id].working_devices) == ("failing", 1, 0)
    assert rows[recovering.id].reach == "push"
    assert rows[recovering.id].last_push_ok_at == NOW - timedelta(days=10)
    assert rows[fresh.id].reach == "push"


def test_support_paused_and_new_on_the_database(app):
    asked = make_family(paused_until=TODAY + timedelta(days=3))
    SupportRequest.create(family=asked, created_at=NOW - timedelta(days=2))
    handled = make_family()
    SupportRequest.create(family=handled, created_at=NOW - timedelta(days=2), followed_up_at=NOW)
    checked_in_daily(handled, 3)
    paused = make_family(paused_until=TODAY)
    newcomer = make_family(enrolled_days_ago=6)
    checked_in_days_ago(newcomer, 0)
    rows = {row.family.id: row for row in measure_families([asked, handled, paused, newcomer], now=NOW)}
    assert (rows[asked.id].status, rows[asked.id].open_support, rows[asked.id].need_group) == ("paused", 1, "support")
    assert (rows[handled.id].status, rows[handled.id].open_support) == ("engaged", 0)
    assert rows[paused.id].status == "paused"
    assert measure_family(paused, now=NOW + timedelta(days=1)).status == "disengaged"
    assert rows[newcomer.id].status == "new"
    assert measure_family(newcomer, now=NOW + timedelta(days=1)).status == "slipping"  # one day in 7


def test_local_days_follow_the_family_timezone(app):
    """Noon UTC on the 20th is already the 21st in Auckland (UTC+13)."""
    family = make_family(timezone="Pacific/Auckland")
    add_checkin(family, datetime(2026, 3, 19, 12, 0))  # 20 March, 01:00 in Auckland
    row = measure_family(family, now=NOW)
    assert row.today == date(2026, 3, 21)
    assert row.last_checkin_on == date(2026, 3, 20)
    assert row.days_since_checkin == 1


def test_a_fast_phone_clock_cannot_date_a_checkin_in_the_future(app):
    family = make_family()
    add_checkin(family, NOW + timedelta(days=3), received_at=NOW - timedelta(days=5))
    row = measure_family(family, now=NOW)
    assert row.last_checkin_at == NOW - timedelta(days=5)
    assert row.status == "slipping"


# --- metrics on a hand-built history ---------------------------------------------------------------

def test_metrics_on_a_known_history(app):
    family = make_family()

    def day(n: int) -> date:
        return TODAY - timedelta(days=n)

    def at(n: int) -> datetime:
        return datetime.combine(day(n), time(9))

    add_delivery(family, day(0), status="pending")  # today's, not yet due: counted nowhere
    add_checkin(family, at(0))                      # a check-in with no prompt, made today
    add_checkin(family, at(1), add_delivery(family, day(1), opened=True))
    add_delivery(family, day(2), opened=True)
    add_delivery(family, day(3))
    add_checkin(family, at(4), add_delivery(family, day(4), status="no_device", opened=True))
    add_delivery(family, day(5), status="failed", code=410)
    add_checkin(family, at(6), add_delivery(family, day(6), opened=True))
    add_checkin(family, at(7), add_delivery(family, day(7)))
    add_delivery(family, day(20))
    add_delivery(family, day(27), status="expired", code=503)
    add_checkin(family, at(28), add_delivery(family, day(28), opened=True))  # outside both periods

    row = measure_family(family, now=NOW)
    assert row.week == engagement.Funnel(7, prompts=6, delivered=4, opened=4, checked_in=3)
    assert row.month == engagement.Funnel(28, prompts=9, delivered=6, opened=4, checked_in=4)
    assert row.week.show(row.week.checked_in) == "3/6 · 50%"
    assert row.month.show(row.month.delivered) == "6/9 · 67%"
    assert row.streak == 5  # the parent's gentle streak: days 0, 1, 4, 6, 7 (gaps of up to 2 forgiven)
    assert (row.days_since_checkin, row.status) == (0, "engaged")
    levels = {cell.day: cell.level for cell in row.strip}
    assert len(row.strip) == 28 and row.strip[0].day == day(27) and row.strip[-1].day == TODAY
    assert [levels[day(n)] for n in (0, 1, 2, 3, 4, 5, 6, 8, 20, 27)] == [
        "checked", "checked", "opened", "delivered", "checked", "missed", "checked", "none", "delivered", "missed"]
    assert row.strip[-3].title == "Wed 18 Mar: prompt delivered, opened"
    assert row.strip_summary == "Last 28 days: check-ins on 5 days; 6 prompts delivered, 4 opened."


def test_no_prompts_means_no_rate():
    funnel = engagement.Funnel(7)
    assert funnel.rate(funnel.opened) is None
    assert funnel.show(funnel.opened) == "0/0"


# --- streaks ---------------------------------------------------------------------------------------

def days_back(*offsets: int) -> set[date]:
    return {TODAY - timedelta(days=n) for n in offsets}


@pytest.mark.parametrize(("offsets", "expected"), [
    ((), 0),
    ((0,), 1),
    ((1, 2, 3), 3),         # today's not answered yet: today never counts as missed
    ((0, 1, 2, 4), 4),      # one missed day is forgiven
    ((3, 4), 2),            # two missed days in a row are forgiven
    ((4, 5), 0),            # three are not
])
def test_streak_is_the_parents_gentle_streak(offsets, expected):
    assert streak(days_back(*offsets), TODAY)[0] == expected
    assert streak(days_back(*offsets), TODAY)[0] == count_streak(days_back(*offsets), TODAY)


def test_streak_counts_only_prompt_days():
    """Mon/Wed/Fri: Friday the 20th, Wednesday, Monday, last Friday — the days between are neutral."""
    assert streak(days_back(0, 2, 4, 7), TODAY, "024")[0] == 4
    assert streak(days_back(0, 4, 7), TODAY, "024")[0] == 3          # Wednesday missed, forgiven
    assert streak(days_back(0, 9, 11), TODAY, "024")[0] == 1         # Wed, Mon and Fri missed


def test_streak_asks_for_older_days_only_when_the_run_reaches_them():
    known_from = TODAY - timedelta(days=10)
    assert streak(days_back(*range(11)), TODAY, known_from=known_from) == (11, True)
    assert streak(days_back(*range(9)), TODAY, known_from=known_from) == (9, True)   # 2 missed at the edge
    assert streak(days_back(*range(8)), TODAY, known_from=known_from) == (8, False)  # 3 missed: it ended


def test_long_streak_reads_further_back_than_the_strip(app):
    family = make_family(enrolled_days_ago=100)
    for n in range(45):
        checked_in_days_ago(family, n)
    short = make_family()
    checked_in_days_ago(short, 0)
    gappy = make_family(enrolled_days_ago=100)
    for n in range(60):
        if n % 10 != 5:
            checked_in_days_ago(gappy, n)
    rows = measure_families([family, short, gappy], now=NOW)
    assert [row.streak for row in rows] == [45, 1, 54]
    assert [family_streak(f, f.user, now=NOW).days for f in (family, short, gappy)] == [45, 1, 54]


def test_sort_by_need_and_counts(app):
    engaged = make_family(display_name="B engaged")
    checked_in_daily(engaged, 4)
    slipping_long = make_family(display_name="Z slipping")
    checked_in_days_ago(slipping_long, 8)
    slipping = make_family(display_name="A slipping")
    checked_in_days_ago(slipping, 5)
    paused = make_family(display_name="A paused", paused_until=TODAY)
    asked = make_family(display_name="Y asked")
    checked_in_daily(asked, 4)
    SupportRequest.create(family=asked)
    called = make_family(display_name="C called")  # slipping, but the worker set a next step for later
    checked_in_days_ago(called, 6)
    ContactLog.create(family=called, kind="call", outcome="reached", next_step_on=TODAY + timedelta(days=3),
                      created_at=NOW)
    due = make_family(display_name="X due")  # engaged, but today is the day the worker planned to call
    checked_in_daily(due, 4)
    ContactLog.create(family=due, kind="visit", outcome="reached", next_step_on=TODAY,
                      created_at=NOW - timedelta(days=7))
    families = [engaged, slipping_long, slipping, paused, asked, called, due]
    rows = engagement.sort_by_need(measure_families(families, now=NOW))
    order = ["Y asked", "X due", "Z slipping", "A slipping", "B engaged", "C called", "A paused"]
    assert [row.family.display_name for row in rows] == order
    assert engagement.status_counts(row.status for row in rows) == {
        "disengaged": 0, "slipping": 3, "new": 0, "engaged": 3, "paused": 1}
    assert rows[1].next_step_due and not rows[5].next_step_due
    # The cheap index the caseload pages with puts them in the same order.
    index = caseload_index(Family.select().where(Family.id.in_([f.id for f in families])), NOW)
    by_id = {f.id: f.display_name for f in families}
    assert [by_id[entry.family_id] for entry in engagement.rank_caseload(index, NOW)] == order


@pytest.mark.parametrize("timezone", ["Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu",
                                      "Australia/Lord_Howe", "Pacific/Auckland"])
def test_fast_local_days_agree_with_zoneinfo(timezone):
    """The caseload's hour-table shortcut gives the same local date as a full conversion, for text
    (SQLite) and datetimes (PostgreSQL), across DST changes and half-hour offsets."""
    finder = local_days(timezone, date(2025, 9, 1), date(2026, 12, 1))
    moments = [datetime(2025, 9, 2) + timedelta(minutes=37 * n) for n in range(0, 30000, 7)]
    moments += [datetime(2026, 3, 29, 0, 59, 59, 999999), datetime(2026, 3, 29, 1), datetime(2026, 10, 25, 1)]
    expected = [engagement.local_date(moment, timezone) for moment in moments]
    assert [finder.day(str(moment)) for moment in moments] == expected
    assert [finder.day(moment) for moment in moments] == expected
    assert finder.days_of([str(moment) for moment in moments]) == set(expected)


def test_remembered_long_streaks_follow_changes_to_older_days(app, monkeypatch):
    """Long streaks are remembered per process, keyed on a fingerprint of the older check-ins: a
    repeat skips reading them, and a change to them (here, backdated rows) is noticed."""
    family = make_family(enrolled_days_ago=100)
    for n in (*range(40), *range(43, 50)):  # days 40-42 missed: the run stops at 40
        checked_in_days_ago(family, n)
    monkeypatch.setattr(long_streaks, "_streak_memo", long_streaks._StreakMemo())
    reads = []
    real = long_streaks.older_checkin_days
    monkeypatch.setattr(long_streaks, "older_checkin_days", lambda *args: reads.append(1) or real(*args))
    assert measure_family(family, now=NOW).streak == 40
    assert measure_family(family, now=NOW).streak == 40
    assert len(reads) == 1
    checked_in_days_ago(family, 41)
    assert measure_family(family, now=NOW).streak == 48
    assert len(reads) == 2
