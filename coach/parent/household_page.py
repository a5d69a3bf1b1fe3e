"""The household page (``/settings/household``): who is in it, and a link to invite another
caregiver, shown with copy, share and a QR code like a worker's invites (DESIGN "Reach → Household").
"""
from __future__ import annotations

from flask import flash, render_template, request
from flask_login import current_user

from ..errors import AppError
from ..i18n import _
from ..inputs import CheckedForm
from ..models import MAX_CAREGIVERS, HouseholdInvite
from ..security import audit, role_required
from ..services.families import household
from ..services.families.checkins import family_for
from ..services.people.invites import invite_url
from ..services.people.qr import qr_svg
from .views import bp


def make_invite_link() -> tuple[str, HouseholdInvite]:
    """A new household invite for the signed-in caregiver's family: its link and the row (audited;
    the page and ``POST /api/household/invites`` both make links here)."""
    family = family_for(current_user)
    invite, token = household.create_invite(family, current_user)
    audit("household_invite_created", "family", family.id)
    return invite_url(token), invite


@bp.route("/settings/household", methods=["GET", "POST"])
@role_required("parent")
def household_page():
    """Your household: its caregivers, and "Invite another caregiver" (a POST makes the link)."""
    family = family_for(current_user)
    form = CheckedForm()
    link = invite = qr = None
    status = 200
    if form.validate_on_submit():
        try:
            link, invite = make_invite_link()
        except AppError as error:
            flash(error.message, "error")
            status = error.status
        else:
            qr = qr_svg(link, title=_("QR code of the invite link"))
    elif request.method == "POST":
        status = 400
        flash(_("The page's security token expired. Please try again."), "error")
    people = household.caregivers(family)
    share_text = _("%(name)s invites you to share Attune for %(child)s: one small moment of connection each day.",
                   name=current_user.label, child=family.child_name or _("your child"))
    return render_template("parent/household.html", form=form, family=family, people=people,
                           full=len(people) >= MAX_CAREGIVERS, max_caregivers=MAX_CAREGIVERS,
                           link=link, invite=invite, qr=qr, share_text=share_text), status
