"""Support resources: the helplines and services shown to a parent who asks for help.

Each resource belongs to a country (ISO alpha-2) or to everyone (``*``), and has a kind. A parent
sees their country's shown resources, emergency first (``KIND_ORDER``), then the admin's order; a
country with none gets the international list. ``init-db`` seeds ``coach/data/support_resources.json``
into an empty table, so a fresh install never meets a parent with silence.
"""
from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

from peewee import Case, fn

from ...db import db
from ...errors import AppError
from ...i18n import N_, _
from ...models import RESOURCE_KINDS, Family, SupportResource, User, utcnow
from ...prepared import Prepared
from ...security import audit
from .countries import EVERYWHERE, country_name, is_country

SEED_FILE = Path(__file__).resolve().parents[2] / "data" / "support_resources.json"

#: field → (label in messages, character limit, required)
FIELDS = {
    "name": (N_("The name"), 120, True),
    "description": (N_("The description"), 300, False),
    "phone": (N_("The phone number"), 40, False),
    "text": (N_("The text-message line"), 120, False),
    "url": (N_("The web address"), 300, False),
    "hours": (N_("The opening hours"), 120, False),
    "region": (N_("The region"), 120, False),
    "source_url": (N_("The source page"), 300, False),
    "languages": (N_("The languages"), 20, False),
    "languages_source_url": (N_("The page that says which languages they answer in"), 300, False),
}
#: Languages a resource may say it answers in besides English (``SupportResource.languages``).
SERVED_LANGUAGES = ("es",)
#: Every field an admin form sends (FIELDS plus the ones with their own rules).
FORM_FIELDS = (*FIELDS, "country", "kind", "checked_on")
PHONE_RE = re.compile(r"^\+?[0-9 ()\-.]+$")
#: The order a parent sees a country's resources in: the emergency number first, always.
KIND_ORDER = ("emergency", "crisis", "mental_health", "parenting", "abuse", "other")
#: Marked for the catalogue; /help shows them in the reader's language (``kind_labels``).
KIND_LABELS = {"emergency": N_("Emergency"), "crisis": N_("Crisis and suicide lines"),
               "mental_health": N_("Mental health"), "parenting": N_("Parenting helplines"),
               "abuse": N_("Domestic abuse"), "other": N_("Other help")}


def kind_labels() -> dict[str, str]:
    """Each kind's heading in the reader's language."""
    return {kind: _(label) for kind, label in KIND_LABELS.items()}


def _kind_rank():
    return Case(None, [(SupportResource.kind == kind, rank) for rank, kind in enumerate(KIND_ORDER)],
                len(KIND_ORDER))


def ordered(include_hidden: bool = True, country: str | None = None) -> list[SupportResource]:
    """Resources in the admin's order (hidden ones too, for admins); only ``country``'s when given."""
    query = SupportResource.select().order_by(SupportResource.position, SupportResource.id)
    if not include_hidden:
        query = query.where(SupportResource.active)
    if country is not None:
        query = query.where(SupportResource.country == country)
    return list(query)


def visible() -> list[SupportResource]:
    """Every resource parents may be shown, in the admin's order."""
    return ordered(include_hidden=False)


#: A country's shown resources and the international ones, emergency first: every check-in page
#: reads them, so in one statement, built once (coach/prepared.py).
_SHOWN_IN = Prepared(lambda code, everywhere: (
    SupportResource.select()
    .where(SupportResource.active & SupportResource.country.in_([code, everywhere]))
    .order_by(_kind_rank(), SupportResource.position, SupportResource.id)),
    SupportResource.country, SupportResource.country)


def for_country(country: str | None, language: str = "en") -> tuple[str, list[SupportResource]]:
    """What a parent in ``country`` is shown: ``(the list's country, resources)``, emergency first,
    then crisis, mental health, parenting, abuse and other lines, each in the admin's order — and
    for a parent who reads ``language`` (Spanish), within each kind those that answer in it first.
    A country with no shown resources (or none given) gets the international ``*`` list."""
    code = country if country and country != EVERYWHERE else EVERYWHERE
    shown = _SHOWN_IN.rows(code, EVERYWHERE)
    found = [resource for resource in shown if resource.country == code]
    if not found:
        code, found = EVERYWHERE, [resource for resource in shown if resource.country == EVERYWHERE]
    if language in SERVED_LANGUAGES:  # a stable sort: the kinds and the admin's order stay
        rank = {kind: n for n, kind in enumerate(KIND_ORDER)}
        found.sort(key=lambda r: (rank.get(r.kind, len(KIND_ORDER)), not answers_in(r, language)))
    return code, found


def answers_in(resource: SupportResource, language: str) -> bool:
    """Whether the resource says (on its own page) it answers in ``language``."""
    return language in (resource.languages or "").split(",")


def resource_view(resource: SupportResource) -> dict:
    """A resource as the pages and the API show it (``tel`` is the dialable form of ``phone``)."""
    return {"name": resource.name, "description": resource.description, "phone": resource.phone,
            "tel": re.sub(r"[^0-9+]", "", resource.phone), "text": resource.text, "url": resource.url,
            "hours": resource.hours, "region": resource.region, "kind": resource.kind,
            "country": resource.country,
            "languages": [code for code in (resource.languages or "").split(",") if code]}


def countries_with_resources() -> list[str]:
    """Countries (not ``*``) that have at least one shown resource, by code."""
    return [code for (code,) in SupportResource.select(SupportResource.country).distinct()
            .where(SupportResource.active & (SupportResource.country != EVERYWHERE))
            .order_by(SupportResource.country).tuples()]


def countries_without_resources() -> list[dict]:
    """Countries where families live but no resource is shown (they see the international list):
    ``[{"country", "name", "families"}]``, most families first. Families with no country are left
    out: they are shown the international list by design."""
    covered = set(countries_with_resources())
    rows = (Family.select(Family.country, fn.COUNT(Family.id)).where(Family.country != "")
            .group_by(Family.country).tuples())
    missing = [{"country": code, "name": country_name(code), "families": count}
               for code, count in rows if code not in covered]
    return sorted(missing, key=lambda row: (-row["families"], row["country"]))


def get_resource(resource_id: int) -> SupportResource:
    resource = SupportResource.get_or_none(SupportResource.id == resource_id)
    if resource is None:
        raise AppError(404, N_("There is no support resource with that id."), code="resource_not_found")
    return resource


def _check_url(value: str, schemes: tuple[str, ...]) -> bool:
    parsed = urlparse(value)
    return (parsed.scheme in schemes and bool(parsed.hostname) and " " not in value
            and "@" not in parsed.netloc)


def _clean_special(item: dict, data: dict, problems: dict) -> None:
    """``country``, ``kind`` and ``checked_on``: each has its own rule."""
    country = item.get("country")
    country = country.strip().upper() if isinstance(country, str) else ""
    data["country"] = country
    if country != EVERYWHERE and not is_country(country):
        problems["country"] = N_("Choose a country (a two-letter code like GB), or * for everywhere.")
    kind = item.get("kind")
    data["kind"] = kind.strip() if isinstance(kind, str) else ""
    if data["kind"] not in RESOURCE_KINDS:
        problems["kind"] = _("Choose what kind of help it is: %(kinds)s.", kinds=", ".join(KIND_ORDER))
    checked = item.get("checked_on")
    checked = checked.strip() if isinstance(checked, str) else ""
    data["checked_on"] = None
    if checked:
        try:
            data["checked_on"] = date.fromisoformat(checked)
        except ValueError:
            problems["checked_on"] = N_("Use a date like 2026-12-01, or leave it empty.")
        else:
            if data["checked_on"] > utcnow().date() + timedelta(days=1):
                problems["checked_on"] = N_("The date it was checked can't be in the future.")


def validate_resource(item: dict) -> tuple[dict, dict[str, str]]:
    """Clean a resource's fields and list problems, one human sentence per field."""
    data, problems = {}, {}
    for name, (label, limit, required) in FIELDS.items():
        value = item.get(name)
        value = value.strip() if isinstance(value, str) else ""
        data[name] = value
        if required and not value:
            problems[name] = _("%(label)s can't be empty.", label=_(label))
        elif len(value) > limit:
            problems[name] = _("%(label)s is %(count)d characters; the limit is %(limit)d.", label=_(label),
                              count=len(value), limit=limit)
        elif "\x00" in value:
            problems[name] = _("%(label)s has a character that can't be stored.", label=_(label))
    _clean_special(item, data, problems)
    phone, url = data["phone"], data["url"]
    if phone and "phone" not in problems and (not PHONE_RE.match(phone)
                                              or sum(c.isdigit() for c in phone) < 3):
        problems["phone"] = N_("The phone number can use digits, spaces, brackets, dashes and a leading +.")
    if url and "url" not in problems and not _check_url(url, ("https",)):
        problems["url"] = N_("The web address must start with https:// (like https://example.org/help).")
    if data["source_url"] and "source_url" not in problems and not _check_url(data["source_url"],
                                                                            ("https", "http")):
        problems["source_url"] = N_("The source page must be a web address starting with https://.")
    _clean_languages(data, problems)
    if not phone and not url and not data["text"] and not {"phone", "url", "text"} & set(problems):
        problems["phone"] = N_("Add a phone number, a text line or a web address so parents can reach them.")
    return data, problems


def _clean_languages(data: dict, problems: dict) -> None:
    """``languages``: codes like "es" (comma-separated), each backed by ``languages_source_url``."""
    if "languages" in problems:
        return
    codes = [code.strip().lower() for code in data["languages"].split(",") if code.strip()]
    unknown = [code for code in codes if code not in SERVED_LANGUAGES]
    data["languages"] = ",".join(dict.fromkeys(codes))
    source = data["languages_source_url"]
    if unknown:
        problems["languages"] = _("Languages can be %(codes)s (Spanish), or empty for English only; “%(code)s” isn't one.",
                                  codes=", ".join(SERVED_LANGUAGES), code=unknown[0][:10])
    elif codes and not source and "languages_source_url" not in problems:
        problems["languages_source_url"] = N_("Add the organisation's own page that says they answer in that "
                                               "language.")
    elif source and "languages_source_url" not in problems and not _check_url(source, ("https", "http")):
        problems["languages_source_url"] = N_("The page must be a web address starting with https://.")


def _checked(item: dict) -> dict:
    data, problems = validate_resource(item)
    if problems:
        raise AppError(422, N_("The resource wasn't saved: some details need another look."),
                       code="resource_invalid", fields=problems)
    return data


def create_resource(item: dict, by: User) -> SupportResource:
    """Add a resource at the end of the list."""
    data = _checked(item)
    with db.atomic():
        last = SupportResource.select(fn.MAX(SupportResource.position)).scalar()
        resource = SupportResource.create(**data, position=(last or 0) + 1)
        audit("resource_create", "resource", resource.id, actor=by, name=resource.name)
    return resource


def update_resource(resource: SupportResource, item: dict, by: User) -> SupportResource:
    """Change a resource's details; the changed fields are recorded in the audit log."""
    data = _checked(item)
    changed = sorted(name for name, value in data.items() if getattr(resource, name) != value)
    if not changed:
        return resource
    with db.atomic():
        SupportResource.update(**data).where(SupportResource.id == resource.id).execute()
        audit("resource_update", "resource", resource.id, actor=by, name=data["name"], changed=changed)
    return get_resource(resource.id)


def move_resource(resource: SupportResource, direction: str, by: User) -> None:
    """Move a resource one place up or down among its own country's resources (positions are
    renumbered 1…n over the whole list, so other countries keep their order)."""
    if direction not in ("up", "down"):
        raise AppError(422, N_("Choose whether to move the resource up or down."),
                       fields={"direction": "Choose up or down."})
    with db.atomic():
        items = ordered()
        same = [i for i, other in enumerate(items) if other.country == resource.country]
        here = next(n for n, i in enumerate(same) if items[i].id == resource.id)
        there = here - 1 if direction == "up" else here + 1
        if not 0 <= there < len(same):
            return
        a, b = same[here], same[there]
        items[a], items[b] = items[b], items[a]
        for position, item in enumerate(items, start=1):
            if item.position != position:
                SupportResource.update(position=position).where(SupportResource.id == item.id).execute()
        audit("resource_move", "resource", resource.id, actor=by, name=resource.name,
              direction=direction)


def set_visible(resource: SupportResource, show: bool, by: User) -> None:
    """Hide a resource from parents, or show it again."""
    if resource.active == show:
        return
    with db.atomic():
        SupportResource.update(active=show).where(SupportResource.id == resource.id).execute()
        audit("resource_show" if show else "resource_hide", "resource", resource.id, actor=by,
              name=resource.name)


# --- the starter list ----------------------------------------------------------------------------

def load_seed_file(path: Path = SEED_FILE) -> list[dict]:
    """The resources in the seed file, each checked like an admin's entry; ValueError names the
    first bad one (a broken file must fail ``init-db`` loudly, never seed half a list)."""
    items = json.loads(path.read_text(encoding="utf-8"))["resources"]
    cleaned = []
    for number, item in enumerate(items, start=1):
        data, problems = validate_resource(item)
        if problems:
            raise ValueError(f"{path.name}: resource {number} ({item.get('name')!r}): {problems}")
        cleaned.append(data)
    return cleaned


def seed_resources_if_empty(path: Path = SEED_FILE) -> int:
    """Load the starter resources into an empty table (``position`` in file order); returns how
    many. A table with any row, shown or hidden, is the admins' and is left alone."""
    if SupportResource.select().exists():
        return 0
    items = load_seed_file(path)
    with db.atomic():
        if SupportResource.select().exists():  # another init-db got there first
            return 0
        for position, data in enumerate(items, start=1):
            SupportResource.create(**data, position=position)
    return len(items)
