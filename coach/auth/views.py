"""Sign in, sign out, and enrolment from an invite link."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from ..errors import AppError, error_response
from ..security import (
    clear_login_failures,
    home_for,
    login_blocked_for,
    record_login_failure,
    safe_next,
)
from ..services.people import accounts, invites
from .forms import JoinForm, LoginForm

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password; parents stay signed in (remember me) on their phone."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for(home_for(current_user)))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        ip = request.remote_addr or ""
        wait = login_blocked_for(form.email.data, ip)
        if wait:
            flash(f"Too many sign-in attempts. Please try again in {wait} minute{'s' if wait != 1 else ''}.",
                  "error")
            return render_template("auth/login.html", form=form), 429
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            record_login_failure(form.email.data, ip)
            flash("That email and password don't match an active account.", "error")
            status = 401
        else:
            clear_login_failures(user.email)
            login_user(user, remember=(user.role == "parent"))
            return redirect(safe_next(request.args.get("next")) or url_for(home_for(user)))
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Sign out (a POST with the CSRF token, so another site can't sign you out)."""
    logout_user()
    flash("You're signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str):
    """Enrol a parent from a worker's invite in one screen; on success they are signed in at `/`."""
    try:
        invite = invites.find_usable_invite(token)
    except AppError as error:
        return error_response(error)
    if current_user.is_authenticated and request.method == "GET" and current_user.role != "parent":
        flash("You're signed in as staff. Sign out first to try this invite as a parent.", "info")
    form = JoinForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("auth/join.html", form=form, invite=invite), status
    enrolment = accounts.Enrolment(**{name: form[name].data for name in (
        "display_name", "email", "password", "child_name", "child_birth_month", "timezone",
        "window_start", "window_end")})
    try:
        family = accounts.enrol_family(enrolment, invite.worker, lambda fam: invites.claim(invite, fam))
    except AppError as error:
        if error.status == 410:
            return error_response(error)
        for name, message in (error.fields or {}).items():
            if name in form:
                form[name].errors = [message]
        if not error.fields:
            flash(error.message, "error")
        return render_template("auth/join.html", form=form, invite=invite), error.status
    login_user(family.user, remember=True)
    flash(f"Welcome, {family.display_name}. You're all set.", "success")
    return redirect(url_for("parent.home"))

