"""The parent's services without HTTP: the gentle streak, the journal's reflection, settings rules."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from coach.services.families.journal import reflection, week_label
from coach.services.families.preferences import days_label, parse_days
from coach.services.families.streaks import count_streak, streak_message

WED = date(2026, 11, 25)  # a Wednesday


def days_back(*offsets: int) -> set[date]:
    return {WED - timedelta(days=n) for n in offsets}


@pytest.mark.parametrize(("dates", "schedule", "expected"), [
    (set(), "0123456", 0),
    (days_back(0), "0123456", 1),
    (days_back(1, 2, 3), "0123456", 3),  # today not yet: nothing is broken
    (days_back(0, 1, 3, 4), "0123456", 4),  # one missed day is forgiven
    (days_back(0, 3, 4), "0123456", 3),  # two missed days are forgiven
    (days_back(0, 4, 5), "0123456", 1),  # three missed days: the run starts again
    (days_back(0, 2, 4, 7, 9), "024", 5),  # Mon/Wed/Fri: the days between don't count as missed
    (days_back(0, 2, 9), "024", 3),  # Mon/Wed/Fri: two missed prompt days (Fri, Wed) forgiven
    (days_back(0, 2, 11), "024", 2),  # three missed prompt days
    (days_back(0, 1), "024", 2),  # a check-in on a rest day still counts
])
def test_gentle_streak_with_grace_days(dates, schedule, expected):
    assert count_streak(dates, WED, schedule) == expected


def test_streak_words_never_shame():
    for days in range(0, 5):
        for today in (True, False):
            message = streak_message(days, today)
            assert message.endswith(".") and not any(word in message.lower() for word in ("lost", "broke", "miss", "fail"))


def test_reflection_is_kind_about_any_amount():
    assert reflection({"repair": 3}, 3, 3, "Sam") == \
        "You came back together 3 times in the last 30 days. Being in sync some of the time is enough."
    assert reflection({"repair": 1}, 1, 1, "Sam").startswith("You came back together once")
    assert "Noticing is how repair begins" in reflection({"rupture": 2}, 0, 2, "Sam")
    assert "Sam's signals" in reflection({"cues": 1}, 0, 1, "Sam")
    assert reflection({}, 0, 0, "Sam") == "Your check-ins will gather here. There's no right amount."


def test_week_labels():
    assert week_label(date(2026, 11, 23), WED) == "This week"
    assert week_label(date(2026, 11, 16), WED) == "Last week"
    assert week_label(date(2026, 11, 2), WED) == "Week of 2 November"
    assert week_label(date(2025, 12, 29), WED) == "Week of 29 December 2025"


def test_days_parsing_and_words():
    assert parse_days([4, 0, 2, 2]) == "024" and parse_days("135") == "135"
    assert parse_days([]) is None and parse_days([7]) is None and parse_days("x") is None
    assert days_label("0123456") == "Every day"
    assert days_label("024") == "Monday, Wednesday and Friday" and days_label("6") == "Sunday"


def test_client_time_rules():
    from coach.services.families.checkins import parse_client_time

    now = datetime(2026, 11, 26, 12, 0)
    assert parse_client_time("2026-11-26T13:00:00+01:00", now) == datetime(2026, 11, 26, 12, 0)
    assert parse_client_time("2026-11-26T11:00:00Z", now) == datetime(2026, 11, 26, 11, 0)
    assert parse_client_time("2026-11-28T12:00:00Z", now) is None
    assert parse_client_time("1999-01-01T00:00:00Z", now) is None
