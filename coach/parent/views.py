"""The parent's pages: home (today's prompt), check-in, journal and settings.

Every page works without JavaScript; the modules in ``static/js`` add offline check-ins,
notifications and live counters on top.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from ..errors import AppError
from ..help.status import status_lines
from ..help.views import LOW_MOOD_DISMISSED
from ..i18n import _, refresh_language
from ..inputs import checks_own_text, parse_int
from ..models import CheckIn, Delivery, utcnow
from ..security import audit, home_for, role_required
from ..services.delivery import subscriptions
from ..services.delivery.sms import sms_problem
from ..services.families import checkins, household, preferences, privacy, upcoming, wellbeing
from ..services.families.checkins import family_for, feelings
from ..services.families.countries import country_name
from ..services.families.phones import display_phone
from ..services.families.streaks import family_streak
from ..services.programme.coaching import programme_place, repair_praise
from .forms import CountryForm, DeleteAccountForm, SettingsForm

bp = Blueprint("parent", __name__)


@bp.get("/")
def home():
    """Parent home: today's prompt (also when no push arrived), its check-in state, the streak."""
    if current_user.is_authenticated and current_user.role != "parent":
        return redirect(url_for(home_for(current_user)))
    return _home()


@role_required("parent")
def _home():
    family = family_for(current_user)
    delivery = checkins.today_delivery(family)
    today = checkins.delivery_view(delivery, family, current_user) if delivery is not None else None
    local_today = checkins.local_today(family)
    return render_template("parent/home.html", family=family, today=today,
                           streak=family_streak(family, current_user),
                           noticed=upcoming.days_noticed(family, current_user),
                           upcoming=upcoming.next_prompt(family), paused=upcoming.paused_until(family),
                           total=CheckIn.select().where(CheckIn.family == family,
                                                        CheckIn.user == current_user.id).count(),
                           also=household.also_checked_in(
                               family, current_user, *household.local_day_bounds(family, local_today)),
                           days_label=preferences.days_label(family.days_of_week),
                           statuses=status_lines(family, current_user, recent_only=True),
                           offer_help=wellbeing.should_offer_help(family, current_user, session.get(LOW_MOOD_DISMISSED)),
                           programme_place=programme_place(family, local_today))


def _form_checkin(form, delivery: Delivery, prompt: dict | None) -> dict:
    """The no-JavaScript first tap as a check-in body (same rules as the API); a prompt that is
    no longer stored has no answers to choose, so its one button says only "tried"."""
    answers = prompt["answers"] if prompt else []
    answer = parse_int(form.get("answer", ""), 0, len(answers) - 1) if answers else None
    if answers and answer is None:
        raise AppError(422, _("Choose the answer closest to your day."),
                       fields={"answer": _("Choose the answer closest to your day.")})
    body = {"id": form.get("id", ""), "delivery_id": delivery.id,
            "client_created_at": utcnow().isoformat()}
    # tried comes from the answer itself (checkins.answer_tried); extras posted with the first tap
    # (an older page, or a browser that kept the form) are saved with it, as the API allows.
    return body | _form_extras(form) | ({"answer": answer} if answer is not None else {"tried": "yes"})


def _form_extras(form) -> dict:
    """The no-JavaScript "add more" form as a PATCH body (same rules as the API): what was filled
    in, so a form with nothing chosen is the API's empty PATCH (422, "Nothing to add yet")."""
    body: dict = {}
    if form.get("felt"):
        # A felt value that isn't 1-5 goes on as sent, so the check names it rather than dropping it.
        body["felt"] = parse_int(form["felt"], 1, 5) or form["felt"]
    if (form.get("note") or "").strip():
        body["note"] = form["note"]
    if body.get("note") or form.get("shared_with_worker") == "on":
        body["shared_with_worker"] = form.get("shared_with_worker") == "on"
    if form.get("wants_support") == "on":
        body["wants_support"] = True
    return body


def _saved_checkin(delivery: Delivery, value: str) -> CheckIn | None:
    """The check-in named in ``?saved=`` after a form POST, if it belongs to this delivery."""
    try:
        checkin_id = uuid.UUID(value)
    except ValueError:
        return None
    return CheckIn.get_or_none(CheckIn.id == checkin_id, CheckIn.delivery == delivery,
                               CheckIn.user == current_user.id)


@bp.route("/checkin/<int:delivery_id>", methods=["GET", "POST"])
@role_required("parent")
@checks_own_text  # the note's problems show next to the note
def checkin(delivery_id: int):
    """Check in on one of your prompts: answer, how connected you felt, a note, support.

    JavaScript posts JSON to ``/api/checkins`` (or the offline outbox); this form POST is the
    no-JavaScript fallback and follows the same rules."""
    family = family_for(current_user)
    delivery = checkins.own_delivery(family, delivery_id)
    if delivery.kind == "reflection":  # the week's look back has its own page
        return redirect(url_for(".reflection", reflection_id=delivery.id))
    prompt = checkins.prompt_view(delivery, family, current_user.language)
    errors: dict[str, str] = {}
    more_errors: dict[str, str] = {}
    saved_id = request.args.get("saved", "")
    status = 200
    if request.method == "POST" and "checkin_id" in request.form:  # the "add more" step
        saved_id = request.form.get("checkin_id", "")
        try:
            changes = checkins.parse_patch(_form_extras(request.form))
            checkins.update_checkin(family, saved_id, changes, current_user)
            flash(_("Added to your check-in."), "success")
            return redirect(url_for(".checkin", delivery_id=delivery.id, saved=saved_id, more="1"))
        except AppError as error:
            more_errors, status = error.fields or {}, error.status
            more_errors["form"] = (_("Nothing to add yet: choose a feeling, write a note or tick a box, "
                                     "or tap Done.") if "body" in more_errors else error.message)
    elif request.method == "POST":
        try:
            data = checkins.parse_checkin(_form_checkin(request.form, delivery, prompt))
            saved, _created = checkins.record_checkin(family, data, current_user)
            return redirect(url_for(".checkin", delivery_id=delivery.id, saved=str(saved.id)))
        except AppError as error:
            errors, status = error.fields or {"form": error.message}, error.status
    elif request.headers.get("Purpose") != "prefetch" and delivery.opened_at is None:
        checkins.mark_opened(delivery)  # the first open only (home caches this page for offline use)
    saved = _saved_checkin(delivery, saved_id)
    earlier = checkins.has_checkin(delivery, current_user)
    return render_template("parent/checkin.html", family=family, delivery=delivery, prompt=prompt,
                           feelings=feelings(), errors=errors, more_errors=more_errors,
                           form_data=request.form if request.method == "POST" else {}, saved=saved,
                           upcoming=upcoming.next_prompt(family, after_today=True),
                           earlier=earlier, new_id=str(uuid.uuid4()),
                           praise=repair_praise(delivery.prompt, "yes", family.child_name),
                           resources=checkins.support_resources(family.country),
                           statuses=status_lines(family, current_user, recent_only=True)), status


def _pause_asked(family, form) -> str | None:
    """The pause a settings POST asks for: "Resume" clears it, "Pause for a week" (or two) counts
    from today, else the date typed (the service checks it)."""
    if "resume" in request.form:
        return None
    if "pause_for" in request.form:
        days = parse_int(request.form["pause_for"], 1, 28)
        if days is None:
            return request.form["pause_for"]  # not a date either: the field error says what to do
        return (checkins.local_today(family) + timedelta(days=days)).isoformat()
    return form.paused_until.data or None


@bp.route("/settings", methods=["GET", "POST"])
@role_required("parent")
@checks_own_text
def settings():
    """When prompts come, a pause, the note-sharing default, devices, and your data."""
    family = family_for(current_user)
    form = SettingsForm()
    status = 200
    if form.validate_on_submit():
        changes = {"window_start": form.window_start.data, "window_end": form.window_end.data,
                   "timezone": (form.timezone.data or "").strip(), "days_of_week": form.days_of_week(),
                   "paused_until": _pause_asked(family, form),
                   "share_notes_default": bool(form.share_notes_default.data),
                   "discreet": bool(form.discreet.data), "phone": form.phone.data or ""}
        if "language" in request.form:
            changes["language"] = form.language.data or ""
        if "country" in request.form:  # chosen on /settings/country; taken here too, as the API does
            changes["country"] = form.country.data or ""
        if sms_problem() is None and "channel" in request.form:  # on the page only when texts can be sent
            changes |= {"channel": form.channel.data, "sms_consent": bool(form.sms_consent.data)}
        try:
            preferences.update_settings(family, changes, user=current_user._get_current_object())
            household.set_share_presence(current_user, bool(form.share_presence.data))
        except AppError as error:
            for name, message in (error.fields or {}).items():
                form_name = "days" if name == "days_of_week" else name
                if form_name in form:
                    form[form_name].errors = [message]
            status = error.status
        else:
            audit("settings_changed", "family", family.id)
            refresh_language()  # a new language shows at once, this sentence included
            flash(_("Your settings are saved."), "success")
            return redirect(url_for(".settings"))
    elif request.method == "POST" and form.csrf_token.errors:
        status = 400
        flash(_("The page's security token expired. Please try again."), "error")
    elif request.method == "POST":
        status = 422  # a field error (shown next to its field)
    else:
        form.window_start.data, form.window_end.data = family.window_start, family.window_end
        form.timezone.data = family.timezone
        form.fill_days(family.days_of_week)
        form.paused_until.data = family.paused_until.isoformat() if family.paused_until else ""
        form.share_notes_default.data = family.share_notes_default
        form.discreet.data = family.discreet
        form.share_presence.data = household.shares_presence(current_user)
        form.phone.data = display_phone(current_user.phone, family.country)
        form.channel.data = current_user.channel
        form.language.data = current_user.language
    return render_template("parent/settings.html", family=family, form=form,
                           texts_available=sms_problem() is None, sms_opt_in_at=current_user.sms_opt_in_at,
                           devices=subscriptions.list_devices(current_user),
                           people=household.caregivers(family),
                           today=checkins.local_today(family).isoformat(),
                           days_label=preferences.days_label(family.days_of_week),
                           country=country_name(family.country) if family.country else ""), status


@bp.route("/settings/country", methods=["GET", "POST"])
@role_required("parent")
@checks_own_text
def choose_country():
    """Your country (for the help page's numbers and reading phone numbers), from the whole list."""
    family = family_for(current_user)
    form = CountryForm()
    status = 200
    if form.validate_on_submit():
        try:
            preferences.update_settings(family, {"country": form.country.data or ""})
        except AppError as error:
            form.country.errors = [(error.fields or {}).get("country", error.message)]
            status = error.status
        else:
            audit("settings_changed", "family", family.id)
            flash(_("Your country is saved.") if form.country.data else _("Your country is cleared."), "success")
            return redirect(url_for(".settings") + "#care-title")
    elif request.method == "POST":
        status = 400 if form.csrf_token.errors else 422
        if form.csrf_token.errors:
            flash(_("The page's security token expired. Please try again."), "error")
    else:
        form.country.data = family.country
    return render_template("parent/country.html", form=form), status


@bp.post("/settings/devices/<int:device_id>/remove")
@role_required("parent")
def remove_device(device_id: int):
    """Stop sending prompts to one of your devices."""
    subscriptions.remove_device(current_user, device_id)
    flash(_("That device won't get prompts any more."), "success")
    return redirect(url_for(".settings"))


@bp.route("/settings/delete", methods=["GET", "POST"])
@role_required("parent")
@checks_own_text
def delete_account():
    """Delete the account and your own data (and the family's with its last caregiver), after
    typing the email or "delete"."""
    form = DeleteAccountForm()
    status = 200
    others = [person.label for person in household.caregivers(family_for(current_user))
              if person.id != current_user.id]
    if form.validate_on_submit():
        if privacy.confirmation_matches(current_user, form.confirm.data):
            user = current_user._get_current_object()
            privacy.delete_account(user)
            logout_user()
            flash(_("Your account and your own check-ins have been deleted. Take care.") if others else
                  _("Your account and your family's data have been deleted. Take care."), "success")
            return redirect(url_for("auth.login"))
        form.confirm.errors = [_("Type your email address or the word delete to confirm.")]
        status = 422
    elif request.method == "POST":
        status = 422  # the confirmation had a field error
    return render_template("parent/delete.html", form=form, others=others), status


# The journal's and onboarding's pages live in their own modules; importing them adds their routes.
from . import household_page, journal, onboarding, reflection, timezone  # noqa: E402,F401
