"""Audit keys are shown as words: every action the code records has a sentence on the audit page."""
from __future__ import annotations

import re
from pathlib import Path

from coach.admin.audit import ACTION_LABELS
from coach.services.delivery.subscriptions import TEST_PUSH_ACTION

from . import factories

COACH = Path(__file__).resolve().parent.parent / "coach"
#: audit("key", …), action="key", action or "key": every way the code names an audit action.
PATTERNS = (re.compile(r'\baudit\(\s*"([a-z_.]+)"'), re.compile(r'\baction="([a-z_.]+)"'),
            re.compile(r'\baction or "([a-z_.]+)"'))


def recorded_actions() -> set[str]:
    found = {TEST_PUSH_ACTION}
    for path in COACH.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in PATTERNS:
            found.update(pattern.findall(text))
    return found


def test_every_recorded_action_has_words():
    actions = recorded_actions()
    assert {"contact_logged", "phone_changed", "view_notes", "support_followed_up"} <= actions
    assert sorted(actions - set(ACTION_LABELS)) == []


def test_the_audit_page_shows_words_not_keys(app, client, auth):
    worker = factories.make_user("worker")
    family = factories.make_family(worker=worker)
    auth.login(worker)
    client.post(f"/worker/families/{family.id}/contacts", data={
        "csrf_token": auth.csrf_token(f"/worker/families/{family.id}"), "kind": "visit", "outcome": "reached"})
    client.post("/logout", data={"csrf_token": auth.csrf_token("/worker/")})
    auth.login(factories.make_user("admin"))
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "Logged a call, text or visit" in html
    assert ">contact_logged<" not in html
