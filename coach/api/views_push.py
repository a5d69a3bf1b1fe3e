"""``/api/push``: the VAPID public key, this device's subscription, and a test notification."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from ..errors import AppError
from ..i18n import N_
from ..models import PushSubscription
from ..security import role_required
from ..services.delivery import subscriptions
from .common import json_body

bp = Blueprint("push", __name__, url_prefix="/push")
#: Parents get prompts on their devices; workers and admins get support alerts on theirs
#: (services/delivery/alerts.py). The test push stays parent-only: it sends a sample prompt.
DEVICE_ROLES = ("parent", "worker", "admin")


@bp.get("/public-key")
@role_required(*DEVICE_ROLES)
def public_key():
    """The VAPID public key for ``pushManager.subscribe({applicationServerKey})``."""
    private_key = current_app.config.get("VAPID_PRIVATE_KEY")
    if not private_key:
        raise AppError(503, N_("Notifications aren't set up on this server yet."), code="push_unavailable")
    return jsonify(public_key=subscriptions.application_server_key(private_key))


@bp.post("/subscriptions")
@role_required(*DEVICE_ROLES)
def save_subscription():
    """Upsert this device's subscription by endpoint (sent on every app open); 201 when new.

    422 with ``fields`` when the sender could never use it; past the device cap the least recently
    seen device is replaced and named in ``replaced``. A device the parent turned off answers 200
    ``{"device": null, "opted_out": true}`` and nothing is stored, unless the body says
    ``"resubscribe": true`` (sent only when the parent taps "Turn on").
    """
    body = json_body()
    data = subscriptions.parse_subscription(body)
    resubscribe = body.get("resubscribe", False)
    if not isinstance(resubscribe, bool):
        raise AppError(422, N_("That push subscription isn't one we can use."),
                       fields={"resubscribe": N_("Use true or false.")})
    if resubscribe:
        subscriptions.opt_in(current_user, data.endpoint)
    elif subscriptions.opted_out(current_user, data.endpoint):
        return jsonify(device=None, opted_out=True)
    row, created, replaced = subscriptions.upsert_subscription(current_user, data,
                                                               request.headers.get("User-Agent", ""))
    device = {"id": row.id, "label": subscriptions.device_label(row.user_agent)}
    return jsonify(device=device, created=created, replaced=replaced, opted_out=False), 201 if created else 200


@bp.delete("/subscriptions")
@role_required(*DEVICE_ROLES)
def delete_subscription():
    """Reminders off on one device: ``{"endpoint": ...}`` → 204, and it stays off (see
    ``subscriptions.remove_subscription``); 404 when another account holds that endpoint."""
    subscriptions.remove_subscription(current_user, json_body().get("endpoint"))
    return "", 204


@bp.post("/test")
@role_required("parent")
def test_push():
    """Send a test notification to each of the parent's devices and report what happened.

    At most ``TEST_PUSH_LIMIT`` per ``TEST_PUSH_WINDOW`` per parent: then 429 with ``Retry-After``.
    """
    if not PushSubscription.select().where(PushSubscription.user == current_user.id).exists():
        return jsonify(devices=0, sent=0, failed=0,
                       message="No device has notifications turned on yet. Turn them on first.")
    from ..services.delivery.sending import send_test_push

    user = current_user._get_current_object()
    wait = subscriptions.reserve_test_push(user)
    if wait:
        minutes = -(-wait // 60)
        response = jsonify(error="too_many_test_pushes", message=(
            f"That's {subscriptions.TEST_PUSH_LIMIT} test notifications in a few minutes. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."))
        response.headers["Retry-After"] = str(wait)
        return response, 429
    result = send_test_push(user)
    if result["sent"]:
        message = f"Sent to {result['sent']} device{'s' if result['sent'] != 1 else ''}. It should arrive in a moment."
    else:
        message = "We couldn't reach your device. Try turning notifications off and on again."
    return jsonify(result | {"message": message})
