"""Onboarding straight after joining: reminders (or the iPhone's Home Screen steps), the time window
with what each choice means, then done; every step skippable and working without JavaScript."""
from __future__ import annotations

import pytest

from coach.models import Family
from coach.services.people.invites import create_invite

from . import factories
from .parent_helpers import ParentClient

JOIN = {"display_name": "Amira", "email": "amira@example.org", "password": "a long enough password",
        "child_name": "Noor", "child_birth_month": "2026-01", "timezone": "London",
        "window_start": "19:00", "window_end": "20:30"}


@pytest.fixture
def parent(app):
    return ParentClient(app, factories.make_family())


def test_joining_leads_into_onboarding(app, client):
    _invite, token = create_invite(factories.make_user("worker"))
    page = client.get(f"/join/{token}", follow_redirects=True)
    data = JOIN | {"csrf_token": factories.extract_csrf(page.get_data(as_text=True))}
    response = client.post("/join", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/welcome"
    assert Family.get().timezone == "Europe/London"  # "London" taken at join too
    html = client.get("/welcome").get_data(as_text=True)
    assert "Step 1 of 3" in html and "A reminder once a day" in html
    assert 'id="notify-card"' in html and "Add to Home Screen" in html  # the iPhone steps, in words
    assert 'href="/welcome/time"' in html and 'href="/">Skip for now' in html
    assert "<noscript>" in html
    step2 = client.get("/welcome/time").get_data(as_text=True)
    # 19:00-20:30 is none of the offered windows, so keeping it is a choice, and chosen.
    assert "Keep my time, 19:00 to 20:30" in step2 and 'value="keep" aria-describedby="window-keep-means" checked' in step2
    for meaning in ("Around bath and bedtime", "A prompt to carry through the day"):
        assert meaning in step2


def test_choosing_a_window_saves_it_and_finishes(parent):
    response = parent.form("/welcome/time", {"window": "morning"})
    assert response.status_code == 302 and response.headers["Location"] == "/welcome/done"
    family = Family.get_by_id(parent.family.id)
    assert (family.window_start, family.window_end) == ("07:00", "09:00")
    done = parent.get("/welcome/done").get_data(as_text=True)
    assert "You're set" in done.replace("&#39;", "'") and "between 07:00 and 09:00" in done
    assert 'href="/">Go to today' in done and "Skip for now" not in done


def test_keeping_the_window_changes_nothing(parent):
    response = parent.form("/welcome/time", {"window": "keep"})
    assert response.status_code == 302
    family = Family.get_by_id(parent.family.id)
    assert (family.window_start, family.window_end) == ("18:00", "20:00")


def test_no_choice_or_a_made_up_one_is_a_field_error(parent):
    for data in ({}, {"window": "midnight"}):
        response = parent.form("/welcome/time", data)
        assert response.status_code == 422
        assert "Choose one of the times" in response.get_data(as_text=True)
    assert parent.client.post("/welcome/time", data={"window": "morning"}).status_code == 400  # no CSRF
    assert Family.get_by_id(parent.family.id).window_start == "18:00"
