"""The admin overview (care warnings first, then accounts, families, the library, deliveries); the
other admin pages live in the sibling modules and register on the same blueprint."""
from __future__ import annotations

from datetime import timedelta

from flask import render_template
from peewee import JOIN, fn

from ..models import Delivery, Family, Prompt, User, utcnow
from ..security import role_required
from ..services.delivery.mail import mail_problem
from ..services.delivery.operations import scheduler_health
from ..services.delivery.sms import text_overview
from ..services.families import resources as resource_service
from ..services.families import support
from ..services.programme import library_stats

# Importing the area's other modules adds their routes to the one admin blueprint.
from . import audit, library_files, people, resources  # noqa: F401
from . import prompts as prompt_pages  # noqa: F401
from . import translations as translation_pages  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]


@bp.get("/")
@role_required("admin")
def dashboard():
    """The state of the service at a glance: red items first (support requests nobody followed up
    in time, countries whose families have no local helplines, email not working), then counts."""
    roles = dict(User.select(User.role, fn.COUNT(User.id)).where(User.active).group_by(User.role).tuples())
    prompts = dict(Prompt.select(Prompt.status, fn.COUNT(Prompt.id)).group_by(Prompt.status).tuples())
    themes = dict(Prompt.published().select(Prompt.theme, fn.COUNT(Prompt.id)).group_by(Prompt.theme).tuples())
    since = (utcnow() - timedelta(days=7)).date()
    deliveries = dict(Delivery.select(Delivery.status, fn.COUNT(Delivery.id))
                      .where(Delivery.local_date >= since).group_by(Delivery.status).tuples())
    workers = (User.select(User, fn.COUNT(Family.id).alias("family_count"))
               .join(Family, on=(Family.worker == User.id), join_type=JOIN.LEFT_OUTER)
               .where(User.role == "worker").group_by(User.id).order_by(User.email))
    gaps = sum(cell.gap for _theme, cells in library_stats.coverage() for cell in cells)
    warnings = {"overdue": support.overdue_requests(), "missing": resource_service.countries_without_resources(),
                "mail": mail_problem(), "no_resources": not resource_service.visible(),
                "scheduler": scheduler_health()}
    texts = text_overview()
    warnings["texts"] = texts["problem"] if texts["parents"] else None  # red only when someone waits on texts
    return render_template("admin/dashboard.html", warnings=warnings, roles=roles, prompts=prompts,
                           themes=themes, gaps=gaps, deliveries=deliveries, families=Family.select().count(),
                           workers=list(workers), texts=texts)
