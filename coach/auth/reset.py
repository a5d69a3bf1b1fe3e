"""Password resets: ``/forgot`` emails a link; ``/reset/<token>`` lets a person choose a new password.

An admin makes a link (``/admin/users/<id>/reset``) and passes it on, or the person asks for one by
email on ``/forgot`` (the same answer whether or not the account exists). A link it works once, for 48 hours,
or for 30 minutes after it is first opened. Opening it moves the token into the session and goes on
to ``/reset``, so the token stays out of access logs and browser history.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..errors import AppError, error_response
from ..i18n import _, _l, ngettext
from ..services.people import staff as people
from ..services.people.accounts import EMAIL_RE, password_problem
from ..services.people.forgot import request_reset
from .links import open_link, token_page, with_opened_link

bp = Blueprint("reset", __name__)

RESET_SESSION_KEY = "reset_token"


class ResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a new password."))])
    confirm = PasswordField(_l("The same password again"), validators=[
        DataRequired(_l("Type the new password again.")),
        EqualTo("password", _l("The two passwords don't match."))])

    def validate_password(self, field):
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


class ForgotForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter the email address you sign in with.")),
                                            Length(max=254, message=_l("That email address is too long."))])

    def validate_email(self, field):
        if not EMAIL_RE.match((field.data or "").strip()):
            raise ValidationError(_("Enter an email address like name@example.com."))


@bp.route("/forgot", methods=["GET", "POST"])
def forgot():
    """Ask for a reset link by email. The answer is the same whether or not the account exists;
    asking too often (per address typed, per network address) waits, like signing in."""
    form = ForgotForm()
    if form.validate_on_submit():
        wait = request_reset(form.email.data, request.remote_addr or "")
        if wait:
            flash(ngettext("Too many reset requests. Please try again in %(num)d minute.",
                           "Too many reset requests. Please try again in %(num)d minutes.", wait),
                  "error")
            return render_template("auth/forgot.html", form=form), 429
        return render_template("auth/forgot.html", form=form, sent_to=form.email.data.strip())
    status = 200
    if request.method == "POST":
        status = 400 if form.csrf_token.errors else 422
        if form.csrf_token.errors:
            flash(_("The page's security token expired. Please try again."), "error")
    return render_template("auth/forgot.html", form=form), status


@bp.get("/reset/<reset_token>")
@token_page
def open_reset(reset_token: str):
    """A reset link: from now on it works for 30 minutes at most; the browser goes on to ``/reset``."""
    return open_link(reset_token, people.open_reset, RESET_SESSION_KEY, "reset.reset_password")


@bp.route("/reset", methods=["GET", "POST"])
@token_page
def reset_password():
    """Choose a new password with the reset link opened in this browser; then sign in with it."""
    not_opened = AppError(404, _("Open the reset link you were given again to choose a new password."),
                          code="reset_not_opened")
    return with_opened_link(RESET_SESSION_KEY, not_opened, _reset)


@bp.post("/reset/<reset_token>")
@token_page
def reset_with_token(reset_token: str):
    """The new password posted to the link itself (older pages and outside tools)."""
    return _reset(reset_token)


def _reset(token: str):
    try:
        reset = people.find_usable_reset(token)
    except AppError as error:
        return error_response(error)
    form = ResetForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("auth/reset.html", form=form, account=reset.user), status
    try:
        people.use_reset(token, form.password.data)
    except AppError as error:
        if error.status != 422:
            return error_response(error)
        form.password.errors = [error.message]
        return render_template("auth/reset.html", form=form, account=reset.user), 422
    session.pop(RESET_SESSION_KEY, None)
    flash(_("Your new password is set. Sign in with it now."), "success")
    return redirect(url_for("auth.login"))
