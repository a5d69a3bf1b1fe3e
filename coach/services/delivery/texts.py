"""Text messages, the words and the queue (DESIGN "Reach → Text messages"): what a prompt text
says, how many SMS segments it costs, who gets one today, and the outbox rows (``TextMessage``).

Sending (Twilio's Messages API) is ``sms.py``; replies coming back are ``families/text_replies.py``.

Who gets a prompt text, decided at each send tick (``queue_prompt_texts``), for a delivery whose
time has come (``due_at`` passed) while the family's window is still open:

- ``sms``: always, at the delivery's due time (the push path leaves such a person's devices alone);
- ``push_then_sms``: only when no device took the day's push: the delivery was never sent
  (``sent_at`` empty) and either the push path gave up (``no_device``, ``failed``) or the push is
  still not through ``COACH_SMS_FALLBACK_MINUTES`` (30) after the due time (retrying, or the sender
  is behind). A push that reached a device once (even a snoozed one) means no text.

Either way the person must have agreed (``User.sms_opt_in_at``, cleared by STOP) and have a phone
number. One prompt text per person and day: the outbox row's ``dedupe_key`` is
``prompt:<delivery>:<user>`` (unique), so N scheduler processes queue it once.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import current_app
from peewee import JOIN

from ...i18n import N_, _
from ...models import Caregiver, Delivery, Family, Prompt, TextMessage, User, utcnow
from ..families.household import caregivers
from ..programme.reflection import push_text as reflection_push_text
from ..programme.translations import prompt_for_reader
from .scheduling import local_window
from .text_words import words

#: A prompt text's ceiling (two concatenated GSM-7 segments are 306; DESIGN allows 320).
MAX_TEXT = 320
TEXT_CHANNELS = ("sms", "push_then_sms")
DEFAULT_FALLBACK_MINUTES = 30
BRAND = "Attune"

# GSM 03.38: the basic set, and the extension set (each of those costs two septets).
GSM7_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
                 "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = set("^{}\\[~]|€\f")
#: Typography that would force the whole text into UCS-2 (70 characters a segment), and its plain twin.
PLAIN = str.maketrans({"‘": "'", "’": "'", "‚": "'", "′": "'", "“": '"', "”": '"', "„": '"', "″": '"',
                       "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "•": "-", "…": "...",
                       "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u200b": ""})


# --- the words ------------------------------------------------------------------------------------

def plain(text: str) -> str:
    """Curly quotes, dashes, ellipses and odd spaces as their GSM-7 twins (other letters kept)."""
    return text.translate(PLAIN)


def is_gsm7(text: str) -> bool:
    """True when every character is in GSM-7 (basic or extension set)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def segments(text: str) -> int:
    """How many SMS segments ``text`` is sent as: GSM-7 160 (153 each when split) or UCS-2 70 (67)."""
    if is_gsm7(text):
        units = len(text) + sum(ch in GSM7_EXTENSION for ch in text)
        return 1 if units <= 160 else math.ceil(units / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def _shorten(text: str, limit: int) -> str:
    """``text`` cut at a word to at most ``limit`` characters, with "..." when cut."""
    if len(text) <= limit:
        return text
    cut = text[:max(0, limit - 3)].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return cut + "..."


def reply_line(labels: list[str]) -> str:
    """"Reply 1 Yes, I waited, 2 Not today" from the prompt's answers (their order is the digit)."""
    return "Reply " + ", ".join(f"{number} {label}" for number, label in enumerate(labels, start=1))


def checkin_link(delivery: Delivery) -> str:
    """The absolute link to the delivery's check-in page."""
    return f"{current_app.config['BASE_URL']}/checkin/{delivery.id}"


def prompt_text(delivery: Delivery, user: User) -> str:
    """The day's prompt as one text in ``user``'s language: "Attune: <title>", the body, and the
    numbered replies, at most ``MAX_TEXT`` characters (the body is shortened first), GSM-7 where
    the words allow.

    Discreet families get no prompt words at all (a phone's lock screen shows texts): "Attune: A
    moment for today is ready" and the check-in link; a digit reply still checks in.
    A week's reflection is named with its link (its contents stay inside the app).
    """
    family, prompt = delivery.family, delivery.prompt
    if family.discreet or (prompt is None and delivery.kind != "reflection"):
        return plain(f"{BRAND}: {words(user.language, 'discreet')}. {checkin_link(delivery)}")
    child = family.child_name
    if delivery.kind == "reflection":
        title, body = reflection_push_text(child, user.language)
        return plain(f"{BRAND}: {title}\n{body} {checkin_link(delivery)}")[:MAX_TEXT]
    text = prompt_for_reader(prompt, user.language, child)  # the reader's language when it exists
    title = plain(text.title)
    body = plain(text.body)
    labels = [plain(label) for label in text.answers][:9]
    replies = reply_line(labels)
    if len(replies) > MAX_TEXT // 2:  # long answer labels: keep each short rather than lose the body
        replies = reply_line([_shorten(label, 24) for label in labels])
    head = f"{BRAND}: {title}\n"
    room = MAX_TEXT - len(head) - len(replies) - 2
    return f"{head}{_shorten(body, room)}\n{replies}"[:MAX_TEXT]


# --- who gets texts -------------------------------------------------------------------------------

def text_recipients(family: Family) -> list[User]:
    """The people a family's prompt may be texted to: every caregiver in the household, each then
    checked on their own channel, consent and number."""
    return caregivers(family)


def wants_texts(user: User) -> bool:
    """True when ``user`` agreed to texts, has a number and a text channel, and is active."""
    return bool(user.active and user.phone and user.sms_opt_in_at and user.channel in TEXT_CHANNELS)


def push_missed(delivery: Delivery, now: datetime) -> bool:
    """For ``push_then_sms``: no device took the day's push (see the module's docstring)."""
    if delivery.sent_at is not None:
        return False
    if delivery.status in ("no_device", "failed"):
        return True
    minutes = int(current_app.config.get("SMS_FALLBACK_MINUTES", DEFAULT_FALLBACK_MINUTES))
    return delivery.status in ("pending", "sending") and now >= delivery.due_at + timedelta(minutes=minutes)


def in_window(family: Family, delivery: Delivery, now: datetime) -> bool:
    """True while ``now`` lies inside the family's window on the delivery's local date."""
    start, end = local_window(family, delivery.local_date)
    return start <= now < end


def _candidates(now: datetime) -> list[Delivery]:
    """Due deliveries, not past their day, of families where someone agreed to texts and has no
    prompt text for it yet. Read from the people on a text channel (few) to their families' days
    (a seek on ``(family, local_date)`` each), never by scanning delivery history."""
    texters = User.select(User.id).where(User.channel.in_(TEXT_CHANNELS) & User.sms_opt_in_at.is_null(False))
    families = [family_id for (family_id,) in
                Caregiver.select(Caregiver.family).where(Caregiver.user.in_(texters)).distinct().tuples()]
    if not families:
        return []
    queued = TextMessage.alias()
    return list(Delivery.select(Delivery, Family, Prompt, User)
                .join(Family).join(User, on=(Family.user == User.id))
                .switch(Delivery).join(Prompt, JOIN.LEFT_OUTER)
                .switch(Delivery).join(queued, JOIN.LEFT_OUTER, on=(
                    (queued.delivery == Delivery.id) & (queued.kind == "prompt")))
                .where(Delivery.family.in_(families)
                       & Delivery.local_date.between(now.date() - timedelta(days=1), now.date() + timedelta(days=1))
                       & (Delivery.due_at <= now) & (Delivery.expires_at > now)
                       & (Delivery.status != "expired") & queued.id.is_null())
                .order_by(Delivery.due_at, Delivery.id))


def queue_prompt_texts(now: datetime | None = None) -> int:
    """Queue today's prompt text for everyone who should get one now; returns how many were queued.

    Idempotent and safe beside other schedulers: the outbox's unique ``dedupe_key`` keeps one.
    """
    now = now or utcnow()
    queued = 0
    for delivery in _candidates(now):
        family = delivery.family
        if not in_window(family, delivery, now):
            continue
        for user in text_recipients(family):
            if not wants_texts(user):
                continue
            if user.channel == "push_then_sms" and not push_missed(delivery, now):
                continue
            queued += queue_text(user, "prompt", prompt_text(delivery, user), f"prompt:{delivery.id}:{user.id}",
                                 now, delivery=delivery)
    return queued


def queue_text(user: User, kind: str, body: str, dedupe_key: str, now: datetime | None = None,
               delivery: Delivery | None = None) -> bool:
    """Add a text to the outbox (in the caller's transaction); False when its cause already has one."""
    now = now or utcnow()
    body = plain(body)
    inserted = (TextMessage.insert(
        user=user.id, delivery=delivery.id if delivery else None, kind=kind, dedupe_key=dedupe_key[:120],
        local_date=delivery.local_date if delivery else None, to=user.phone, body=body,
        segments=segments(body), created_at=now, next_attempt_at=now)
        .on_conflict_ignore().as_rowcount().execute())
    return inserted == 1


# --- what the worker sees -------------------------------------------------------------------------

#: English, marked with N_: the family page shows them through _.
CHANNEL_WORDS = {"push": N_("Notifications only"), "sms": N_("Text messages instead of notifications"),
                 "push_then_sms": N_("Notifications, then a text when they don't arrive")}


def text_reach(user: User) -> dict:
    """A parent's text channel for the family page: the channel in words, whether they agreed (and
    when), and their latest prompt text's state (ours, and the carrier's report)."""
    last = (TextMessage.select().where((TextMessage.user == user.id) & (TextMessage.kind == "prompt"))
            .order_by(TextMessage.created_at.desc(), TextMessage.id.desc()).first())
    texting = user.channel in TEXT_CHANNELS
    if not texting:
        state = ""
    elif not user.phone:
        state = N_("No phone number: texts can't go out.")
    elif user.sms_opt_in_at is None:
        state = N_("Texts are stopped: the parent hasn't agreed, or replied STOP. They can reply START.")
    else:
        state = ""
    return {"channel": user.channel, "words": CHANNEL_WORDS.get(user.channel, user.channel), "texting": texting,
            "opted_in_at": user.sms_opt_in_at, "problem": state, "last": last,
            "last_words": _last_words(last) if last else ""}


def _last_words(text: TextMessage) -> str:
    """"delivered", "sent, waiting for the carrier", "failed: 21211: …", "not sent: past the window"."""
    # In the reader's language (the family page); only the carrier's error code stays as it came.
    if text.status == "sent":
        report = text.provider_status or "sent"
        error = text.error or _("carrier")
        if report == "delivered":
            return _("delivered")
        if report in ("undelivered", "failed"):
            return (_("not delivered (%(error)s)", error=error) if report == "undelivered"
                    else _("failed (%(error)s)", error=error))
        return _("sent, waiting for the carrier's report")
    words = {"pending": N_("waiting to be sent"), "sending": N_("being sent"),
             "expired": N_("not sent: its window had passed"), "cancelled": N_("not sent: texts were stopped")}
    if text.status == "failed":
        return _("failed (%(error)s)", error=text.error)
    return _(words[text.status]) if text.status in words else text.status
