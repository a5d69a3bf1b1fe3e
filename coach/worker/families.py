"""A family's page: status and metrics, settings, support requests with follow-ups, and a timeline.

Showing a parent's shared notes writes a ``view_notes`` audit event.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import db
from ..errors import AppError
from ..i18n import N_, _
from ..inputs import checks_own_text, parse_int
from ..models import MAX_CAREGIVERS, Family
from ..security import audit, role_required
from ..services.families import caseload, household, privacy, wellbeing
from ..services.families.engagement import measure_family
from ..services.families.household_engagement import DAYS as HOUSEHOLD_DAYS
from ..services.families.household_engagement import household_engagement
from ..services.families.languages import family_languages, language_words
from ..services.people.staff_time import viewer_zone
from .blueprint import bp
from .contact_page import family_extras
from .forms import FollowUpForm

HISTORY_CHOICES = (28, 90, 365)


def history_days() -> int:
    """How many days of timeline to show (``?days=``); anything else is a clear 400."""
    days = parse_int(request.args.get("days", "28"), 1, max(HISTORY_CHOICES))
    if days not in HISTORY_CHOICES:
        raise AppError(400, N_("Choose 28, 90 or 365 days of history."), code="bad_days")
    return days


def render_family(family: Family, form: FollowUpForm, status: int = 200, **forms):
    """The family page, with the follow-up form as given (blank, or with its errors); ``forms`` may
    give the contact and phone forms with their errors (contacts.py)."""
    days = history_days()
    timeline = caseload.family_timeline(family, days, zone=viewer_zone(current_user, family.timezone))
    support = caseload.support_requests(family)
    notes = caseload.shared_note_count(timeline) + sum(1 for item in support if item.checkin_note)
    if notes:
        audit("view_notes", "family", family.id, notes=notes, via="page")
    return render_template(
        "worker/family.html", family=family, parent=family.user, row=measure_family(family),
        household=household_engagement([family]).get(family.id, []), household_days=HOUSEHOLD_DAYS,
        max_caregivers=MAX_CAREGIVERS,
        timeline=timeline, support=support, form=form, days=days,
        history_choices=HISTORY_CHOICES, schedule=caseload.schedule_words(family),
        low_mood=wellbeing.is_low_mood(family), language=language_words(family_languages(family)),
        **family_extras(family, forms)), status


@bp.get("/families/<int:family_id>")
@role_required("worker", "admin")
def family_page(family_id: int):
    """One family: how they are doing, their settings, support requests and timeline."""
    return render_family(caseload.family_for(current_user, family_id), FollowUpForm())


@bp.post("/families/<int:family_id>/follow-up")
@role_required("worker", "admin")
@checks_own_text  # the note's problem shows next to the note
def follow_up(family_id: int):
    """Mark one of the family's support requests followed up (who and when are recorded)."""
    family = caseload.family_for(current_user, family_id)
    form = FollowUpForm()
    if not form.validate_on_submit():
        return render_family(family, form, 422)
    try:
        with db.atomic():
            caseload.mark_followed_up(family, form.request_id.data, current_user, form.note.data or "")
            audit("support_followed_up", "family", family.id, request_id=form.request_id.data)
    except AppError as error:
        if error.fields and "note" in error.fields:
            form.note.errors = [error.fields["note"]]
        flash(error.message, "error")
        return render_family(family, form, error.status)
    flash(_("Marked followed up. Thank you for getting in touch."), "success")
    return redirect(url_for("worker.family_page", family_id=family.id, _anchor="support"))


@bp.post("/families/<int:family_id>/caregivers/<int:user_id>/remove")
@role_required("worker", "admin")
def remove_caregiver(family_id: int, user_id: int):
    """Take one caregiver out of the household and erase their account, devices and check-ins; the
    others keep the family. Never the last caregiver (the family would go with them). Audited."""
    family = caseload.family_for(current_user, family_id)
    people = {person.id: person for person in household.caregivers(family)}
    person = people.get(user_id)
    if person is None:
        raise AppError(404, N_("That person isn't in this family's household."), code="not_a_caregiver")
    if len(people) == 1:
        flash(_("%(name)s is this family's only caregiver, so they can't be removed here.", name=person.label), "error")
        return redirect(url_for("worker.family_page", family_id=family.id, _anchor="household"), 303)
    if request.form.get("confirm") != "yes":
        flash(_("Tick \u201cErase %(name)s's account\u201d to remove them.", name=person.label), "error")
        return redirect(url_for("worker.family_page", family_id=family.id, _anchor="household"), 303)
    name = person.label
    privacy.delete_account(person)
    audit("caregiver_removed", "family", family.id, user_id=user_id)
    flash(_("%(name)s is no longer in this household; their account is erased.", name=name), "success")
    return redirect(url_for("worker.family_page", family_id=family.id, _anchor="household"), 303)
