"""Choosing a family's prompt (coach/services/programme/selection.py): age bands, moment fit to the
window, the six-week arc, the paired repair after a hard rupture, ``not_yet`` coming back, low mood,
no repeats, determinism — and 90 simulated days on the real library for every band."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest

from coach.models import STRAND_WEEKS, CheckIn, Delivery, Family, Prompt
from coach.services.delivery.scheduling import plan_due_deliveries
from coach.services.programme.library import seed_library_if_empty
from coach.services.programme.reflection import save_answer
from coach.services.programme.selection import (
    ARC_DAYS,
    PlanningDraws,
    arc_week,
    choose_prompt,
    remember,
    window_moments,
)

from .factories import make_family

DAY = date(2026, 11, 23)
NOON = datetime(2026, 11, 23, 12, 0)
EVENING = ("evening", "bedtime", "any")


@pytest.fixture
def library(app):
    seed_library_if_empty()


AGE, BIRTH = 1, "2026-10"  # the 0–3 months band: every week of the arc has evening prompts


def enrolled(weeks_ago: int = 0, **kwargs) -> Family:
    """A family (1 month old, London, 18:00–20:00) enrolled ``weeks_ago`` weeks before DAY."""
    family = make_family(**({"child_birth_month": BIRTH} | kwargs))
    family.created_at = datetime.combine(DAY - timedelta(weeks=weeks_ago), datetime.min.time())
    family.save()
    return family


def deliver(family: Family, prompt: Prompt, local_date: date) -> Delivery:
    """A past delivery of ``prompt`` to ``family``, remembered as the planner does."""
    moment = datetime.combine(local_date, datetime.min.time())
    family.recent_prompts = remember(family.recent_prompts, local_date, prompt.id, 60)
    Family.update(recent_prompts=family.recent_prompts).where(Family.id == family.id).execute()
    return Delivery.create(family=family, local_date=local_date, prompt=prompt,
                           prompt_version=prompt.version, theme=prompt.theme, due_at=moment,
                           expires_at=moment + timedelta(days=1), next_attempt_at=moment,
                           status="sent")


def check_in(family: Family, prompt: Prompt, received_at: datetime, answer: int | None = None,
             felt: int | None = None, tried: str = "yes") -> CheckIn:
    return CheckIn.create(id=uuid.uuid4(), family=family, user=family.user_id, prompt=prompt, answer=answer,
                          felt=felt, tried=tried, client_created_at=received_at,
                          received_at=received_at)


def band_prompts(age_months: int = AGE, moments=EVENING, **where) -> list[Prompt]:
    query = Prompt.published().where(Prompt.age_min_months <= age_months,
                                     Prompt.age_max_months > age_months,
                                     Prompt.moment.in_(moments))
    for name, value in where.items():
        query = query.where(getattr(Prompt, name) == value)
    return list(query.order_by(Prompt.id))


def answer_index(prompt: Prompt, **match) -> int:
    return next(i for i, answer in enumerate(prompt.answers)
                if all(answer.get(k) == v for k, v in match.items()))


# --- age and moment -------------------------------------------------------------------------------

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
    prompt = choose_prompt(enrolled(child_birth_month=birth_month), DAY, NOON)
    assert (prompt.age_min_months, prompt.age_max_months) == band


def test_child_past_every_band_gets_the_nearest_band(library):
    prompt = choose_prompt(enrolled(child_birth_month="2020-11"), DAY, NOON)  # 72 months
    assert (prompt.age_min_months, prompt.age_max_months) == (36, 60)


@pytest.mark.parametrize("start, moments", [
    ("18:00", ("evening", "bedtime", "any")), ("16:00", ("evening", "bedtime", "any")),
    ("07:30", ("morning", "day", "any")), ("12:00", ("day", "evening", "any")),
    ("23:00", ("morning", "any")), ("02:00", ("morning", "any")),
])
def test_window_moments(start, moments):
    assert window_moments(start) == moments


def test_an_evening_window_never_gets_a_morning_or_day_prompt(library):
    chosen = {choose_prompt(enrolled(weeks, child_birth_month=month), DAY, NOON).moment
              for weeks in range(6) for month in ("2026-10", "2026-05", "2025-06", "2022-06")}
    assert chosen <= set(EVENING)


def test_a_morning_window_gets_the_morning_prompts_too(library):
    morning = Prompt.published().where(Prompt.moment == "morning").first()
    age = morning.age_min_months
    month = (DAY.year * 12 + DAY.month - 1) - age
    family = enrolled(STRAND_WEEKS[morning.strand] - 1, child_birth_month=f"{month // 12}-{month % 12 + 1:02d}",
                      window_start="07:00", window_end="08:30")
    chosen = {choose_prompt(family, DAY + timedelta(days=n), NOON + timedelta(days=n)).moment
              for n in range(7)}
    assert chosen <= {"morning", "day", "any"}


def test_only_published_prompts_are_chosen(library):
    family = enrolled()
    Prompt.update(status="retired").where(Prompt.strand == "watching-cues").execute()
    assert choose_prompt(family, DAY, NOON).strand != "watching-cues"
    Prompt.update(status="retired").execute()
    assert choose_prompt(family, DAY, NOON) is None


# --- the arc --------------------------------------------------------------------------------------

@pytest.mark.parametrize("weeks_ago", range(8))
def test_the_family_gets_its_week_of_the_arc(library, weeks_ago):
    family = enrolled(weeks_ago)
    week = weeks_ago % 6 + 1
    assert arc_week(family.created_at, DAY) == week
    assert choose_prompt(family, DAY, NOON).week == week


def test_strands_of_the_week_take_turns(library):
    family = enrolled(0)  # week 1: watching cues, then presence
    cues = band_prompts(strand="watching-cues")[0]
    deliver(family, cues, DAY - timedelta(days=1))
    assert choose_prompt(family, DAY, NOON).strand == "presence"


# --- coaching -------------------------------------------------------------------------------------

def a_rupture(age_months: int = AGE) -> Prompt:
    return next(p for p in band_prompts(age_months, theme="rupture")
                if band_prompts(age_months, skill=p.pairs_with))


def test_hard_rupture_brings_its_paired_repair_next(library):
    family = enrolled(0)
    rupture = a_rupture()
    deliver(family, rupture, DAY - timedelta(days=1))
    check_in(family, rupture, NOON - timedelta(hours=14), answer=answer_index(rupture, hard=True))
    chosen = choose_prompt(family, DAY, NOON)
    assert chosen.skill == rupture.pairs_with and chosen.theme == "repair"


def test_low_feeling_on_a_rupture_brings_its_repair_too(library):
    family = enrolled(0)
    rupture = a_rupture()
    check_in(family, rupture, NOON - timedelta(days=1), answer=0, felt=2)
    assert choose_prompt(family, DAY, NOON).skill == rupture.pairs_with


@pytest.mark.parametrize("theme, hard, felt, age", [
    ("rupture", False, 4, timedelta(hours=2)),     # not hard, felt fine
    ("rupture", True, None, timedelta(days=4)),    # hard, but more than 3 days ago
    ("cues", False, 1, timedelta(hours=2)),        # low feeling, but not on a rupture prompt
])
def test_no_repair_override_otherwise(library, theme, hard, felt, age):
    family = enrolled(0)
    prompt = a_rupture() if theme == "rupture" else band_prompts(theme="cues")[0]
    answer = answer_index(prompt, hard=True) if hard else 0
    check_in(family, prompt, NOON - age, answer=answer, felt=felt)
    assert choose_prompt(family, DAY, NOON).week == 1


def test_the_paired_repair_comes_once(library):
    family = enrolled(0)
    rupture = a_rupture()
    check_in(family, rupture, datetime(2026, 11, 21, 20, 0), answer=answer_index(rupture, hard=True))
    deliver(family, band_prompts(skill=rupture.pairs_with)[0], DAY - timedelta(days=1))
    assert choose_prompt(family, DAY, NOON).week == 1


def test_not_yet_brings_the_skill_back_in_another_prompt(library):
    family = enrolled(3)  # week 4
    tried = next(p for p in band_prompts(week=1) if len(band_prompts(strand=p.strand)) > 1)
    deliver(family, tried, DAY - timedelta(days=1))
    check_in(family, tried, NOON - timedelta(hours=16), answer=answer_index(tried, tried="not_yet"),
             tried="not_yet")
    chosen = choose_prompt(family, DAY, NOON)
    assert chosen.id != tried.id and (chosen.skill == tried.skill or chosen.strand == tried.strand)


def test_no_chance_brings_nothing_back(library):
    family = enrolled(3)  # week 4
    tried = band_prompts(week=1)[0]
    deliver(family, tried, DAY - timedelta(days=1))
    check_in(family, tried, NOON - timedelta(hours=16), answer=answer_index(tried, tried="no_chance"),
             tried="no_chance")
    assert choose_prompt(family, DAY, NOON).week == 4


def test_low_mood_turns_to_self_kindness_and_rest(library):
    family = enrolled(0)
    cues = band_prompts(theme="cues")[0]
    for hours, felt in ((40, 2), (30, 1), (20, 4), (10, 2)):
        check_in(family, cues, NOON - timedelta(hours=hours), answer=0, felt=felt)
    assert choose_prompt(family, DAY, NOON).strand in ("self-kindness", "good-enough")


# --- repeats and determinism ----------------------------------------------------------------------

def test_no_repeat_while_the_week_has_fresh_prompts(library):
    family = enrolled(0)
    week = band_prompts(week=1)
    for n, prompt in enumerate(week[:-1]):
        deliver(family, prompt, DAY - timedelta(days=len(week) - n))
    assert choose_prompt(family, DAY, NOON).id == week[-1].id


def test_repeat_days_comes_from_config(library, app):
    family = enrolled(0)
    week = band_prompts(week=1)
    for n, prompt in reversed(list(enumerate(week))):  # every week-1 prompt, … 9, 6, 3 days ago
        deliver(family, prompt, DAY - timedelta(days=3 + n * 3))
    app.config["REPEAT_DAYS"] = 2
    expected = PlanningDraws(family.id, DAY).choice(band_prompts(week=1, strand="watching-cues"))
    assert choose_prompt(family, DAY, NOON).id == expected.id  # all fresh again after 2 days
    app.config["REPEAT_DAYS"] = 60
    assert choose_prompt(family, DAY, NOON).week != 1  # none rested an arc: another week's turn


def test_choice_is_deterministic_and_exact(library):
    family = enrolled(2)  # week 3: wondering alone
    expected = PlanningDraws(family.id, DAY).choice(band_prompts(week=3))
    assert choose_prompt(family, DAY, NOON).id == expected.id
    assert choose_prompt(family, DAY, NOON + timedelta(hours=5)).id == expected.id


def test_different_families_and_days_spread_over_the_candidates(library):
    chosen = {choose_prompt(enrolled(0), DAY, NOON).id for _ in range(12)}
    assert len(chosen) > 1


# --- 90 days for every band -----------------------------------------------------------------------

START = date(2027, 1, 1)
BANDS = [(0, 3), (3, 6), (6, 12), (12, 24), (24, 36), (36, 60)]


@dataclass
class Simulation:
    family: Family
    sent: list[Delivery] = field(default_factory=list)
    hard: dict[date, Prompt] = field(default_factory=dict)  # day of a hard rupture → the rupture
    not_yet: dict[date, Prompt] = field(default_factory=dict)
    reflections: set[date] = field(default_factory=set)  # days whose delivery was the week's look back

    def next_prompt_day(self, day: date) -> date:
        """The first day after ``day`` that brought a prompt (a reflection day brings none)."""
        day += timedelta(days=1)
        while day in self.reflections:
            day += timedelta(days=1)
        return day


def simulate(band: tuple[int, int], days: int) -> Simulation:
    """One family whose child is at the start of ``band`` on START, enrolled that day, evening window;
    planned once a day, checking in every evening: a hard answer on every third rupture, "not yet"
    every fifth other day when the strand has another prompt, "tried it" otherwise; on the week's
    reflection day the parent answers the reflection's question instead."""
    month = START.year * 12 + START.month - 1 - band[0]
    family = make_family(child_birth_month=f"{month // 12}-{month % 12 + 1:02d}",
                         next_due_at=datetime.combine(START, datetime.min.time()))
    family.created_at = datetime.combine(START, datetime.min.time())
    family.save()
    sim = Simulation(family)
    ruptures = 0
    for offset in range(days):
        day = START + timedelta(days=offset)
        plan_due_deliveries(now=datetime.combine(day, datetime.min.time()) + timedelta(hours=9))
        delivery = Delivery.get(Delivery.family == family.id, Delivery.local_date == day)
        sim.sent.append(delivery)
        prompt = delivery.prompt
        evening = datetime.combine(day, datetime.min.time()) + timedelta(hours=19, minutes=30)
        if delivery.kind == "reflection":
            assert prompt is None
            sim.reflections.add(day)
            save_answer(family, delivery, family.user, "We laughed a lot at bath time.", False, now=evening)
            continue
        tried, answer = "yes", 0
        if prompt.theme == "rupture":
            ruptures += 1
            if ruptures % 3 == 1:
                answer = answer_index(prompt, hard=True)
                sim.hard[day] = prompt
        elif offset % 5 == 2 and len(band_prompts(family.age_months(on=day), strand=prompt.strand)) > 1:
            tried, answer = "not_yet", answer_index(prompt, tried="not_yet")
            sim.not_yet[day] = prompt
        check_in(family, prompt, evening, answer=answer, felt=4, tried=tried)
    return sim


@pytest.mark.parametrize("band", BANDS, ids=[f"{lo}-{hi}" for lo, hi in BANDS])
def test_ninety_days_for_every_band(library, band):
    sim = simulate(band, 90)
    assert len(sim.sent) == 90
    by_day = {d.local_date: d.prompt for d in sim.sent if d.kind == "prompt"}

    # A daily family that checks in every evening looks back on the last day of each programme week.
    assert sim.reflections == {START + timedelta(days=n) for n in range(6, 90, 7)}
    assert len(by_day) == 90 - len(sim.reflections)

    # Moment fit: an evening window never gets a morning or daytime prompt.
    assert {p.moment for p in by_day.values()} <= set(EVENING)

    # The paired repair on the next prompt day after a hard rupture (the day after, unless that is
    # the week's reflection).
    answered = set()
    for day, rupture in sim.hard.items():
        following = by_day.get(sim.next_prompt_day(day))
        if following is not None:
            assert following.skill == rupture.pairs_with, (day, rupture.title, following.title)
            answered.add(sim.next_prompt_day(day))

    # "Not yet" comes back within 7 days in another prompt of the same skill or strand, while the
    # band has one not sent in the no-repeat window.
    for day, prompt in sim.not_yet.items():
        week_after = [day + timedelta(days=n) for n in range(1, 8)]
        later = [by_day[d] for d in week_after if d in by_day]
        recent = {p.id for d, p in by_day.items() if day - timedelta(days=60) < d <= day}
        others = [p for p in band_prompts(sim.family.age_months(on=day), strand=prompt.strand)
                  if p.id not in recent]
        if week_after[-1] <= sim.sent[-1].local_date and others:
            assert any(p.id != prompt.id and (p.skill == prompt.skill or p.strand == prompt.strand)
                       for p in later), (day, prompt.title)

    # No repeat sooner than an arc, or than the band's whole pool when it is smaller.
    last: dict[int, date] = {}
    for day in sorted(by_day):
        prompt = by_day[day]
        pool = len(band_prompts(sim.family.age_months(on=day)))
        if prompt.id in last and day not in answered:
            assert (day - last[prompt.id]).days >= min(ARC_DAYS, pool), (prompt.title, day)
        last[prompt.id] = day

    # Arcs in order: whenever the week still had a fresh prompt and no coaching came first, the
    # prompt is of the family's week.
    coached = answered | {sim.next_prompt_day(d) for d in sim.not_yet}
    used: dict[int, date] = {}
    for day in sorted(by_day):
        week = arc_week(START, day)
        fresh = [p for p in band_prompts(sim.family.age_months(on=day), week=week)
                 if p.id not in used or (day - used[p.id]).days > 60]
        if fresh and day not in coached:
            assert by_day[day].week == week, (day, week, by_day[day].title)
        used[by_day[day].id] = day
