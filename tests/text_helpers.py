"""Helpers for the text-message tests: a parent on a text channel, and Twilio's signed webhook calls."""
from __future__ import annotations

import itertools
from datetime import datetime

from twilio.request_validator import RequestValidator

from coach.models import Family, User
from tests import factories
from tests.twilio_fake import AUTH_TOKEN, FROM

_numbers = itertools.count(1)
_sids = itertools.count(1)


def make_texter(channel: str = "sms", opted_in: datetime | None = datetime(2026, 11, 1), **family) -> Family:
    """A family whose parent gets texts on ``channel`` at a fresh UK mobile number."""
    user = factories.make_user("parent")
    user.phone, user.channel, user.sms_opt_in_at = f"+4479111{next(_numbers):05d}", channel, opted_in
    user.save()
    return factories.make_family(user=user, **family)


def reload_user(family: Family) -> User:
    return User.get_by_id(family.user_id)


def signed_post(client, path: str, form: dict, token: str = AUTH_TOKEN, signature: str | None = None):
    """POST ``form`` to a webhook as Twilio does: signed over BASE_URL + path (tests: http://localhost)."""
    if signature is None:
        signature = RequestValidator(token).compute_signature(f"http://localhost{path}", form)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return client.post(path, data=form, headers=headers)


def inbound(client, family: Family, body: str, sid: str | None = None, **kwargs):
    """A text from the family's parent to our number (a fresh MessageSid unless given)."""
    form = {"From": User.get_by_id(family.user_id).phone, "To": FROM, "Body": body,
            "MessageSid": sid or f"SMin{next(_sids):030d}", "AccountSid": "AC" + "0" * 32}
    return signed_post(client, "/sms/twilio/inbound", form, **kwargs)
