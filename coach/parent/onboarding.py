"""Onboarding straight after joining: ``/welcome`` (reminders, or the Add to Home Screen steps on an
iPhone), ``/welcome/time`` (the time window, with what each choice means), ``/welcome/done``.

Every step can be skipped, and each works without JavaScript (only turning reminders on needs it:
the browser's permission prompt and push subscription are JavaScript APIs).
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice

from ..errors import AppError
from ..i18n import _, _l
from ..inputs import CheckedForm
from ..security import audit, role_required
from ..services.families import preferences
from ..services.families.checkins import family_for
from ..services.families.timezones import zone_label
from .views import bp

#: The time windows offered at onboarding: (key, start, end, name, what it means).
WINDOWS = (
    ("morning", "07:00", "09:00", _l("Mornings, 7 to 9"),
     _l("A prompt to carry through the day: you try it when a moment comes up.")),
    ("midday", "12:00", "14:00", _l("Around lunch, 12 to 2"),
     _l("Often a quieter time, around a nap or a meal together.")),
    ("evening", "18:00", "20:00", _l("Evenings, 6 to 8"),
     _l("Around bath and bedtime, when many parents have a few minutes with their child.")),
)


class TimeForm(CheckedForm):
    window = RadioField(_l("When would you like your daily prompt?"), validate_choice=False,
                        choices=[SelectChoice(key, name) for key, _s, _e, name, _m in WINDOWS])


@bp.get("/welcome")
@role_required("parent")
def onboarding():
    """Step 1 of 3: reminders on this phone (or how to add Attune to an iPhone's Home Screen)."""
    return render_template("parent/onboarding.html", family=family_for(current_user), step=1)


@bp.route("/welcome/time", methods=["GET", "POST"])
@role_required("parent")
def onboarding_time():
    """Step 2 of 3: when the daily prompt comes, each choice explained; keeping yours is a choice."""
    family = family_for(current_user)
    form = TimeForm()
    status = 200
    if request.method == "POST":
        chosen = {key: (start, end) for key, start, end, _n, _m in WINDOWS}
        if form.validate() and form.window.data == "keep":
            return redirect(url_for(".onboarding_done"))
        if form.validate() and form.window.data in chosen:
            start, end = chosen[form.window.data]
            try:
                preferences.update_settings(family, {"window_start": start, "window_end": end})
            except AppError as error:  # not expected for these windows; shown, never a 500
                flash(error.message, "error")
                status = error.status
            else:
                audit("settings_changed", "family", family.id)
                return redirect(url_for(".onboarding_done"))
        elif form.csrf_token.errors:
            status = 400
            flash(_("The page's security token expired. Please try again."), "error")
        else:
            form.window.errors = [_("Choose one of the times, or keep the one you chose when joining.")]
            status = 422
    return render_template("parent/onboarding_time.html", family=family, form=form, windows=WINDOWS,
                           step=2, zone=zone_label(family.timezone)), status


@bp.get("/welcome/done")
@role_required("parent")
def onboarding_done():
    """Step 3 of 3: you're set; what happens next."""
    family = family_for(current_user)
    return render_template("parent/onboarding_done.html", family=family, step=3,
                           every_day=family.days_of_week == preferences.DAILY,
                           days=preferences.days_label(family.days_of_week))
