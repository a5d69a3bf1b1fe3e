"""What every API view shares: reading a JSON body, and the signed-in parent's family."""
from __future__ import annotations

from flask import request
from flask_login import current_user

from ..errors import AppError
from ..models import Family
from ..services.families.checkins import family_for


def json_body() -> dict:
    """The request's JSON object; 415 when the body isn't JSON, 400 when it can't be parsed."""
    if not request.is_json:
        raise AppError(415, "Send the request body as JSON (Content-Type: application/json).")
    data = request.get_json(silent=True)
    if data is None:
        raise AppError(400, "The request body isn't valid JSON.", code="invalid_json")
    if not isinstance(data, dict):
        raise AppError(400, "Send a JSON object.", code="bad_request")
    return data


def optional_json_body() -> dict:
    """Like :func:`json_body`, but an empty body means ``{}`` (for POSTs whose fields are optional)."""
    if not request.get_data(cache=True):
        return {}
    return json_body()


def my_family() -> Family:
    """The signed-in parent's family."""
    return family_for(current_user)
