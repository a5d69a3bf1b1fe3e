"""The JSON API under ``/api`` (DESIGN.md "HTTP surface"), one module per subject:
``views_me`` (account, settings, export, delete), ``views_push`` (devices, test push),
``views_checkins`` (today's prompt, check-ins, the notification's opened/ack), ``views_support``
(the parent's support requests) and ``views_household`` (inviting another caregiver)."""
from __future__ import annotations

from flask import Blueprint

from .views_checkins import bp as checkins_bp
from .views_household import bp as household_bp
from .views_me import bp as me_bp
from .views_push import bp as push_bp
from .views_support import bp as support_bp

bp = Blueprint("api", __name__, url_prefix="/api")
for child in (me_bp, push_bp, checkins_bp, support_bp, household_bp):
    bp.register_blueprint(child)
