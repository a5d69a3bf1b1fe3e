"""Choosing a family's prompt: age bands, theme rotation, repair after a hard rupture, no repeats,
determinism (coach/services/programme/selection.py)."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest

from coach.models import CheckIn, Delivery, Family, Prompt
from coach.services.delivery.scheduling import plan_due_deliveries
from coach.services.programme.library import seed_library_if_empty
from coach.services.programme.selection import PlanningDraws, choose_prompt

from .factories import make_family

DAY = date(2026, 11, 23)
NOON = datetime(2026, 11, 23, 12, 0)


@pytest.fixture
def library(app):
    seed_library_if_empty()


def deliver(family: Family, prompt: Prompt, local_date: date) -> Delivery:
    """A past delivery of ``prompt`` to ``family``."""
    moment = datetime.combine(local_date, datetime.min.time())
    return Delivery.create(family=family, local_date=local_date, prompt=prompt,
                           prompt_version=prompt.version, theme=prompt.theme, due_at=moment,
                           expires_at=moment + timedelta(days=1), next_attempt_at=moment,
                           status="sent")


def check_in(family: Family, prompt: Prompt, received_at: datetime, answer: int | None = None,
             felt: int | None = None) -> CheckIn:
    return CheckIn.create(id=uuid.uuid4(), family=family, prompt=prompt, answer=answer,
                          felt=felt, tried="yes", client_created_at=received_at,
                          received_at=received_at)


def a_prompt(theme: str, age_months: int = 8) -> Prompt:
    return (Prompt.published()
            .where(Prompt.theme == theme, Prompt.age_min_months <= age_months,
                   Prompt.age_max_months > age_months)
            .order_by(Prompt.id).first())


def hard_answer(prompt: Prompt) -> int:
    return next(i for i, answer in enumerate(prompt.answers) if answer.get("hard"))


# --- age ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("birth_month, band", [
    ("2026-11", (0, 3)),   # 0 months
    ("2026-09", (0, 3)),   # 2 months
    ("2026-08", (3, 6)),   # 3 months: the upper bound is exclusive
    ("2026-05", (6, 12)),  # 6 months
    ("2025-12", (6, 12)),  # 11 months
    ("2025-11", (12, 24)),  # 12 months
    ("2021-12", (36, 60)),  # 59 months
])
def test_age_band_boundaries(library, birth_month, band):
    family = make_family(child_birth_month=birth_month)
    prompt = choose_prompt(family, DAY, NOON)
    assert (prompt.age_min_months, prompt.age_max_months) == band


def test_child_past_every_band_gets_the_nearest_band(library):
    family = make_family(child_birth_month="2020-11")  # 72 months
    prompt = choose_prompt(family, DAY, NOON)
    assert (prompt.age_min_months, prompt.age_max_months) == (36, 60)


def test_nearest_band_when_a_theme_has_none_for_the_age(library):
    Prompt.update(status="retired").where(Prompt.theme == "cues", Prompt.age_min_months == 6).execute()
    family = make_family(child_birth_month="2026-03")  # 8 months: cues exists for 3–6 and 12–24
    prompt = choose_prompt(family, DAY, NOON)
    assert prompt.theme == "cues"
    assert (prompt.age_min_months, prompt.age_max_months) == (3, 6)  # 3 months away, not 4


def test_only_published_prompts_are_chosen(library):
    Prompt.update(status="draft").where(Prompt.theme == "cues").execute()
    family = make_family()
    assert choose_prompt(family, DAY, NOON).theme == "rupture"  # the rotation moves on
    Prompt.update(status="retired").execute()
    assert choose_prompt(family, DAY, NOON) is None


# --- themes ---------------------------------------------------------------------------------------

def test_themes_rotate_cues_rupture_repair(library):
    make_family(next_due_at=datetime(2026, 11, 23, 0, 0))
    for offset in range(6):
        plan_due_deliveries(now=datetime(2026, 11, 23, 9, 0) + timedelta(days=offset))
    themes = [d.theme for d in Delivery.select().order_by(Delivery.local_date)]
    assert themes == ["cues", "rupture", "repair", "cues", "rupture", "repair"]


def test_rotation_follows_the_previous_delivery_across_skipped_days(library):
    family = make_family(days_of_week="024")
    deliver(family, a_prompt("rupture"), DAY - timedelta(days=3))
    assert choose_prompt(family, DAY, NOON).theme == "repair"


def test_hard_rupture_answer_brings_repair_next(library):
    family = make_family()
    rupture = a_prompt("rupture")
    deliver(family, rupture, DAY - timedelta(days=2))
    deliver(family, a_prompt("repair"), DAY - timedelta(days=1))  # rotation alone would say cues
    check_in(family, rupture, NOON - timedelta(hours=2), answer=hard_answer(rupture))
    assert choose_prompt(family, DAY, NOON).theme == "repair"


def test_low_feeling_on_a_rupture_brings_repair_next(library):
    family = make_family()
    rupture = a_prompt("rupture")
    deliver(family, a_prompt("cues"), DAY - timedelta(days=1))
    check_in(family, rupture, NOON - timedelta(days=1), answer=0, felt=2)
    assert choose_prompt(family, DAY, NOON).theme == "repair"


@pytest.mark.parametrize("theme, answer, felt, age", [
    ("rupture", 0, 4, timedelta(hours=2)),       # not hard, felt fine
    ("rupture", None, 3, timedelta(hours=2)),
    ("rupture", "hard", None, timedelta(days=4)),  # hard, but more than 3 days ago
    ("cues", 0, 1, timedelta(hours=2)),           # low feeling, but not on a rupture prompt
])
def test_no_repair_override_otherwise(library, theme, answer, felt, age):
    family = make_family()
    deliver(family, a_prompt("cues"), DAY - timedelta(days=1))
    prompt = a_prompt(theme)
    answer = hard_answer(prompt) if answer == "hard" else answer
    check_in(family, prompt, NOON - age, answer=answer, felt=felt)
    assert choose_prompt(family, DAY, NOON).theme == "rupture"


def test_only_the_most_recent_checkin_counts(library):
    family = make_family()
    rupture = a_prompt("rupture")
    deliver(family, a_prompt("cues"), DAY - timedelta(days=1))
    check_in(family, rupture, NOON - timedelta(hours=5), answer=hard_answer(rupture))
    check_in(family, rupture, NOON - timedelta(hours=1), answer=0, felt=4)
    assert choose_prompt(family, DAY, NOON).theme == "rupture"


def test_repair_override_happens_once(library):
    family = make_family()
    rupture = a_prompt("rupture")
    check_in(family, rupture, datetime(2026, 11, 21, 20, 0), answer=hard_answer(rupture))
    deliver(family, a_prompt("repair"), DAY - timedelta(days=1))  # the repair came the next day
    assert choose_prompt(family, DAY, NOON).theme == "cues"


# --- repeats and determinism ----------------------------------------------------------------------

def simulate(family: Family, days: int, start: datetime = datetime(2026, 11, 1, 9, 0)) -> list[Delivery]:
    """Plan one tick a day for ``days`` days (London, 18:00–20:00)."""
    Family.update(next_due_at=start).where(Family.id == family.id).execute()
    for offset in range(days):
        plan_due_deliveries(now=start + timedelta(days=offset))
    return list(Delivery.select().where(Delivery.family == family.id).order_by(Delivery.local_date))


def test_sixty_days_without_a_repeat_when_the_library_allows(app):
    for theme in ("cues", "rupture", "repair"):
        for n in range(20):
            Prompt.create(theme=theme, skill="s", age_min_months=0, age_max_months=60,
                          title=f"{theme} {n}", body="b", question="q",
                          answers=[{"label": "a", "tried": "yes"}], status="published")
    history = simulate(make_family(), 60)
    assert len(history) == 60
    assert len({d.prompt_id for d in history}) == 60


def test_sixty_days_on_the_starter_library_repeat_least_recently_used(library):
    history = simulate(make_family(), 60)  # 8-10 months old: five prompts per theme fit
    assert len(history) == 60
    first_fifteen = [d.prompt_id for d in history[:15]]
    assert len(set(first_fifteen)) == 15
    last_seen: dict[int, date] = {}
    for delivery in history:
        if delivery.prompt_id in last_seen:
            assert (delivery.local_date - last_seen[delivery.prompt_id]).days == 15
        last_seen[delivery.prompt_id] = delivery.local_date


def test_repeat_days_comes_from_config(library, app):
    app.config["REPEAT_DAYS"] = 2
    family = make_family()
    cues = list(Prompt.published().where(Prompt.theme == "cues", Prompt.age_min_months == 6)
                .order_by(Prompt.id))
    for n, prompt in enumerate(cues):  # every fitting cues prompt, 3, 6, … 15 days ago
        deliver(family, prompt, DAY - timedelta(days=3 + n * 3))
    deliver(family, a_prompt("repair"), DAY - timedelta(days=1))
    # All are fresh again after 2 days, and fresh prompts are equals: ordered by id
    expected = PlanningDraws(family.id, DAY).choice(cues)
    assert choose_prompt(family, DAY, NOON).id == expected.id
    app.config["REPEAT_DAYS"] = 60
    assert choose_prompt(family, DAY, NOON).id == cues[-1].id  # the least recently used


def test_choice_is_deterministic_and_exact(library):
    family = make_family()
    deliver(family, a_prompt("repair"), DAY - timedelta(days=1))
    candidates = list(Prompt.published()
                      .where(Prompt.theme == "cues", Prompt.age_min_months == 6)
                      .order_by(Prompt.id))
    expected = PlanningDraws(family.id, DAY).choice(candidates)
    assert choose_prompt(family, DAY, NOON).id == expected.id
    assert choose_prompt(family, DAY, NOON).id == expected.id
    assert choose_prompt(family, DAY, NOON + timedelta(hours=5)).id == expected.id


def test_different_families_and_days_spread_over_the_candidates(library):
    chosen = {choose_prompt(make_family(), DAY, NOON).id for _ in range(12)}
    assert len(chosen) > 1
