"""Shared helpers for the parent app's tests: a prompt, a delivery for today, a signed-in parent
client with its CSRF token, and the extra world the route-access table needs for parent URLs."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from py_vapid import Vapid

from coach.models import CheckIn, Delivery, Family, Prompt, PushSubscription, utcnow
from coach.services.families.checkins import local_today

from . import factories

_VAPID = Vapid()
_VAPID.generate_keys()
VAPID_PEM = _VAPID.private_pem().decode()  # one key for the run: generating one per test buys nothing
ANSWERS = [{"label": "Yes, I waited for {child}", "tried": "yes"},
           {"label": "I think so", "tried": "yes"},
           {"label": "Not today", "tried": "not_yet"}]


def make_prompt(theme: str = "cues", **fields) -> Prompt:
    values = {"theme": theme, "skill": "pause-signal", "title": "Notice {child}'s look-away",
              "body": "When {child} looks away, wait for them to come back.",
              "question": "Did you see {child} look away?", "answers": ANSWERS,
              "why": "Turning away is how babies rest.", "status": "published"}
    values.update(fields)
    return Prompt.create(**values)


def make_delivery(family: Family, local_date=None, prompt: Prompt | None = None, **fields) -> Delivery:
    """A sent delivery for ``family`` on its local date (today by default)."""
    local_date = local_date or local_today(family)
    now = utcnow()
    if fields.get("kind") == "reflection":  # the week's look back carries no prompt
        values = {"local_date": local_date, "prompt": None, "prompt_version": None, "theme": None,
                  "due_at": now - timedelta(hours=1), "expires_at": now + timedelta(hours=6),
                  "next_attempt_at": now - timedelta(hours=1), "status": "sent", "sent_at": now}
        return Delivery.create(family=family, **(values | fields))
    prompt = prompt or make_prompt()
    values = {"local_date": local_date, "prompt": prompt, "prompt_version": 1, "theme": prompt.theme,
              "due_at": now - timedelta(hours=1), "expires_at": now + timedelta(hours=6),
              "next_attempt_at": now - timedelta(hours=1), "status": "sent", "sent_at": now}
    values.update(fields)
    return Delivery.create(family=family, **values)


def checkin_body(**fields) -> dict:
    """A valid check-in body (DESIGN.md) with a fresh UUID4."""
    body = {"id": str(uuid.uuid4()), "delivery_id": None, "tried": "yes", "felt": 4, "note": None,
            "shared_with_worker": False, "wants_support": False,
            "client_created_at": datetime.now(UTC).isoformat()}
    body.update(fields)
    return body


def login(client, user) -> str:
    """Sign ``client`` in as ``user``; returns the CSRF token for API calls."""
    token = factories.extract_csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return factories.extract_csrf(client.get("/").get_data(as_text=True))


def parent_params(app, family: Family) -> dict:
    """Route-table values: a delivery, a check-in on it (``entry_id``: the journal's entry pages) and a
    device of ``family``, and a VAPID key for the app."""
    if not app.config.get("VAPID_PRIVATE_KEY"):
        app.config["VAPID_PRIVATE_KEY"] = VAPID_PEM
    delivery = make_delivery(family)
    # A push host outside PUSH_ALLOWED_HOSTS: the test push is refused without any network traffic.
    device = PushSubscription.create(user=family.user, endpoint="https://push.invalid/access-table",
                                     p256dh="B" + "A" * 86, auth="A" * 22)
    checkin = CheckIn.create(id=uuid.uuid4(), family=family, user=family.user_id, delivery=delivery, prompt=delivery.prompt,
                             answer=0, tried="yes", client_created_at=utcnow())  # journal edits, PATCH
    reflection = make_delivery(family, local_date=delivery.local_date - timedelta(days=1), prompt=None,
                               kind="reflection")  # yesterday's weekly look back
    return {"delivery_id": delivery.id, "device_id": device.id, "entry_id": str(checkin.id),
            "checkin_id": str(checkin.id), "reflection_id": reflection.id}


class ParentClient:
    """A signed-in parent's test client that sends JSON with the CSRF header, like the app's pages."""

    def __init__(self, app, family: Family, user=None):
        self.family = family
        self.user = user or family.user  # another caregiver of the household when given
        self.client = app.test_client()
        self.csrf = login(self.client, self.user)

    def api(self, method: str, path: str, json=None, csrf: bool = True, **kwargs):
        headers = kwargs.pop("headers", {})
        if csrf:
            headers.setdefault("X-CSRFToken", self.csrf)
        return self.client.open(path, method=method, json=json, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def form(self, path: str, data: dict | None = None):
        """POST a page's form with the CSRF token, as a browser without JavaScript would."""
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})})
