"""The library in other languages (DESIGN "The programme"; CONTENT.md "Safety in the words").

A ``PromptTranslation`` holds a prompt's title, body, question, answer labels (in the English
answers' order; the kinds stay the English prompt's) and why in one language. The rules are the
English ones read the Spanish way — lengths with ``{child}`` read as "tu peque", ``{child}`` kept
wherever the English has it and no other braces, as many answers as the English — and the reading
ease (Fernández-Huerta) at or above ``MIN_EASE_ES``: an error, as a too-hard English grade is.
:func:`validate_translation` is the one check: the editor, the live check, imports, ``init-db``,
``tools/check_spanish.py`` and the data test all use it.

Saving a translation bumps ``Prompt.version`` and writes a ``PromptRevision`` whose data carries
``"translations"``, so the text a Spanish-speaking parent was sent stays findable by version.
``init-db`` loads ``coach/data/translations/<language>/<band>.json`` for prompts that have no
translation yet (:func:`load_translation_files`) and never touches one that exists.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ...db import db
from ...errors import AppError
from ...i18n import N_, _
from ...models import Prompt, PromptRevision, PromptTranslation, User, utcnow
from ...security import audit
from .library import (
    BRACES_RE,
    FIELD_LABELS,
    LABEL_LIMIT,
    STARTER_FILE,
    STARTER_SUMMARY,
    TEXT_LIMITS,
    braces_problem,
    length_problem,
    prompt_data,
    text_value,
)
from .readability import FALLBACK, FALLBACK_ES, MIN_EASE_ES, PLACEHOLDER, reading_ease_es

log = logging.getLogger(__name__)

#: The languages prompts are translated into (every one of ``LANGUAGES`` but English).
TRANSLATED = ("es",)
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}
TEXT_FIELDS = ("title", "body", "question", "why")
TRANSLATION_FIELDS = ("title", "body", "question", "answers", "why")
TRANSLATIONS_DIR = STARTER_FILE.parent / "translations"
FILE_SUMMARY = f"{STARTER_SUMMARY} update · Spanish added"
CHILD_FALLBACKS = {"en": FALLBACK, "es": FALLBACK_ES}


# --- the one check ------------------------------------------------------------------------------

def validate_translation(item: object, english: dict) -> tuple[dict, dict[str, str]]:
    """Clean one translation against its English prompt and list its problems.

    ``item`` has ``title``, ``body``, ``question``, ``answers`` (labels, in the English order) and
    ``why``; ``english`` is the prompt's data (``answers`` as the English answer objects). Returns
    ``(data, problems)`` with problems keyed ``title`` … ``answers.2`` as sentences naming the field.
    """
    if not isinstance(item, dict):
        return {}, {"translation": _("A translation must be an object with title, body, question, answers "
                                     "and why.")}
    problems: dict[str, str] = {}
    data: dict = {}
    for name in TEXT_FIELDS:
        data[name] = _text(name, item.get(name), english.get(name) or "", problems)
    data["answers"] = _labels(item.get("answers"), len(english.get("answers") or []), problems)
    return data, problems


def _text(name: str, value: object, english: str, problems: dict) -> str:
    label = _(FIELD_LABELS[name])
    value = text_value(name, value, problems)
    if value is None:
        return ""
    if not value:
        if english.strip():
            problems[name] = _("%(label)s can't be empty: the English has one.", label=label)
        return value
    problem = (braces_problem(label, value) or _dropped_child(label, value, english)
               or length_problem(label, value, TEXT_LIMITS[name], FALLBACK_ES) or _ease_problem(label, value))
    if problem:
        problems[name] = problem
    return value


def _dropped_child(label: str, text: str, english: str) -> str | None:
    if PLACEHOLDER in english and PLACEHOLDER not in text:
        return _("%(label)s drops %(placeholder)s; keep it where the English names the child.",
                 label=label, placeholder=PLACEHOLDER)
    return None


def _ease_problem(label: str, text: str) -> str | None:
    """Measured last: reading ease is the costly check (textstat under a lock)."""
    ease = reading_ease_es(text)
    if ease is None or ease >= MIN_EASE_ES:
        return None
    return _("%(label)s reads at ease %(ease)s; aim for %(min)s or above (shorter sentences, "
             "shorter words).", label=label, ease=f"{ease:.0f}", min=f"{MIN_EASE_ES:.0f}")


def _labels(value: object, expected: int, problems: dict) -> list[str]:
    if not isinstance(value, list):
        problems["answers"] = _("Answers must be a list of %(num)d labels, in the English order.", num=expected)
        return []
    labels = []
    for index, raw in enumerate(value):
        name, key = _("Answer %(num)s", num=index + 1), f"answers.{index}"
        label = raw.strip() if isinstance(raw, str) else ""
        if not label:
            problems[key] = _("%(answer)s has no label.", answer=name)
        elif len(label) > LABEL_LIMIT:
            problems[key] = _("%(answer)s's label is %(count)d characters; the limit is %(limit)d.", answer=name,
                              count=len(label), limit=LABEL_LIMIT)
        elif BRACES_RE.search(label):
            problems[key] = _("%(answer)s's label can't use braces or placeholders.", answer=name)
        labels.append(label)
    if len(labels) != expected:
        problems["answers"] = _("The English prompt has %(num)d answers; the translation needs %(num)d labels "
                                "in the same order, not %(count)d.", num=expected, count=len(labels))
    elif len({label.lower() for label in labels}) != len(labels):
        problems["answers"] = _("Two answers have the same label; make each one different.")
    return labels


def ease_scores(data: dict) -> dict[str, float | None]:
    """The Fernández-Huerta reading ease of each text field (``{child}`` read as "tu peque")."""
    return {name: reading_ease_es(data.get(name) or "") if isinstance(data.get(name), str) else None
            for name in TEXT_FIELDS}


def translation_data(translation: PromptTranslation) -> dict:
    """A translation's fields as a plain dict (export, revisions)."""
    return {name: getattr(translation, name) for name in TRANSLATION_FIELDS}


def translations_of(prompt_id: int) -> dict[str, dict]:
    """``{"es": {...}}``: every translation of one prompt."""
    return {t.language: translation_data(t)
            for t in PromptTranslation.select().where(PromptTranslation.prompt == prompt_id)}


# --- saving -------------------------------------------------------------------------------------

def check_language(language: str) -> str:
    if language not in TRANSLATED:
        raise AppError(404, N_("Prompts are translated into Spanish (es) only."), code="language_not_found")
    return language


def save_translation(prompt: Prompt, language: str, item: object, editor: User | None, *,
                     base_version: int | None = None, summary: str | None = None) -> tuple[Prompt, bool]:
    """Validate and save ``prompt``'s translation into ``language`` as a new prompt version.

    AppError 422 (with ``fields``) when a check fails, 409 when ``base_version`` is stale; nothing
    is written then. Returns ``(prompt, changed)``.
    """
    check_language(language)
    data, problems = validate_translation(item, prompt_data(prompt))
    if problems:
        raise AppError(422, _("The %(language)s wasn't saved: some checks need another look.",
                              language=_(LANGUAGE_NAMES[language])), code="translation_invalid", fields=problems)
    with db.atomic():
        current = PromptTranslation.get_or_none(PromptTranslation.prompt == prompt,
                                                PromptTranslation.language == language)
        old = translation_data(current) if current else None
        if old == data:
            return prompt, False
        expected = prompt.version if base_version is None else base_version
        version, now = prompt.version + 1, utcnow()
        if Prompt.update(version=version, updated_at=now).where(
                Prompt.id == prompt.id, Prompt.version == expected).execute() != 1:
            raise AppError(409, N_("Someone else saved this prompt since you opened it. Reload to see "
                                   "their changes, then make yours again."), code="prompt_conflict")
        if current is None:
            PromptTranslation.create(prompt=prompt, language=language, updated_at=now, editor=editor, **data)
        else:
            PromptTranslation.update(updated_at=now, editor=editor, **data).where(
                PromptTranslation.id == current.id).execute()
        summary = summary or summarise_translation(language, old, data)
        PromptRevision.create(prompt=prompt.id, version=version, editor=editor, created_at=now,
                              summary=summary[:200],
                              data=prompt_data(prompt) | {"translations": translations_of(prompt.id)})
        if editor is not None:  # init-db's loads are recorded by their revisions
            audit("prompt_translation", "prompt", prompt.id, actor=editor, version=version,
                  language=language, summary=summary[:200])
        return Prompt.get_by_id(prompt.id), True


def summarise_translation(language: str, old: dict | None, new: dict) -> str:
    """"Spanish: changed title, answers" or "Spanish added"."""
    name = LANGUAGE_NAMES[language]
    if old is None:
        return f"{name} added"
    changed = [("why it matters" if key == "why" else key) for key in TRANSLATION_FIELDS
               if old.get(key) != new.get(key)]
    return f"{name}: changed {', '.join(changed)}"


# --- the files init-db loads ----------------------------------------------------------------------

def read_translation_files(language: str = "es", directory: Path | None = None) -> dict[tuple, dict]:
    """Every entry of ``<directory>/<language>/*.json`` keyed by ``(skill, age_min_months)``."""
    folder = (directory or TRANSLATIONS_DIR) / language
    entries: dict[tuple, dict] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        for entry in json.loads(path.read_text(encoding="utf-8")):
            entries[(entry.get("skill"), entry.get("age_min_months"))] = entry
    return entries


def load_translation_files(directory: Path | None = None, starter: Path = STARTER_FILE) -> dict[str, int]:
    """Give each prompt with no translation the one in the files, when its English is still the
    starter library's (same skill, age and title as in ``prompts.json``) and it passes the checks.

    Never changes a translation that exists (an admin's edit stays). Each one added is a new
    prompt version written by init-db. Returns ``{"added", "invalid"}``.
    """
    counts = {"added": 0, "invalid": 0}
    if not starter.exists():
        return counts
    titles = {(item["skill"], item["age_min_months"]): item["title"]
              for item in json.loads(starter.read_text(encoding="utf-8"))}
    for language in TRANSLATED:
        entries = read_translation_files(language, directory)
        if not entries:
            continue
        have = {prompt_id for (prompt_id,) in PromptTranslation.select(PromptTranslation.prompt)
                .where(PromptTranslation.language == language).tuples()}
        with db.atomic():
            for prompt in Prompt.select().order_by(Prompt.id):
                key = (prompt.skill, prompt.age_min_months)
                if prompt.id in have or key not in entries or titles.get(key) != prompt.title:
                    continue
                try:
                    save_translation(prompt, language, entries[key], None, summary=FILE_SUMMARY)
                except AppError as error:
                    log.warning("Translation of %s (%s) not loaded: %s", prompt.skill, language,
                                error.fields or error.message)
                    counts["invalid"] += 1
                    continue
                counts["added"] += 1
    return counts


# --- reading a prompt in a language -----------------------------------------------------------------

@dataclass(frozen=True)
class PromptText:
    """A prompt's words in one language, ``{child}`` filled. ``language`` is the language the words
    are in (English when a staff preview had no translation to show)."""

    language: str
    title: str
    body: str
    question: str
    answers: tuple[str, ...]
    why: str


def fits(translation: PromptTranslation, answers: list | None) -> bool:
    """Whether a translation still matches its prompt's answers: one label each (an English edit
    that adds or drops an answer leaves the Spanish out of date until it is saved again).
    ``answers`` None (not loaded, as when sending reads only the title and body) is not checked."""
    return answers is None or len(translation.answers or ()) == len(answers)


def fill_child_in(text: str, child_name: str | None, language: str) -> str:
    """``{child}`` as the child's name, else "your child" / "tu peque"."""
    return (text or "").replace(PLACEHOLDER, child_name or CHILD_FALLBACKS.get(language, FALLBACK))


def translations_for(prompt_ids: Iterable[int], language: str) -> dict[int, PromptTranslation]:
    """The ``language`` translations of these prompts, one query (none for English)."""
    ids = sorted({i for i in prompt_ids if i is not None})
    if language not in TRANSLATED or not ids:
        return {}
    return {t.prompt_id: t for t in PromptTranslation.select().where(
        PromptTranslation.prompt.in_(ids), PromptTranslation.language == language)}


_UNSET = object()


def prompt_in(prompt: Prompt, language: str, child_name: str | None = None, *,
              translation: PromptTranslation | None | object = _UNSET,
              staff_preview: bool = False) -> PromptText | None:
    """``prompt`` as a person who reads ``language`` sees it, ``{child}`` filled.

    ``translation`` may be passed when already loaded (``None``: known to have none). A prompt with
    no translation into ``language`` gives None — selection never sends one to a family that
    needs it — except for ``staff_preview``, which falls back to the English.
    """
    if language in TRANSLATED:
        if translation is _UNSET:
            translation = translations_for([prompt.id], language).get(prompt.id)
        if translation is not None and fits(translation, prompt.answers):
            labels = tuple(translation.answers or ())
            return _text_of(language, translation, labels, child_name)
        if not staff_preview:
            return None
    labels = tuple(answer.get("label", "") for answer in prompt.answers or ())
    return _text_of("en", prompt, labels, child_name)


def _text_of(language: str, source, labels: tuple[str, ...], child_name: str | None) -> PromptText:
    def fill(text):
        return fill_child_in(text, child_name, language)

    return PromptText(language, fill(source.title), fill(source.body), fill(source.question),
                      tuple(fill(label) for label in labels), fill(source.why))


def prompt_for_reader(prompt: Prompt, language: str, child_name: str | None = None,
                      translation: PromptTranslation | None | object = _UNSET) -> PromptText:
    """For a parent's own screens: their language, else (only when the language changed after the
    prompt was planned, so no translation was needed then) the English, marked as English."""
    return (prompt_in(prompt, language, child_name, translation=translation)
            or prompt_in(prompt, "en", child_name))


# --- coverage -------------------------------------------------------------------------------------

def usable_translations(published_only: bool = True) -> dict[str, set[int]]:
    """``{language: ids of the prompts with a translation that still fits them}`` in one query."""
    query = (PromptTranslation.select(PromptTranslation.prompt, PromptTranslation.language,
                                      PromptTranslation.answers.alias("labels"),
                                      Prompt.answers.alias("english")).join(Prompt))
    if published_only:
        query = query.where(Prompt.status == "published")
    found: dict[str, set[int]] = {}
    for row in query.dicts():  # both columns are "answers": read them by alias
        labels, english = (json.loads(value) if isinstance(value, str) else value
                           for value in (row["labels"], row["english"]))
        if len(labels or ()) == len(english or ()):
            found.setdefault(row["language"], set()).add(row["prompt"])
    return found


def out_of_date(prompt: Prompt) -> list[str]:
    """A sentence for each translation an English edit left with the wrong number of answers."""
    return [_("The %(language)s still has %(labels)d answer labels for %(num)d answers: families who read it "
              "won't get this prompt until you update the %(language)s.", language=_(LANGUAGE_NAMES[t.language]),
              labels=len(t.answers or ()), num=len(prompt.answers or ()))
            for t in PromptTranslation.select().where(PromptTranslation.prompt == prompt.id)
            if not fits(t, prompt.answers)]


def untranslated_published(language: str = "es") -> list[Prompt]:
    """Published prompts with no ``language`` translation that fits them (none, or one left out of
    date by an English edit): no family that needs the language gets them."""
    done = usable_translations().get(language, set())
    return [prompt for prompt in Prompt.published().order_by(Prompt.id) if prompt.id not in done]


# --- deliveries -------------------------------------------------------------------------------------

def attach_prompt_texts(deliveries: Iterable) -> None:
    """Set ``delivery.prompt_texts`` (``{language: PromptText}``, one for each language its
    household reads) on each claimed delivery with a prompt, in two queries, so each caregiver's
    push is built in their language without the database (pushes are sent off its thread)."""
    from ..families.languages import languages_by_family

    with_prompt = [d for d in deliveries if d.prompt_id is not None and d.prompt is not None]
    if not with_prompt:
        return
    # Most families read only English: only the others are read back (translated_only).
    languages = languages_by_family({d.family_id for d in with_prompt}, translated_only=True)
    loaded = {language: translations_for([d.prompt_id for d in with_prompt
                                          if language in languages.get(d.family_id, ())], language)
              for language in {language for found in languages.values() for language in found}}
    for delivery in with_prompt:
        child = delivery.family.child_name
        texts = {"en": prompt_in(delivery.prompt, "en", child)}
        for language in languages.get(delivery.family_id, ()):
            texts[language] = prompt_for_reader(delivery.prompt, language, child,
                                                loaded.get(language, {}).get(delivery.prompt_id))
        delivery.prompt_texts = texts


def delivery_text(delivery, language: str | None = None) -> PromptText | None:
    """The words a delivery's push carries to a reader of ``language`` (by default the household's
    first language other than English, else English): those attached at claim, else worked out now."""
    if delivery.prompt_id is None or delivery.prompt is None:
        return None
    texts = getattr(delivery, "prompt_texts", None) or {}
    if language is None:
        language = next((found for found in sorted(texts) if found != "en"), None)
        if language is None and not texts:
            from ..families.languages import family_languages, needs_translation

            language = (needs_translation(family_languages(delivery.family)) or ("en",))[0]
        language = language or "en"
    text = texts.get(language)
    if text is None:
        text = prompt_for_reader(delivery.prompt, language, delivery.family.child_name)
    return text


# --- revision diffs -------------------------------------------------------------------------------

def translation_diff(old: dict | None, new: dict) -> list:
    """What a revision changed in its translations (those revisions that carry them), as the
    library's ``FieldChange`` rows: "Spanish title" and so on."""
    from .library import FieldChange, word_diff

    if "translations" not in new:
        return []
    before_all, changes = (old or {}).get("translations") or {}, []
    for language, after in sorted(new["translations"].items()):
        before = before_all.get(language) or {}
        for name in TRANSLATION_FIELDS:
            a, b = before.get(name), after.get(name)
            a = "\n".join(a) if isinstance(a, list) else (a or "")
            b = "\n".join(b) if isinstance(b, list) else (b or "")
            if a != b:
                label = f"{LANGUAGE_NAMES.get(language, language)} {'why it matters' if name == 'why' else name}"
                changes.append(FieldChange(label, a, b, word_diff(a, b)))
    return changes


# --- checking the files (tools/check_spanish.py and the data test) ----------------------------------

@dataclass
class BandCheck:
    """One band's file: how many prompts it translates, its problems and the skills it lacks."""

    band: str
    translated: int
    problems: list[str]
    missing: list[str]


def band_name(age_min: int, age_max: int) -> str:
    """A band's file name without ``.json``: ``0-3``."""
    return f"{age_min}-{age_max}"


def check_translation_files(bands: Iterable[str] = (), language: str = "es", directory: Path | None = None,
                            starter: Path = STARTER_FILE) -> list[BandCheck]:
    """Check ``<directory>/<language>/<band>.json`` against every prompt of ``starter`` (all of them
    are published by init-db): each entry must match an English prompt of its band by ``(skill,
    age_min_months)``, once, and pass :func:`validate_translation`; each English prompt needs one."""
    english = {(p["skill"], p["age_min_months"]): p for p in json.loads(starter.read_text(encoding="utf-8"))}
    by_band: dict[str, list[dict]] = {}
    for prompt in english.values():
        by_band.setdefault(band_name(prompt["age_min_months"], prompt["age_max_months"]), []).append(prompt)
    folder = (directory or TRANSLATIONS_DIR) / language
    results = []
    for band in list(bands) or sorted(by_band, key=lambda b: int(b.split("-")[0])):
        path = folder / f"{band}.json"
        entries = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        problems, seen = [], set()
        for entry in entries if isinstance(entries, list) else [None]:
            if not isinstance(entry, dict):
                problems.append(f"{band}: each entry must be an object")
                continue
            key = (entry.get("skill"), entry.get("age_min_months"))
            where = f"{band} {key[0]}"
            item = english.get(key)
            if item is None or band_name(item["age_min_months"], item["age_max_months"]) != band:
                problems.append(f"{where}: no English prompt of this band has that skill")
                continue
            if key in seen:
                problems.append(f"{where}: translated twice")
            seen.add(key)
            _data, found = validate_translation(entry, item)
            problems.extend(f"{where}: {message}" for message in found.values())
        missing = [p["skill"] for p in by_band.get(band, []) if (p["skill"], p["age_min_months"]) not in seen]
        results.append(BandCheck(band, len(seen), problems, missing))
    return results
