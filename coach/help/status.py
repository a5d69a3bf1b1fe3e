"""What a parent reads about the help they asked for: one sentence per request, in their own time
zone ("Sent to Maria at 19:42 on Tuesday 1 December. Maria usually replies within a working day."
→ "Maria followed up on 3 December."). Shared by ``/help``, the home page and the check-in card.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from ..i18n import _, day_words
from ..models import Family, User, utcnow
from ..services.families.checkins import to_local
from ..services.families.support import request_status

#: Followed-up requests stay on the home page this long; ``/help`` lists every request.
HOME_DAYS = 7


def _when(family: Family, moment: datetime, now: datetime) -> str:
    local = to_local(family, moment)
    today = to_local(family, now).date()
    if local.date() == today:
        return _("at %(time)s today", time=local.strftime("%H:%M"))
    if local.date() == today - timedelta(days=1):
        return _("at %(time)s yesterday", time=local.strftime("%H:%M"))
    return _("at %(time)s on %(day)s", time=local.strftime("%H:%M"), day=day_words(local))


def status_lines(family: Family, user: User | None = None, now: datetime | None = None,
                 recent_only: bool = False) -> list[dict]:
    """``request_status`` rows with ``sentence`` and ``detail`` for people; with ``recent_only``,
    open requests and those followed up in the last ``HOME_DAYS`` days (for the home page)."""
    now = now or utcnow()
    lines = []
    for row in request_status(family, user, now):
        if recent_only and row["followed_up_at"] and row["followed_up_at"] < now - timedelta(days=HOME_DAYS):
            continue
        worker = row["worker_name"]
        if row["status"] == "followed_up":
            who = row["followed_up_by"] or worker or _("Your family worker")
            local = to_local(family, row["followed_up_at"])
            sentence = _("%(who)s followed up on %(day)s.", who=who, day=day_words(local, "day_month"))
            detail = _("You asked %(when)s.", when=_when(family, row["created_at"], now))
        else:
            when = _when(family, row["created_at"], now)
            sentence = (_("Sent to %(worker)s %(when)s.", worker=worker, when=when) if worker
                        else _("Sent to the family support team %(when)s.", when=when))
            detail = (_("%(worker)s usually replies within a working day.", worker=worker) if worker
                      else _("Someone from the team will get in touch within a working day."))
            if row["urgent"]:
                detail += " " + _("Because you said you may not be safe, the duty team was told too.")
        lines.append(row | {"sentence": sentence, "detail": detail})
    return lines
