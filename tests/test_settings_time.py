"""Settings for when prompts come: a time zone named by its city ("London") or picked from a list,
pause shortcuts (a week, two weeks, a date), and signing out from settings."""
from __future__ import annotations

from datetime import timedelta

import pytest

from coach.models import Family
from coach.services.families.checkins import local_today
from coach.services.families.timezones import resolve_timezone, zone_choices

from . import factories
from .parent_helpers import ParentClient


@pytest.fixture
def parent(app):
    return ParentClient(app, factories.make_family(timezone="America/New_York"))


def settings_form(parent, **changes) -> dict:
    data = {"csrf_token": parent.csrf, "window_start": "18:00", "window_end": "20:00",
            "timezone": "America/New_York", "days": "daily"}
    return data | changes


@pytest.mark.parametrize(("typed", "zone"), [
    ("London", "Europe/London"), ("  london ", "Europe/London"), ("Europe/London", "Europe/London"),
    ("new york", "America/New_York"), ("Buenos Aires", "America/Argentina/Buenos_Aires"),
    ("London, United Kingdom", "Europe/London"), ("UTC", "UTC"),
    ("Atlantis", None), ("", None), ("Europe/../etc", None), ("x" * 500, None)])
def test_time_zones_are_found_by_city_or_name(app, typed, zone):
    assert resolve_timezone(typed) == zone


def test_the_list_is_grouped_by_region_with_city_and_country(app):
    groups = dict(zone_choices())
    assert ("Europe/London", "London, United Kingdom") in groups["Europe"]
    assert {"Africa", "Americas", "Asia", "Europe", "Pacific Ocean"} <= set(groups)


def test_settings_take_london_and_refuse_an_unknown_place(parent):
    response = parent.client.post("/settings", data=settings_form(parent, timezone="London"))
    assert response.status_code == 302
    assert Family.get_by_id(parent.family.id).timezone == "Europe/London"
    bad = parent.client.post("/settings", data=settings_form(parent, timezone="Atlantis"))
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "We don&#39;t know that time zone." in html
    assert 'id="timezone-error"' in html and Family.get_by_id(parent.family.id).timezone == "Europe/London"


def test_the_api_takes_a_city_too(parent):
    response = parent.api("PATCH", "/api/me/settings", json={"timezone": "Tokyo"})
    assert response.status_code == 200 and response.get_json()["settings"]["timezone"] == "Asia/Tokyo"


def test_the_time_zone_page_offers_a_searchable_list(parent):
    html = parent.get("/settings").get_data(as_text=True)
    assert 'href="/settings/timezone"' in html and "<datalist" not in html  # the list has its own page
    page = parent.get("/settings/timezone")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'list="zone-list"' in text
    assert '<option value="London, United Kingdom">' in text
    assert 'value="New York, United States"' in text  # the current zone, in words
    saved = parent.form("/settings/timezone", {"timezone": "London, United Kingdom"})
    assert saved.status_code == 303 and Family.get_by_id(parent.family.id).timezone == "Europe/London"
    assert "Your time zone is London, United Kingdom." in parent.get("/settings").get_data(as_text=True)
    bad = parent.form("/settings/timezone", {"timezone": "Nowhere Town"})
    assert bad.status_code == 422 and "We don&#39;t know that time zone." in bad.get_data(as_text=True)
    assert Family.get_by_id(parent.family.id).timezone == "Europe/London"


@pytest.mark.parametrize("days", [7, 14])
def test_pause_shortcuts_count_from_today(parent, days):
    response = parent.client.post("/settings", data=settings_form(parent, pause_for=str(days)))
    assert response.status_code == 302
    family = Family.get_by_id(parent.family.id)
    assert family.paused_until == local_today(family) + timedelta(days=days)
    html = parent.get("/settings").get_data(as_text=True)
    until = family.paused_until
    assert f"Prompts are paused until {until.day} {until.strftime('%B')}" in html


def test_pause_until_a_date_and_a_bad_shortcut(parent):
    day = local_today(parent.family) + timedelta(days=3)
    assert parent.client.post("/settings", data=settings_form(parent, paused_until=day.isoformat())).status_code == 302
    assert Family.get_by_id(parent.family.id).paused_until == day
    bad = parent.client.post("/settings", data=settings_form(parent, pause_for="forever"))
    assert bad.status_code == 422 and "Use a date like" in bad.get_data(as_text=True)
    assert Family.get_by_id(parent.family.id).paused_until == day
    html = parent.get("/settings").get_data(as_text=True)
    for words in ("Pause for a week", "Pause for two weeks", "Or until a date"):
        assert words in html


def test_parents_sign_out_in_settings_and_staff_in_the_header(app, parent):
    home = parent.get("/").get_data(as_text=True)
    assert 'action="/logout"' not in home
    settings = parent.get("/settings").get_data(as_text=True)
    assert settings.count('action="/logout"') == 1 and "data-signs-out" in settings
    response = parent.client.post("/logout", data={"csrf_token": parent.csrf})
    assert response.status_code == 302 and parent.get("/api/me").status_code == 401
    worker = app.test_client()
    factories_user = factories.make_user("worker")
    csrf = factories.extract_csrf(worker.get("/login").get_data(as_text=True))
    worker.post("/login", data={"email": factories_user.email, "password": factories.PASSWORD, "csrf_token": csrf})
    assert 'action="/logout"' in worker.get("/worker/").get_data(as_text=True)
