"""What works in the library: per-prompt delivery and check-in counts, coverage, and the filtered list.

Counts come from one aggregated query for the whole library (never a query per prompt).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from peewee import JOIN, Case, fn

from ...i18n import _
from ...models import MOMENTS, PROMPT_STATUSES, STRAND_NAMES, STRANDS, THEMES, CheckIn, Delivery, Prompt
from .library import AGE_BANDS, ANY_AGE, age_label

#: A theme × age band cell with fewer published prompts than this is a gap.
MIN_PER_CELL = 4
SORT_KEYS = ("title", "theme", "age", "status", "version", "sent", "opened", "checkins", "tried",
             "updated")


@dataclass
class PromptStats:
    """How a prompt did: deliveries sent and opened, check-ins, and how many said they tried it."""

    sent: int = 0
    opened: int = 0
    checkins: int = 0
    tried: int = 0

    @property
    def tried_share(self) -> float | None:
        """The share of check-ins answering "tried it", or None before the first check-in."""
        return self.tried / self.checkins if self.checkins else None


def _was_sent():
    return (Delivery.status == "sent") | Delivery.sent_at.is_null(False)


def _count_if(condition):
    return fn.COALESCE(fn.SUM(Case(None, [(condition, 1)], 0)), 0)


def prompt_stats(prompt_id: int | None = None) -> dict[int, PromptStats]:
    """Stats for every prompt that has any (or just ``prompt_id``), keyed by prompt id, in one SQL
    statement."""
    deliveries = (Delivery
                  .select(Delivery.prompt.alias("pid"), _count_if(_was_sent()).alias("sent"),
                          _count_if(Delivery.opened_at.is_null(False)).alias("opened"))
                  .where(Delivery.prompt.is_null(False)).group_by(Delivery.prompt).alias("d"))
    checkins = (CheckIn
                .select(CheckIn.prompt.alias("pid"), fn.COUNT(CheckIn.id).alias("checkins"),
                        _count_if(CheckIn.tried == "yes").alias("tried"))
                .where(CheckIn.prompt.is_null(False)).group_by(CheckIn.prompt).alias("c"))
    query = (Prompt
             .select(Prompt.id, deliveries.c.sent, deliveries.c.opened, checkins.c.checkins,
                     checkins.c.tried)
             .join(deliveries, JOIN.LEFT_OUTER, on=(deliveries.c.pid == Prompt.id))
             .join_from(Prompt, checkins, JOIN.LEFT_OUTER, on=(checkins.c.pid == Prompt.id))
             .where(deliveries.c.pid.is_null(False) | checkins.c.pid.is_null(False))
             .tuples())
    if prompt_id is not None:
        query = query.where(Prompt.id == prompt_id)
    return {pid: PromptStats(*(int(v or 0) for v in values)) for pid, *values in query}


def sent_by_version(prompt: Prompt) -> list[tuple[int, int]]:
    """``[(version, times sent)]`` for one prompt, newest version first."""
    query = (Delivery.select(Delivery.prompt_version, fn.COUNT(Delivery.id))
             .where(Delivery.prompt == prompt, _was_sent())
             .group_by(Delivery.prompt_version).order_by(Delivery.prompt_version.desc()).tuples())
    return [(version, count) for version, count in query if version is not None]


# --- coverage -----------------------------------------------------------------------------------

@dataclass
class CoverageCell:
    theme: str  # or the strand or moment of a programme grid
    band: tuple[int, int]
    count: int
    minimum: int = MIN_PER_CELL

    @property
    def gap(self) -> bool:
        return self.count < self.minimum

    @property
    def band_key(self) -> str:
        return f"{self.band[0]}-{self.band[1]}"


def coverage() -> list[tuple[str, list[CoverageCell]]]:
    """Published prompts per theme × age band; an any-age prompt counts in every band it covers."""
    ranges = (Prompt.published()
              .select(Prompt.theme, Prompt.age_min_months, Prompt.age_max_months, fn.COUNT(Prompt.id))
              .group_by(Prompt.theme, Prompt.age_min_months, Prompt.age_max_months).tuples())
    counts = list(ranges)
    grid = []
    for theme in THEMES:
        cells = []
        for low, high in AGE_BANDS:
            total = sum(n for t, lo, hi, n in counts if t == theme and lo <= low and hi >= high)
            cells.append(CoverageCell(theme, (low, high), total))
        grid.append((theme, cells))
    return grid


@dataclass
class GridRow:
    """One row of a programme coverage grid: a strand or moment, its count per age band, and for
    strands the share of check-ins that tried (``None`` before any)."""

    key: str
    label: str
    cells: list[CoverageCell]
    tried_share: float | None = None
    checkins: int = 0


def _band_counts(column) -> dict[str, list[int]]:
    """Published prompts per value of ``column`` × age band (any-age prompts count in every band)."""
    rows = list(Prompt.published()
                .select(column, Prompt.age_min_months, Prompt.age_max_months, fn.COUNT(Prompt.id))
                .group_by(column, Prompt.age_min_months, Prompt.age_max_months).tuples())
    return {key: [sum(n for k, lo, hi, n in rows if k == key and lo <= low and hi >= high)
                  for low, high in AGE_BANDS] for key in {row[0] for row in rows}}


def strand_coverage() -> list[GridRow]:
    """Strands × age bands (every band should teach all twelve: an empty cell is a gap), with
    what works: the share of check-ins on each strand's prompts that said they tried it, leaving
    out "it didn't come up" (the moment never came, so it says nothing about the prompt)."""
    counts = _band_counts(Prompt.strand)
    works = {strand: (int(tried or 0), int(total or 0)) for strand, tried, total in (
        CheckIn.select(Prompt.strand, _count_if(CheckIn.tried == "yes"), fn.COUNT(CheckIn.id))
        .join(Prompt, on=(CheckIn.prompt == Prompt.id))
        .where(CheckIn.tried != "no_chance")
        .group_by(Prompt.strand).tuples())}
    grid = []
    for strand in STRANDS:
        tried, total = works.get(strand, (0, 0))
        cells = [CoverageCell(strand, band, n, minimum=1)
                 for band, n in zip(AGE_BANDS, counts.get(strand, [0] * len(AGE_BANDS)), strict=True)]
        grid.append(GridRow(strand, STRAND_NAMES[strand], cells, tried / total if total else None, total))
    return grid


def moment_coverage() -> list[GridRow]:
    """Moments × age bands: how many prompts each window can be sent (no gap rule)."""
    counts = _band_counts(Prompt.moment)
    return [GridRow(moment, moment.capitalize(),
                    [CoverageCell(moment, band, n, minimum=0)
                     for band, n in zip(AGE_BANDS, counts.get(moment, [0] * len(AGE_BANDS)), strict=True)])
            for moment in MOMENTS]


# --- the filtered, sorted list ------------------------------------------------------------------

@dataclass
class LibraryFilters:
    """What the library list is narrowed to; ``problems`` names any filter value we ignored."""

    theme: str = ""
    age: str = ""
    status: str = ""
    q: str = ""
    sort: str = "theme"
    descending: bool = False
    problems: list[str] = field(default_factory=list)

    def as_args(self, **changes) -> dict:
        """The filters as query arguments (for links that keep them)."""
        args = {"theme": self.theme, "age": self.age, "status": self.status, "q": self.q,
                "sort": self.sort, "dir": "desc" if self.descending else "asc"} | changes
        return {key: value for key, value in args.items() if value}


def parse_filters(args: dict) -> LibraryFilters:
    """Read filters from query arguments, noting (and dropping) values that aren't allowed."""
    filters = LibraryFilters(q=(args.get("q") or "").strip()[:100])
    theme, age, status = args.get("theme") or "", args.get("age") or "", args.get("status") or ""
    if theme in THEMES:
        filters.theme = theme
    elif theme:
        filters.problems.append(_("There is no theme called “%(value)s”; showing every theme.", value=theme[:30]))
    if age in age_choices():
        filters.age = age
    elif age:
        filters.problems.append(_("“%(value)s” isn't an age band we use; showing every age.", value=age[:30]))
    if status in PROMPT_STATUSES:
        filters.status = status
    elif status:
        filters.problems.append(_("“%(value)s” isn't a status; showing every status.", value=status[:30]))
    sort = args.get("sort") or "theme"
    if sort in SORT_KEYS:
        filters.sort = sort
    else:
        filters.problems.append(_("The list can't be sorted by “%(value)s”; sorted by theme instead.",
                                  value=sort[:30]))
    filters.descending = args.get("dir") == "desc"
    return filters


def age_choices() -> dict[str, str]:
    """Age filter values and their labels: each band, and "any" (prompts for every age)."""
    choices = {f"{low}-{high}": age_label(low, high) for low, high in AGE_BANDS}
    choices["any"] = "Any age only"
    return choices


def filtered_prompts(filters: LibraryFilters) -> list[Prompt]:
    """The prompts matching ``filters``, each with ``.stats``, sorted as asked.

    An age band matches every prompt suitable for it (an any-age prompt too); "any" matches only
    prompts written for every age.
    """
    query = Prompt.select()
    if filters.theme:
        query = query.where(Prompt.theme == filters.theme)
    if filters.status:
        query = query.where(Prompt.status == filters.status)
    if filters.age == "any":
        query = query.where(Prompt.age_min_months == ANY_AGE[0], Prompt.age_max_months == ANY_AGE[1])
    elif filters.age:
        low, high = (int(part) for part in filters.age.split("-"))
        query = query.where(Prompt.age_min_months <= low, Prompt.age_max_months >= high)
    if filters.q:
        query = query.where(Prompt.title.contains(filters.q) | Prompt.body.contains(filters.q)
                            | Prompt.skill.contains(filters.q))
    prompts = list(query)
    stats = prompt_stats()
    for prompt in prompts:
        prompt.stats = stats.get(prompt.id, PromptStats())
    prompts.sort(key=_sort_key(filters.sort), reverse=filters.descending)
    return prompts


def _sort_key(sort: str):
    theme_order = {theme: index for index, theme in enumerate(THEMES)}
    status_order = {status: index for index, status in enumerate(PROMPT_STATUSES)}
    keys = {
        "title": lambda p: p.title.lower(),
        "theme": lambda p: (theme_order.get(p.theme, 9), p.age_min_months, p.age_max_months,
                            p.title.lower()),
        "age": lambda p: (p.age_min_months, p.age_max_months, p.title.lower()),
        "status": lambda p: (status_order.get(p.status, 9), p.title.lower()),
        "version": lambda p: p.version,
        "sent": lambda p: p.stats.sent,
        "opened": lambda p: p.stats.opened,
        "checkins": lambda p: p.stats.checkins,
        "tried": lambda p: -1.0 if p.stats.tried_share is None else p.stats.tried_share,
        "updated": lambda p: p.updated_at,
    }
    return keys[sort]
