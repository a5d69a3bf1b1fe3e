"""Each caregiver's engagement and reach, for the worker (the household on a family's page and the
caseload CSV's row per caregiver): check-in days lately, the last check-in, their own streak, and
their devices. A few grouped queries for many families at once; never a note or an answer.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from peewee import Case, fn

from ...models import Caregiver, CheckIn, Family, PushSubscription, User, utcnow
from .activity import local_date, made_at
from .engagement import DEVICE_OK_DAYS, HasReach
from .streaks import count_streak

#: The window the household view counts check-in days over (the family page's month).
DAYS = 28
STREAK_LOOKBACK = 120


@dataclass
class CaregiverEngagement(HasReach):
    user: User
    joined_at: datetime
    checkin_days: int = 0  # local days with a check-in in the last DAYS days
    last_checkin_on: date | None = None
    streak: int = 0
    devices: int = 0
    working_devices: int = 0


def household_engagement(families: Iterable[Family], now: datetime | None = None
                         ) -> dict[int, list[CaregiverEngagement]]:
    """``{family id: [each caregiver's engagement, first to join first]}`` in three queries."""
    now = now or utcnow()
    by_id = {family.id: family for family in families}
    found: dict[int, list[CaregiverEngagement]] = defaultdict(list)
    if not by_id:
        return found
    rows = (Caregiver.select(Caregiver, User).join(User, on=(Caregiver.user == User.id))
            .where(Caregiver.family.in_(list(by_id))).order_by(Caregiver.joined_at, Caregiver.id))
    people: dict[int, CaregiverEngagement] = {}
    for row in rows:
        people[row.user_id] = CaregiverEngagement(row.user, row.joined_at)
        found[row.family_id].append(people[row.user_id])
    days: dict[int, set[date]] = defaultdict(set)
    since = now - timedelta(days=STREAK_LOOKBACK + 1)
    checkins = (CheckIn.select(CheckIn.family, CheckIn.user, CheckIn.client_created_at, CheckIn.received_at)
                .where(CheckIn.family.in_(list(by_id)), CheckIn.received_at >= since).tuples())
    for family_id, user_id, created, received in checkins:
        if user_id in people:
            days[user_id].add(local_date(made_at(created, received), by_id[family_id].timezone))
    ok_since = now - timedelta(days=DEVICE_OK_DAYS)
    working = Case(None, [((PushSubscription.error_count == 0) | (PushSubscription.last_ok_at >= ok_since), 1)], 0)
    devices = (PushSubscription.select(PushSubscription.user, fn.COUNT(PushSubscription.id), fn.SUM(working))
               .where(PushSubscription.user.in_(list(people))).group_by(PushSubscription.user).tuples())
    for user_id, count, ok in devices:
        people[user_id].devices, people[user_id].working_devices = count, int(ok or 0)
    for family_id, household in found.items():
        family = by_id[family_id]
        today = local_date(now, family.timezone)
        for person in household:
            mine = days.get(person.user.id, set())
            person.checkin_days = sum(1 for day in mine if today - timedelta(days=DAYS) < day <= today)
            person.last_checkin_on = max(mine) if mine else None
            person.streak = count_streak(mine, today, family.days_of_week)
    return found
