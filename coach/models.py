"""Peewee models (DESIGN.md "Data") and their small query helpers.

All timestamps are naive UTC datetimes; a family's local dates and times are computed with
``zoneinfo`` from ``Family.timezone`` where they are needed.
"""
from __future__ import annotations

import json
import secrets
import time
import uuid
from datetime import UTC, datetime

from peewee import (
    SQL,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    SmallIntegerField,
    TextField,
    UUIDField,
)

from .db import db

ROLES = ("parent", "worker", "admin")
THEMES = ("cues", "rupture", "repair")
#: How each theme is named to people (pages, journal, API); templates see it as ``theme_names``.
THEME_NAMES = {"cues": "Noticing cues", "rupture": "Out of sync", "repair": "Coming back together"}
PROMPT_STATUSES = ("draft", "published", "retired")
DELIVERY_STATUSES = ("pending", "sending", "sent", "no_device", "failed", "expired")
#: A delivery carries the day's prompt, or (the last prompt day of the family's week) the weekly
#: reflection: a look back at the week in the parent's own answers (services/programme/reflection.py).
DELIVERY_KINDS = ("prompt", "reflection")
# "no_chance": the moment didn't come up today — never counted as not trying (CONTENT.md).
TRIED_CHOICES = ("yes", "not_yet", "no_chance", "skip")
#: ``CheckIn.tried`` of the parent's answer to a weekly reflection's question (never a prompt's
#: answer, so not one of TRIED_CHOICES: the check-in API doesn't take it).
REFLECTED = "reflected"
#: The programme's strands (CONTENT.md "Second release"), each taught in one week of the six-week arc.
STRAND_WEEKS = {"watching-cues": 1, "presence": 1, "delight": 2, "mirroring": 2, "wondering": 3,
                "noticing-rupture": 4, "own-state": 4, "repair-moves": 5, "co-regulation": 5,
                "triggers": 6, "self-kindness": 6, "good-enough": 6}
STRANDS = tuple(STRAND_WEEKS)
#: How each strand is named to people ("Week 3 · Wondering").
STRAND_NAMES = {"watching-cues": "Watching cues", "presence": "Being there", "delight": "Delight",
                "mirroring": "Mirroring", "wondering": "Wondering", "noticing-rupture": "Noticing rupture",
                "own-state": "Your own state", "repair-moves": "Repair", "co-regulation": "Calming together",
                "triggers": "Triggers", "self-kindness": "Self-kindness", "good-enough": "Good enough"}
#: When the moment to try happens; a prompt is sent only when it fits the family's window.
MOMENTS = ("morning", "day", "evening", "bedtime", "any")
#: A prompt saved before strands existed counts as its theme's strand (migration v8 and imports).
THEME_STRANDS = {"cues": "watching-cues", "rupture": "noticing-rupture", "repair": "repair-moves"}


def utcnow() -> datetime:
    """The current time as a naive UTC datetime (how every timestamp is stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


class JSONField(TextField):
    """JSON stored as text, so SQLite and PostgreSQL behave the same."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = IntegerField()
    applied_at = DateTimeField(default=utcnow)


def new_session_token() -> str:
    """A fresh value for ``User.session_token``; changing it signs the user out everywhere."""
    return secrets.token_hex(16)


#: How a parent's daily prompt reaches them: by Web Push only, by text message instead, or by text
#: only when no device took the day's push (services/delivery/texts.py).
CHANNELS = ("push", "sms", "push_then_sms")
#: The languages Attune speaks (DESIGN "Reach → Languages"); the first is the default.
LANGUAGES = ("en", "es")


class User(BaseModel):
    email = CharField(max_length=254, unique=True)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=10, choices=[(r, r) for r in ROLES], index=True)
    name = CharField(max_length=80, default="")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    # Part of the id in every session and remember-me cookie: a new value ends them all.
    session_token = CharField(max_length=32, default=new_session_token)
    # E.164 ("+447911123456") or "" when not given; parsed with phonenumbers (families/phones.py).
    phone = CharField(max_length=20, default="")
    # Staff only: the IANA zone their pages show times in ("" = the family's own zone / UTC).
    timezone = CharField(max_length=64, default="")
    # "en" or "es" (LANGUAGES): the language of this person's pages, pushes, emails and texts.
    # Each caregiver, worker and admin chooses their own.
    language = CharField(max_length=5, default="en")
    # Text messages (DESIGN "Reach → Text messages"): when the person agreed to get texts (None: no
    # texts, or STOP was sent), and how prompts reach them: push | sms | push_then_sms (CHANNELS).
    sms_opt_in_at = DateTimeField(null=True)
    channel = CharField(max_length=13, default="push")

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # The sign-in time rides along so the server can refuse a cookie older than its lifetime.
        signed_in = getattr(self, "signed_in_at", None) or int(time.time())
        return f"{self.id}:{self.session_token}:{signed_in}"

    @property
    def label(self) -> str:
        """How the person is named on screens: their name, else their email."""
        return self.name or self.email

    @classmethod
    def by_email(cls, email: str) -> User | None:
        return cls.get_or_none(cls.email == email.strip().lower())


class Family(BaseModel):
    # The household's first caregiver, the worker's main contact (caseload call button, search).
    # Every caregiver, this one included, has a ``Caregiver`` row: read the household with
    # ``services/families/household.caregivers``; when this one leaves, the next becomes the contact.
    user = ForeignKeyField(User, backref="families", unique=True, on_delete="CASCADE")
    worker = ForeignKeyField(User, backref="caseload", null=True, on_delete="SET NULL")
    display_name = CharField(max_length=80)
    child_name = CharField(max_length=60, null=True)
    child_birth_month = CharField(max_length=7)  # YYYY-MM
    timezone = CharField(max_length=64)
    window_start = CharField(max_length=5)  # HH:MM local
    window_end = CharField(max_length=5)
    days_of_week = CharField(max_length=7, default="0123456")  # Monday=0 … Sunday=6
    paused_until = DateField(null=True)
    share_notes_default = BooleanField(default=False)
    next_due_at = DateTimeField(null=True, index=True)
    created_at = DateTimeField(default=utcnow)
    # ISO 3166-1 alpha-2 ("" = not known): which emergency number and helplines /help shows first.
    country = CharField(max_length=2, default="")
    # Notifications say only "A moment for today is ready"; the prompt shows once the app opens.
    discreet = BooleanField(default=False)
    # Selection's memory, written by the planner with each delivery: "<local date ordinal>:<prompt
    # id>" for the prompts sent in the last REPEAT_DAYS, oldest first, so a busy tick never reads
    # delivery history (services/programme/selection.py).
    recent_prompts = TextField(default="")

    @property
    def child_label(self) -> str:
        """The child's name, or "your child" (the ``{child}`` placeholder's fallback)."""
        return self.child_name or "your child"

    def age_months(self, on: datetime | None = None) -> int:
        """The child's age in whole months on a date (today by default)."""
        on = on or utcnow()
        year, month = (int(part) for part in self.child_birth_month.split("-"))
        return max(0, (on.year - year) * 12 + (on.month - month))


#: A household has at most this many caregivers (DESIGN "Reach → Household").
MAX_CAREGIVERS = 4


class Caregiver(BaseModel):
    """One person in a family's household: their own login, devices, check-ins, journal and streak;
    the child, schedule, window and deliveries stay the family's."""

    family = ForeignKeyField(Family, backref="caregiver_rows", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="caregiver_rows", unique=True, on_delete="CASCADE")
    joined_at = DateTimeField(default=utcnow)
    # Agreed to "<name> checked in too today" on home (no content); shown only when both agreed.
    share_presence = BooleanField(default=False)


class HouseholdInvite(BaseModel):
    """A single-use link a caregiver makes for another to join their household (hash only stored)."""

    token_hash = CharField(max_length=64, unique=True)
    family = ForeignKeyField(Family, backref="household_invites", on_delete="CASCADE")
    invited_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    used_by = ForeignKeyField(User, null=True, on_delete="SET NULL")


class PushSubscription(BaseModel):
    user = ForeignKeyField(User, backref="push_subscriptions", on_delete="CASCADE")
    endpoint = TextField(unique=True)
    p256dh = CharField(max_length=200)
    auth = CharField(max_length=100)
    user_agent = CharField(max_length=300, default="")
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    last_ok_at = DateTimeField(null=True)
    error_count = IntegerField(default=0)
    first_error_at = DateTimeField(null=True)


class PushOptOut(BaseModel):
    """A device whose parent turned "Reminders on this phone" off: its endpoint (as a SHA-256, so
    nothing that can be pushed to is kept) is never stored again by an app open, only by a tap on
    "Turn on" (``"resubscribe": true``)."""

    user = ForeignKeyField(User, backref="push_opt_outs", on_delete="CASCADE")
    endpoint_hash = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "endpoint_hash"), True),)


class Prompt(BaseModel):
    theme = CharField(max_length=10, choices=[(t, t) for t in THEMES], index=True)
    skill = CharField(max_length=40)
    age_min_months = SmallIntegerField(default=0)
    age_max_months = SmallIntegerField(default=60)  # exclusive
    title = CharField(max_length=40)
    body = CharField(max_length=140)
    question = CharField(max_length=140)
    answers = JSONField()  # [{"label": str, "tried": "yes"|"not_yet"|"no_chance", "hard"?: bool}]
    why = CharField(max_length=300, default="")
    strand = CharField(max_length=20, default="watching-cues")  # STRANDS
    moment = CharField(max_length=8, default="any")  # MOMENTS
    week = SmallIntegerField(default=1)  # 1–6: its strand's week in the band's arc
    pairs_with = CharField(max_length=40, default="")  # rupture prompts: the skill of their repair
    status = CharField(max_length=10, default="draft", index=True)
    version = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    @classmethod
    def published(cls):
        return cls.select().where(cls.status == "published")


class PromptRevision(BaseModel):
    prompt = ForeignKeyField(Prompt, backref="revisions", on_delete="CASCADE")
    version = IntegerField()
    editor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    summary = CharField(max_length=200, default="")
    data = JSONField()  # the prompt's fields as saved

    class Meta:
        indexes = ((("prompt", "version"), True),)


class PromptTranslation(BaseModel):
    """A prompt written in another language (DESIGN "The programme"): its own title, body,
    question, answer labels (in the English answers' order) and why. The answers' kinds stay the
    English prompt's. A prompt without one is never sent to a family that needs that language."""

    prompt = ForeignKeyField(Prompt, backref="translations", on_delete="CASCADE")
    language = CharField(max_length=5)  # LANGUAGES other than "en"
    title = CharField(max_length=60)
    body = CharField(max_length=200)
    question = CharField(max_length=200)
    answers = JSONField()  # [label, …] in the English answers' order
    why = CharField(max_length=400, default="")
    updated_at = DateTimeField(default=utcnow)
    # Who last saved it: None when init-db loaded it from coach/data/translations/.
    editor = ForeignKeyField(User, null=True, on_delete="SET NULL")

    class Meta:
        indexes = ((("prompt", "language"), True),)


class Delivery(BaseModel):
    family = ForeignKeyField(Family, backref="deliveries", on_delete="CASCADE")
    local_date = DateField()
    prompt = ForeignKeyField(Prompt, null=True, on_delete="SET NULL")
    prompt_version = IntegerField(null=True)
    theme = CharField(max_length=10, null=True)
    due_at = DateTimeField()
    expires_at = DateTimeField()  # end of the family's local day, UTC
    status = CharField(max_length=10, default="pending")
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField()
    lease_until = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    opened_at = DateTimeField(null=True)
    last_status_code = IntegerField(null=True)
    last_error = CharField(max_length=300, null=True)
    created_at = DateTimeField(default=utcnow)
    # "Later" taps: each pushes it again an hour on (max 2). A database default too: planning
    # inserts rows with its own column list (scheduling.INSERT_FIELDS).
    snoozes = SmallIntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    # DELIVERY_KINDS; a reflection has no prompt. A database default too, as for ``snoozes``.
    kind = CharField(max_length=10, default="prompt", constraints=[SQL("DEFAULT 'prompt'")])

    class Meta:
        indexes = (
            (("family", "local_date"), True),
            (("status", "next_attempt_at"), False),
            # Choosing a prompt asks when each candidate was last sent to the family: one seek.
            (("family", "prompt", "local_date"), False),
        )


class CheckIn(BaseModel):
    id = UUIDField(primary_key=True, default=uuid.uuid4)  # the client's UUID: the idempotency key
    family = ForeignKeyField(Family, backref="checkins", on_delete="CASCADE")
    # The caregiver who made it: their journal, streak and notes (null only while migrating).
    user = ForeignKeyField(User, null=True, backref="checkins", on_delete="CASCADE")
    delivery = ForeignKeyField(Delivery, null=True, backref="checkins", on_delete="SET NULL")
    prompt = ForeignKeyField(Prompt, null=True, on_delete="SET NULL")
    answer = SmallIntegerField(null=True)  # index into the prompt's answers
    tried = CharField(max_length=10)  # TRIED_CHOICES
    felt = SmallIntegerField(null=True)
    note = TextField(null=True)
    shared_with_worker = BooleanField(default=False)
    wants_support = BooleanField(default=False)
    client_created_at = DateTimeField()
    received_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        # Planning reads each due family's latest check-in: a seek, whatever the family's history;
        # with when it was made, the caseload reads recent check-in days from the index alone.
        indexes = ((("family", "received_at", "client_created_at"), False),)


SUPPORT_SOURCES = ("help", "checkin", "low_mood")
SAFE_ANSWERS = ("yes", "no", "unsure")


class SupportRequest(BaseModel):
    """A parent asked for their family worker to get in touch; the worker marks it followed up."""

    family = ForeignKeyField(Family, backref="support_requests", on_delete="CASCADE")
    checkin = ForeignKeyField(CheckIn, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    followed_up_at = DateTimeField(null=True)
    followed_up_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    follow_up_note = TextField(null=True)
    # Who asked (a household may have several caregivers), from where, and how safe they said they were.
    user = ForeignKeyField(User, null=True, backref="support_requests", on_delete="SET NULL")
    source = CharField(max_length=10, default="checkin")  # help | checkin | low_mood
    safe = CharField(max_length=6, null=True)  # yes | no | unsure; null when not asked
    urgent = BooleanField(default=False)  # safe was "no" or "unsure": the duty address is told too
    note = TextField(null=True)  # the parent's words for their worker (≤ 500), never in an email
    respond_by = DateTimeField(null=True)  # created_at + COACH_SUPPORT_RESPONSE_HOURS
    escalated_at = DateTimeField(null=True, index=True)


class Invite(BaseModel):
    token_hash = CharField(max_length=64, unique=True)
    worker = ForeignKeyField(User, backref="invites", on_delete="CASCADE")
    label = CharField(max_length=80, default="")
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)
    family = ForeignKeyField(Family, null=True, on_delete="SET NULL")

    @property
    def state(self) -> str:
        """One of ``pending``, ``used``, ``revoked``, ``expired``."""
        if self.used_at:
            return "used"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= utcnow():
            return "expired"
        return "pending"


class PasswordReset(BaseModel):
    token_hash = CharField(max_length=64, unique=True)
    user = ForeignKeyField(User, on_delete="CASCADE")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)


class SupportResource(BaseModel):
    name = CharField(max_length=120)
    description = CharField(max_length=300, default="")
    phone = CharField(max_length=40, default="")
    url = CharField(max_length=300, default="")
    hours = CharField(max_length=120, default="")
    region = CharField(max_length=120, default="")
    position = IntegerField(default=0)
    active = BooleanField(default=True)
    country = CharField(max_length=2, default="*", index=True)  # ISO alpha-2, or "*" for everywhere
    kind = CharField(max_length=14, default="other")  # RESOURCE_KINDS
    text = CharField(max_length=120, default="")  # how to reach them by text message, if they offer it
    source_url = CharField(max_length=300, default="")  # the organisation's page the number came from
    # Languages the service answers in besides English ("es"), as its own page says (that page in
    # languages_source_url): a Spanish-speaking parent sees those first.
    languages = CharField(max_length=20, default="")
    languages_source_url = CharField(max_length=300, default="")
    checked_on = DateField(null=True)  # when that page was last checked


RESOURCE_KINDS = ("emergency", "crisis", "parenting", "abuse", "mental_health", "other")


class MailMessage(BaseModel):
    """The email outbox: written in the same transaction as its cause, sent by the scheduler tick."""

    to_address = CharField(max_length=254)
    subject = CharField(max_length=200)
    body = TextField()
    kind = CharField(max_length=20)  # alert | urgent | escalation | reset | test | …
    dedupe_key = CharField(max_length=120, null=True, unique=True)  # one email per cause and address
    status = CharField(max_length=10, default="pending")  # pending | sending | sent | failed
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow)
    lease_until = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    last_error = CharField(max_length=300, null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("status", "next_attempt_at"), False),)


class StaffAlert(BaseModel):
    """A Web Push to a worker's (or the duty admin's) own devices about a support request."""

    user = ForeignKeyField(User, backref="alerts", on_delete="CASCADE")
    support_request = ForeignKeyField(SupportRequest, backref="alerts", on_delete="CASCADE")
    kind = CharField(max_length=12, default="alert")  # alert | urgent | escalation
    status = CharField(max_length=10, default="pending")  # pending | sending | sent | no_device | failed
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow)
    lease_until = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("user", "support_request", "kind"), True),
            (("status", "next_attempt_at"), False),
        )


CONTACT_KINDS = ("call", "text", "visit", "message", "other")
CONTACT_OUTCOMES = ("reached", "no_answer", "left_message", "other")


class ContactLog(BaseModel):
    """A worker's call, text, visit or message to a family, and what comes next."""

    family = ForeignKeyField(Family, backref="contacts", on_delete="CASCADE")
    worker = ForeignKeyField(User, null=True, on_delete="SET NULL")
    kind = CharField(max_length=8)  # CONTACT_KINDS
    outcome = CharField(max_length=12)  # CONTACT_OUTCOMES
    note = TextField(default="")  # ≤ 1,000; workers only, never shown to the parent
    next_step_on = DateField(null=True)  # the worker's own date for the next contact
    created_at = DateTimeField(default=utcnow)

    class Meta:
        # The caseload reads each family's latest contact: a seek, whatever the family's history.
        indexes = ((("family", "created_at"), False),)


class AuditEvent(BaseModel):
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    action = CharField(max_length=60, index=True)
    target_type = CharField(max_length=30, default="")
    target_id = CharField(max_length=64, default="")
    detail = JSONField(null=True)
    ip = CharField(max_length=45, default="")
    created_at = DateTimeField(default=utcnow, index=True)


class LoginFailure(BaseModel):
    """One failed sign-in, counted per account and per IP address for throttling."""

    key = CharField(max_length=300)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("key", "created_at"), False),)


class SchedulerJob(BaseModel):
    """The scheduler's runs of one job (plan, send, care), for ``status``, ``/healthz`` and ``/metrics``:
    one row per job, shared by every scheduler process (counts add up, the last run wins)."""

    name = CharField(max_length=20, unique=True)
    started_at = DateTimeField(null=True)  # the last run's start
    finished_at = DateTimeField(null=True)
    seconds = FloatField(default=0)  # the last run's duration
    runs = IntegerField(default=0)
    failures = IntegerField(default=0)
    seconds_total = FloatField(default=0)
    totals = JSONField(default=dict)  # what every run did, summed: {"sent": n, …}
    latency = JSONField(null=True)  # send: push latency histogram {"le": [...], "counts": [...], "sum", "count"}
    last_error = CharField(max_length=300, null=True)


ALL_MODELS = [
    SchemaVersion,
    User,
    Family,
    Caregiver,
    HouseholdInvite,
    PushSubscription,
    PushOptOut,
    Prompt,
    PromptRevision,
    PromptTranslation,
    Delivery,
    CheckIn,
    SupportRequest,
    Invite,
    PasswordReset,
    SupportResource,
    AuditEvent,
    LoginFailure,
    MailMessage,
    StaffAlert,
    ContactLog,
    SchedulerJob,
]


# The text-message tables live in their own module (models_texts.py) to keep this one readable.
from .models_texts import TextInbound, TextMessage  # noqa: E402

ALL_MODELS += [TextMessage, TextInbound]
