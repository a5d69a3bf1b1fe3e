"""The worker area's blueprint; its routes live in views.py (caseload), families.py, invites.py and
exports.py, which views.py imports so that they register."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("worker", __name__, url_prefix="/worker")
