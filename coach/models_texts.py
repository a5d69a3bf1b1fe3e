"""Text-message tables (DESIGN "Reach → Text messages"): the outbox of texts and the record of texts
received. Imported by ``coach.models`` (use them from there)."""
from __future__ import annotations

from peewee import CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from .models import BaseModel, Delivery, User, utcnow

#: What a text is for: the day's prompt, the opt-in confirmation, an answer to a reply (thanks),
#: the HELP answer, the STOP confirmation (and START's), a test from ``send-test-sms``.
TEXT_KINDS = ("prompt", "confirm", "reply", "help", "stop", "test")
#: The outbox's own states; the provider's (queued, sent, delivered, undelivered …) is in ``provider_status``.
TEXT_STATUSES = ("pending", "sending", "sent", "failed", "expired", "cancelled")


class TextMessage(BaseModel):
    """One text to one person: queued in the transaction of its cause, sent by the scheduler's tick
    (claimed under a lease like every outbox), its provider's delivery reports recorded."""

    user = ForeignKeyField(User, backref="texts", on_delete="CASCADE")
    delivery = ForeignKeyField(Delivery, null=True, backref="texts", on_delete="CASCADE")
    kind = CharField(max_length=8)  # TEXT_KINDS
    # One text per cause: "prompt:<delivery>:<user>" (the per-day cap), "reply:<MessageSid>", …
    dedupe_key = CharField(max_length=120, unique=True)
    local_date = DateField(null=True)  # prompts: the family's day, so a text is never sent past its window
    to = CharField(max_length=20)  # E.164
    body = TextField()
    segments = IntegerField(default=1)
    status = CharField(max_length=10, default="pending")  # TEXT_STATUSES
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow)
    lease_until = DateTimeField(null=True)
    provider_sid = CharField(max_length=64, null=True, unique=True)
    provider_status = CharField(max_length=20, null=True)
    last_status_code = IntegerField(null=True)
    error = CharField(max_length=300, null=True)
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)
    status_at = DateTimeField(null=True)  # the provider's last delivery report

    class Meta:
        indexes = ((("status", "next_attempt_at"), False), (("user", "created_at"), False))


class TextInbound(BaseModel):
    """A text received from a known number, stored once per ``MessageSid`` (Twilio may retry a
    webhook): what it was taken as, so a replay changes nothing."""

    message_sid = CharField(max_length=64, unique=True)
    user = ForeignKeyField(User, backref="texts_received", on_delete="CASCADE")
    kind = CharField(max_length=8)  # answer | note | stop | start | help
    body = TextField(default="")
    received_at = DateTimeField(default=utcnow)
