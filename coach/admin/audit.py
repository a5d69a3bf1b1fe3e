"""The audit log: every admin change and every worker view of notes, filterable and paginated."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import flash, render_template, request
from peewee import JOIN

from ..i18n import N_, _
from ..models import AuditEvent, User
from ..security import role_required
from .blueprint import bp, int_or_none

PAGE_SIZE = 50
#: How each action reads in the log (English, marked; the page shows it through ``_``; the stored
#: key never changes); unknown actions show their code.
ACTION_LABELS = {
    "prompt_create": N_("Created a prompt"),
    "prompt_update": N_("Edited a prompt"),
    "prompt_status": N_("Changed a prompt's status"),
    "prompt_restore": N_("Restored a prompt version"),
    "prompt_import": N_("Imported prompts"),
    "prompt_import_item": N_("Imported a prompt"),
    "prompt_translation": N_("Edited a prompt's translation"),
    "user_create": N_("Added a person"),
    "user_deactivate": N_("Deactivated a person"),
    "user_reactivate": N_("Reactivated a person"),
    "password_reset_link": N_("Made a password reset link"),
    "password_reset_used": N_("Set a password with a reset link"),
    "families_reassign": N_("Moved families between workers"),
    "resource_create": N_("Added a support resource"),
    "resource_update": N_("Edited a support resource"),
    "resource_move": N_("Reordered support resources"),
    "resource_hide": N_("Hid a support resource"),
    "resource_show": N_("Showed a support resource"),
    "view_notes": N_("Viewed a family's notes"),
    "support_followed_up": N_("Followed up a support request"),
    "contact_logged": N_("Logged a call, text or visit"),
    "phone_changed": N_("Changed a parent's phone number"),
    "settings_changed": N_("Changed a family's settings"),
    "staff_timezone_changed": N_("Changed their own time zone"),
    "data_exported": N_("Downloaded their data"),
    "account_deleted": N_("Deleted their account"),
    "password_changed": N_("Changed their password"),
    "password_reset_requested": N_("Asked for a password reset email"),
    "checkin_edited": N_("Changed a journal entry"),
    "checkin_deleted": N_("Deleted a journal entry"),
    "push.test": N_("Sent a test notification"),
    "household_invite_created": N_("Invited another caregiver"),
    "caregiver_joined": N_("Joined a household"),
    "caregiver_removed": N_("Removed a caregiver from a household"),
}


@dataclass
class AuditFilters:
    action: str = ""
    actor: int | None = None
    start: date | None = None
    end: date | None = None
    page: int = 1
    problems: list[str] = field(default_factory=list)

    def as_args(self, **changes) -> dict:
        args = {"action": self.action, "actor": self.actor, "from": self.start, "to": self.end,
                "page": self.page} | changes
        return {key: value for key, value in args.items() if value}


def _date(value: str, label: str, problems: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(_("The “%(label)s” date “%(value)s” isn't a date like 2026-05-31; it was ignored.",
                           label=label, value=value[:20]))
        return None


def parse_filters(args) -> AuditFilters:
    """Filters from the query string; bad values are named in ``problems`` and ignored."""
    filters = AuditFilters(action=(args.get("action") or "")[:60])
    filters.actor = int_or_none(args.get("actor")) if args.get("actor") else None
    if args.get("actor") and filters.actor is None:
        filters.problems.append(_("The person filter wasn't understood; showing everyone."))
    filters.start = _date(args.get("from") or "", _("from"), filters.problems)
    filters.end = _date(args.get("to") or "", _("to"), filters.problems)
    if filters.start and filters.end and filters.start > filters.end:
        filters.problems.append(_("The “from” date is after the “to” date; swapped them."))
        filters.start, filters.end = filters.end, filters.start
    filters.page = max(1, int_or_none(args.get("page")) or 1)
    return filters


def filtered_events(filters: AuditFilters):
    """The matching events, newest first (a query, not yet paginated)."""
    query = (AuditEvent.select(AuditEvent, User)
             .join(User, join_type=JOIN.LEFT_OUTER, on=(AuditEvent.actor == User.id))
             .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()))
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        query = query.where(AuditEvent.actor == filters.actor)
    if filters.start:
        query = query.where(AuditEvent.created_at >= datetime.combine(filters.start, time.min))
    if filters.end:
        query = query.where(AuditEvent.created_at < datetime.combine(filters.end + timedelta(days=1), time.min))
    return query


@bp.get("/audit")
@role_required("admin")
def audit_log():
    """Who did what and when: admin changes and worker views of notes (filters: action, actor,
    ``from``/``to`` dates in UTC, ``page``)."""
    filters = parse_filters(request.args)
    for problem in filters.problems:
        flash(problem, "error")
    query = filtered_events(filters)
    total = query.count()
    pages = max(1, -(-total // PAGE_SIZE))
    filters.page = min(filters.page, pages)
    events = list(query.paginate(filters.page, PAGE_SIZE))
    actions = sorted(set(ACTION_LABELS) | {a for (a,) in AuditEvent.select(AuditEvent.action).distinct().tuples()})
    actors = list(User.select().where(User.id.in_(AuditEvent.select(AuditEvent.actor)
                                                  .where(AuditEvent.actor.is_null(False))))
                  .order_by(User.name, User.email))
    return render_template("admin/audit.html", events=events, filters=filters, total=total, pages=pages,
                           actions=actions, labels={key: _(label) for key, label in ACTION_LABELS.items()},
                           actors=actors)
