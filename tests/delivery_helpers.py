"""Shared helpers for the delivery and push tests: a VAPID key, a pending delivery due now, and a
device subscribed on the loopback push service. The ``ps`` and ``push_app`` fixtures that use them
live in ``conftest.py``."""
from __future__ import annotations

from datetime import datetime, timedelta

from py_vapid import Vapid

from coach.models import Delivery, Prompt, PushSubscription
from tests import factories
from tests.pushservice import PushService, TestSubscription

NOW = datetime(2026, 11, 26, 18, 30)  # 18:30 in London: inside the factories' evening window


def make_vapid_pem() -> str:
    key = Vapid()
    key.generate_keys()
    return key.private_pem().decode()


VAPID_PEM = make_vapid_pem()  # one key for the run: generating one per test buys nothing


def allow_push(app, ps: PushService):
    """Let the app push to the loopback service, with a VAPID key and a short timeout."""
    app.config.update(PUSH_ALLOWED_HOSTS=(ps.host,), VAPID_PRIVATE_KEY=VAPID_PEM, PUSH_TIMEOUT=5)
    return app


def make_prompt() -> Prompt:
    return Prompt.create(theme="cues", skill="pause", title="Notice {child}'s cues",
                         body="When {child} looks away, pause and wait for them to come back.",
                         question="Did you wait?", answers=[{"label": "Yes", "tried": "yes"}],
                         status="published")


def make_due(family=None, now: datetime = NOW, **fields) -> Delivery:
    """A pending delivery due a minute before ``now``, expiring at the end of the local day."""
    family = family or factories.make_family()
    day_end = datetime.combine(now.date(), datetime.max.time()).replace(microsecond=0)
    values = {"local_date": now.date(), "prompt": make_prompt(), "prompt_version": 1, "theme": "cues",
              "due_at": now - timedelta(minutes=1), "expires_at": day_end}
    values.update(fields)
    values.setdefault("next_attempt_at", values["due_at"])
    return Delivery.create(family=family, **values)


def subscribe(ps: PushService, user, name: str | None = None) -> tuple[TestSubscription, PushSubscription]:
    """A browser subscription on the loopback service, stored for ``user``."""
    sub = ps.subscribe(name)
    row = PushSubscription.create(user=user, endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth)
    return sub, row


def reload(row):
    return type(row).get_by_id(row.id)
