"""The care around /help: the family's country (from the time zone at enrolment, editable in
settings), discreet mode, the low-mood rule at its boundary and its card, and the parent's request
status on the home page and after a check-in."""
from __future__ import annotations

# ruff: noqa: F811  (pytest fixtures imported from help_fixtures are parameters by design)
import uuid
from datetime import timedelta

import pytest

from coach.models import CheckIn, Family, SupportRequest, utcnow
from coach.services.families import resources, wellbeing
from coach.services.families.caseload import mark_followed_up
from coach.services.people.invites import create_invite

from . import factories
from .conftest import Auth
from .help_fixtures import family, parent, worker  # noqa: F401  (fixtures, used by name)
from .parent_helpers import make_delivery


def add_checkins(family: Family, felts: list[int | None]) -> None:
    """Check-ins oldest first, a minute apart, ending now."""
    start = utcnow() - timedelta(minutes=len(felts))
    for n, felt in enumerate(felts):
        at = start + timedelta(minutes=n)
        CheckIn.create(id=uuid.uuid4(), family=family, user=family.user_id, tried="yes", felt=felt, client_created_at=at, received_at=at)


# --- country and discreet mode --------------------------------------------------------------------

@pytest.mark.parametrize(("zone", "country"), [("America/Chicago", "US"), ("Pacific/Auckland", "NZ"),
                                               ("Europe/Dublin", "IE"), ("Etc/UTC", "")])
def test_enrolment_sets_the_country_from_the_time_zone(client, worker, zone, country):
    _invite, token = create_invite(worker)
    page = client.get(f"/join/{token}", follow_redirects=True)
    response = client.post(page.request.path, data={  # /join/<token>, or /join once the token is in the session
        "display_name": "Amira", "email": f"amira-{uuid.uuid4().hex[:6]}@example.org",
        "password": "a long enough password", "child_birth_month": "2026-01", "timezone": zone,
        "window_start": "19:00", "window_end": "20:30", "csrf_token": factories.extract_csrf(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert Family.get().country == country


def settings_form(parent, **changes) -> dict:
    data = {"csrf_token": parent.csrf, "window_start": "18:00", "window_end": "20:00",
            "timezone": "Europe/London", "days": "daily", "country": "GB"}
    data.update(changes)
    return data


def test_settings_change_country_and_discreet_mode(parent, family):
    html = parent.get("/settings").get_data(as_text=True)
    assert "<strong>United Kingdom</strong>" in html and 'href="/settings/country"' in html
    assert "<option" not in html and "A moment for today is ready" in html  # the long list is a page of its own
    page = parent.get("/settings/country").get_data(as_text=True)
    assert "<option value=GB selected>United Kingdom" in page and "<option value=NZ>New Zealand" in page
    response = parent.post("/settings/country", data={"csrf_token": parent.csrf, "country": "IE"})
    assert response.status_code == 302 and response.headers["Location"] == "/settings#care-title"
    assert parent.get("/settings").get_data(as_text=True).count("Your country is saved.") == 1
    response = parent.post("/settings", data=settings_form(parent, discreet="y") | {"country": "IE"})
    assert response.status_code == 302
    stored = Family.get_by_id(family.id)
    assert (stored.country, stored.discreet) == ("IE", True)
    parent.post("/settings", data={k: v for k, v in settings_form(parent).items() if k != "country"})
    stored = Family.get_by_id(family.id)
    assert (stored.country, stored.discreet) == ("IE", False)  # a settings form without the country keeps it
    parent.post("/settings/country", data={"csrf_token": parent.csrf, "country": ""})
    assert Family.get_by_id(family.id).country == ""
    assert "Not set (international numbers)" in parent.get("/settings").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/settings", "/settings/country"])
def test_a_bad_country_is_explained_and_nothing_changes(parent, family, path):
    data = settings_form(parent, country="XX", discreet="y", window_start="07:00")
    response = parent.post(path, data=data if path == "/settings" else {"csrf_token": parent.csrf, "country": "XX"})
    assert response.status_code == 422
    assert "Choose your country from the list." in response.get_data(as_text=True)
    stored = Family.get_by_id(family.id)
    assert (stored.country, stored.discreet, stored.window_start) == ("GB", False, "18:00")


def test_the_country_page_refuses_a_stale_form_and_other_roles(parent, family, app):
    response = parent.post("/settings/country", data={"country": "IE"})
    assert response.status_code == 400 and Family.get_by_id(family.id).country == "GB"
    worker = factories.make_user("worker")
    client = app.test_client()
    Auth(client).login(worker)
    assert client.get("/settings/country").status_code == 403


@pytest.mark.parametrize(("body", "field"), [({"country": "gb "}, None), ({"country": "Narnia"}, "country"),
                                             ({"country": 44}, "country"), ({"discreet": "yes"}, "discreet")])
def test_api_settings_take_country_and_discreet(parent, family, body, field):
    response = parent.patch("/api/me/settings", json=body, headers={"X-CSRFToken": parent.csrf})
    if field is None:
        assert response.status_code == 200 and response.get_json()["settings"]["country"] == "GB"
    else:
        assert response.status_code == 422 and field in response.get_json()["fields"]
        assert Family.get_by_id(family.id).country == "GB"


# --- low mood -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("felts", "low"), [
    ([2, 2, 2], True),                  # three low days are enough
    ([2, 2, 3], False),                 # 3 is not low
    ([1, 5, 2, 5, 2], True),            # three of the last five
    ([1, 1, 5, 5, 5, 1], False),        # the oldest low day has left the window of five
    ([2, 2, None, None, 2], True),      # no answer still takes a place among the five
    ([2, None, None, None, 2, 2], False),
    ([], False),
])
def test_low_mood_rule_at_its_boundary(app, family, felts, low):
    add_checkins(family, felts)
    assert wellbeing.is_low_mood(family) is low
    assert (family.id in wellbeing.low_mood_families([family.id])) is low


def test_low_mood_card_accept_asks_the_worker_and_shows_the_status(parent, family):
    add_checkins(family, [1, 2, 2])
    home = parent.get("/").get_data(as_text=True)
    assert "It sounds like things have been hard" in home
    response = parent.post("/help/low-mood", data={"csrf_token": parent.csrf, "choice": "accept"})
    assert response.status_code == 302
    request = SupportRequest.get()
    assert (request.source, request.urgent, request.note) == ("low_mood", False, None)
    parent.post("/help/low-mood", data={"csrf_token": parent.csrf, "choice": "accept"})  # a second tap
    assert SupportRequest.select().count() == 1
    home = parent.get("/").get_data(as_text=True)
    assert "It sounds like things have been hard" not in home and "Sent to Maria at" in home


def test_low_mood_card_dismissed_until_the_next_check_in(parent, family):
    add_checkins(family, [1, 1, 1])
    assert parent.post("/help/low-mood", data={"csrf_token": parent.csrf, "choice": "dismiss"}).status_code == 302
    assert "It sounds like things have been hard" not in parent.get("/").get_data(as_text=True)
    assert SupportRequest.select().count() == 0
    add_checkins(family, [1])
    assert "It sounds like things have been hard" in parent.get("/").get_data(as_text=True)
    response = parent.post("/help/low-mood", data={"csrf_token": parent.csrf, "choice": "later"})
    assert response.status_code == 422 and SupportRequest.select().count() == 0


def test_home_shows_the_request_then_the_follow_up(parent, family, worker):
    assert "Your request for help" not in parent.get("/").get_data(as_text=True)
    token = parent.csrf
    parent.post("/help", data={"csrf_token": token, "contact": "1", "safe": "yes"})
    html = parent.get("/").get_data(as_text=True)
    assert "Sent to Maria at" in html and "usually replies within a working day" in html
    mark_followed_up(family, SupportRequest.get().id, worker)
    assert "Maria followed up on" in parent.get("/").get_data(as_text=True)
    SupportRequest.update(followed_up_at=utcnow() - timedelta(days=8)).execute()
    assert "Your request for help" not in parent.get("/").get_data(as_text=True)


def test_checkin_support_card_shows_the_countrys_numbers_and_the_status(app, parent, family):
    resources.seed_resources_if_empty()
    delivery = make_delivery(family)
    checkin_id = str(uuid.uuid4())
    response = parent.post(f"/checkin/{delivery.id}", data={"csrf_token": parent.csrf, "id": checkin_id,
                                                             "answer": "0", "wants_support": "on"})
    assert response.status_code == 302
    html = parent.get(response.headers["Location"]).get_data(as_text=True)
    card = html[html.index('id="support-resources"'):]
    assert "Sent to Maria at" in card and 'href="tel:999"' in card and "Samaritans" in card
    assert "988" not in card  # not the US list
    assert 'href="/help"' in html
