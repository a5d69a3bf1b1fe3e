"""The admin area: an overview of accounts, families, the prompt library and deliveries."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template
from peewee import JOIN, fn

from ..models import Delivery, Family, Prompt, User, utcnow
from ..security import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


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
    return render_template("admin/dashboard.html", roles=roles, prompts=prompts, themes=themes,
                           deliveries=deliveries, families=Family.select().count(),
                           workers=list(workers))
