"""The admin blueprint and the small helpers its views share."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from ..inputs import parse_id
from ..models import User

bp = Blueprint("admin", __name__, url_prefix="/admin")


def me() -> User:
    """The signed-in admin as a model instance (for services and the audit log)."""
    return current_user._get_current_object()


def int_or_none(value: object) -> int | None:
    """A form or query value as an id-sized whole number (ASCII digits, 1..2^63-1), or None."""
    return parse_id(value)
