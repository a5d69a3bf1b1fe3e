"""Words that are always true: the next prompt day, the pause, and the rolling 30-day count."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from coach.models import CheckIn
from coach.services.families.upcoming import day_words, days_noticed, next_prompt, next_prompt_day
from tests import factories

# Thursday 3 December 2026, 21:00 in London (UTC in winter): after the 18:00-20:00 window.
THURSDAY_EVENING = datetime(2026, 12, 3, 21, 0)
THURSDAY_MORNING = datetime(2026, 12, 3, 9, 0)


def test_today_while_the_window_is_ahead_else_the_next_chosen_day(app):
    family = factories.make_family(days_of_week="0246")  # Mon, Wed, Fri, Sun
    assert next_prompt_day(family, THURSDAY_MORNING) == date(2026, 12, 4)  # Thursday isn't chosen
    family.days_of_week = "0123456"
    assert next_prompt_day(family, THURSDAY_MORNING) == date(2026, 12, 3)
    assert next_prompt_day(family, THURSDAY_EVENING) == date(2026, 12, 4)
    assert next_prompt_day(family, THURSDAY_MORNING, after_today=True) == date(2026, 12, 4)


def test_a_pause_moves_it_past_the_pause(app):
    family = factories.make_family(paused_until=date(2026, 12, 10))
    assert next_prompt_day(family, THURSDAY_MORNING) == date(2026, 12, 11)
    assert next_prompt(family, THURSDAY_MORNING).words == "on Friday 11 December"


def test_no_day_chosen_names_no_day(app):
    assert next_prompt_day(factories.make_family(days_of_week=""), THURSDAY_MORNING) is None


def test_day_words():
    today = date(2026, 12, 3)
    assert [day_words(today + timedelta(days=n), today) for n in (0, 1, 2, 6, 7)] == [
        "later today", "tomorrow", "on Saturday", "on Wednesday", "on Thursday 10 December"]


def test_next_prompt_names_the_window(app):
    family = factories.make_family(days_of_week="3")  # Thursdays
    upcoming = next_prompt(family, THURSDAY_EVENING)
    assert (upcoming.day, upcoming.words, upcoming.window) == (date(2026, 12, 10), "on Thursday 10 December",
                                                                "between 18:00 and 20:00")


def test_the_rolling_count_does_not_restart_on_the_first_of_the_month(app):
    family = factories.make_family()
    first_of_month = datetime(2026, 12, 1, 8, 0)
    for days_ago in (1, 2, 2, 5, 29, 30):  # two check-ins on one day count once; 30 days ago is out
        made = first_of_month - timedelta(days=days_ago)
        CheckIn.create(id=uuid.uuid4(), family=family, user=family.user_id, tried="yes", client_created_at=made, received_at=made)
    assert days_noticed(family, family.user, first_of_month) == 4
    assert days_noticed(family, family.user, first_of_month + timedelta(days=1)) == 3
