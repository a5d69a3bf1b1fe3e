"""Sign in, sign out, and enrolment from an invite link."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..errors import AppError, error_response, show_on_form
from ..i18n import _, browser_language, in_language, ngettext
from ..models import MAX_CAREGIVERS, User
from ..security import audit, home_for, known_device_for, remember_device, safe_next
from ..services.delivery.sms import sms_problem
from ..services.families import household
from ..services.people import accounts, invites, throttle
from .forms import CaregiverJoinForm, JoinForm, LoginForm
from .links import open_link, token_page, with_opened_link

bp = Blueprint("auth", __name__)

#: Where an opened invite link keeps its token, so the page's own URL carries none.
INVITE_SESSION_KEY = "invite_token"


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password; parents stay signed in (remember me) on their phone.

    Throttled per address and per account (``coach.services.people.throttle``); a browser that
    signed in to the account before is let through, so an attack can't lock the owner out."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for(home_for(current_user)))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        device = known_device_for(User.by_email(form.email.data))
        attempt = throttle.begin_attempt(form.email.data, request.remote_addr or "", device)
        if not attempt.allowed:
            wait = attempt.wait_minutes
            flash(ngettext("Too many sign-in attempts. Please try again in %(num)d minute.",
                           "Too many sign-in attempts. Please try again in %(num)d minutes.", wait),
                  "error")
            return render_template("auth/login.html", form=form), 429
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            flash(_("That email and password don't match an active account."), "error")
            status = 401
        else:
            throttle.attempt_succeeded(attempt)
            login_user(user, remember=(user.role == "parent"))
            response = redirect(safe_next(request.args.get("next")) or url_for(home_for(user)))
            remember_device(response, user)
            return response
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Sign out everywhere (a POST with the CSRF token, so another site can't sign you out): a new
    session token makes every copy of this account's session and remember-me cookies worthless."""
    if current_user.is_authenticated:
        accounts.end_sessions(current_user)
    logout_user()
    session.pop(INVITE_SESSION_KEY, None)
    flash(_("You're signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/join/<token>")
@token_page
def open_invite(token: str):
    """An invite link: its token moves into the session and the browser goes on to ``/join``, so the
    token stays out of access logs, history and Referer headers from here on."""
    return open_link(token, _usable, INVITE_SESSION_KEY, "auth.join")


def _usable(token: str) -> object:
    """A worker's invite to enrol a family, or a caregiver's invite to join a household; AppError
    404 / 410 with a sentence to show otherwise."""
    if household.find_invite(token) is not None:
        return household.usable_invite(token)
    return invites.find_usable_invite(token)


@bp.route("/join", methods=["GET", "POST"])
@token_page
def join():
    """Enrol a parent from the invite opened in this browser; on success they are signed in and go on
    to onboarding (``/welcome``)."""
    not_opened = AppError(404, _("Open the invite link from your family worker again to join."),
                          code="invite_not_opened")
    return with_opened_link(INVITE_SESSION_KEY, not_opened, _enrol)


@bp.post("/join/<token>")
@token_page
def join_with_token(token: str):
    """The enrolment form posted to the invite link itself (older pages and outside tools)."""
    return _enrol(token)


def _enrol(token: str):
    """The enrolment form for ``token``'s invite: show it, or create the family and sign in."""
    if household.find_invite(token) is not None:
        return _join_household(token)
    try:
        invite = invites.find_usable_invite(token)
    except AppError as error:
        return error_response(error)
    if current_user.is_authenticated and request.method == "GET" and current_user.role != "parent":
        flash(_("You're signed in as staff. Sign out first to try this invite as a parent."), "info")
    form = JoinForm()
    if request.method == "GET":
        form.language.data = browser_language()  # the browser's language, changeable on the form
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("auth/join.html", form=form, invite=invite,
                               texts_available=sms_problem() is None), status
    enrolment = accounts.Enrolment(**{name: form[name].data for name in (
        "display_name", "email", "password", "child_name", "child_birth_month", "timezone",
        "window_start", "window_end", "phone", "language")})
    if sms_problem() is None and "channel" in request.form:  # on the page only when texts can be sent
        enrolment.channel, enrolment.sms_consent = form.channel.data, bool(form.sms_consent.data)
    try:
        family = accounts.enrol_family(enrolment, invite.worker, lambda fam: invites.claim(invite, fam))
    except AppError as error:
        if error.status == 410:
            return error_response(error)
        show_on_form(form, error)
        return render_template("auth/join.html", form=form, invite=invite,
                               texts_available=sms_problem() is None), error.status
    session.pop(INVITE_SESSION_KEY, None)
    login_user(family.user, remember=True)  # the one who just enrolled: the family's first caregiver
    with in_language(family.user.language):  # the rest of the way is in the language they chose
        flash(_("Welcome, %(name)s. You're in. Two quick steps and you're set.",
                name=family.display_name), "success")
    response = redirect(url_for("parent.onboarding"))  # reminders, then the time window, then done
    remember_device(response, family.user)
    return response


def _join_household(token: str):
    """A caregiver joining a household: their own name, email, password and language; on success
    they are signed in on home (the family's schedule is set already)."""
    try:
        invite = household.usable_invite(token)
    except AppError as error:
        return error_response(error)
    form = CaregiverJoinForm()
    people = household.caregivers(invite.family_id)
    if len(people) >= MAX_CAREGIVERS:
        return error_response(AppError(409, household.full_message(), code="household_full"))
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("auth/join_household.html", form=form, invite=invite, people=people), status
    joining = household.Joining(**{name: form[name].data for name in ("display_name", "email", "password",
                                                                       "language")})
    try:
        user = household.join(invite, joining)
    except AppError as error:
        if error.status in (409, 410):
            return error_response(error)
        show_on_form(form, error)
        return render_template("auth/join_household.html", form=form, invite=invite, people=people), error.status
    session.pop(INVITE_SESSION_KEY, None)
    audit("caregiver_joined", "family", invite.family_id, actor=user)
    login_user(user, remember=True)
    flash(f"Welcome, {user.label}. You're in: today's idea for {invite.family.child_label} is below.", "success")
    response = redirect(url_for("parent.home"))
    remember_device(response, user)
    return response
