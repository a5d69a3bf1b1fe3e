"""The family worker's pages: caseload and invites (admins see every worker's families)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from peewee import fn
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..errors import AppError
from ..models import CheckIn, Family, Invite, User
from ..security import role_required
from ..services import invites

bp = Blueprint("worker", __name__, url_prefix="/worker")


class InviteForm(FlaskForm):
    label = StringField("Who is this for? (only you see this)", validators=[
        Optional(), Length(max=80, message="Use at most 80 characters.")])
    days = IntegerField("Link works for (days)", default=14, validators=[
        DataRequired("Choose how many days the link works."),
        NumberRange(min=1, max=90, message="Choose 1 to 90 days.")])


def caseload_query(user: User):
    """Families the user may see: their own caseload, or everyone's for an admin."""
    query = Family.select(Family, User).join(User, on=(Family.user == User.id))
    if user.role != "admin":
        query = query.where(Family.worker == user.id)
    return query


@bp.get("/")
@role_required("worker", "admin")
def caseload():
    """The caseload: one row per family with when they last checked in."""
    families = list(caseload_query(current_user).order_by(Family.display_name))
    stats = {
        family_id: (last_at, count)
        for family_id, last_at, count in CheckIn.select(
            CheckIn.family, fn.MAX(CheckIn.received_at), fn.COUNT(CheckIn.id))
        .where(CheckIn.family.in_([f.id for f in families]))
        .group_by(CheckIn.family).tuples()
    } if families else {}
    for family in families:
        family.last_at, family.count = stats.get(family.id, (None, 0))
    pending = (Invite.select().where(Invite.worker == current_user.id, Invite.used_at.is_null(),
                                     Invite.revoked_at.is_null()).count())
    return render_template("worker/caseload.html", families=families,
                           pending_invites=pending)


@bp.route("/invites", methods=["GET", "POST"])
@role_required("worker", "admin")
def invite_list():
    """Create an enrolment link for a new family, and see the links already made."""
    form = InviteForm()
    new_link = None
    status = 200
    if form.validate_on_submit():
        try:
            _invite, token = invites.create_invite(current_user, form.days.data, form.label.data or "")
        except AppError as error:
            flash(error.message, "error")
            status = error.status
        else:
            new_link = invites.invite_url(token)
            flash("Invite link created. Share it with the family; it works once.", "success")
    elif request.method == "POST":
        status = 422
    rows = (Invite.select().where(Invite.worker == current_user.id)
            .order_by(Invite.created_at.desc()).limit(100))
    return render_template("worker/invites.html", form=form, invites=list(rows),
                           new_link=new_link), status


@bp.post("/invites/<int:invite_id>/revoke")
@role_required("worker", "admin")
def revoke_invite(invite_id: int):
    """Cancel one of your pending invites."""
    invite = Invite.get_or_none(Invite.id == invite_id, Invite.worker == current_user.id)
    if invite is None:
        raise AppError(404)
    invites.revoke_invite(invite)
    flash("Invite cancelled. That link no longer works.", "success")
    return redirect(url_for("worker.invite_list"))
