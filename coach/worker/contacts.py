"""Getting in touch with a family: log a call, text, visit or message, and keep the parent's phone
number (a worker may correct it on the family page; the parent sets it in their settings)."""
from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user

from ..db import write_transaction
from ..errors import AppError
from ..i18n import _, day_words
from ..inputs import checks_own_text
from ..models import User
from ..security import audit, role_required
from ..services.families import caseload, contacts
from ..services.families.phones import parse_phone
from .blueprint import bp
from .contact_page import staff_today
from .families import render_family
from .forms import ContactForm, FollowUpForm, PhoneForm


def _show_errors(form, error: AppError) -> None:
    for name, message in (error.fields or {}).items():
        if name in form:
            form[name].errors = [message]
    flash(error.message, "error")


@bp.post("/families/<int:family_id>/contacts")
@role_required("worker", "admin")
@checks_own_text  # a note's problem shows next to the note
def log_contact(family_id: int):
    """Record a call, text, visit or message with its outcome, a note and an optional next step."""
    family = caseload.family_for(current_user, family_id)
    form = ContactForm()
    if not form.validate_on_submit():
        return render_family(family, FollowUpForm(formdata=None), 400 if form.csrf_token.errors else 422,
                             contact_form=form)
    given = contacts.ContactInput(kind=form.kind.data or "", outcome=form.outcome.data or "",
                                  note=form.note.data or "", next_step_on=form.next_step_on.data or "")
    try:
        with write_transaction():
            entry = contacts.log_contact(family, current_user, given, staff_today(family))
            audit("contact_logged", "family", family.id, kind=entry.kind, outcome=entry.outcome)
    except AppError as error:
        _show_errors(form, error)
        return render_family(family, FollowUpForm(formdata=None), error.status, contact_form=form)
    saved = _("Saved: %(contact)s.", contact=contacts.contact_words(entry.kind, entry.outcome).lower())
    if entry.next_step_on:
        saved += " " + _("Next step on %(day)s.", day=day_words(entry.next_step_on, "day_month"))
    flash(saved, "success")
    return redirect(url_for("worker.family_page", family_id=family.id, _anchor="contacts"))


@bp.post("/families/<int:family_id>/phone")
@role_required("worker", "admin")
@checks_own_text
def set_phone(family_id: int):
    """Correct or remove the parent's phone number (read in the family's country unless it starts with +)."""
    family = caseload.family_for(current_user, family_id)
    form = PhoneForm()
    if not form.validate_on_submit():
        return render_family(family, FollowUpForm(formdata=None), 400 if form.csrf_token.errors else 422,
                             phone_form=form)
    try:
        phone = parse_phone(form.phone.data, family.country)
    except AppError as error:
        _show_errors(form, error)
        return render_family(family, FollowUpForm(formdata=None), error.status, phone_form=form)
    with write_transaction():
        User.update(phone=phone).where(User.id == family.user_id).execute()
        audit("phone_changed", "family", family.id, by="worker")
    flash(_("Phone number saved.") if phone else _("Phone number removed."), "success")
    return redirect(url_for("worker.family_page", family_id=family.id, _anchor="phone"))
