"""The family worker's caseload page (admins see every worker's families, with a worker filter).

The other worker pages register on the same blueprint: families.py (a family's page and support
follow-ups), contacts.py (the contact log and phone number), invites.py, exports.py (CSV) and
settings.py (the worker's own time zone).
"""
from __future__ import annotations

from flask import render_template, url_for
from flask_login import current_user

from ..models import Invite
from ..security import role_required
from ..services.families import caseload as caseload_service
from ..services.families import wellbeing
from ..services.families.engagement import REACH_LABELS, STATUS_LABELS, STATUSES
from ..services.families.languages import language_words, loaded_family_languages
from . import contacts, exports, families, invites, render, settings  # noqa: F401  (they register on bp)
from .blueprint import bp
from .forms import read_filters

__all__ = ["bp"]


def language_of(family) -> str:
    """A caseload card's family language, from the parent row the page already joined; "" for
    English, the language most families read (a card names only the exception)."""
    languages = loaded_family_languages(family)
    return "" if languages == ("en",) else language_words(languages)


@bp.get("/")
@role_required("worker", "admin")
def caseload():
    """The call list: one card per family in call order, 50 a page, with engagement and reach side by
    side, flags above them, the latest contact and a 28-day strip."""
    form, valid = read_filters(current_user)
    result = caseload_service.measured_caseload(current_user, form.filters())
    pending = 0
    if not result.total and not any(result.counts.values()):
        pending = (Invite.select().where(Invite.worker == current_user.id, Invite.used_at.is_null(),
                                         Invite.revoked_at.is_null()).count())
    args = form.query_args()
    # Each status tile filters by its status; the current one's tile clears that filter again.
    links = {status: url_for("worker.caseload", **{k: v for k, v in args.items() if k != "status"},
                             **({} if args.get("status") == status else {"status": status}))
             for status in STATUSES}
    pages = {n: url_for("worker.caseload", **args, **({"page": n} if n > 1 else {}))
             for n in {1, result.page - 1, result.page + 1, result.pages} if 1 <= n <= result.pages}
    # The low-mood flag for this page's families only: one query, not one per row.
    low_mood = wellbeing.low_mood_families([row.family.id for row in result.rows])
    return render_template("worker/caseload.html", low_mood=low_mood, language_of=language_of,
                           result=result, rows=result.rows, counts=result.counts,
                           form=form, args=args, status_links=links, statuses=STATUSES, labels=STATUS_LABELS,
                           reach_labels=REACH_LABELS, page_links=pages, pending_invites=pending), \
        200 if valid else 400
