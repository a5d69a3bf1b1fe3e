"""The family worker's caseload page (admins see every worker's families, with a worker filter).

The other worker pages register on the same blueprint: families.py (a family's page and support
follow-ups), invites.py and exports.py (CSV).
"""
from __future__ import annotations

from flask import render_template, url_for
from flask_login import current_user

from ..models import Invite
from ..security import role_required
from ..services.families import caseload as caseload_service
from ..services.families.engagement import NEED_ORDER, STATUS_LABELS
from . import exports, families, invites, render  # noqa: F401  (they register on bp)
from .blueprint import bp
from .forms import read_filters

__all__ = ["bp"]


@bp.get("/")
@role_required("worker", "admin")
def caseload():
    """The caseload: one row per family, sorted by need, with status, metrics and a 28-day strip."""
    form, valid = read_filters(current_user)
    rows, counts = caseload_service.measured_caseload(current_user, form.filters())
    pending = 0
    if not rows and not any(counts.values()):
        pending = (Invite.select().where(Invite.worker == current_user.id, Invite.used_at.is_null(),
                                         Invite.revoked_at.is_null()).count())
    args = form.query_args()
    # Each status tile filters by its status; the current one's tile clears that filter again.
    links = {status: url_for("worker.caseload", **{k: v for k, v in args.items() if k != "status"},
                             **({} if args.get("status") == status else {"status": status}))
             for status in NEED_ORDER}
    return render_template("worker/caseload.html", rows=rows, counts=counts, form=form, args=args,
                           status_links=links, statuses=NEED_ORDER, labels=STATUS_LABELS,
                           pending_invites=pending), 200 if valid else 400
