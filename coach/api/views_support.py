"""The parent's support requests as JSON (DESIGN.md "Safety and the care loop"):
``POST /api/support-requests`` asks the family worker to get in touch, ``GET`` lists the parent's own.

The help page (``POST /help``) is the same request as a form; both go through
``services.families.support.ask_for_support``, which queues the worker's push and email.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, jsonify
from flask_login import current_user

from ..security import role_required
from ..services.families.support import ask_for_support, request_status
from .common import json_body, my_family

bp = Blueprint("support", __name__)


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment is not None else None


def request_view(status: dict) -> dict:
    """One ``request_status`` row as JSON: times in ISO-8601 UTC."""
    return {key: _time(value) if isinstance(value, datetime) else value for key, value in status.items()}


@bp.post("/support-requests")
@role_required("parent")
def create_support_request():
    """``{"safe": "yes"|"no"|"unsure"|null, "note": str|null}`` → 201 ``{"support_request": {"id",
    "urgent", "status", "worker_name", "respond_by"}}``; 422 with ``fields`` and nothing stored otherwise."""
    body = json_body()
    family = my_family()
    created = ask_for_support(family, current_user, source="help", safe=body.get("safe"),
                              note=body.get("note"))
    status = next(s for s in request_status(family, current_user) if s["id"] == created.id)
    view = request_view(status)
    return jsonify(support_request={key: view[key] for key in
                                    ("id", "urgent", "status", "worker_name", "respond_by")}), 201


@bp.get("/support-requests")
@role_required("parent")
def list_support_requests():
    """The signed-in parent's own support requests, newest first, each with its ``status``
    (``open`` or ``followed_up``), who follows it up and by when."""
    return jsonify(support_requests=[request_view(s) for s in request_status(my_family(), current_user)])
