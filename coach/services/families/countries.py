"""Countries: a family's country from its time zone, country names for pickers, and the
visitor's country from the browser's language.

The mapping comes from the IANA time zone database's own tables (``zone.tab``, ``zone1970.tab``,
``iso3166.tab``): the system's copy when it has one, else the ``tzdata`` package's, so no list is
kept by hand. A zone that is an alias (``US/Eastern``, ``Europe/Belfast``) is matched to the
canonical zone whose data it shares.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
import zoneinfo
from functools import lru_cache
from importlib import resources
from pathlib import Path

from babel import Locale

from ...i18n import _, language

#: What a family or visitor gets when no country is known: the international list of resources.
EVERYWHERE = "*"
ALPHA2_RE = re.compile(r"[A-Z]{2}")
#: Where the table's short name is not the one people use.
PLAIN_NAMES = {"GB": "United Kingdom"}
ZONE_RE = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*")


def _table_dirs() -> list[Path]:
    """Folders that may hold the zone tables: the system's, then the ``tzdata`` package's."""
    dirs = [Path(p) for p in zoneinfo.TZPATH]
    try:
        dirs.append(Path(str(resources.files("tzdata") / "zoneinfo")))
    except (ModuleNotFoundError, TypeError):
        pass
    return dirs


def _read_table(name: str) -> list[list[str]]:
    """The rows of one tab-separated zone table, comments dropped; [] when no copy exists."""
    for folder in _table_dirs():
        path = folder / name
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            return [line.split("\t") for line in lines if line and not line.startswith("#")]
    return []


@lru_cache(maxsize=1)
def english_country_names() -> dict[str, str]:
    names = {row[0]: row[1] for row in _read_table("iso3166.tab") if len(row) >= 2}
    return names | {code: name for code, name in PLAIN_NAMES.items() if code in names}


@lru_cache(maxsize=4)
def _names_in(code: str) -> dict[str, str]:
    """The same countries named in another language (Babel's CLDR names: "Reino Unido")."""
    territories = Locale.parse(code).territories
    return {alpha2: territories.get(alpha2, name) for alpha2, name in english_country_names().items()}


def country_names() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code → short name in the reader's language, e.g. ``{"GB": "United
    Kingdom", …}`` (``"Reino Unido"`` in Spanish). The codes are the same in every language."""
    reader = language()
    return english_country_names() if reader == "en" else _names_in(reader)


def _sort_key(item: tuple[str, str]) -> str:
    """Names in alphabetical order whatever their accents ("Álbania" with the A's)."""
    return unicodedata.normalize("NFKD", item[1]).encode("ascii", "ignore").decode().casefold()


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    """Canonical zone → its main country. ``zone.tab`` names one country per zone; ``zone1970.tab``
    (a list per zone, the main country first) fills zones ``zone.tab`` lacks."""
    mapping: dict[str, str] = {}
    for row in _read_table("zone1970.tab"):
        if len(row) >= 3:
            mapping.setdefault(row[2], row[0].split(",")[0])
    for row in _read_table("zone.tab"):
        if len(row) >= 3:
            mapping[row[2]] = row[0]
    return mapping


def _zone_file(zone: str) -> Path | None:
    for folder in _table_dirs():
        path = folder / zone
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=1)
def _zones_by_data() -> dict[str, str]:
    """A digest of each canonical zone's compiled data → that zone (for resolving aliases)."""
    digests = {}
    for zone in sorted(_zone_countries()):
        path = _zone_file(zone)
        if path is not None:
            digests.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), zone)
    return digests


@lru_cache(maxsize=512)
def country_for_timezone(zone: str | None) -> str:
    """The country a time zone is in (``Europe/London`` → ``GB``), or "" when it names none
    (``UTC``, ``Etc/GMT+5``) or is unknown."""
    if not zone or not ZONE_RE.fullmatch(zone) or ".." in zone:
        return ""
    mapping = _zone_countries()
    if zone in mapping:
        return mapping[zone]
    path = _zone_file(zone)
    if path is None:
        return ""
    canonical = _zones_by_data().get(hashlib.sha256(path.read_bytes()).hexdigest())
    return mapping.get(canonical, "") if canonical else ""


def is_country(code: object) -> bool:
    """True for a known ISO 3166-1 alpha-2 code (upper case)."""
    return isinstance(code, str) and bool(ALPHA2_RE.fullmatch(code)) and code in english_country_names()


def country_name(code: str | None) -> str:
    """A country's name for people ("Ireland"); the international list is "Anywhere else"."""
    if not code or code == EVERYWHERE:
        return _("Anywhere else")
    return country_names().get(code, code)


def country_choices(first: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """``(code, name)`` for a select: the codes in ``first`` (e.g. countries with resources) at the
    top in that order, then every other country by name."""
    names = country_names()
    top = [(code, names[code]) for code in first if code in names]
    chosen = {code for code, _ in top}
    rest = sorted(((code, name) for code, name in names.items() if code not in chosen), key=_sort_key)
    return top + rest


def country_from_languages(languages: list[str]) -> str:
    """The first region in an ``Accept-Language`` list (``en-GB`` → ``GB``), or ""."""
    for tag in languages:
        parts = re.split(r"[-_]", tag or "")
        for part in parts[1:]:
            code = part.upper()
            if is_country(code):
                return code
    return ""
