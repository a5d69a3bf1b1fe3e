"""What a parent reads about the help they asked for: one sentence per request, in their own time
zone ("Sent to Maria at 19:42 on Tuesday 1 December. Maria usually replies within a working day."
→ "Maria followed up on 3 December."). Shared by ``/help``, the home page and the check-in card.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from ..models import Family, User, utcnow
from ..services.families.checkins import to_local
from ..services.families.support import request_status

#: Followed-up requests stay on the home page this long; ``/help`` lists every request.
HOME_DAYS = 7


def _when(family: Family, moment: datetime, now: datetime) -> str:
    local = to_local(family, moment)
    today = to_local(family, now).date()
    if local.date() == today:
        return f"at {local:%H:%M} today"
    if local.date() == today - timedelta(days=1):
        return f"at {local:%H:%M} yesterday"
    return f"at {local:%H:%M} on {local:%A} {local.day} {local:%B}"


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
            who = row["followed_up_by"] or worker or "Your family worker"
            local = to_local(family, row["followed_up_at"])
            sentence = f"{who} followed up on {local.day} {local:%B}."
            detail = f"You asked {_when(family, row['created_at'], now)}."
        else:
            sent = f"Sent to {worker}" if worker else "Sent to the family support team"
            sentence = f"{sent} {_when(family, row['created_at'], now)}."
            detail = (f"{worker} usually replies within a working day." if worker
                      else "Someone from the team will get in touch within a working day.")
            if row["urgent"]:
                detail += " Because you said you may not be safe, the duty team was told too."
        lines.append(row | {"sentence": sentence, "detail": detail})
    return lines
