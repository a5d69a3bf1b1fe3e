"""Today's prompt, check-ins, and the notification's ``opened`` and one-tap ``ack``.

``ack`` needs no session or CSRF token: the per-delivery HMAC ``ack_token`` proves the request
comes from our notification. ``opened`` accepts either that token (from the service worker) or a
signed-in parent's session with the CSRF header (from a page).
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user

from ..errors import AppError
from ..i18n import N_
from ..inputs import parse_int, request_json
from ..models import Delivery
from ..security import access_denial, csrf, role_required
from ..services.delivery.ack import verify_ack_token
from ..services.delivery.snooze import snooze_delivery
from ..services.families import checkins
from .common import json_body, my_family

bp = Blueprint("checkins", __name__)

#: The phone's outbox names the account each check-in was made under (static/js/outbox.js).
OUTBOX_ACCOUNT_HEADER = "X-Attune-Account"


@bp.get("/today")
@role_required("parent")
def today():
    """Today's delivery for the family's local date, with its prompt filled in, or null."""
    family = my_family()
    delivery = checkins.today_delivery(family)
    return jsonify(delivery=checkins.delivery_view(delivery, family, current_user) if delivery else None)


@bp.post("/checkins")
@role_required("parent")
def create_checkin():
    """Store a check-in (DESIGN.md body, plus optional ``answer``): 201 new, 200 when that id exists.

    A check-in from the outbox made under another account (a shared phone) is refused with 409
    ``wrong_account``, which the outbox reads as "keep it for its owner", never as "drop it".
    """
    owner = request.headers.get(OUTBOX_ACCOUNT_HEADER)
    if owner is not None and owner != str(current_user.id):
        raise AppError(409, N_("This check-in was made by another account on this phone. "
                       "It will be sent when that account signs in."), code="wrong_account")
    data = checkins.parse_checkin(json_body())
    checkin, created = checkins.record_checkin(my_family(), data, current_user)
    body = {"checkin": checkins.checkin_view(checkin)}
    if checkin.wants_support:
        body["support_resources"] = checkins.support_resources(checkin.family.country)
    return jsonify(body), 201 if created else 200


@bp.patch("/checkins/<checkin_id>")
@role_required("parent")
def update_checkin(checkin_id: str):
    """The "add more" step after a one-tap check-in: any of ``felt``, ``note``,
    ``shared_with_worker``, ``wants_support`` on your own check-in, within 48 h → 200.

    404 for an id that isn't yours, 409 after 48 h, 422 for bad or unknown fields (nothing written).
    """
    changes = checkins.parse_patch(json_body())
    checkin = checkins.update_checkin(my_family(), checkin_id, changes, current_user)
    body = {"checkin": checkins.checkin_view(checkin)}
    if checkin.wants_support:
        body["support_resources"] = checkins.support_resources(checkin.family.country)
    return jsonify(body)


@bp.get("/checkins")
@role_required("parent")
def list_checkins():
    """Your own latest check-ins in the family (never another caregiver's), newest first (``?limit=`` 1–200, default 50)."""
    limit = parse_int(request.args.get("limit", "50"), 1, 200)
    if limit is None:
        raise AppError(422, N_("Ask for between 1 and 200 check-ins."), fields={"limit": N_("Use 1 to 200.")})
    rows = checkins.recent_checkins(my_family(), current_user, limit)
    return jsonify(checkins=[checkins.checkin_view(c) for c in rows])


def _ack_token() -> str | None:
    """The body's ``ack_token``; a page's form post (no JSON) carries none and uses the session."""
    body = request_json(optional=True) if request.is_json else {}
    return _token_in(body)


def _token_in(body: dict) -> str | None:
    """A plausible ack token (short ASCII text), or None: anything else can't be one of ours."""
    token = body.get("ack_token")
    if not isinstance(token, str) or not token:
        return None
    if not token.isascii() or len(token) > 200:  # compare_digest refuses non-ASCII text
        raise AppError(403, N_("That link isn't valid."), code="bad_ack_token")
    return token


@bp.post("/deliveries/<int:delivery_id>/opened")
@csrf.exempt  # checked below unless the ack token proves the request
def delivery_opened(delivery_id: int):
    """Record the first time a prompt was opened: with ``{"ack_token"}`` or a parent's session."""
    token = _ack_token()
    if token is not None:
        if not verify_ack_token(delivery_id, token):
            raise AppError(403, N_("That link isn't valid."), code="bad_ack_token")
        delivery = Delivery.get_or_none(Delivery.id == delivery_id)
        if delivery is None:
            raise AppError(404, N_("That prompt is no longer stored."), code="delivery_not_found")
    else:
        denial = access_denial(("parent",))
        if denial is not None:
            raise denial
        csrf.protect()
        delivery = checkins.own_delivery(my_family(), delivery_id)
    first = checkins.mark_opened(delivery)
    return jsonify(opened=True, first=first)


@bp.post("/deliveries/<int:delivery_id>/ack")
@csrf.exempt  # the HMAC ack token proves the request; no session is needed
def delivery_ack(delivery_id: int):
    """The notification's "I tried it": ``{"ack_token", "id"?}`` → one tried=yes check-in per delivery."""
    body = json_body()
    checkin, created = checkins.ack_delivery(delivery_id, _token_in(body) or "", body.get("id"),
                                             current_user if current_user.is_authenticated else None)
    return jsonify(checkin=checkins.checkin_view(checkin)), 201 if created else 200


@bp.post("/deliveries/<int:delivery_id>/snooze")
@csrf.exempt  # the HMAC ack token proves the request; no session is needed
def delivery_snooze(delivery_id: int):
    """The notification's "Later": ``{"ack_token"}`` → pushed again an hour on, at most twice, while
    the family's day lasts; 409 with a sentence to show when it can't (already answered, a third
    snooze, the day ends first)."""
    delivery = snooze_delivery(delivery_id, _token_in(json_body()) or "")
    again = delivery.next_attempt_at.isoformat() + "Z"
    return jsonify(snoozed=True, next_push_at=again, snoozes=delivery.snoozes,
                   message="We'll remind you again in an hour.")
