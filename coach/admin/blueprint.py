"""The admin blueprint and the small helpers its views share."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from ..errors import AppError
from ..inputs import form_text_problems, parse_id
from ..models import User

bp = Blueprint("admin", __name__, url_prefix="/admin")


def me() -> User:
    """The signed-in admin as a model instance (for services and the audit log)."""
    return current_user._get_current_object()


def refuse_unstorable_text() -> None:
    """AppError 422 naming each posted field that holds a NUL or other control character, for the
    views that show problems next to their fields (marked ``checks_own_text``)."""
    problems = form_text_problems(request.form)
    if problems:
        raise AppError(422, "Some of the text has an invisible control character (such as a NUL byte). "
                            "Remove it and save again.", fields=problems)


def int_or_none(value: object) -> int | None:
    """A form or query value as an id-sized whole number (ASCII digits, 1..2^63-1), or None."""
    return parse_id(value)
