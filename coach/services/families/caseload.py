"""The caseload: which families a worker may see and the filters on them, a family's timeline, and
following up a parent's support request.

A worker sees the families whose ``Family.worker`` is them; an admin sees every family and may
filter by worker. Note text leaves the database only where the parent shared it with their worker
(the query itself blanks the others).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from babel.dates import get_day_names
from peewee import JOIN, Case, ModelSelect

from ...errors import AppError
from ...i18n import N_, _, language
from ...models import REFLECTED, Caregiver, CheckIn, Delivery, Family, Prompt, SupportRequest, User, utcnow
from .activity import caseload_index
from .engagement import (
    FamilyEngagement,
    Reason,
    local_date,
    local_time,
    made_at,
    measure_families,
    rank_caseload,
    status_counts,
)
from .household import caregivers

FOLLOW_UP_NOTE_MAX = 500
#: English (the CSV export); the family page shows them through ``_``.
TRIED_WORDS = {"yes": N_("Tried it"), "not_yet": N_("Not yet"), "no_chance": N_("Didn't come up"),
               "skip": N_("Skipped today"), REFLECTED: N_("Answered the weekly reflection")}
FELT_WORDS = {1: N_("really hard"), 2: N_("hard"), 3: N_("okay"), 4: N_("good"), 5: N_("really good")}


# --- who sees what --------------------------------------------------------------------------------

PAGE_SIZE = 50


@dataclass(frozen=True)
class CaseloadFilters:
    """The caseload's GET filters. ``worker`` (admins only) is "", "none" or a user id."""

    q: str = ""
    status: str = ""
    worker: str = ""
    page: int = 1


def _search(query: ModelSelect, q: str) -> ModelSelect:
    """Names contain ``q``; a ``q`` with 4 or more digits also finds any caregiver's phone number."""
    match = Family.display_name.contains(q) | Family.child_name.contains(q)
    digits = "".join(ch for ch in q if ch.isascii() and ch.isdigit())
    if len(digits) >= 4:
        parents = User.select(User.id).where(User.phone.contains(digits))
        match |= Family.id.in_(Caregiver.select(Caregiver.family).where(Caregiver.user.in_(parents)))
    return query.where(match)


def _scoped(query: ModelSelect, user: User, filters: CaseloadFilters) -> ModelSelect:
    if user.role != "admin":
        query = query.where(Family.worker == user.id)
    elif filters.worker == "none":
        query = query.where(Family.worker.is_null())
    elif filters.worker:
        query = query.where(Family.worker == int(filters.worker))
    return _search(query, filters.q) if filters.q else query


def family_for(user: User, family_id: int) -> Family:
    """A family on the user's caseload (any family for an admin), else AppError 404."""
    family = _scoped(Family.select(), user, CaseloadFilters()).where(Family.id == family_id).first()
    if family is None:
        raise AppError(404, "We couldn't find that family on your caseload.")
    return family


def _families(user: User, ids: list[int]) -> list[Family]:
    """The families with these ids (with their worker, for an admin), in the order of ``ids``."""
    if not ids:
        return []
    parent = User.alias("parent")  # the main contact's phone number: a call button on each card
    query = Family.select(Family, parent).join(parent, on=(Family.user == parent.id))
    if user.role == "admin":
        worker = User.alias("assigned_worker")
        query = (Family.select(Family, parent, worker).join(parent, on=(Family.user == parent.id)).switch(Family)
                 .join(worker, JOIN.LEFT_OUTER, on=(Family.worker == worker.id)))
    by_id = {family.id: family for family in query.where(Family.id.in_(ids))}
    if user.role != "admin":
        for family in by_id.values():
            family.worker = user  # it is theirs: no query per family for the worker's name
    return [by_id[family_id] for family_id in ids if family_id in by_id]


@dataclass
class CaseloadPage:
    """One page of the call list, and what the tiles and pager need to know about the rest."""

    rows: list[FamilyEngagement]
    counts: dict[str, int]  # families per engagement status, before the status filter
    flags: dict[str, int]  # families asking for support, and with a next step due
    total: int  # families after every filter
    page: int
    pages: int


def measured_caseload(user: User, filters: CaseloadFilters = CaseloadFilters(), now: datetime | None = None,
                      page_size: int | None = PAGE_SIZE) -> CaseloadPage:
    """The caseload in call order, one page of it measured (``page_size=None``: every family).

    The same number of queries whatever the caseload's size: the index (one query over every
    matching family), the page's families, then engagement.measure_families for those alone.
    A page past the end shows the last page.
    """
    now = now or utcnow()
    entries = rank_caseload(caseload_index(_scoped(Family.select(), user, filters), now), now)
    counts = status_counts(entry.status for entry in entries)
    flags = {"support": sum(entry.group == "support" for entry in entries),
             "next_step_due": sum(entry.group == "next_step_due" for entry in entries)}
    if filters.status:
        entries = [entry for entry in entries if entry.status == filters.status]
    size = page_size or max(1, len(entries))
    pages = max(1, -(-len(entries) // size))
    page = min(max(1, filters.page), pages)
    chosen = [entry.family_id for entry in entries[(page - 1) * size:page * size]]
    rows = measure_families(_families(user, chosen), now=now) if chosen else []
    return CaseloadPage(rows, counts, flags, len(entries), page, pages)


def worker_choices() -> list[User]:
    """The people a family can be assigned to, for the admin's worker filter."""
    return list(User.select().where(User.role.in_(("worker", "admin")))
                .order_by(User.name, User.email))


# --- a family's settings and timeline --------------------------------------------------------------

def schedule_words(family: Family) -> str:
    """The prompt days in words: "Every day", "Weekdays" or "Mon, Wed, Fri"."""
    days = sorted({int(ch) for ch in family.days_of_week if ch.isdigit()})
    if len(days) == 7:
        return _("Every day")
    if days == [0, 1, 2, 3, 4]:
        return _("Weekdays")
    names = get_day_names("abbreviated", locale=language())  # Mon · lun
    return ", ".join(names[d] for d in days) or _("No days chosen")


def push_failure_words(code: int | None, error: str | None, parent: str = "the parent") -> Reason:
    """Why a push failed and what to do next, in words a worker can repeat to a parent (the push
    service's answer stays in brackets for whoever fixes servers)."""
    if code in (404, 410):
        return Reason(N_("This phone stopped accepting notifications (it was reset, or reminders were turned off; "
                         "the push service said %(code)s). Ask %(name)s to open Attune and turn reminders on "
                         "again."), code=code, name=parent)
    if code == 429:
        return Reason(N_("The push service asked us to slow down (429). Attune tries again by itself; nothing to "
                         "do."))
    if code in (401, 403):
        return Reason(N_("The push service refused our sending key (%(code)s). Nothing %(name)s can fix: tell "
                         "your administrator, and call if it matters today."), code=code, name=parent)
    if code == 413:
        return Reason(N_("The message was too large for the push service (413). Tell your administrator."))
    if code is not None and code >= 500:
        return Reason(N_("The push service was having problems (%(code)s). Attune tries again until the day "
                         "ends; nothing to do unless it keeps happening."), code=code)
    if code is not None:
        return Reason(N_("The push service turned the message away (%(code)s). If it happens again, ask "
                         "%(name)s to turn reminders off and on again in Attune's settings."), code=code, name=parent)
    if error:
        return Reason(N_("We couldn't reach the push service (%(error)s). Attune tries again; nothing to do."),
                      error=error)
    return Reason(N_("No reason was recorded."))


@dataclass
class DeliveryEvent:
    """A day's prompt and what happened to it."""

    delivery: Delivery
    headline: str
    detail: str  # a Reason: English for the CSV, .shown() on the page
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
    by: str = ""  # the caregiver who made it (a household may have several)


@dataclass
class TimelineDay:
    day: date
    delivery: DeliveryEvent | None = None
    checkins: list[CheckInEvent] = field(default_factory=list)


def _delivery_event(delivery: Delivery, tz: str, linked: set[int], parent: str) -> DeliveryEvent:
    status = delivery.status

    def at(moment: datetime | None) -> datetime | None:
        return local_time(moment, tz) if moment else None

    event = DeliveryEvent(delivery, "", "", "ok", at(delivery.sent_at), at(delivery.opened_at),
                          delivery.id in linked)
    if status == "sent":
        event.headline = N_("Delivered")  # English (the CSV); the page shows it through _
        event.detail = Reason(N_("Sent %(time)s"), time=f"{event.sent_at:%H:%M}") if event.sent_at else \
            Reason(N_("Sent"))
    elif status == "pending" and delivery.snoozes and delivery.sent_at:
        # "Later" on the notification: sent once, and pushed again at next_attempt_at.
        event.headline, event.tone = N_("Later"), "wait"
        event.detail = Reason(N_("Sent %(time)s; %(name)s tapped Later, so it comes again at %(again)s"),
                              time=f"{event.sent_at:%H:%M}", name=parent, again=f"{at(delivery.next_attempt_at):%H:%M}")
    elif status == "pending":
        event.headline, event.tone = N_("Due"), "wait"
        event.detail = Reason(N_("Due at %(time)s"), time=f"{at(delivery.due_at):%H:%M}")
    elif status == "sending":
        event.headline, event.tone, event.detail = N_("Sending"), "wait", Reason(N_("Being sent now"))
    elif status == "no_device":
        event.headline, event.tone = N_("No device"), "warn"
        event.detail = Reason(N_("Not sent: no working device, so the prompt waited in the app. Ask %(name)s to "
                                 "open Attune and turn reminders on."), name=parent)
    elif status == "failed":
        event.headline, event.tone = N_("Failed"), "bad"
        event.detail = Reason(N_("Not sent. %(why)s"),
                              why=push_failure_words(delivery.last_status_code, delivery.last_error, parent))
    else:
        event.headline, event.tone = N_("Expired"), "bad"
        event.detail = Reason(N_("Not delivered before the day ended"))
        if delivery.last_status_code or delivery.last_error:
            event.detail = Reason(N_("Not delivered before the day ended. Last try: %(why)s"),
                                  why=push_failure_words(delivery.last_status_code, delivery.last_error, parent))
    return event


def _answer_label(prompt: Prompt | None, answer: int | None) -> str | None:
    answers = (prompt.answers or []) if prompt is not None and prompt.id else []
    if answer is None or not 0 <= answer < len(answers):
        return None
    return answers[answer].get("label")


def family_timeline(family: Family, days: int | None = 28, now: datetime | None = None,
                    zone: str | None = None) -> list[TimelineDay]:
    """Deliveries and check-ins merged by the family's local day, newest first (``days=None``: all);
    times are shown in ``zone`` (the worker's own), else the family's."""
    now = now or utcnow()
    tz = family.timezone
    shown = zone or tz
    start = local_date(now, tz) - timedelta(days=days - 1) if days else None
    deliveries = (Delivery.select(Delivery, Prompt.id, Prompt.title, Prompt.theme)
                  .join(Prompt, JOIN.LEFT_OUTER).where(Delivery.family == family.id))
    shared_note = Case(None, [(CheckIn.shared_with_worker == True, CheckIn.note)], None)  # noqa: E712
    checkins = (CheckIn.select(CheckIn.id, CheckIn.delivery, CheckIn.tried, CheckIn.felt, CheckIn.answer,
                               CheckIn.shared_with_worker, CheckIn.wants_support, CheckIn.client_created_at,
                               CheckIn.received_at, CheckIn.user, shared_note.alias("shared_note"),
                               Prompt.id, Prompt.title, Prompt.answers)
                .join(Prompt, JOIN.LEFT_OUTER).where(CheckIn.family == family.id))
    if start:
        deliveries = deliveries.where(Delivery.local_date >= start)
        checkins = checkins.where(CheckIn.received_at >= datetime.combine(start, datetime.min.time())
                                  - timedelta(days=1))
    checkins = list(checkins)
    names = {person.id: person.label for person in caregivers(family)}
    linked = {c.delivery_id for c in checkins if c.delivery_id}
    by_day: dict[date, TimelineDay] = {}
    for delivery in deliveries:
        by_day.setdefault(delivery.local_date, TimelineDay(delivery.local_date)).delivery = \
            _delivery_event(delivery, shown, linked, family.display_name)
    for checkin in checkins:
        moment = made_at(checkin.client_created_at, checkin.received_at)
        day = local_date(moment, tz)
        if start and day < start:
            continue
        by_day.setdefault(day, TimelineDay(day)).checkins.append(CheckInEvent(
            checkin=checkin, at=local_time(moment, shown), tried=TRIED_WORDS.get(checkin.tried, checkin.tried),
            answer=_answer_label(checkin.prompt, checkin.answer), felt=FELT_WORDS.get(checkin.felt),
            note=checkin.shared_note or None,
            prompt_title=checkin.prompt.title if checkin.prompt is not None and checkin.prompt.id else None,
            by=names.get(checkin.user_id, "")))
    for entry in by_day.values():
        entry.checkins.sort(key=lambda event: event.at)
    return [by_day[day] for day in sorted(by_day, reverse=True)]


def shared_note_count(timeline: list[TimelineDay]) -> int:
    """How many shared notes a timeline shows (each showing is audited)."""
    return sum(1 for entry in timeline for event in entry.checkins if event.note)


# --- support requests ------------------------------------------------------------------------------

def support_requests(family: Family) -> list[SupportRequest]:
    """The family's support requests, open ones first, then newest first; ``checkin_note`` is the
    note of the check-in that asked, when the parent shared it with their worker (else None)."""
    by = User.alias("followed_up_by")
    asked_in = CheckIn.alias("asked_in")
    shared = Case(None, [(asked_in.shared_with_worker == True, asked_in.note)], None)  # noqa: E712
    return list(SupportRequest.select(SupportRequest, by, shared.alias("checkin_note"))
                .join(by, JOIN.LEFT_OUTER, on=(SupportRequest.followed_up_by == by.id))
                .switch(SupportRequest)
                .join(asked_in, JOIN.LEFT_OUTER, on=(SupportRequest.checkin == asked_in.id))
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
