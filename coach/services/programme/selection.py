"""Choosing the prompt a family gets on a local date (DESIGN.md "Scheduling and delivery", step 2;
CONTENT.md "Second release": the programme and coaching that answers back).

Decisions:

- **The pool**: published prompts whose ``[age_min_months, age_max_months)`` contains the child's
  age on the local date (none → the nearest band: fewest months outside it), keeping those whose
  ``moment`` fits the family's window (:func:`window_moments`: a window starting 16:00–21:59 gets
  ``evening``, ``bedtime`` and ``any``; 04:00–10:59 ``morning``, ``day``, ``any``; 11:00–15:59
  ``day``, ``evening``, ``any``; later or earlier ``morning`` and ``any``). Only when no prompt of
  the band fits the window at all is the moment ignored. An empty library gives ``None``.
- **Languages**: a family whose recipient reads Spanish (``families.languages.family_languages``)
  gets only prompts with a ``PromptTranslation`` into it: the pool is built from those alone, so
  the next fitting prompt comes instead of an untranslated one (and the nearest band's, when the
  child's band has none translated). No translated prompt at all gives ``None``: nothing is sent
  rather than words the parent may not read.
- **The arc**: the family's week is ``(days since enrolment // 7) % 6 + 1`` (the UTC date of
  ``Family.created_at`` to the local date; :func:`arc_week`), so every six weeks the arc starts
  again with new prompts on the same strands. Within the week the strands take turns: the strand
  after the previous delivery's strand in the week's order (CONTENT.md's order) comes first.
- **Coaching overrides**, first that has a fresh prompt wins (fresh: not sent within
  ``REPEAT_DAYS``):
  1. *Paired repair*: the family's most recent check-in of the last 3 days was on a rupture prompt
     and chose an answer flagged ``"hard": true`` or felt ≤ 2, and no repair (theme ``repair`` or the
     paired skill) was delivered on a later local date → a prompt whose ``skill`` is the rupture's
     ``pairs_with``; when every one of those was sent recently, the least recently sent of them
     still comes (answering a hard moment with its repair beats the no-repeat rest); with no paired
     prompt in the pool, any fresh repair prompt.
  2. *Low mood*: the wellbeing rule (3 of the last 5 check-ins felt ≤ 2) applied to the check-ins
     of the last 14 days → ``self-kindness`` and ``good-enough`` prompts (rest and kindness).
  3. *Not yet*: the newest check-in of the last 7 days answered ``not_yet`` and no delivery since
     its local date had the same skill or strand → another prompt of the same skill, else of the
     same strand. ``no_chance`` ("it didn't come up") brings nothing back and is never counted as
     not trying.
- **No repeats**: after the overrides, a fresh prompt of the week's next strand, then of the week;
  when the week has none, the week's least recently sent prompt if it rested at least
  ``ARC_DAYS`` (42, one arc); then any fresh prompt of the pool (a review of other weeks); then
  the pool's least recently sent prompt. So a prompt rests ``REPEAT_DAYS`` when the band allows,
  an arc at least while the week has enough prompts, and as long as the pool when it is small.
- **Memory**: ``Family.recent_prompts`` lists ``"<local date ordinal>:<prompt id>,"`` for every
  prompt planned in the last ``REPEAT_DAYS``, oldest first. The planner appends to it with each
  delivery it plans (:func:`remember`, which drops what tomorrow's choice no longer needs, so a
  daily family's list never needs pruning at read; after a gap the stale head is cut off first);
  migration v8 fills it from existing deliveries (:func:`rebuild_recent_prompts`).
- Deterministic for a given state: each tier is ordered by prompt id (least recently used tiers
  keep only the oldest) and one is picked with ``random.Random("<family id>:<local date ISO>")``
  (:class:`PlanningDraws`), so tests can assert exact choices.
- Cost: the planner builds one :class:`SelectionContext` per batch. It reads the published library
  once per tick and works out each (age, moment set, languages) pool once per tick; per batch it
  makes one query for the batch families' check-ins of the last 14 days (index on family, received_at) and
  one for the few of them who read a language besides English. Delivery
  history is never read: what was sent lives on the family row the planner already reads and
  writes. Never a query per family.
"""
from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from peewee import SQL

from ...db import db
from ...models import REFLECTED, STRAND_WEEKS, CheckIn, Delivery, Family, Prompt, utcnow
from ..families.languages import languages_by_family, needs_translation
from ..families.wellbeing import LOW_COUNT, is_low
from ..families.wellbeing import WINDOW as MOOD_WINDOW
from .translations import usable_translations

DEFAULT_REPEAT_DAYS = 60
ARC_WEEKS = 6
ARC_DAYS = 7 * ARC_WEEKS
CHECKIN_LOOKBACK = timedelta(days=3)
NOT_YET_DAYS = 7
MOOD_LOOKBACK = timedelta(days=14)
HARD_FELT = 2
REST_STRANDS = ("self-kindness", "good-enough")
#: Each week's strands in the order they take turns.
WEEK_STRANDS: dict[int, tuple[str, ...]] = {
    week: tuple(strand for strand, w in STRAND_WEEKS.items() if w == week)
    for week in range(1, ARC_WEEKS + 1)}


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


# --- the family's place in the programme ----------------------------------------------------------

def window_moments(window_start: str) -> tuple[str, ...]:
    """The prompt moments that fit a window starting at ``HH:MM`` local (module docstring)."""
    hour = int(window_start[:2])
    if 16 <= hour < 22:
        return ("evening", "bedtime", "any")
    if 4 <= hour < 11:
        return ("morning", "day", "any")
    if 11 <= hour < 16:
        return ("day", "evening", "any")
    return ("morning", "any")


def arc_week(enrolled: date | datetime | str | None, local_date: date) -> int:
    """The family's week in the six-week arc (1–6) on ``local_date``."""
    start = as_date(enrolled) or local_date
    return (max(0, (local_date - start).days) // 7) % ARC_WEEKS + 1


def arc_day(enrolled: date | datetime | str | None, local_date: date) -> int:
    """The day of the family's programme week (0–6; 6 is its last day)."""
    start = as_date(enrolled) or local_date
    return max(0, (local_date - start).days) % 7


# --- what was sent recently (Family.recent_prompts) -----------------------------------------------

def parse_recent(text: str | None) -> list[tuple[int, int]]:
    """``[(local date ordinal, prompt id)]`` oldest first."""
    entries = []
    for entry in (text or "").split(","):
        day, _, prompt_id = entry.partition(":")
        if day and prompt_id:
            entries.append((int(day), int(prompt_id)))
    return entries


def remember(text: str | None, local_date: date, prompt_id: int, days: int) -> str:
    """``recent_prompts`` after planning ``prompt_id`` on ``local_date``: what tomorrow's choice no
    longer needs (sent ``days`` or more before tomorrow) dropped, one entry per date (a re-plan
    replaces it). String work only: the planner calls it for every family it plans."""
    today = local_date.toordinal()
    text = drop_through(text or "", today + 1 - days)
    while text:  # a re-plan of today (or a clock that went back a day) replaces the tail
        start = text.rfind(",", 0, len(text) - 1) + 1
        if int(text[start:text.index(":", start)]) < today:
            break
        text = text[:start]
    return f"{text}{today}:{prompt_id},"


def drop_through(text: str, cutoff: int) -> str:
    """``recent_prompts`` without its leading entries of day ``cutoff`` or before."""
    while text:
        colon = text.index(":")
        if int(text[:colon]) > cutoff:
            break
        text = text[text.index(",", colon) + 1:]
    return text


def last_sent(text: str, prompt_id: int) -> int:
    """The day (ordinal) ``prompt_id`` was last sent according to ``recent_prompts``, 0 if not."""
    return _last_sent(text, f":{prompt_id},")


def _last_sent(text: str, key: str) -> int:
    colon = text.rfind(key)
    if colon < 0:
        return 0
    return int(text[text.rfind(",", 0, colon) + 1:colon])


def rebuild_recent_prompts(today: date | None = None) -> None:
    """Fill every family's ``recent_prompts`` from its deliveries of the last ``REPEAT_DAYS``
    (migration v8; one read of the window, one write per family that had deliveries)."""
    today = today or utcnow().date()
    days = repeat_days()
    query = (Delivery.select(Delivery.family, Delivery.local_date, Delivery.prompt)
             .where(Delivery.local_date > today - timedelta(days=days),
                    Delivery.prompt.is_null(False))
             .order_by(Delivery.family, Delivery.local_date))
    texts: dict[int, str] = defaultdict(str)
    for family_id, local_date, prompt_id in db.execute(query):
        texts[family_id] += f"{as_date(local_date).toordinal()}:{prompt_id},"
    for family_id, text in texts.items():
        Family.update(recent_prompts=text).where(Family.id == family_id).execute()


# --- the library --------------------------------------------------------------------------------

Item = tuple[str, Prompt]  # (":<id>," — how recent_prompts names it, the prompt)


@dataclass
class Pool:
    """The prompts a family of one age and window may get, grouped the ways choosing asks, each
    with its search key in ``recent_prompts`` (reading a model's id costs more than the search)."""

    items: tuple[Item, ...]
    by_week: dict[int, tuple[Item, ...]]
    by_week_strand: dict[tuple[int, str], tuple[Item, ...]]
    by_strand: dict[str, tuple[Item, ...]]
    by_skill: dict[str, tuple[Item, ...]]
    repairs: tuple[Item, ...]
    rest: tuple[Item, ...]

    @classmethod
    def of(cls, prompts: list[Prompt]) -> Pool:
        groups: dict[tuple, list[Item]] = defaultdict(list)
        items = tuple((f":{p.id},", p) for p in prompts)
        for item in items:
            prompt = item[1]
            for key in (("week", prompt.week), ("week_strand", (prompt.week, prompt.strand)),
                        ("strand", prompt.strand), ("skill", prompt.skill)):
                groups[key].append(item)

        def grouped(kind: str) -> dict:
            return {key[1]: tuple(value) for key, value in groups.items() if key[0] == kind}

        return cls(items, grouped("week"), grouped("week_strand"), grouped("strand"), grouped("skill"),
                   tuple(i for i in items if i[1].theme == "repair"),
                   tuple(i for i in items if i[1].strand in REST_STRANDS))


class PromptCache:
    """The published library, loaded once per planning tick, with each (age, moments, languages)
    pool worked out once."""

    def __init__(self, prompts: Iterable[Prompt], translated: dict[str, set[int]] | None = None):
        self.prompts = list(prompts)
        self.by_id = {prompt.id: prompt for prompt in self.prompts}
        self.strand_of = {prompt.id: prompt.strand for prompt in self.prompts}
        # language → ids of the prompts translated into it (a family needing it gets only those)
        self.translated = translated or {}
        self._pools: dict[tuple[int, tuple[str, ...], tuple[str, ...]], Pool] = {}

    @classmethod
    def load(cls) -> PromptCache:
        """Read every published prompt, and which have translations that fit them, in two queries."""
        return cls(Prompt.published().order_by(Prompt.id), usable_translations())

    def all(self) -> Iterable[Prompt]:
        """Every published prompt."""
        return iter(self.prompts)

    def pool(self, age: int, moments: tuple[str, ...], languages: tuple[str, ...] = ()) -> Pool:
        """The prompts for that age (or the nearest band) that fit those moments and are
        translated into every one of ``languages`` (those a family needs besides English)."""
        key = (age, moments, languages)
        if key not in self._pools:  # ages repeat across a batch: work each one out once
            band = self._for_age(age, self._readable(languages))
            fitting = [p for p in band if p.moment in moments]
            self._pools[key] = Pool.of(fitting or band)
        return self._pools[key]

    def _readable(self, languages: tuple[str, ...]) -> list[Prompt]:
        if not languages:
            return self.prompts
        return [p for p in self.prompts
                if all(p.id in self.translated.get(language, ()) for language in languages)]

    @staticmethod
    def _for_age(age: int, prompts: list[Prompt]) -> list[Prompt]:
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


# --- per-family state ---------------------------------------------------------------------------

@dataclass
class FamilyState:
    """What choosing needs to know about one family before one local date."""

    recent: str = ""  # Family.recent_prompts
    week: int = 1
    # the languages besides English its prompts must be in (families.languages)
    languages: tuple[str, ...] = ()
    # newest first: (received_at, client_created_at, prompt id, answer, tried, felt)
    checkins: list[tuple] = field(default_factory=list)


class SelectionContext:
    """Everything choosing needs for a batch of (family, local date) plans, read in one query."""

    def __init__(self, prompts: PromptCache, days: int, now: datetime):
        self.prompts = prompts
        self.repeat_days = days
        self.now = now
        self.hard_since = now - CHECKIN_LOOKBACK
        self.not_yet_since = now - timedelta(days=NOT_YET_DAYS)
        self.states: dict[tuple[int, date], FamilyState] = {}

    @classmethod
    def load(cls, plans: Sequence[tuple[Family, date]], now: datetime,
             prompts: PromptCache | None = None) -> SelectionContext:
        """Load the state of every ``(family, local_date)`` in ``plans`` as of ``now``."""
        context = cls(prompts or PromptCache.load(), repeat_days(), now)
        if not plans:
            return context
        ids = {family.id for family, _ in plans}
        checkins = _recent_checkins(ids, now - MOOD_LOOKBACK)
        languages = languages_by_family(ids, translated_only=True)
        for family, day in plans:
            context.states[(family.id, day)] = FamilyState(
                recent=family.recent_prompts or "", week=arc_week(family.created_at, day),
                languages=needs_translation(languages.get(family.id, ())),
                checkins=checkins.get(family.id, []))
        return context

    def state(self, family: Family, local_date: date) -> FamilyState | None:
        """The loaded state of that family and date, or None when it is not in this context."""
        return self.states.get((family.id, local_date))


def id_list(ids: Iterable[int]) -> SQL:
    """``(1, 2, 3)`` for ``field.in_(...)`` with the integers written inline (``int()`` keeps that
    safe): peewee binding thousands of parameters node by node cost more than the queries, and
    inline lists have no parameter limit, so a batch needs no chunking."""
    return SQL("(" + (", ".join(str(int(i)) for i in ids) or "NULL") + ")")


def _recent_checkins(ids: Iterable[int], since: datetime) -> dict[int, list[tuple]]:
    """Each family's check-ins received since ``since``, newest first (index on family,
    received_at): ``{family id: [(received_at, client_created_at, prompt id, answer, tried, felt)]}``."""
    query = (CheckIn
             .select(CheckIn.family, CheckIn.received_at, CheckIn.client_created_at, CheckIn.prompt,
                     CheckIn.answer, CheckIn.tried, CheckIn.felt)
             .where(CheckIn.family.in_(id_list(ids)), CheckIn.received_at >= since,
                    CheckIn.tried != REFLECTED))  # a reflection's answer is no prompt's check-in
    found: dict[int, list[tuple]] = defaultdict(list)
    for family_id, received_at, created_at, prompt_id, answer, tried, felt in db.execute(query):
        found[family_id].append((as_datetime(received_at), as_datetime(created_at), prompt_id,
                                 answer, tried, felt))
    for rows in found.values():
        rows.sort(key=lambda row: row[0], reverse=True)
    return found


def _is_hard(prompt: Prompt | None, answer: int | None, felt: int | None) -> bool:
    """A check-in on a rupture prompt that chose a "hard" answer or felt 2 or less."""
    if prompt is None or prompt.theme != "rupture":
        return False
    if felt is not None and felt <= HARD_FELT:
        return True
    answers = prompt.answers
    if answer is None or not answers or not 0 <= answer < len(answers):
        return False
    chosen = answers[answer]
    return isinstance(chosen, dict) and bool(chosen.get("hard"))


# --- choosing -----------------------------------------------------------------------------------

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
    pool = context.prompts.pool(family.age_months(on=local_date), window_moments(family.window_start),
                                state.languages)
    if not pool.items:
        return None
    chooser = _Chooser(pool, state, local_date, context, family.timezone)
    return chooser.pick(draws or PlanningDraws(family.id, local_date))


class _Chooser:
    """One family's choice on one date (the tiers of the module docstring)."""

    def __init__(self, pool: Pool, state: FamilyState, local_date: date, context: SelectionContext,
                 timezone: str):
        self.pool, self.state, self.context, self.timezone = pool, state, context, timezone
        self.today = local_date.toordinal()
        self.recent = drop_through(state.recent, self.today - context.repeat_days)

    def fresh(self, items: Iterable[Item]) -> list[Prompt]:
        """Those not sent within the repeat window (a substring test: no parsing)."""
        recent = self.recent
        return [p for key, p in items if key not in recent]

    def least_recent(self, items: Sequence[Item]) -> tuple[list[Prompt], int]:
        """The least recently sent of ``items`` and the day they were sent (0: never). The list is
        in date order with one entry a day, so the earliest last mention is the oldest sending:
        one search per item, and only the winner's date is read."""
        recent = self.recent
        positions = [recent.rfind(key) for key, _ in items]
        first = min(positions)
        chosen = [p for (_, p), position in zip(items, positions, strict=True) if position == first]
        return chosen, (_last_sent(recent, items[positions.index(first)][0]) if first >= 0 else 0)

    def local_day(self, moment: datetime) -> int:
        return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(self.timezone)).date().toordinal()

    def sent_since(self, day: int, match) -> bool:
        """Whether a prompt sent after local day ``day`` matches (reads only the newest entries)."""
        by_id, recent = self.context.prompts.by_id, self.recent
        end = len(recent)
        while end > 0:
            start = recent.rfind(",", 0, end - 1) + 1
            sent_on, _, prompt_id = recent[start:end - 1].partition(":")
            if int(sent_on) <= day:
                return False
            prompt = by_id.get(int(prompt_id))
            if prompt is not None and match(prompt):
                return True
            end = start
        return False

    def pick(self, draws: PlanningDraws) -> Prompt:
        pool = self.pool
        tiers: list[Iterable[Item]] = []
        if self.state.checkins:  # coaching answers check-ins: none in 14 days, nothing to answer
            paired = self.paired_repair()
            if paired is not None:
                fresh = self.fresh(paired) or (self.fresh(pool.repairs) if not paired else None)
                if fresh:
                    return draws.choice(fresh)
                if paired:
                    return draws.choice(self.least_recent(paired)[0])
            if len(self.state.checkins) >= LOW_COUNT and self.low_mood():
                tiers.append(pool.rest)
            tiers.extend(self.not_yet_tiers())
        week = pool.by_week.get(self.state.week, ())
        tiers.append(self.next_strand())
        tiers.append(week)
        for tier in tiers:
            fresh = self.fresh(tier)
            if fresh:
                return draws.choice(fresh)
        if week:
            rested, day = self.least_recent(week)
            if day <= self.today - ARC_DAYS:
                return draws.choice(rested)
        fresh = self.fresh(pool.items)
        if fresh:
            return draws.choice(fresh)
        return draws.choice(self.least_recent(pool.items)[0])

    def paired_repair(self) -> tuple[Item, ...] | None:
        """The repairs that answer a hard rupture still unanswered, or None (``()``: the rupture
        names no repair in this pool)."""
        checkins = self.state.checkins
        if checkins[0][0] < self.context.hard_since:
            return None
        _received, _created, prompt_id, answer, _tried, felt = checkins[0]
        rupture = self.context.prompts.by_id.get(prompt_id) or _unpublished(prompt_id)
        if not _is_hard(rupture, answer, felt):
            return None
        skill = rupture.pairs_with
        if self.sent_since(self.local_day(checkins[0][0]),
                           lambda p: p.theme == "repair" or (skill and p.skill == skill)):
            return None
        return self.pool.by_skill.get(skill, ()) if skill else ()

    def low_mood(self) -> bool:
        newest = sorted(self.state.checkins, key=lambda row: (row[1], row[0]), reverse=True)
        return is_low([row[5] for row in newest[:MOOD_WINDOW]])

    def not_yet_tiers(self) -> list[Iterable[Item]]:
        latest = next((row for row in self.state.checkins if row[4] == "not_yet"), None)
        if latest is None or latest[0] < self.context.not_yet_since:
            return []
        prompt = self.context.prompts.by_id.get(latest[2])
        if prompt is None:
            return []
        if self.sent_since(self.local_day(latest[0]),
                           lambda p: p.id != prompt.id and (p.skill == prompt.skill
                                                            or p.strand == prompt.strand)):
            return []
        same = f":{prompt.id},"
        return [[i for i in self.pool.by_skill.get(prompt.skill, ()) if i[0] != same],
                [i for i in self.pool.by_strand.get(prompt.strand, ()) if i[0] != same]]

    def next_strand(self) -> tuple[Item, ...]:
        """The week's prompts of the strand whose turn it is (after the previous delivery's)."""
        week = self.state.week
        strands = WEEK_STRANDS.get(week, ())
        if len(strands) < 2:
            return ()
        previous = None
        if self.recent:
            last = self.recent[self.recent.rfind(":") + 1:-1]
            previous = self.context.prompts.strand_of.get(int(last))
        turn = strands[(strands.index(previous) + 1) % len(strands)] if previous in strands else strands[0]
        return self.pool.by_week_strand.get((week, turn), ())


def _unpublished(prompt_id: int | None) -> Prompt | None:
    """A check-in's prompt retired since (rare: read just that one)."""
    return Prompt.get_or_none(Prompt.id == prompt_id) if prompt_id is not None else None
