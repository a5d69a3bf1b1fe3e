"""The admin blueprint and the small helpers its views share."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from ..models import User

bp = Blueprint("admin", __name__, url_prefix="/admin")


def me() -> User:
    """The signed-in admin as a model instance (for services and the audit log)."""
    return current_user._get_current_object()


def int_or_none(value: object) -> int | None:
    """A form value as an int, or None when it isn't a whole number."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
