"""``/settings/timezone``: the time zone from a searchable list of cities (a ``<datalist>``: every
browser filters it as you type; without one it is a plain text field), the phone's own zone offered
by ``settings.js``. Its own page, so the list costs the settings page nothing."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import StringField

from ..errors import AppError
from ..i18n import _
from ..inputs import CheckedForm, checks_own_text
from ..security import audit, role_required
from ..services.families import preferences
from ..services.families.checkins import family_for
from ..services.families.timezones import zone_choices, zone_label
from .views import bp


class TimezoneForm(CheckedForm):
    timezone = StringField("Your time zone")


@bp.route("/settings/timezone", methods=["GET", "POST"])
@role_required("parent")
@checks_own_text
def choose_timezone():
    """Type a city ("London") or pick one from the list; a name we don't know is a field error."""
    form, family = TimezoneForm(), family_for(current_user)
    if request.method == "GET":
        form.timezone.data = zone_label(family.timezone)
    status = _save(family, form) if request.method == "POST" else 200
    if status == 303:
        return redirect(url_for(".settings") + "#when-title", 303)
    return render_template("parent/timezone.html", form=form, current=zone_label(family.timezone),
                           zone=family.timezone, groups=zone_choices()), status


def _save(family, form: TimezoneForm) -> int:
    """Save the posted zone: 303 when saved, else the status of the page showing the problem."""
    if form.csrf_token.errors or not form.validate():
        if form.csrf_token.errors:
            flash(_("The page's security token expired. Please try again."), "error")
        return 400 if form.csrf_token.errors else 422
    try:
        changed = preferences.update_settings(family, {"timezone": form.timezone.data or ""})
    except AppError as error:
        form.timezone.errors = [(error.fields or {}).get("timezone", error.message)]
        return error.status
    audit("settings_changed", "family", family.id)
    flash(_("Your time zone is %(zone)s.", zone=zone_label(changed.timezone)), "success")
    return 303
