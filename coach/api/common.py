"""What every API view shares: reading a JSON body, and the signed-in parent's family."""
from __future__ import annotations

from flask_login import current_user

from ..inputs import request_json
from ..models import Family
from ..services.families.checkins import family_for


def json_body() -> dict:
    """The request's JSON object (size, nesting and text checked by :func:`coach.inputs.parse_json`):
    415 when the body isn't JSON, 400 when it can't be parsed or isn't an object."""
    return request_json()


def optional_json_body() -> dict:
    """Like :func:`json_body`, but an empty body means ``{}`` (for POSTs whose fields are optional)."""
    return request_json(optional=True)


def my_family() -> Family:
    """The signed-in parent's family."""
    return family_for(current_user)
