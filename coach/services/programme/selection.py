"""Choosing the prompt a family gets on a local date (DESIGN.md "Scheduling and delivery", step 2).

Decisions:

- Candidates are published prompts whose ``[age_min_months, age_max_months)`` contains the child's
  age on the local date. When no published prompt of a theme fits the age, that theme's nearest
  band is used (fewest months outside the band; ties keep every nearest prompt).
- Themes rotate cues → rupture → repair → cues after the theme of the family's latest delivery
  before the local date (none → cues). A theme with no published prompts at all is skipped to the
  next one; an empty library gives ``None``.
- Repair after a hard rupture: when the family's most recent check-in received in the last 3 days
  was on a rupture prompt and chose an answer flagged ``"hard": true`` (``CheckIn.answer`` indexes
  ``prompt.answers``) or felt ≤ 2, the next delivery is a repair prompt — once: a repair delivery
  on a later local date than that check-in answers it.
- No repeats: a prompt delivered on one of the ``REPEAT_DAYS`` (config, default 60) days before the
  local date is not chosen again while the theme has fresh candidates; when every candidate was
  used, the least recently used one comes again.
- Deterministic for a given state: candidates are ordered by (last used within the repeat window —
  older counts as never — , id) and one is picked with ``random.Random("<family id>:<local date
  ISO>")`` (:class:`PlanningDraws`), so tests can assert exact choices.
- Cost: the planner builds one :class:`SelectionContext` per batch. It reads the published library
  once per tick, then per batch: the families' latest check-ins (one query), their latest delivery
  themes (one query per local date in the batch — at most three), the latest repair of families
  whose check-in was a hard rupture (one per date, usually skipped), and when their candidate
  prompts were last used (one aggregated query per date and candidate set — bounded by themes ×
  age bands, not by families). Never a query per family, and never every delivery row of the
  window: index seeks keep a tick's cost to the families due, not the length of their history.
"""
from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from peewee import SQL, fn

from ...db import db
from ...models import THEMES, CheckIn, Delivery, Family, Prompt, utcnow

DEFAULT_REPEAT_DAYS = 60
CHECKIN_LOOKBACK = timedelta(days=3)
RECENT_REPAIR_DAYS = timedelta(days=5)  # covers any local date of a check-in from the last 3 days
HARD_FELT = 2
ROTATION = {"cues": "rupture", "rupture": "repair", "repair": "cues"}


class PlanningDraws:
    """The random choices planning makes for one family and local date, all from one
    ``random.Random("<family id>:<local date ISO>")`` in a fixed order — first the due minute's
    fraction of the window, then the prompt — so each can be reproduced alone, and a batch seeds
    one generator per family (seeding costs ~13 µs, a real share of a 10,000-family tick)."""

    def __init__(self, family_id: int, local_date: date):
        self._rng = random.Random(f"{family_id}:{local_date.isoformat()}")
        self.window_fraction = self._rng.random()  # exactly one draw, whatever the window

    def choice(self, items: Sequence[Prompt]) -> Prompt:
        """The prompt drawn from ``items`` (in the order given)."""
        return self._rng.choice(items)


def repeat_days() -> int:
    """``REPEAT_DAYS`` from the app config (60 outside an app context)."""
    if has_app_context():
        return int(current_app.config.get("REPEAT_DAYS", DEFAULT_REPEAT_DAYS))
    return DEFAULT_REPEAT_DAYS


def as_datetime(value: datetime | str) -> datetime:
    """A datetime from a datetime or the ISO text SQLite hands back."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def as_date(value: date | datetime | str | None) -> date | None:
    """A date from a date, datetime or ISO string (SQLite hands raw dates back as text)."""
    if value is None or type(value) is date:
        return value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class PromptCache:
    """The published library, loaded once per planning tick and grouped by theme."""

    def __init__(self, prompts: Iterable[Prompt]):
        self.by_theme: dict[str, list[Prompt]] = {theme: [] for theme in THEMES}
        for prompt in prompts:
            self.by_theme.setdefault(prompt.theme, []).append(prompt)
        self._for_age: dict[tuple[str, int], Candidates] = {}

    @classmethod
    def load(cls) -> PromptCache:
        """Read every published prompt in one query."""
        return cls(Prompt.published().order_by(Prompt.id))

    def all(self) -> Iterable[Prompt]:
        """Every published prompt."""
        return (prompt for prompts in self.by_theme.values() for prompt in prompts)

    def for_age(self, theme: str, age: int) -> Candidates:
        """The theme's prompts for that age, or the theme's nearest band when none fits."""
        key = (theme, age)
        if key not in self._for_age:  # ages repeat across a batch: work each one out once
            prompts = self._matching(theme, age)
            self._for_age[key] = Candidates(tuple(p.id for p in prompts), tuple(prompts))
        return self._for_age[key]

    def _matching(self, theme: str, age: int) -> list[Prompt]:
        prompts = self.by_theme.get(theme, [])
        fitting = [p for p in prompts if p.age_min_months <= age < p.age_max_months]
        if fitting or not prompts:
            return fitting
        distances = {p.id: _months_outside(p, age) for p in prompts}
        nearest = min(distances.values())
        return [p for p in prompts if distances[p.id] == nearest]


def _months_outside(prompt: Prompt, age: int) -> int:
    if age < prompt.age_min_months:
        return prompt.age_min_months - age
    return age - (prompt.age_max_months - 1)


class Candidates(NamedTuple):
    """The prompts one family may get, with their ids read once (model attributes cost ~0.4 µs)."""

    ids: tuple[int, ...]
    prompts: tuple[Prompt, ...]


@dataclass
class FamilyState:
    """What choosing needs to know about one family before one local date."""

    previous_theme: str | None = None
    last_repair: date | None = None  # latest repair delivery in the last few days
    hard_rupture_at: datetime | None = None  # when the latest check-in said a rupture was hard
    candidates: Candidates = Candidates((), ())
    last_used: dict[int, date] = field(default_factory=dict)  # prompt id → latest date in window


class SelectionContext:
    """Everything choosing needs for a batch of (family, local date) plans, read in a few queries."""

    def __init__(self, prompts: PromptCache, days: int):
        self.prompts = prompts
        self.repeat_days = days
        self.states: dict[tuple[int, date], FamilyState] = {}

    @classmethod
    def load(cls, plans: Sequence[tuple[Family, date]], now: datetime,
             prompts: PromptCache | None = None) -> SelectionContext:
        """Load the state of every ``(family, local_date)`` in ``plans`` as of ``now``."""
        context = cls(prompts or PromptCache.load(), repeat_days())
        if not plans:
            return context
        by_day: dict[date, list[int]] = defaultdict(list)
        for family, day in plans:
            context.states[(family.id, day)] = FamilyState()
            by_day[day].append(family.id)
        hard = context._hard_ruptures({family.id for family, _ in plans}, now - CHECKIN_LOOKBACK)
        for day, ids in by_day.items():
            context._load_previous(ids, day)
            context._load_last_repairs([family_id for family_id in ids if family_id in hard], day)
        # Families with the same candidates on the same date share one last-used query.
        by_candidates: dict[tuple[date, tuple[int, ...]], list[int]] = defaultdict(list)
        for family, day in plans:
            state = context.states[(family.id, day)]
            state.hard_rupture_at = hard.get(family.id)
            state.candidates = context._candidates(family, day, state)
            if state.candidates.ids:
                by_candidates[(day, state.candidates.ids)].append(family.id)
        for (day, prompt_ids), ids in by_candidates.items():
            context._load_last_used(ids, prompt_ids, day)
        return context

    def _load_previous(self, ids: list[int], day: date) -> None:
        latest = Delivery.alias("latest")
        previous_theme = (latest.select(latest.theme)
                          .where((latest.family == Family.id) & (latest.local_date < day))
                          .order_by(latest.local_date.desc()).limit(1))
        query = Family.select(Family.id, previous_theme).where(Family.id.in_(id_list(ids)))
        for family_id, theme in db.execute(query):  # raw rows: no per-row model cost
            self.states[(family_id, day)].previous_theme = theme

    def _load_last_repairs(self, ids: list[int], day: date) -> None:
        if not ids:  # only families whose latest check-in was a hard rupture: usually none
            return
        query = (Delivery
                 .select(Delivery.family, fn.MAX(Delivery.local_date))
                 .where(Delivery.family.in_(id_list(ids)), Delivery.theme == "repair",
                        Delivery.local_date >= day - RECENT_REPAIR_DAYS, Delivery.local_date < day)
                 .group_by(Delivery.family))
        for family_id, last in db.execute(query):
            self.states[(family_id, day)].last_repair = as_date(last)

    def _load_last_used(self, ids: list[int], prompt_ids: tuple[int, ...], day: date) -> None:
        # Seeks on delivery (family_id, prompt_id, local_date), one per (family, candidate) pair,
        # aggregated in the database: never a family's whole history.
        query = (Delivery
                 .select(Delivery.family, Delivery.prompt, fn.MAX(Delivery.local_date))
                 .where(Delivery.family.in_(id_list(ids)), Delivery.prompt.in_(id_list(prompt_ids)),
                        Delivery.local_date >= day - timedelta(days=self.repeat_days),
                        Delivery.local_date < day)
                 .group_by(Delivery.family, Delivery.prompt))
        for family_id, prompt_id, last in db.execute(query):
            last = last if type(last) is date else date.fromisoformat(last)  # text on SQLite
            self.states[(family_id, day)].last_used[prompt_id] = last

    def _candidates(self, family: Family, day: date, state: FamilyState) -> Candidates:
        theme = next_theme(state, family.timezone)
        age = family.age_months(on=day)
        for _ in THEMES:
            candidates = self.prompts.for_age(theme, age)
            if candidates.ids:
                return candidates
            theme = ROTATION[theme]
        return Candidates((), ())

    def _hard_ruptures(self, ids: set[int], since: datetime) -> dict[int, datetime]:
        """When each family's latest check-in since ``since`` said a rupture was hard, if it did."""
        latest = _latest_checkins(ids, since)
        facts = {p.id: (p.theme, p.answers) for p in self.prompts.all()}
        unknown = {row[1] for row in latest.values() if row[1] is not None} - facts.keys()
        if unknown:  # a check-in on a prompt retired since: read just those
            query = Prompt.select(Prompt.id, Prompt.theme, Prompt.answers).where(
                Prompt.id.in_(id_list(unknown)))
            facts.update((p.id, (p.theme, p.answers)) for p in query)
        return {family_id: received_at
                for family_id, (received_at, prompt_id, answer, felt) in latest.items()
                if _is_hard(*facts.get(prompt_id, (None, None)), answer, felt)}

    def state(self, family: Family, local_date: date) -> FamilyState | None:
        """The loaded state of that family and date, or None when it is not in this context."""
        return self.states.get((family.id, local_date))


def id_list(ids: Iterable[int]) -> SQL:
    """``(1, 2, 3)`` for ``field.in_(...)`` with the integers written inline (``int()`` keeps that
    safe): peewee binding thousands of parameters node by node cost more than the queries, and
    inline lists have no parameter limit, so a batch needs no chunking."""
    return SQL("(" + (", ".join(str(int(i)) for i in ids) or "NULL") + ")")


def _latest_checkins(ids: Iterable[int], since: datetime) -> dict[int, tuple]:
    """Each family's most recent check-in received since ``since`` (index on family, received_at):
    ``{family id: (received_at, prompt id, answer, felt)}``."""
    query = (CheckIn
             .select(CheckIn.family, CheckIn.received_at, CheckIn.prompt, CheckIn.answer, CheckIn.felt)
             .where(CheckIn.family.in_(id_list(ids)), CheckIn.received_at >= since))
    latest: dict[int, tuple] = {}
    for family_id, received_at, prompt_id, answer, felt in db.execute(query):
        received_at = as_datetime(received_at)
        if family_id not in latest or received_at > latest[family_id][0]:
            latest[family_id] = (received_at, prompt_id, answer, felt)
    return latest


def _is_hard(theme: str | None, answers: list | None, answer: int | None, felt: int | None) -> bool:
    """A check-in on a rupture prompt that chose a "hard" answer or felt 2 or less."""
    if theme != "rupture":
        return False
    if felt is not None and felt <= HARD_FELT:
        return True
    if answer is None or not answers or not 0 <= answer < len(answers):
        return False
    chosen = answers[answer]
    return isinstance(chosen, dict) and bool(chosen.get("hard"))


def choose_prompt(family: Family, local_date: date, now: datetime | None = None,
                  context: SelectionContext | None = None,
                  draws: PlanningDraws | None = None) -> Prompt | None:
    """The prompt ``family`` should get on ``local_date`` (see the module docstring), or None when
    no prompt is published. ``context`` is the planner's batch cache and ``draws`` its seeded
    generator for this family and date; without them both are made here."""
    now = now or utcnow()
    state = context.state(family, local_date) if context is not None else None
    if state is None:
        context = SelectionContext.load([(family, local_date)], now,
                                        context.prompts if context is not None else None)
        state = context.state(family, local_date)
    if not state.candidates.ids:
        return None
    return _pick(state.candidates, state.last_used, local_date, context.repeat_days,
                 draws or PlanningDraws(family.id, local_date))


def next_theme(state: FamilyState, timezone: str) -> str:
    """The theme after the previous delivery's, or repair after an unanswered hard rupture."""
    if state.hard_rupture_at is not None:
        checkin_day = state.hard_rupture_at.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).date()
        if state.last_repair is None or state.last_repair <= checkin_day:
            return "repair"
    return ROTATION.get(state.previous_theme or "", "cues")


def _pick(candidates: Candidates, last_used: dict[int, date], local_date: date, days: int,
          draws: PlanningDraws) -> Prompt:
    keyed = sorted((last_used.get(prompt_id, date.min), prompt_id, prompt)
                   for prompt_id, prompt in zip(*candidates, strict=True))
    blocked_from = local_date - timedelta(days=days)
    fresh = [p for used, _id, p in keyed if used < blocked_from]
    if fresh:
        return draws.choice(fresh)
    oldest = keyed[0][0]
    return draws.choice([p for used, _id, p in keyed if used == oldest])
