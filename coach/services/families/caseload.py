"""The caseload: which families a worker may see and the filters on them, a family's timeline, and
following up a parent's support request.

A worker sees the families whose ``Family.worker`` is them; an admin sees every family and may
filter by worker. Note text leaves the database only where the parent shared it with their worker
(the query itself blanks the others).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from peewee import JOIN, Case, ModelSelect

from ...errors import AppError
from ...models import CheckIn, Delivery, Family, Prompt, SupportRequest, User, utcnow
from .engagement import (
    FamilyEngagement,
    local_date,
    local_time,
    made_at,
    measure_families,
    sort_by_need,
    status_counts,
)

FOLLOW_UP_NOTE_MAX = 500
TRIED_WORDS = {"yes": "Tried it", "not_yet": "Not yet", "skip": "Skipped today"}
FELT_WORDS = {1: "really hard", 2: "hard", 3: "okay", 4: "good", 5: "really good"}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# --- who sees what --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseloadFilters:
    """The caseload's GET filters. ``worker`` (admins only) is "", "none" or a user id."""

    q: str = ""
    status: str = ""
    worker: str = ""


def _scoped(query: ModelSelect, user: User, filters: CaseloadFilters) -> ModelSelect:
    if user.role != "admin":
        query = query.where(Family.worker == user.id)
    elif filters.worker == "none":
        query = query.where(Family.worker.is_null())
    elif filters.worker:
        query = query.where(Family.worker == int(filters.worker))
    if filters.q:
        query = query.where(Family.display_name.contains(filters.q) | Family.child_name.contains(filters.q))
    return query


def caseload_families(user: User, filters: CaseloadFilters = CaseloadFilters()) -> tuple[list[Family], ModelSelect]:
    """The user's families matching the filters (one query), and a subquery of their ids.

    The status filter is applied later, to the measured rows (a status is computed, not stored).
    """
    if user.role == "admin":
        worker = User.alias("assigned_worker")
        query = Family.select(Family, worker).join(worker, JOIN.LEFT_OUTER, on=(Family.worker == worker.id))
    else:
        query = Family.select()
    families = list(_scoped(query, user, filters).order_by(Family.display_name))
    if user.role != "admin":
        for family in families:
            family.worker = user  # it is theirs: no query per family for the worker's name
    return families, _scoped(Family.select(Family.id), user, filters)


def family_for(user: User, family_id: int) -> Family:
    """A family on the user's caseload (any family for an admin), else AppError 404."""
    family = _scoped(Family.select(), user, CaseloadFilters()).where(Family.id == family_id).first()
    if family is None:
        raise AppError(404, "We couldn't find that family on your caseload.")
    return family


def measured_caseload(user: User, filters: CaseloadFilters = CaseloadFilters(),
                      now: datetime | None = None) -> tuple[list[FamilyEngagement], dict[str, int]]:
    """The caseload measured and sorted by need, and the count per status before the status filter.

    The same number of queries whatever the caseload's size: one for the families, then those of
    engagement.measure_families (at most seven, one per kind of data).
    """
    families, scope = caseload_families(user, filters)
    rows = sort_by_need(measure_families(families, scope, now=now))
    counts = status_counts(rows)
    if filters.status:
        rows = [row for row in rows if row.status == filters.status]
    return rows, counts


def worker_choices() -> list[User]:
    """The people a family can be assigned to, for the admin's worker filter."""
    return list(User.select().where(User.role.in_(("worker", "admin")))
                .order_by(User.name, User.email))


# --- a family's settings and timeline --------------------------------------------------------------

def schedule_words(family: Family) -> str:
    """The prompt days in words: "Every day", "Weekdays" or "Mon, Wed, Fri"."""
    days = sorted({int(ch) for ch in family.days_of_week if ch.isdigit()})
    if len(days) == 7:
        return "Every day"
    if days == [0, 1, 2, 3, 4]:
        return "Weekdays"
    return ", ".join(WEEKDAYS[d] for d in days) or "No days chosen"


def push_failure_words(code: int | None, error: str | None) -> str:
    """Why a push failed, in words a worker can repeat to a parent."""
    if code in (404, 410):
        return f"push service said {code} — device removed"
    if code == 429:
        return "push service said 429 — too many messages, asked us to wait"
    if code in (401, 403):
        return f"push service said {code} — it refused our sending key"
    if code == 413:
        return "push service said 413 — message too large"
    if code is not None and code >= 500:
        return f"push service said {code} — it was having problems"
    if code is not None:
        return f"push service said {code} — it rejected the message"
    if error:
        return f"couldn't reach the push service ({error})"
    return "no reason recorded"


@dataclass
class DeliveryEvent:
    """A day's prompt and what happened to it."""

    delivery: Delivery
    headline: str
    detail: str
    tone: str  # ok, wait, warn, bad: how the timeline colours it
    sent_at: datetime | None = None
    opened_at: datetime | None = None
    checked_in: bool = False


@dataclass
class CheckInEvent:
    """A check-in as a worker may see it: the note only when the parent shared it."""

    checkin: CheckIn
    at: datetime
    tried: str
    answer: str | None
    felt: str | None
    note: str | None
    prompt_title: str | None


@dataclass
class TimelineDay:
    day: date
    delivery: DeliveryEvent | None = None
    checkins: list[CheckInEvent] = field(default_factory=list)


def _delivery_event(delivery: Delivery, tz: str, linked: set[int]) -> DeliveryEvent:
    status = delivery.status

    def at(moment: datetime | None) -> datetime | None:
        return local_time(moment, tz) if moment else None

    event = DeliveryEvent(delivery, "", "", "ok", at(delivery.sent_at), at(delivery.opened_at),
                          delivery.id in linked)
    if status == "sent":
        event.headline = "Delivered"
        event.detail = f"Sent {event.sent_at:%H:%M}" if event.sent_at else "Sent"
    elif status == "pending":
        event.headline, event.tone = "Due", "wait"
        event.detail = f"Due at {at(delivery.due_at):%H:%M}"
    elif status == "sending":
        event.headline, event.tone, event.detail = "Sending", "wait", "Being sent now"
    elif status == "no_device":
        event.headline, event.tone = "No device", "warn"
        event.detail = "Not sent: no working device. The prompt waited in the app."
    elif status == "failed":
        event.headline, event.tone = "Failed", "bad"
        event.detail = "Not sent: " + push_failure_words(delivery.last_status_code, delivery.last_error)
    else:
        event.headline, event.tone = "Expired", "bad"
        event.detail = "Not delivered before the day ended"
        if delivery.last_status_code or delivery.last_error:
            event.detail += "; last try: " + push_failure_words(delivery.last_status_code, delivery.last_error)
    return event


def _answer_label(prompt: Prompt | None, answer: int | None) -> str | None:
    answers = (prompt.answers or []) if prompt is not None and prompt.id else []
    if answer is None or not 0 <= answer < len(answers):
        return None
    return answers[answer].get("label")


def family_timeline(family: Family, days: int | None = 28, now: datetime | None = None) -> list[TimelineDay]:
    """Deliveries and check-ins merged by the family's local day, newest first (``days=None``: all)."""
    now = now or utcnow()
    tz = family.timezone
    start = local_date(now, tz) - timedelta(days=days - 1) if days else None
    deliveries = (Delivery.select(Delivery, Prompt.id, Prompt.title, Prompt.theme)
                  .join(Prompt, JOIN.LEFT_OUTER).where(Delivery.family == family.id))
    shared_note = Case(None, [(CheckIn.shared_with_worker == True, CheckIn.note)], None)  # noqa: E712
    checkins = (CheckIn.select(CheckIn.id, CheckIn.delivery, CheckIn.tried, CheckIn.felt, CheckIn.answer,
                               CheckIn.shared_with_worker, CheckIn.wants_support, CheckIn.client_created_at,
                               CheckIn.received_at, shared_note.alias("shared_note"),
                               Prompt.id, Prompt.title, Prompt.answers)
                .join(Prompt, JOIN.LEFT_OUTER).where(CheckIn.family == family.id))
    if start:
        deliveries = deliveries.where(Delivery.local_date >= start)
        checkins = checkins.where(CheckIn.received_at >= datetime.combine(start, datetime.min.time())
                                  - timedelta(days=1))
    checkins = list(checkins)
    linked = {c.delivery_id for c in checkins if c.delivery_id}
    by_day: dict[date, TimelineDay] = {}
    for delivery in deliveries:
        by_day.setdefault(delivery.local_date, TimelineDay(delivery.local_date)).delivery = \
            _delivery_event(delivery, tz, linked)
    for checkin in checkins:
        moment = made_at(checkin.client_created_at, checkin.received_at)
        day = local_date(moment, tz)
        if start and day < start:
            continue
        by_day.setdefault(day, TimelineDay(day)).checkins.append(CheckInEvent(
            checkin=checkin, at=local_time(moment, tz), tried=TRIED_WORDS.get(checkin.tried, checkin.tried),
            answer=_answer_label(checkin.prompt, checkin.answer), felt=FELT_WORDS.get(checkin.felt),
            note=checkin.shared_note or None,
            prompt_title=checkin.prompt.title if checkin.prompt is not None and checkin.prompt.id else None))
    for entry in by_day.values():
        entry.checkins.sort(key=lambda event: event.at)
    return [by_day[day] for day in sorted(by_day, reverse=True)]


def shared_note_count(timeline: list[TimelineDay]) -> int:
    """How many shared notes a timeline shows (each showing is audited)."""
    return sum(1 for entry in timeline for event in entry.checkins if event.note)


# --- support requests ------------------------------------------------------------------------------

def support_requests(family: Family) -> list[SupportRequest]:
    """The family's support requests, open ones first, then newest first."""
    by = User.alias("followed_up_by")
    return list(SupportRequest.select(SupportRequest, by)
                .join(by, JOIN.LEFT_OUTER, on=(SupportRequest.followed_up_by == by.id))
                .where(SupportRequest.family == family.id)
                .order_by(SupportRequest.followed_up_at.is_null(False), SupportRequest.created_at.desc()))


def mark_followed_up(family: Family, request_id: int, user: User, note: str = "",
                     now: datetime | None = None) -> SupportRequest:
    """Record that ``user`` followed up one of the family's support requests (with an optional note).

    AppError 422 for a note over 500 characters, 404 for a request that isn't this family's, 409 when
    someone already followed it up. Nothing is written unless it succeeds.
    """
    note = (note or "").strip()
    if len(note) > FOLLOW_UP_NOTE_MAX:
        raise AppError(422, f"Keep the follow-up note to {FOLLOW_UP_NOTE_MAX} characters or fewer.",
                       fields={"note": f"Use at most {FOLLOW_UP_NOTE_MAX} characters (you used {len(note)})."})
    request = SupportRequest.get_or_none(SupportRequest.id == request_id, SupportRequest.family == family.id)
    if request is None:
        raise AppError(404, "That support request isn't one of this family's.")
    now = now or utcnow()
    updated = (SupportRequest.update(followed_up_at=now, followed_up_by=user.id, follow_up_note=note or None)
               .where(SupportRequest.id == request.id, SupportRequest.followed_up_at.is_null())
               .execute())
    if updated != 1:
        raise AppError(409, "Someone has already marked this request followed up.", code="already_followed_up")
    return SupportRequest.get_by_id(request.id)
