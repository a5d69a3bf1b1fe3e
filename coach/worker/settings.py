"""A worker's (or admin's) own settings: the time zone the worker pages show times in."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..errors import AppError
from ..i18n import _
from ..inputs import checks_own_text
from ..security import audit, role_required
from ..services.people.accounts import set_language
from ..services.people.staff_time import set_staff_timezone, zone_names
from .blueprint import bp
from .forms import StaffSettingsForm


@bp.route("/settings", methods=["GET", "POST"])
@role_required("worker", "admin")
@checks_own_text
def staff_settings():
    """Choose the time zone your pages show times in (empty: each family's own)."""
    form = StaffSettingsForm(timezone=current_user.timezone, language=current_user.language)
    status = 200
    if form.validate_on_submit():
        try:
            if "language" in request.form:
                set_language(current_user, form.language.data)
            set_staff_timezone(current_user, form.timezone.data or "")
        except AppError as error:
            for name, message in (error.fields or {"timezone": error.message}).items():
                form[name].errors = [message]
            status = error.status
        else:
            audit("staff_timezone_changed", "user", current_user.id)
            flash(_("Saved. Times on your pages now follow %(zone)s.", zone=current_user.timezone)
                  if current_user.timezone else _("Saved. Times on your pages now follow each family's own time zone."),
                  "success")
            return redirect(url_for("worker.staff_settings"))
    elif request.method == "POST":
        status = 400 if form.csrf_token.errors else 422
    return render_template("worker/settings.html", form=form, zones=zone_names()), status
