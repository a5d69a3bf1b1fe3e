"""The signed-in person's own account: changing the password, for every role."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from ..errors import AppError
from ..i18n import _, _l
from ..security import home_for, known_device_for, role_required
from ..services.people import accounts, throttle

bp = Blueprint("account", __name__)


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Enter your current password.")), Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a new password."))])


@bp.route("/account/password", methods=["GET", "POST"])
@role_required("parent", "worker", "admin")
def change_password():
    """Change your password; every other phone or computer signed in to the account is signed out,
    this one stays signed in. Checking the current password counts towards sign-in throttling."""
    form = PasswordChangeForm()
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        attempt = throttle.begin_attempt(user.email, request.remote_addr or "", known_device_for(user))
        if not attempt.allowed:
            flash(_("Too many attempts. Please try again in %(num)d minutes.", num=attempt.wait_minutes), "error")
            return render_template("auth/password.html", form=form), 429
        try:
            user = accounts.change_password(user, form.current_password.data, form.new_password.data)
        except AppError as error:
            if "current_password" not in (error.fields or {}):
                throttle.attempt_succeeded(attempt)  # the current password was right
            for name, message in (error.fields or {}).items():
                form[name].errors = [message]
            return render_template("auth/password.html", form=form), error.status
        throttle.attempt_succeeded(attempt)
        login_user(user, remember=(user.role == "parent"))  # this session carries the new token
        flash(_("Your password is changed. Anywhere else you were signed in, you'll need to sign in "
                "again."), "success")
        return redirect(url_for(home_for(user)))
    return render_template("auth/password.html", form=form), status
