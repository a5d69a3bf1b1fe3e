"""Import and export of the whole prompt library as JSON.

The export is a JSON array of prompts, each with ``id``, ``status`` and ``version`` and the fields of
``PROMPT_FIELDS``. An import is checked as a whole with the library's one validation function: one
bad prompt rejects the file with a message per problem, and nothing changes. Items whose ``id``
matches a prompt update it (a new revision); others are created, as drafts unless they say otherwise.
Statuses in an import are taken as given (the import is the admin's bulk tool). Each prompt also
carries ``"translations": {"es": {"title", "body", "question", "answers", "why"}}`` (answers as
labels in the English order), checked with the translations' one check and saved as its own
revision; a prompt whose item has no translation keeps the one it has.
"""
from __future__ import annotations

from ...db import db
from ...errors import AppError
from ...i18n import N_, _, ngettext
from ...inputs import parse_json
from ...models import PROMPT_STATUSES, Prompt, PromptTranslation, User
from ...security import audit
from .library import PROGRAMME_FIELDS, PROMPT_FIELDS, save_prompt, validate_prompt
from .translations import (
    LANGUAGE_NAMES,
    TRANSLATED,
    TRANSLATION_FIELDS,
    save_translation,
    translation_data,
    validate_translation,
)

IMPORT_MAX_BYTES = 512 * 1024
IMPORT_MAX_ITEMS = 1000
EXTRA_KEYS = {"id", "status", "version", "translations"}
#: Field keys as they are named inside an import message (after the prompt's name).
ORDER = ("prompt", "theme", "skill", "age", "title", "body", "question", "answers", "why", "strand",
         "moment", "week", "pairs_with", "status", "translations")


class ImportRejected(AppError):
    """The import file had problems; ``problems`` lists one human sentence per problem."""

    def __init__(self, problems: list[str]):
        count = len(problems)
        super().__init__(422, ngettext("The file wasn't imported: %(num)d problem to fix. Nothing was changed.",
                                       "The file wasn't imported: %(num)d problems to fix. Nothing was changed.",
                                       count), code="import_invalid")
        self.problems = problems

    def payload(self) -> dict:
        return super().payload() | {"problems": self.problems}


def export_library() -> list[dict]:
    """Every prompt, any status, oldest first, in the shape :func:`import_library` accepts."""
    translations: dict[int, dict] = {}
    for translation in PromptTranslation.select().order_by(PromptTranslation.language):
        translations.setdefault(translation.prompt_id, {})[translation.language] = translation_data(translation)
    return [{"id": prompt.id, "status": prompt.status, "version": prompt.version}
            | {name: getattr(prompt, name) for name in PROMPT_FIELDS}
            | {"translations": translations.get(prompt.id, {})}
            for prompt in Prompt.select().order_by(Prompt.id)]


def parse_import(raw: bytes) -> list:
    """Decode an uploaded file into a list; AppError 400/413/422 with a clear sentence otherwise."""
    if not raw:
        raise AppError(400, N_("The file is empty. Choose a JSON file exported from the library."),
                       code="import_empty")
    items = parse_json(raw, max_bytes=IMPORT_MAX_BYTES, what="The file", code="import_not_json")
    if not isinstance(items, list):
        raise AppError(422, N_("The file must be a JSON array of prompts, like the export."),
                       code="import_wrong_shape")
    if not items:
        raise AppError(422, N_("The file has no prompts in it."), code="import_wrong_shape")
    if len(items) > IMPORT_MAX_ITEMS:
        raise AppError(413, _("The file has %(count)d prompts; the limit is %(limit)d at a time.",
                              count=len(items), limit=IMPORT_MAX_ITEMS), code="import_too_large")
    return items


def import_problems(items: list) -> list[str]:
    """Every problem in the file, one sentence each, naming the prompt and the field."""
    problems: list[str] = []
    seen_ids: dict[int, int] = {}
    for number, item in enumerate(items, start=1):
        name = _item_name(number, item)
        english, fields = validate_prompt(item)
        if isinstance(item, dict):
            fields |= _extra_problems(item, number, seen_ids) | _translation_problems(item, english)
        for key in sorted(fields, key=_field_order):
            message = fields[key]
            problems.append(f"{name}: {message[0].lower()}{message[1:]}")
    return problems


def import_library(raw: bytes, editor: User | None) -> dict[str, int]:
    """Check and apply an import in one transaction; returns counts created, updated, unchanged.

    Raises :class:`ImportRejected` (nothing changed) when any prompt has a problem.
    """
    items = parse_import(raw)
    problems = import_problems(items)
    if problems:
        raise ImportRejected(problems)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with db.atomic():
        ids = [item["id"] for item in items if isinstance(item.get("id"), int)]
        existing = {prompt.id: prompt for prompt in Prompt.select().where(Prompt.id.in_(ids))} if ids else {}
        for item in items:
            prompt = existing.get(item.get("id"))
            fields = {name: item.get(name) for name in PROMPT_FIELDS}
            if prompt is not None:  # an export from before strands keeps the prompt's programme
                fields |= {name: getattr(prompt, name) for name in PROGRAMME_FIELDS if name not in item}
            status = item.get("status") or (None if prompt else "draft")
            saved, changed = save_prompt(prompt, fields, editor, status=status, summary="Imported",
                                         action="prompt_import_item")
            for language, translation in (item.get("translations") or {}).items():
                saved, translated = save_translation(saved, language, translation, editor,
                                                     summary=f"Imported: {LANGUAGE_NAMES[language]}")
                changed = changed or translated
            counts["created" if prompt is None else "updated" if changed else "unchanged"] += 1
        audit("prompt_import", "library", "", actor=editor, **counts)
    return counts


def _item_name(number: int, item: object) -> str:
    title = item.get("title") if isinstance(item, dict) else None
    if isinstance(title, str) and title.strip():
        title = title.strip()
        short = title if len(title) <= 30 else title[:29].rsplit(" ", 1)[0].rstrip() + "…"
        return _("Prompt %(num)s (“%(title)s”)", num=number, title=short)
    return _("Prompt %(num)s", num=number)


def _extra_problems(item: dict, number: int, seen_ids: dict[int, int]) -> dict[str, str]:
    problems = {}
    unknown = sorted(set(item) - set(PROMPT_FIELDS) - EXTRA_KEYS)
    if unknown:
        problems["prompt"] = _("Field “%(field)s” isn't one a prompt has.", field=unknown[0][:30])
    status = item.get("status")
    if status is not None and status not in PROMPT_STATUSES:
        problems["status"] = _("Status must be one of %(values)s.", values=", ".join(PROMPT_STATUSES))
    prompt_id = item.get("id")
    if prompt_id is not None and (not isinstance(prompt_id, int) or isinstance(prompt_id, bool)):
        problems["id"] = _("The id must be a whole number (or left out for a new prompt).")
    elif prompt_id is not None and prompt_id in seen_ids:
        problems["id"] = _("The id %(id)s is also used by prompt %(num)s.", id=prompt_id, num=seen_ids[prompt_id])
    elif prompt_id is not None:
        seen_ids[prompt_id] = number
    return problems


def _translation_problems(item: dict, english: dict) -> dict[str, str]:
    """Problems of an item's ``translations``, keyed ``translations`` (after every English field)."""
    translations = item.get("translations")
    if translations is None:
        return {}
    if not isinstance(translations, dict):
        return {"translations": _("Translations must be an object like %(example)s.",
                                   example='{"es": {"title": …}}')}
    problems = {}
    for language, translation in translations.items():
        if language not in TRANSLATED:
            problems[f"translations.{language}"[:60]] = (
                _("Translations are into %(codes)s only; got “%(got)s”.", codes=", ".join(TRANSLATED),
                  got=str(language)[:10]))
            continue
        if isinstance(translation, dict):
            unknown = sorted(set(translation) - set(TRANSLATION_FIELDS))
            if unknown:
                problems[f"translations.{language}"] = _("%(language)s has a field we don't know: “%(field)s”.",
                                                         language=_(LANGUAGE_NAMES[language]).capitalize(),
                                                         field=unknown[0][:30])
                continue
        _data, found = validate_translation(translation, english)
        for key, message in found.items():
            problems[f"translations.{language}.{key}"] = (f"{_(LANGUAGE_NAMES[language]).capitalize()}: "
                                                          f"{message[0].lower()}{message[1:]}")
    return problems


def _field_order(key: str) -> tuple[int, str]:
    head = key.split(".")[0]
    head = "age" if head.startswith("age") else head
    return (ORDER.index(head) if head in ORDER else len(ORDER), key)
