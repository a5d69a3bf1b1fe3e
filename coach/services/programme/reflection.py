"""The weekly reflection (CONTENT.md "Coaching that answers back"): once a week the family's one
delivery is a look back at the week in the parent's own answers, with one open question whose
answer is a private note.

Decisions:

- **The family's week** is the programme week: seven days counted from enrolment (the UTC date of
  ``Family.created_at``, as :func:`selection.arc_week` counts the six-week arc), so "Week 3 ·
  Wondering" and the reflection speak of the same seven days.
- **The reflection day** is the last day of that week that is one of the family's
  ``days_of_week``: a daily family reflects on day 7, a Mon/Wed/Fri family on whichever of those
  comes last in its week. A pause is not looked ahead at: a paused last day gets no delivery at
  all, so that week has no reflection.
- **Nothing to summarise**: with no check-in on a prompt made in the week so far, the day's
  delivery is an ordinary prompt (a reflection of nothing would read as a reproach). The planner
  decides from the check-ins it already loads (:func:`has_checkins_this_week`): no extra query.
- **A reflection delivery** (``Delivery.kind == "reflection"``) has no prompt, so it never enters
  ``recent_prompts``; a paired repair still owed comes on the next prompt day.
- **The push** names the week, not its contents: "Your week with Sam" / "A look back at your week
  …". The parent's answers are private and a lock screen is not, so the summary itself shows only
  inside the app. Discreet mode says only "A moment for today is ready". The push opens
  ``/reflection/<delivery id>`` and offers only "Later" (there is nothing to "try").
- **The summary** uses the parent's own words: the answer labels they chose, on which days; the
  ideas they tried; a repair tried is named by its prompt ("On Thursday you came back together:
  …"); a hard moment is met kindly, never counted against them. "Not yet" and "didn't come up"
  are said to come round again.
- **The open question** follows the arc's week (:data:`QUESTIONS`), so the journal can show it
  again beside the answer. The answer is a check-in with ``tried = "reflected"`` and no prompt: one
  per reflection (its id derives from the delivery), private unless the parent ticks "share",
  editable for the journal's 7 days, ≤ 500 characters.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from peewee import IntegrityError

from ...db import db
from ...errors import AppError
from ...i18n import N_, _, day_words, in_language, language, ngettext
from ...inputs import text_problem
from ...models import REFLECTED, CheckIn, Delivery, Family, Prompt, User, utcnow
from .coaching import programme_place
from .selection import HARD_FELT, arc_day, arc_week, as_date
from .translations import fill_child_in, prompt_for_reader, translations_for

NOTE_MAX = 500
#: A reflection's answer has an id derived from its delivery, so a repeated save updates it.
ANSWER_NAMESPACE = uuid.UUID("0b7d1d2e-5c1a-4f53-8d0e-6a4f2c9e7b31")
#: The answer can be changed for as long as a journal entry can.
EDIT_DAYS = 7
PUSH_TITLE = N_("Your week with {child}")
PUSH_BODY = N_("A look back at your week, in your own answers, and one question for you.")
#: One open question per week of the arc, about what that week taught.
QUESTIONS = {
    1: N_("What did you notice about {child} this week that you hadn't seen before?"),
    2: N_("When did you and {child} enjoy each other most this week?"),
    3: N_("What do you wonder about {child} right now?"),
    4: N_("What helps you notice when you and {child} drift out of step?"),
    5: N_("What helped you and {child} find each other again this week?"),
    6: N_("What would you say to a friend who had your week?"),
}


# --- which day --------------------------------------------------------------------------------------

def week_start(enrolled: date | datetime | str | None, local_date: date) -> date:
    """The first day of the family's programme week holding ``local_date``."""
    return local_date - timedelta(days=arc_day(enrolled, local_date))


def is_reflection_day(family, local_date: date) -> bool:
    """Whether ``local_date`` is the last of the family's prompt days in its programme week.
    ``family`` is a Family or the planner's ``FamilySchedule`` (days_of_week, created_at)."""
    days = family.days_of_week or ""
    weekday = local_date.weekday()
    if str(weekday) not in days:
        return False
    left = 6 - arc_day(family.created_at, local_date)
    return not any(str((weekday + k) % 7) in days for k in range(1, left + 1))


def has_checkins_this_week(rows: list[tuple], family, local_date: date) -> bool:
    """Whether the planner's loaded check-ins (``selection.FamilyState.checkins``: received_at,
    client_created_at, prompt id, …) hold one on a prompt made in this programme week."""
    start = week_start(family.created_at, local_date)
    zone = ZoneInfo(family.timezone)
    for received, created, prompt_id, *_rest in rows:
        if prompt_id is not None and _local_day(min(created, received), zone) >= start:
            return True
    return False


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


def question_for(family: Family, local_date: date) -> str:
    """The open question of the reflection on ``local_date`` ({child} filled), in the reader's language."""
    return fill_child_in(_(QUESTIONS[arc_week(family.created_at, local_date)]), family.child_name, language())


def push_text(child_name: str | None, reader_language: str | None = "en") -> tuple[str, str]:
    """The reflection's notification title and body (not discreet), in ``reader_language`` (the
    recipient's ``User.language``: pushes and texts are written outside a request)."""
    with in_language(reader_language):
        code = language()
        return fill_child_in(_(PUSH_TITLE), child_name, code), _(PUSH_BODY)


# --- the summary ----------------------------------------------------------------------------------

@dataclass
class Moment:
    """One check-in of the week as the reflection tells it back."""

    day: date
    weekday: str
    title: str
    answer: str  # the label the parent chose, or what they said about trying
    tried: str
    repair: bool
    hard: bool
    hard_answer: bool = False  # the answer chosen was the prompt's "hard" one (not only a low feeling)


@dataclass
class Reflection:
    delivery: Delivery
    place: str
    start: date
    end: date
    moments: list[Moment] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    question: str = ""
    answer: CheckIn | None = None

    @property
    def editable(self) -> bool:
        return self.answer is None or _can_change(self.answer)


def _hard(prompt: Prompt, answer: int | None, felt: int | None) -> bool:
    if prompt.theme != "rupture":
        return False
    if felt is not None and felt <= HARD_FELT:
        return True
    answers = prompt.answers or []
    return answer is not None and 0 <= answer < len(answers) and bool(answers[answer].get("hard"))


TRIED_WORDS = {"yes": N_("Tried it"), "not_yet": N_("Not yet"), "no_chance": N_("The moment didn't come up"),
               "skip": N_("Skipped")}


def week_moments(family: Family, user: User, start: date, end: date) -> list[Moment]:
    """Caregiver ``user``'s own check-ins on prompts made between ``start`` and ``end`` (local
    dates), oldest first, each with the answer label they chose (never another caregiver's), in
    the reader's language (the prompt's translation when it has one)."""
    zone = ZoneInfo(family.timezone)
    since = datetime.combine(start - timedelta(days=1), datetime.min.time())
    rows = list(CheckIn.select(CheckIn, Prompt).join(Prompt)
                .where(CheckIn.family == family, CheckIn.user == user.id, CheckIn.received_at >= since,
                       CheckIn.tried != REFLECTED)
                .order_by(CheckIn.client_created_at))
    reader = language()
    translated = translations_for({checkin.prompt_id for checkin in rows}, reader) if rows else {}
    moments = []
    for checkin in rows:
        made = min(checkin.client_created_at, checkin.received_at)
        day = _local_day(made, zone)
        if not start <= day <= end:
            continue
        prompt = checkin.prompt
        text = prompt_for_reader(prompt, reader, family.child_name, translated.get(prompt.id))
        tried = TRIED_WORDS.get(checkin.tried)
        label = (text.answers[checkin.answer] if checkin.answer is not None
                 and 0 <= checkin.answer < len(text.answers) else (_(tried) if tried else ""))
        moments.append(Moment(day=day, weekday=day_words(day, "weekday"), title=text.title,
                              answer=label, tried=checkin.tried,
                              repair=prompt.theme == "repair" and checkin.tried == "yes",
                              hard=_hard(prompt, checkin.answer, checkin.felt),
                              hard_answer=_hard(prompt, checkin.answer, None)))
    return moments


def summary(moments: list[Moment], child: str) -> list[str]:
    """A kind account of the week in the parent's own answers, in their language; never a count of
    what was missed."""
    if not moments:
        return [_("This week was a quiet one here, and that's fine. Looking back is enough.")]
    days = len({m.day for m in moments})
    sentences = [ngettext("You checked in on one day this week, making room for %(child)s.",
                          "You checked in on %(num)d days this week, making room for %(child)s.",
                          days, child=child)]
    for moment in moments:
        if moment.repair:
            sentences.append(_("On %(day)s you came back together: “%(title)s”. You said “%(answer)s”. That is the repair that matters.",
                               day=moment.weekday, title=moment.title, answer=moment.answer))
    for moment in moments:
        if moment.hard and moment.hard_answer:
            sentences.append(_("On %(day)s a moment felt hard, and you said so: “%(answer)s”. Noticing it is where coming back begins.",
                               day=moment.weekday, answer=moment.answer))
        elif moment.hard:
            sentences.append(_("On %(day)s a moment felt hard. Noticing it is where coming back begins.",
                               day=moment.weekday))
    tried = [m for m in moments if m.tried == "yes" and not m.repair]
    if tried:
        names = ", ".join(_("“%(title)s” on %(day)s", title=m.title, day=m.weekday) for m in tried[:3])
        sentences.append(_("You tried %(names)s.", names=names))
    if any(m.tried in ("not_yet", "no_chance") for m in moments):
        sentences.append(_("Some ideas didn't fit this week. They will come round again; that is how it's meant to work."))
    return sentences


def answer_id(delivery: Delivery, user: User) -> uuid.UUID:
    """The id of ``user``'s answer to a reflection: each caregiver answers for themselves."""
    return uuid.uuid5(ANSWER_NAMESPACE, f"reflection:{delivery.id}:{user.id}")


def own_reflection(family: Family, delivery_id: int) -> Delivery:
    """The family's reflection delivery; AppError 404 for anyone else's or for a prompt."""
    delivery = Delivery.get_or_none(Delivery.id == delivery_id, Delivery.family == family,
                                    Delivery.kind == "reflection")
    if delivery is None:
        raise AppError(404, N_("We couldn't find that weekly reflection among yours."), code="not_found")
    return delivery


def build_reflection(family: Family, delivery: Delivery, user: User) -> Reflection:
    """The reflection page's content for one reflection delivery, in ``user``'s own answers."""
    end = as_date(delivery.local_date)
    start = week_start(family.created_at, end)
    moments = week_moments(family, user, start, end)
    return Reflection(delivery=delivery, place=programme_place(family, end), start=start, end=end,
                      moments=moments, sentences=summary(moments, family.child_name or _("your child")),
                      question=question_for(family, end),
                      answer=CheckIn.get_or_none(CheckIn.id == answer_id(delivery, user)))


def latest_reflection(family: Family, today: date) -> Delivery | None:
    """The family's reflection of the last seven days, if any (the journal and home link it)."""
    return (Delivery.select().where(Delivery.family == family, Delivery.kind == "reflection",
                                    Delivery.local_date <= today,
                                    Delivery.local_date > today - timedelta(days=7))
            .order_by(Delivery.local_date.desc()).first())


# --- the answer -----------------------------------------------------------------------------------

def _can_change(checkin: CheckIn, now: datetime | None = None) -> bool:
    return (now or utcnow()) - checkin.client_created_at <= timedelta(days=EDIT_DAYS)


def parse_answer(text: object) -> str:
    """The answer as saved; AppError 422 (with ``fields["note"]``) for empty, too long or odd text."""
    note = text.strip() if isinstance(text, str) else ""
    problem = None
    if not note:
        problem = N_("Write a few words first, or come back to this later.")
    elif len(note) > NOTE_MAX:
        problem = _("Keep your answer to %(most)d characters or fewer (it has %(count)d).", most=NOTE_MAX, count=len(note))
    elif text_problem(note):
        problem = text_problem(note)
    if problem:
        raise AppError(422, problem, fields={"note": problem})
    return note


def save_answer(family: Family, delivery: Delivery, user: User, text: object, shared: bool,
                now: datetime | None = None) -> CheckIn:
    """Save (or change) the answer to the reflection's question as the parent's private note;
    shared with the worker only when ``shared``. AppError 422 for bad text, 409 when too old."""
    note = parse_answer(text)
    now = now or utcnow()
    key = answer_id(delivery, user)
    with db.atomic():
        existing = CheckIn.get_or_none(CheckIn.id == key)
        if existing is not None:
            if not _can_change(existing, now):
                raise AppError(409, _("Answers can be changed for %(days)d days; this one is older, so it stays as it is.",
                                      days=EDIT_DAYS), code="too_old")
            CheckIn.update(note=note, shared_with_worker=shared).where(CheckIn.id == key).execute()
            return CheckIn.get_by_id(key)
        try:
            with db.atomic():
                return CheckIn.create(id=key, family=family, user=user, delivery=delivery, prompt=None,
                                      tried=REFLECTED, note=note, shared_with_worker=shared,
                                      client_created_at=now, received_at=now)
        except IntegrityError:  # the same answer saved twice at once: the later one wins
            CheckIn.update(note=note, shared_with_worker=shared).where(CheckIn.id == key).execute()
            return CheckIn.get_by_id(key)
