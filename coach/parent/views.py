"""The parent's pages: home (today's prompt). Check-in, journal and settings build on this."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from ..models import CheckIn, Delivery, Family, utcnow
from ..security import home_for, role_required

bp = Blueprint("parent", __name__)


def current_family() -> Family:
    """The signed-in parent's family (every parent account has exactly one)."""
    return Family.get(Family.user == current_user.id)


@bp.get("/")
def home():
    """Parent home: today's prompt if one was planned, and how the prompt schedule is set."""
    if current_user.is_authenticated and current_user.role != "parent":
        return redirect(url_for(home_for(current_user)))
    return _home()


@role_required("parent")
def _home():
    family = current_family()
    local_today = datetime.now(ZoneInfo(family.timezone)).date()
    today = (Delivery.select().where(Delivery.family == family, Delivery.local_date == local_today)
             .first())
    last_checkin = (CheckIn.select().where(CheckIn.family == family)
                    .order_by(CheckIn.received_at.desc()).first())
    checkin_count = CheckIn.select().where(CheckIn.family == family).count()
    return render_template("parent/home.html", family=family, today=today,
                           last_checkin=last_checkin, checkin_count=checkin_count,
                           now=utcnow())
