"""Time zones people can name: "London" or "new york" as well as ``Europe/London``, and the list a
parent picks from (canonical zones grouped by region, each with its city and country).

The list comes from the IANA tables the countries module reads (``zone.tab``/``zone1970.tab``), so
nothing is kept by hand.
"""
from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from .countries import _zone_countries, english_country_names

REGIONS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian",
           "Pacific")
REGION_NAMES = {"America": "Americas", "Atlantic": "Atlantic Ocean", "Indian": "Indian Ocean",
                "Pacific": "Pacific Ocean"}
_ALL = frozenset(available_timezones())


def city(zone: str) -> str:
    """``America/Argentina/Buenos_Aires`` → "Buenos Aires"."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def _key(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()


@lru_cache(maxsize=1)
def zone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """``[(region name, [(zone, "London, United Kingdom"), …]), …]``, cities in alphabetical order."""
    names = english_country_names()  # cached once: the zone labels stay English (like IANA names)
    groups: dict[str, list[tuple[str, str]]] = {}
    for zone, country in _zone_countries().items():
        region = zone.split("/", 1)[0]
        if region not in REGIONS or zone not in _ALL:
            continue
        label = city(zone) + (f", {names[country]}" if country in names else "")
        groups.setdefault(region, []).append((zone, label))
    return [(REGION_NAMES.get(region, region), sorted(groups[region], key=lambda item: item[1]))
            for region in REGIONS if region in groups]


@lru_cache(maxsize=1)
def _by_name() -> dict[str, str]:
    """Lower-case names → zone: every zone's own name, and each listed zone's city and label."""
    lookup = {_key(zone): zone for zone in _ALL}
    for _region, zones in zone_choices():
        for zone, label in zones:
            lookup.setdefault(_key(city(zone)), zone)
            lookup.setdefault(_key(label), zone)
    for zone in sorted(_ALL):  # then older names ("Calcutta"), after the listed cities
        lookup.setdefault(_key(city(zone)), zone)
    return lookup


def resolve_timezone(value: object) -> str | None:
    """The IANA zone someone meant ("London", "europe/london", "London, United Kingdom" →
    ``Europe/London``), or None when it names none."""
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        return None
    text = value.strip()
    if text in _ALL:
        return text
    return _by_name().get(_key(text))


def zone_label(zone: str) -> str:
    """How a zone reads to people: "London, United Kingdom", or the zone itself when unlisted."""
    for _region, zones in zone_choices():
        for listed, label in zones:
            if listed == zone:
                return label
    return zone
