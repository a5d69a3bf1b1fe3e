"""``POST /api/household/invites``: a caregiver makes a single-use link for another to join their
household (DESIGN "Reach → Household"); 409 ``household_full`` when it has four already."""
from __future__ import annotations

from flask import Blueprint, jsonify

from ..parent.household_page import make_invite_link
from ..security import role_required

bp = Blueprint("household", __name__)


@bp.post("/household/invites")
@role_required("parent")
def create_household_invite():
    """201 ``{"url", "expires_at"}``: the link is shown once (only its hash is kept)."""
    url, invite = make_invite_link()
    return jsonify(url=url, expires_at=invite.expires_at.isoformat() + "Z"), 201
