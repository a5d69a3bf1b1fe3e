"""A prompt in another language: the English beside each field, its own lock-screen preview, its
length counters and reading ease (Fernández-Huerta), and the live check the page calls as you
type. Every save goes through ``translations.save_translation`` (one check, a new version)."""
from __future__ import annotations

from collections.abc import Mapping

from flask import flash, jsonify, redirect, render_template, request, url_for

from ..errors import AppError
from ..i18n import N_, _
from ..inputs import checks_own_text, request_json, takes_json
from ..models import PromptTranslation
from ..security import role_required
from ..services.programme import translations
from ..services.programme.library import ANY_AGE, MAX_ANSWERS, prompt_data
from ..services.programme.readability import FALLBACK_ES, MIN_EASE_ES
from .blueprint import bp, int_or_none, me, refuse_unstorable_text
from .prompts import get_prompt

TEXT_FIELDS = ("title", "body", "question", "why")


def translation_values(source: Mapping) -> dict[str, str]:
    """The translation form's fields (``title`` … ``answer-0-label``) from a form or JSON object."""
    names = [*TEXT_FIELDS, *(f"answer-{i}-label" for i in range(MAX_ANSWERS))]
    return {name: source.get(name) if isinstance(source.get(name), str) else "" for name in names}


def item_from(values: Mapping[str, str], answers: int) -> dict:
    """A translation item: the English prompt's number of answer rows, in its order."""
    return {name: values.get(name, "") for name in TEXT_FIELDS} | {
        "answers": [values.get(f"answer-{i}-label", "") for i in range(answers)]}


def values_from(data: Mapping | None) -> dict[str, str]:
    data = data or {}
    values = {name: data.get(name) or "" for name in TEXT_FIELDS}
    for index, label in enumerate((data.get("answers") or [])[:MAX_ANSWERS]):
        values[f"answer-{index}-label"] = label
    return values


def render_translation(prompt, language: str, values: dict, problems: dict | None = None,
                       status: int = 200):
    english = prompt_data(prompt)
    item = item_from(values, len(english["answers"]))
    current = PromptTranslation.get_or_none(PromptTranslation.prompt == prompt,
                                            PromptTranslation.language == language)
    return render_template(
        "admin/prompt_translation.html", prompt=prompt, language=language,
        language_name=_(translations.LANGUAGE_NAMES[language]), english=english, current=current,
        values=values | {"theme": prompt.theme}, problems=problems or {},
        eases=translations.ease_scores(item), min_ease=MIN_EASE_ES, child_fallback=FALLBACK_ES,
        age=_age_words(prompt)), status


@bp.get("/prompts/<int:prompt_id>/translations/<language>")
@role_required("admin")
def edit_translation(prompt_id: int, language: str):
    """The prompt in ``language`` beside its English, with its own preview and checks."""
    prompt = get_prompt(prompt_id)
    translations.check_language(language)
    saved = translations.translations_of(prompt.id).get(language)
    problems = {}
    if saved is not None:  # an English edit since may have left it out of date: say what to fix
        _data, found = translations.validate_translation(saved, prompt_data(prompt))
        problems = row_problems(found)
    return render_translation(prompt, language, values_from(saved), problems)


@bp.post("/prompts/<int:prompt_id>/translations/<language>")
@role_required("admin")
@checks_own_text
def save_translation(prompt_id: int, language: str):
    """Save the translation as a new version of the prompt (every check enforced; stale → 409)."""
    prompt = get_prompt(prompt_id)
    translations.check_language(language)
    values = translation_values(request.form)
    try:
        refuse_unstorable_text()
        saved, changed = translations.save_translation(
            prompt, language, item_from(values, len(prompt.answers or [])), me(),
            base_version=int_or_none(request.form.get("base_version")))
    except AppError as error:
        if error.status not in (409, 422):
            raise
        flash(error.message, "error")
        return render_translation(prompt, language, values, row_problems(error.fields or {}), error.status)
    name = _(translations.LANGUAGE_NAMES[language])
    flash(_("The %(language)s is saved as version %(num)s.", language=name, num=saved.version) if changed
          else _("Nothing had changed in the %(language)s, so there is no new version.", language=name),
          "success" if changed else "info")
    return redirect(url_for("admin.edit_translation", prompt_id=prompt.id, language=language))


@bp.post("/prompts/<int:prompt_id>/translations/<language>/check")
@role_required("admin")
@takes_json
def check_translation(prompt_id: int, language: str):
    """The live check: JSON of the form's fields → ``{"problems", "grades", "min_ease"}`` where
    ``grades`` holds each field's reading ease."""
    prompt = get_prompt(prompt_id)
    translations.check_language(language)
    if not request.is_json:
        raise AppError(400, N_("Send the form's fields as a JSON object."), code="bad_json")
    item = item_from(translation_values(request_json(code="bad_json")), len(prompt.answers or []))
    _data, problems = translations.validate_translation(item, prompt_data(prompt))
    return jsonify(problems=row_problems(problems), grades=translations.ease_scores(item),
                   min_ease=MIN_EASE_ES)


def _age_words(prompt) -> str:
    """The prompt's age range as the page shows it, in the reader's language."""
    if (prompt.age_min_months, prompt.age_max_months) == ANY_AGE:
        return _("Any age")
    return _("%(low)s–%(high)s months", low=prompt.age_min_months, high=prompt.age_max_months)


def row_problems(problems: Mapping[str, str]) -> dict[str, str]:
    """``answers.1`` → the form's ``answer-1-label`` error slot (the others keep their names), each
    problem in the reader's language (the checks' sentences are marked with ``N_``)."""
    mapped = {}
    for key, message in problems.items():
        parts = key.split(".")
        mapped[f"answer-{parts[1]}-label" if parts[0] == "answers" and len(parts) == 2 else key] = _(message)
    return mapped
