"""Staff alerts: a Web Push to a worker's (or an admin's) own devices when a family asks for help.

Workers subscribe through the same ``/api/push/subscriptions`` API and ``PushSubscription`` table
as parents; these pushes reuse the parents' sender, allowed-host guard and device bookkeeping. The
payload has no ``delivery_id`` and no ``ack_token``, so the service worker shows no "I tried it"
action, and it carries a sentence and a link — never the parent's note or the child's name.
"""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import datetime, timedelta

from flask import current_app

from ...db import db
from ...models import StaffAlert, SupportRequest, utcnow
from ..families.support import ALERT_SENTENCE, DUTY_URGENT_SENTENCE
from .outbox import backoff, claim_due, finish
from .push import PushMessage, PushSender, _with_declarative, absolute_url, encode_payload, host_allowed
from .sending import SubscriptionResult, _subscriptions_by_user, record_subscription_results

log = logging.getLogger(__name__)

ALERT_KEYS = ("alerts_sent", "alerts_no_device", "alerts_retrying", "alerts_failed")
BATCH_SIZE = 100
LEASE_SECONDS = 300
GIVE_UP_AFTER = timedelta(hours=24)  # the email and the escalation still stand when a push can't go
TEXT = {  # the same sentences as the emails: a lock screen shows no note and no name
    "alert": ("A family asked for help", ALERT_SENTENCE),
    "urgent": ("Urgent: a family may not be safe", DUTY_URGENT_SENTENCE),
    "escalation": ("Not followed up yet", "A family asked for help and nobody has followed it up yet."),
}


def alert_payload(kind: str, request_id: int, family_id: int) -> dict:
    """The JSON pushed for one alert: title, body, the family's page and a per-request tag."""
    title, body = TEXT.get(kind, TEXT["alert"])
    path = f"/worker/families/{family_id}"
    payload = {"title": title, "body": body, "url": path, "tag": f"support-{request_id}"}
    return _with_declarative(payload, absolute_url(path))


def _decide(alert: StaffAlert, results: list[SubscriptionResult], now: datetime) -> tuple[str, dict]:
    """The tick count and the alert's new fields from every device's answer."""
    if any(r.kind == "ok" for r in results):
        return "alerts_sent", {"status": "sent", "sent_at": now}
    if all(r.kind == "gone" for r in results):  # none, or every one unsubscribed (and now removed)
        return "alerts_no_device", {"status": "no_device"}
    if any(r.kind in ("retry", "throttled") for r in results) and alert.created_at + GIVE_UP_AFTER > now:
        return "alerts_retrying", {"status": "pending", "next_attempt_at": now + backoff(alert.attempts)}
    return "alerts_failed", {"status": "failed"}


def send_alerts(alerts: list[StaffAlert], sender: PushSender) -> list[list[SubscriptionResult]]:
    """Push each claimed alert to every allowed device of its recipient; answers per alert."""
    allowed = current_app.config["PUSH_ALLOWED_HOSTS"]
    devices = _subscriptions_by_user({a.user_id for a in alerts})
    families = dict(SupportRequest.select(SupportRequest.id, SupportRequest.family)
                    .where(SupportRequest.id.in_([a.support_request_id for a in alerts])).tuples())
    answers: list[list[SubscriptionResult]] = [[] for _ in alerts]
    targets, messages = [], []
    for index, alert in enumerate(alerts):
        data = encode_payload(alert_payload(alert.kind, alert.support_request_id,
                                            families[alert.support_request_id]))
        urgency = "high" if alert.kind == "urgent" else "normal"
        for sub_id, endpoint, p256dh, auth in devices.get(alert.user_id, []):
            if not host_allowed(endpoint, allowed):
                answers[index].append(SubscriptionResult.host_refused(sub_id, endpoint))
                continue
            targets.append((index, sub_id, endpoint))
            messages.append(PushMessage(endpoint, p256dh, auth, data,
                                        topic=f"support-{alert.support_request_id}", urgency=urgency))
    if messages:
        async def run() -> list:
            async with sender:
                return await sender.send_all(messages)

        for (index, sub_id, endpoint), result in zip(targets, asyncio.run(run()), strict=True):
            answers[index].append(SubscriptionResult.from_push(sub_id, endpoint, result))
    return answers


def run_alert_tick(now: datetime | None = None, sender: PushSender | None = None) -> dict[str, int]:
    """Claim, push and record due staff alerts until none is due; returns counts by outcome."""
    counts: Counter = Counter({key: 0 for key in ALERT_KEYS})
    while True:
        alerts = claim_due(StaffAlert, now or utcnow(), BATCH_SIZE, LEASE_SECONDS)
        if not alerts:
            break
        if sender is None:
            sender = PushSender.from_config(current_app.config)
        answers = send_alerts(alerts, sender)
        moment = now or utcnow()
        with db.atomic():
            record_subscription_results([r for results in answers for r in results], moment)
            for alert, results in zip(alerts, answers, strict=True):
                key, fields = _decide(alert, results, moment)
                if key == "alerts_no_device":
                    log.info("staff alert %s: user %s has no device with alerts on", alert.id, alert.user_id)
                if finish(alert, **fields):
                    counts[key] += 1
    return {key: counts[key] for key in ALERT_KEYS}
