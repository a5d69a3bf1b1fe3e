"""The admin overview (accounts, families, the library, deliveries); the other admin pages live in
the sibling modules and register on the same blueprint."""
from __future__ import annotations

from datetime import timedelta

from flask import render_template
from peewee import JOIN, fn

from ..models import Delivery, Family, Prompt, User, utcnow
from ..security import role_required
from ..services.programme import library_stats

# Importing the area's other modules adds their routes to the one admin blueprint.
from . import audit, library_files, people, resources  # noqa: F401
from . import prompts as prompt_pages  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]


@bp.get("/")
@role_required("admin")
def dashboard():
    """Counts that tell an admin the state of the service at a glance."""
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
    return render_template("admin/dashboard.html", roles=roles, prompts=prompts, themes=themes, gaps=gaps,
                           deliveries=deliveries, families=Family.select().count(),
                           workers=list(workers))
