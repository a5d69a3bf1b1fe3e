"""One-time password-reset links: ``/reset/<token>`` lets a person choose a new password.

An admin makes the link (``/admin/users/<id>/reset``) and passes it on; it works once, for 48 hours.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from ..errors import AppError, error_response
from ..services.people import staff as people
from ..services.people.accounts import password_problem

bp = Blueprint("reset", __name__)


class ResetForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired("Choose a new password.")])
    confirm = PasswordField("The same password again", validators=[
        DataRequired("Type the new password again."),
        EqualTo("password", "The two passwords don't match.")])

    def validate_password(self, field):
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


@bp.route("/reset/<reset_token>", methods=["GET", "POST"])
def reset_password(reset_token: str):
    """Choose a new password with a one-time link; then sign in with it."""
    try:
        reset = people.find_usable_reset(reset_token)
    except AppError as error:
        return error_response(error)
    form = ResetForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("auth/reset.html", form=form, account=reset.user), status
    try:
        people.use_reset(reset_token, form.password.data)
    except AppError as error:
        if error.status != 422:
            return error_response(error)
        form.password.errors = [error.message]
        return render_template("auth/reset.html", form=form, account=reset.user), 422
    flash("Your new password is set. Sign in with it now.", "success")
    return redirect(url_for("auth.login"))
