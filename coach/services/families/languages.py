"""Which languages a family's prompts must be readable in (DESIGN "Reach → Languages").

A household's languages are every caregiver's: a prompt is sent only when each of them can read
it (selection asks ``languages_by_family``), and each caregiver's devices get it in their own
language. The worker's pages show the same list.
"""
from __future__ import annotations

from collections.abc import Iterable

from ...i18n import N_, _
from ...models import LANGUAGES, Caregiver, Family, User

DEFAULT_LANGUAGE = LANGUAGES[0]
#: How each language is named on staff pages.
LANGUAGE_NAMES = {"en": N_("English"), "es": N_("Spanish")}


def language_words(languages: Iterable[str] | None) -> str:
    """"Spanish", or "English and Spanish" for a household that needs both."""
    names = [_(LANGUAGE_NAMES.get(language, language)) for language in (languages or (DEFAULT_LANGUAGE,))]
    return _(" and ").join(names)


def family_languages(family: Family) -> tuple[str, ...]:
    """The languages this family's prompts go out in (sorted; English when nobody chose)."""
    return languages_by_family([family.id]).get(family.id, (DEFAULT_LANGUAGE,))


def loaded_family_languages(family: Family) -> tuple[str, ...]:
    """``family_languages`` from a family whose main contact's row is already loaded (the
    caseload's join): no query, so a household's other caregivers are not counted here."""
    language = family.user.language
    return (language if language in LANGUAGES else DEFAULT_LANGUAGE,)


def languages_by_family(family_ids: Iterable[int], *,
                        translated_only: bool = False) -> dict[int, tuple[str, ...]]:
    """``family_languages`` for many families in one query; a family not found is left out, and
    with ``translated_only`` so is every family that reads only English (planning's case: most)."""
    from ..programme.selection import id_list  # selection asks this module in turn

    ids = list(family_ids)
    if not ids:
        return {}
    found: dict[int, set[str]] = {}
    query = (Caregiver.select(Caregiver.family, User.language).join(User, on=(Caregiver.user == User.id))
             .where(Caregiver.family.in_(id_list(ids))))
    if translated_only:
        query = query.where(User.language != DEFAULT_LANGUAGE)
    rows = query.tuples()
    for family_id, language in rows:
        found.setdefault(family_id, set()).add(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    return {family_id: tuple(sorted(languages)) for family_id, languages in found.items()}


def needs_translation(languages: Iterable[str]) -> tuple[str, ...]:
    """The languages among ``languages`` that prompts must be translated into (not English)."""
    return tuple(sorted({language for language in languages if language != DEFAULT_LANGUAGE}))
