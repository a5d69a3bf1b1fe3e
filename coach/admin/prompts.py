"""The prompt library: the filtered list with its coverage grid, the editor, status changes,
revisions with their diffs and restore, and the live check the editor calls as you type."""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from peewee import JOIN

from ..errors import AppError
from ..i18n import N_, _
from ..inputs import checks_own_text, request_json, takes_json
from ..models import MOMENTS, STRAND_NAMES, STRANDS, THEME_NAMES, Prompt, PromptRevision, User
from ..security import role_required
from ..services.programme import library, library_stats, translations
from .blueprint import bp, int_or_none, me, refuse_unstorable_text
from .prompt_form import blank_values, form_values, item_from_values, problems_by_row, values_from_data


def get_prompt(prompt_id: int) -> Prompt:
    """The prompt with this id, or a 404 page."""
    prompt = Prompt.get_or_none(Prompt.id == prompt_id)
    if prompt is None:
        raise AppError(404, N_("There is no prompt with that id."), code="prompt_not_found")
    return prompt


@bp.get("/prompts")
@role_required("admin")
def prompt_list():
    """The library: filters (theme, age band, status, search), coverage grid and what works."""
    filters = library_stats.parse_filters(request.args)
    for problem in filters.problems:
        flash(problem, "error")
    return render_template("admin/prompts.html", filters=filters,
                           prompts=library_stats.filtered_prompts(filters),
                           theme_rows=[library_stats.GridRow(theme, THEME_NAMES[theme], cells)
                                       for theme, cells in library_stats.coverage()],
                           strands=library_stats.strand_coverage(), moments=library_stats.moment_coverage(),
                           ages=library_stats.age_choices(), min_per_cell=library_stats.MIN_PER_CELL,
                           untranslated=translations.untranslated_published("es"),
                           published=Prompt.published().count())


def _age_words(key: str) -> str:
    """An age filter key ("6-12", "any") as the editor's select shows it."""
    if key == "any":
        return _("Any age")
    low, high = key.split("-")
    return _("%(low)s–%(high)s months", low=low, high=high)


def render_editor(prompt: Prompt | None, values: dict, problems: dict | None = None, status: int = 200):
    """The editor page for a new or existing prompt, with its checks, stats and history."""
    item, _rows = item_from_values(values)
    context = {"prompt": prompt, "values": values, "problems": problems or {},
               "grades": library.reading_grades(item),
               "age_options": [(key, _age_words(key)) for key in library_stats.age_choices()],
               "strand_options": [(strand, _(STRAND_NAMES[strand])) for strand in STRANDS],
               "moment_options": [(moment, _(moment.capitalize())) for moment in MOMENTS],
               "week_options": [(str(week), _("Week %(num)s", num=week)) for week in range(1, 7)]}
    if prompt is not None:
        done = translations.translations_of(prompt.id)
        context |= {
            "stats": library_stats.prompt_stats(prompt.id).get(prompt.id, library_stats.PromptStats()),
            "sent_versions": library_stats.sent_by_version(prompt),
            "revisions": list(PromptRevision.select(PromptRevision, User)
                              .join(User, on=(PromptRevision.editor == User.id), join_type=JOIN.LEFT_OUTER)
                              .where(PromptRevision.prompt == prompt)
                              .order_by(PromptRevision.version.desc())),
            "next_statuses": library.TRANSITIONS.get(prompt.status, ()),
            "translated": [(language, _(translations.LANGUAGE_NAMES[language]), language in done)
                           for language in translations.TRANSLATED],
        }
    return render_template("admin/prompt_edit.html", **context), status


@bp.get("/prompts/new")
@role_required("admin")
def new_prompt():
    """An empty editor; the prompt is saved as a draft."""
    return render_editor(None, blank_values())


@bp.post("/prompts/new")
@role_required("admin")
@checks_own_text
def create_prompt():
    """Create a prompt as a draft (version 1) once every check passes."""
    values = form_values(request.form)
    item, rows = item_from_values(values)
    try:
        refuse_unstorable_text()
        prompt, _created = library.save_prompt(None, item, me())
    except AppError as error:
        if error.status != 422:
            raise
        flash(error.message, "error")
        return render_editor(None, values, problems_by_row(error.fields or {}, rows), 422)
    flash(_("Draft saved as version 1. Publish it when it's ready."), "success")
    return redirect(url_for("admin.edit_prompt", prompt_id=prompt.id))


@bp.get("/prompts/<int:prompt_id>")
@role_required("admin")
def edit_prompt(prompt_id: int):
    """A prompt's editor with its live preview, what works, status and revision history."""
    prompt = get_prompt(prompt_id)
    return render_editor(prompt, values_from_data(library.prompt_data(prompt)))


@bp.post("/prompts/<int:prompt_id>")
@role_required("admin")
@checks_own_text
def save_prompt(prompt_id: int):
    """Save the editor as a new revision (checks enforced; a stale form gets 409)."""
    prompt = get_prompt(prompt_id)
    values = form_values(request.form)
    item, rows = item_from_values(values)
    try:
        refuse_unstorable_text()
        saved, changed = library.save_prompt(prompt, item, me(),
                                             base_version=int_or_none(request.form.get("base_version")))
    except AppError as error:
        if error.status not in (409, 422):
            raise
        flash(error.message, "error")
        return render_editor(prompt, values, problems_by_row(error.fields or {}, rows), error.status)
    if changed:
        flash(_("Saved as version %(num)s.", num=saved.version), "success")
        for message in translations.out_of_date(saved):
            flash(message, "error")
    else:
        flash(_("Nothing had changed, so there is no new version."), "info")
    return redirect(url_for("admin.edit_prompt", prompt_id=prompt.id))


@bp.post("/prompts/<int:prompt_id>/status")
@role_required("admin")
def change_status(prompt_id: int):
    """Publish, retire, or bring a retired prompt back to draft (form field ``status``)."""
    prompt = get_prompt(prompt_id)
    try:
        saved = library.set_status(prompt, request.form.get("status", ""), me())
    except AppError as error:
        if error.status not in (409, 422):
            raise
        flash(error.message, "error")
        return render_editor(prompt, values_from_data(library.prompt_data(prompt)), status=error.status)
    flash(_("%(done)s: version %(num)s.", done=_(library.STATUS_VERBS[saved.status]), num=saved.version),
          "success")
    return redirect(url_for("admin.edit_prompt", prompt_id=prompt.id))


@bp.get("/prompts/<int:prompt_id>/revisions/<int:version>")
@role_required("admin")
def revision(prompt_id: int, version: int):
    """One revision: who saved it and when, and what changed from the version before."""
    return render_revision(get_prompt(prompt_id), version)


def render_revision(prompt: Prompt, version: int, status: int = 200):
    """The revision page: its diff against the version before, and how often it was sent."""
    current = PromptRevision.get_or_none(PromptRevision.prompt == prompt, PromptRevision.version == version)
    if current is None:
        raise AppError(404, _("This prompt has no version %(num)s.", num=version), code="revision_not_found")
    previous = (PromptRevision.select().where(PromptRevision.prompt == prompt,
                                              PromptRevision.version < version)
                .order_by(PromptRevision.version.desc()).first())
    changes = (library.revision_diff(previous.data if previous else None, current.data)
               + translations.translation_diff(previous.data if previous else None, current.data))
    sent = dict(library_stats.sent_by_version(prompt)).get(version, 0)
    return render_template("admin/prompt_revision.html", prompt=prompt, revision=current,
                           previous=previous, changes=changes, sent=sent), status


@bp.post("/prompts/<int:prompt_id>/revisions/<int:version>/restore")
@role_required("admin")
def restore(prompt_id: int, version: int):
    """Bring back an earlier version's text as a new revision."""
    prompt = get_prompt(prompt_id)
    try:
        saved = library.restore_revision(prompt, version, me(),
                                         base_version=int_or_none(request.form.get("base_version")))
    except AppError as error:
        if error.status not in (409, 422):
            raise
        flash(error.message, "error")
        return render_revision(prompt, version, error.status)
    flash(_("Version %(old)s restored as version %(num)s.", old=version, num=saved.version), "success")
    return redirect(url_for("admin.edit_prompt", prompt_id=prompt.id))


@bp.post("/prompts/check")
@role_required("admin")
@takes_json
def check_prompt():
    """The editor's live check: JSON of the editor's fields → ``{"problems", "grades", "grade"}``."""
    if not request.is_json:
        raise AppError(400, N_("Send the editor's fields as a JSON object."), code="bad_json")
    item, rows = item_from_values(form_values(request_json(code="bad_json")))
    _data, problems = library.validate_prompt(item)
    grades = library.reading_grades(item)
    known = [grade for grade in grades.values() if grade is not None]
    return jsonify(problems=problems_by_row(problems, rows), grades=grades,
                   grade=max(known) if known else None, max_grade=library.MAX_GRADE)
