"""``/api/me``: the parent's account and settings, the data export, and deleting the account."""
from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify
from flask_login import current_user, logout_user

from ..errors import AppError
from ..i18n import N_
from ..models import utcnow
from ..security import audit, role_required
from ..services.delivery.subscriptions import list_devices
from ..services.families import preferences, privacy
from ..services.families.household import caregivers, household_view
from ..services.families.streaks import family_streak
from .common import json_body, my_family

bp = Blueprint("me", __name__)


@bp.get("/me")
@role_required("parent")
def me():
    """The signed-in parent: account, family and settings, gentle streak, and push devices."""
    family = my_family()
    streak = family_streak(family, current_user)
    return jsonify(
        user={"id": current_user.id, "email": current_user.email, "name": current_user.name},
        family={"display_name": family.display_name, "child_name": family.child_name,
                "child_birth_month": family.child_birth_month} | preferences.settings_view(family, current_user),
        streak={"days": streak.days, "checked_in_today": streak.checked_in_today,
                "message": streak.message},
        push_devices=list_devices(current_user),
        household=household_view(family, current_user),
    )


@bp.patch("/me/settings")
@role_required("parent")
def update_settings():
    """Change any of: window_start, window_end, timezone, days_of_week, paused_until,
    share_notes_default, country, discreet, phone, channel, sms_consent, language ("en"|"es", the signed-in person's own).
    Timing changes re-plan today's prompt."""
    family = preferences.update_settings(my_family(), json_body(), user=current_user._get_current_object())
    audit("settings_changed", "family", family.id)
    return jsonify(settings=preferences.settings_view(family, current_user))


@bp.get("/me/export")
@role_required("parent")
def export():
    """Everything stored about the parent's family, as a JSON file download."""
    data = privacy.export_family(current_user)
    audit("data_exported", "user", current_user.id)
    response = Response(json.dumps(data, indent=2, ensure_ascii=False), mimetype="application/json")
    filename = f"attune-export-{utcnow().date().isoformat()}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.delete("/me")
@role_required("parent")
def delete_me():
    """Erase the account and the family's data; the body must confirm: ``{"confirm": email|"delete"}``."""
    body = json_body()
    if not privacy.confirmation_matches(current_user, body.get("confirm")):
        raise AppError(422, N_("To delete your account, type your email address or the word delete."),
                       fields={"confirm": N_("Type your email address or the word delete.")})
    user = current_user._get_current_object()
    others = len(caregivers(my_family())) > 1
    privacy.delete_account(user)
    logout_user()
    message = ("Your account and your own check-ins have been deleted. The others in your household "
               "keep the family." if others else "Your account and your family's data have been deleted.")
    return jsonify(deleted=True, message=message)
