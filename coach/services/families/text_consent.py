"""Agreeing to text messages (DESIGN "Reach → Text messages"): the settings fields ``channel``
(``push``, ``sms``, ``push_then_sms``) and ``sms_consent``, checked with ``phone``.

A text channel needs a phone number and the parent's explicit agreement to ``CONSENT_WORDS``
(``sms_consent: true``) the first time, and again for a new number. Agreeing records
``User.sms_opt_in_at`` and queues one confirmation text in the same transaction; choosing ``push``
withdraws it. While texts are not configured (``COACH_TWILIO_*``) a text channel is refused.
"""
from __future__ import annotations

from datetime import datetime

from ...i18n import _, _l
from ...models import CHANNELS, User
from ..delivery.sms import sms_problem
from ..delivery.text_words import words
from ..delivery.texts import TEXT_CHANNELS, queue_text

#: What the parent agrees to, shown beside the box (the usual words: frequency, rates, STOP, HELP).
CONSENT_WORDS = _l("Text me my daily prompt at this number: 1 message a day. Msg & data rates may apply. "
                   "Reply STOP to cancel, HELP for help.")
CHANNEL_NAMES = {"push": _l("Notifications"), "sms": _l("Text messages"),
                 "push_then_sms": _l("Notifications, then a text if they don't arrive")}
FIELDS = ("channel", "sms_consent")


def clean_text_settings(user: User, changes: dict, clean: dict, fields: dict) -> None:
    """Check ``channel`` and ``sms_consent`` against the number being saved (``clean["phone"]``
    when it changes); put the clean values in ``clean`` and a sentence per problem in ``fields``."""
    if "channel" in changes:
        if changes["channel"] not in CHANNELS:
            fields["channel"] = _("Choose notifications, text messages, or notifications then a text.")
            return
        clean["channel"] = changes["channel"]
    consent = changes.get("sms_consent", False)
    if not isinstance(consent, bool):
        fields["sms_consent"] = _("Use true or false.")
        return
    channel = clean.get("channel", user.channel)
    if channel not in TEXT_CHANNELS or "phone" in fields:
        return
    phone = clean.get("phone", user.phone)
    new_number = "phone" in clean and clean["phone"] != user.phone
    if "channel" in clean and sms_problem() is not None:
        fields["channel"] = _("Text messages aren't available yet. Ask your family worker about them.")
    elif not phone:
        fields["phone"] = _("Add your mobile number to get text messages.")
    elif (user.sms_opt_in_at is None or new_number) and not consent:
        fields["sms_consent"] = _("To get text messages, tick the box to agree to them.")
    elif consent and (user.sms_opt_in_at is None or new_number):
        clean["sms_opt_in"] = True


def apply_text_settings(user: User, clean: dict, new_number: bool, now: datetime) -> None:
    """Save the channel and consent (inside the caller's transaction, after the number); a new
    agreement gets one confirmation text. ``new_number``: the phone number just changed."""
    changed = []
    if "channel" in clean and clean["channel"] != user.channel:
        user.channel = clean["channel"]
        changed.append(User.channel)
        if user.channel == "push" and user.sms_opt_in_at is not None:
            user.sms_opt_in_at = None  # texts withdrawn: a later text channel asks again
            changed.append(User.sms_opt_in_at)
    if new_number and user.sms_opt_in_at is not None and not clean.get("sms_opt_in"):
        user.sms_opt_in_at = None  # agreed for another number
        changed.append(User.sms_opt_in_at)
    if clean.get("sms_opt_in"):
        user.sms_opt_in_at = now
        changed.append(User.sms_opt_in_at)
    if changed:
        user.save(only=changed)
    if clean.get("sms_opt_in"):
        queue_text(user, "confirm", words(user.language, "confirm"), f"confirm:{user.id}:{now.isoformat()}", now)
