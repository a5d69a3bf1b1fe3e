"""The journal's pages: the calendar and entries (``/journal``, ``?theme=``), the printable copy
(``/journal/print``), editing or deleting a recent entry, and opening a past prompt again.

Every page works without JavaScript: edits and deletions are server-side forms with CSRF, and a
deletion asks for confirmation on its own page first.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField

from ..errors import AppError, error_response, show_on_form
from ..i18n import _
from ..inputs import CheckedForm, checks_own_text
from ..models import CheckIn
from ..security import role_required
from ..services.families import checkins
from ..services.families import journal as journal_service
from ..services.families.checkins import family_for, feelings
from ..services.families.streaks import family_streak
from ..services.programme.coaching import programme_place
from ..services.programme.reflection import latest_reflection
from .views import bp


class EntryForm(CheckedForm):
    felt = StringField("How connected did you feel?")
    note = TextAreaField("A note for yourself")
    shared = BooleanField("Share this note with my family worker")


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the deletion's confirmation page posts it."""


@bp.get("/journal")
@role_required("parent")
def journal():
    """The five-week calendar, the last 30 days' counts, and past check-ins by week (one theme's
    with ``?theme=``)."""
    family = family_for(current_user)
    status, theme_error = 200, None
    try:
        theme = journal_service.parse_theme(request.args.get("theme"))
    except AppError as error:
        theme, theme_error, status = None, error.message, 422
    return render_template("parent/journal.html", family=family,
                           journal=journal_service.build_journal(family, current_user, theme=theme),
                           streak=family_streak(family, current_user), theme_error=theme_error,
                           shapes=journal_service.THEME_SHAPES, edit_days=journal_service.EDIT_DAYS,
                           programme_place=programme_place(family, checkins.local_today(family)),
                           latest_reflection=latest_reflection(family, checkins.local_today(family))), status


@bp.get("/journal/print")
@role_required("parent")
def journal_print():
    """Every check-in on one readable, printable page: date, prompt, answer, feeling, note."""
    family = family_for(current_user)
    entries = [entry for week in journal_service.build_journal(family, current_user).weeks for entry in week.entries]
    return render_template("parent/journal_print.html", family=family, entries=entries,
                           today=checkins.local_today(family))


def _entry_or_error(entry_id: str):
    family = family_for(current_user)
    return family, journal_service.own_entry(family, current_user, entry_id)


@bp.route("/journal/<entry_id>/edit", methods=["GET", "POST"])
@role_required("parent")
@checks_own_text
def journal_edit(entry_id: str):
    """Change an entry's feeling, note or sharing, within 7 days of making it."""
    family, checkin = _entry_or_error(entry_id)
    entry = journal_service.entry_view(family, checkin, language=current_user.language)
    form = EntryForm()
    status = 200
    if not entry.editable:
        status = 409
    elif form.validate_on_submit():
        try:
            journal_service.edit_entry(checkin, form.felt.data or "", form.note.data or "",
                                       bool(form.shared.data))
        except AppError as error:
            show_on_form(form, error)
            status = error.status
        else:
            flash(_("Your journal entry is saved."), "success")
            return redirect(url_for(".journal"))
    elif request.method == "POST":
        status = 400 if form.csrf_token.errors else 422
        if form.csrf_token.errors:
            flash(_("The page's security token expired. Please try again."), "error")
    else:
        form.felt.data = str(checkin.felt or "")
        form.note.data = checkin.note or ""
        form.shared.data = checkin.shared_with_worker
    return render_template("parent/journal_edit.html", entry=entry, form=form, feelings=feelings(),
                           edit_days=journal_service.EDIT_DAYS), status


@bp.route("/journal/<entry_id>/delete", methods=["GET", "POST"])
@role_required("parent")
def journal_delete(entry_id: str):
    """Delete an entry within 7 days of making it, after confirming on this page."""
    family, checkin = _entry_or_error(entry_id)
    entry = journal_service.entry_view(family, checkin, language=current_user.language)
    form = ConfirmForm()
    status = 200 if entry.editable else 409
    if entry.editable and form.validate_on_submit():
        try:
            journal_service.delete_entry(checkin)
        except AppError as error:
            return error_response(error)
        flash(_("That journal entry is deleted."), "success")
        return redirect(url_for(".journal"))
    if request.method == "POST" and entry.editable:
        status = 400
        flash(_("The page's security token expired. Please try again."), "error")
    return render_template("parent/journal_delete.html", entry=entry, form=form,
                           edit_days=journal_service.EDIT_DAYS), status


@bp.get("/journal/prompts/<int:delivery_id>")
@role_required("parent")
def journal_prompt(delivery_id: int):
    """A past prompt to read again (read-only), with what you answered."""
    family = family_for(current_user)
    delivery = journal_service.past_delivery(family, delivery_id)
    entries = [journal_service.entry_view(family, c, language=current_user.language) for c in
               CheckIn.select().where(CheckIn.delivery == delivery, CheckIn.family == family,
                                      CheckIn.user == current_user.id)
               .order_by(CheckIn.client_created_at)]
    return render_template("parent/journal_prompt.html", delivery=delivery, entries=entries,
                           prompt=checkins.prompt_view(delivery, family, current_user.language),
                           day=journal_service.day_words(delivery.local_date))
