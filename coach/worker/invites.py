"""Invites: a worker makes a single-use enrolment link (shown with a QR code), lists and revokes them."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..errors import AppError
from ..i18n import N_, _
from ..inputs import checks_own_text
from ..models import Invite
from ..security import role_required
from ..services.people import invites
from ..services.people.qr import qr_svg
from .blueprint import bp
from .contact_page import invite_texts
from .forms import InviteForm


@bp.route("/invites", methods=["GET", "POST"])
@role_required("worker", "admin")
@checks_own_text  # the label's problem shows next to the label
def invite_list():
    """Create an enrolment link for a new family, and see the links already made."""
    form = InviteForm()
    new_invite = new_link = qr = None
    status = 200
    if form.validate_on_submit():
        try:
            new_invite, token = invites.create_invite(current_user, form.days.data, form.label.data or "")
        except AppError as error:
            flash(error.message, "error")
            status = error.status
        else:
            new_link = invites.invite_url(token)
            qr = qr_svg(new_link, title="QR code of the invite link")
            flash(_("Invite link created. Share it with the family; it works once."), "success")
    elif request.method == "POST":
        status = 422
    rows = (Invite.select().where(Invite.worker == current_user.id)
            .order_by(Invite.created_at.desc()).limit(100))
    return render_template("worker/invites.html", form=form, invites=list(rows), new_invite=new_invite,
                           new_link=new_link, qr=qr,
                           **(invite_texts(new_link, new_invite) if new_link else {})), status


@bp.post("/invites/<int:invite_id>/revoke")
@role_required("worker", "admin")
def revoke_invite(invite_id: int):
    """Cancel one of your pending invites."""
    invite = Invite.get_or_none(Invite.id == invite_id, Invite.worker == current_user.id)
    if invite is None:
        raise AppError(404, N_("We couldn't find that invite among yours."))
    try:
        invites.revoke_invite(invite)
    except AppError as error:  # used, expired or already cancelled: say so on the list
        flash(error.message, "error")
    else:
        flash(_("Invite cancelled. That link no longer works."), "success")
    return redirect(url_for("worker.invite_list"))
