"""Phone numbers: parsed with ``phonenumbers`` in the family's country, stored as E.164, refused with
a sentence when they are not numbers anyone can call, and nothing stored then: through the parent's
API and settings form and the worker's family page."""
from __future__ import annotations

import pytest

from coach.errors import AppError
from coach.models import AuditEvent, Family, User
from coach.services.families.phones import display_phone, parse_phone

from . import factories
from .conftest import Auth
from .parent_helpers import ParentClient


@pytest.mark.parametrize(("typed", "country", "e164"), [
    ("07911 123456", "GB", "+447911123456"),
    ("+44 (0)7911 123456", "", "+447911123456"),
    ("(201) 555-0123", "US", "+12015550123"),
    ("201.555.0123", "CA", "+12015550123"),        # the same plan: read as North American
    ("0412 345 678", "AU", "+61412345678"),
    ("+61 412 345 678", "GB", "+61412345678"),     # a + number is read as written, whatever the country
    ("087 123 4567", "IE", "+353871234567"),
    ("021 123 4567", "NZ", "+64211234567"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("030 1234567", "DE", "+49301234567"),
    ("  ", "GB", ""),                             # blank: no number
])
def test_good_numbers_of_several_countries(typed, country, e164):
    assert parse_phone(typed, country) == e164


@pytest.mark.parametrize(("typed", "country"), [
    ("12345", "GB"),
    ("call me maybe", "GB"),
    ("07700 900123", "GB"),          # Ofcom's drama range: not a number anyone can ring
    ("+44 7911 12345678901", ""),    # too long
    ("555-0123", "US"),              # no area code
    ("1" * 41, "US"),
])
def test_bad_numbers_get_a_clear_sentence(typed, country):
    with pytest.raises(AppError) as raised:
        parse_phone(typed, country)
    assert raised.value.status == 422
    assert raised.value.fields["phone"].startswith("That doesn't look like a phone number we can call.")


def test_without_a_country_a_number_needs_its_country_code():
    with pytest.raises(AppError) as raised:
        parse_phone("07911 123456", "")
    assert raised.value.fields["phone"] == "Start the number with + and the country code (for example +44 7911 123456)."


def test_numbers_are_shown_the_way_people_write_them():
    assert display_phone("+447911123456", "GB") == "07911 123456"
    assert display_phone("+447911123456", "US") == "+44 7911 123456"
    assert display_phone("+12015550123", "CA") == "(201) 555-0123"
    assert display_phone("", "GB") == ""


# --- the parent: PATCH /api/me/settings and the settings form ------------------------------------

@pytest.fixture
def parent(app):
    return ParentClient(app, factories.make_family(country="GB"))


def test_parent_sets_and_removes_a_phone_through_the_api(parent):
    response = parent.api("PATCH", "/api/me/settings", json={"phone": "07911 123456"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["settings"]["phone"] == "+447911123456"
    assert User.get_by_id(parent.user.id).phone == "+447911123456"
    assert parent.get("/api/me").get_json()["family"]["phone"] == "+447911123456"
    response = parent.api("PATCH", "/api/me/settings", json={"phone": None})
    assert response.get_json()["settings"]["phone"] is None
    assert User.get_by_id(parent.user.id).phone == ""


def test_a_phone_is_read_in_the_country_saved_with_it(parent):
    response = parent.api("PATCH", "/api/me/settings", json={"country": "US", "phone": "(201) 555-0123"})
    assert response.status_code == 200, response.get_json()
    assert User.get_by_id(parent.user.id).phone == "+12015550123"


@pytest.mark.parametrize("phone", ["12345", 447911123456, ["07911 123456"]])
def test_a_bad_phone_stores_nothing_at_all(parent, phone):
    User.update(phone="+447911123456").where(User.id == parent.user.id).execute()
    response = parent.api("PATCH", "/api/me/settings", json={"phone": phone, "share_notes_default": True})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] and body["message"] == "Some of the settings need another look."
    assert body["fields"]["phone"]
    assert User.get_by_id(parent.user.id).phone == "+447911123456"
    assert Family.get_by_id(parent.family.id).share_notes_default is False  # the other change waited too


def test_parent_settings_form_shows_and_saves_the_phone(parent):
    User.update(phone="+447911123456").where(User.id == parent.user.id).execute()
    html = parent.get("/settings").get_data(as_text=True)
    assert 'type="tel"' in html and 'value="07911 123456"' in html
    form = {"window_start": "18:00", "window_end": "20:00", "timezone": "Europe/London", "days": "daily", "country": "GB",
            "phone": "not a phone"}
    response = parent.form("/settings", form)
    assert response.status_code == 422
    assert "That doesn&#39;t look like a phone number we can call." in response.get_data(as_text=True)
    assert User.get_by_id(parent.user.id).phone == "+447911123456"
    response = parent.form("/settings", {**form, "phone": "+1 201 555 0123"})
    assert response.status_code == 302
    assert User.get_by_id(parent.user.id).phone == "+12015550123"


# --- the worker, on the family page -----------------------------------------------------------------

@pytest.fixture
def worker_family(app):
    worker = factories.make_user("worker")
    return worker, factories.make_family(worker=worker, country="US")


def test_worker_corrects_the_phone_on_the_family_page(app, worker_family):
    worker, family = worker_family
    client = app.test_client()
    auth = Auth(client)
    auth.login(worker)
    token = auth.csrf_token(f"/worker/families/{family.id}")
    response = client.post(f"/worker/families/{family.id}/phone", data={"csrf_token": token, "phone": "(201) 555-0123"})
    assert response.status_code == 302
    assert User.get_by_id(family.user_id).phone == "+12015550123"
    assert AuditEvent.get(AuditEvent.action == "phone_changed").target_id == str(family.id)
    html = client.get(f"/worker/families/{family.id}").get_data(as_text=True)
    assert '<a class="btn" href="tel:+12015550123">Call (201) 555-0123</a>' in html
    assert 'href="sms:+12015550123?&amp;body=Hi%20Parent%2C' in html

    response = client.post(f"/worker/families/{family.id}/phone", data={"csrf_token": token, "phone": "555"})
    assert response.status_code == 422
    assert "That doesn&#39;t look like a phone number we can call." in response.get_data(as_text=True)
    assert User.get_by_id(family.user_id).phone == "+12015550123"


def test_another_worker_cannot_touch_the_phone(app, worker_family):
    _worker, family = worker_family
    User.update(phone="+12015550123").where(User.id == family.user_id).execute()
    other = factories.make_user("worker")
    client = app.test_client()
    auth = Auth(client)
    auth.login(other)
    response = client.post(f"/worker/families/{family.id}/phone",
                           data={"csrf_token": auth.csrf_token("/worker/"), "phone": ""})
    assert response.status_code == 404
    assert User.get_by_id(family.user_id).phone == "+12015550123"


def test_search_finds_a_family_by_phone_digits(app, worker_family):
    worker, family = worker_family
    User.update(phone="+12015550123").where(User.id == family.user_id).execute()
    factories.make_family(worker=worker, display_name="Someone Else")
    client = app.test_client()
    Auth(client).login(worker)
    html = client.get("/worker/?q=555-0123").get_data(as_text=True)
    assert family.display_name in html and "Someone Else" not in html


# --- at enrolment -----------------------------------------------------------------------------------

def join_form(client, worker, **changes) -> tuple[str, dict]:
    from coach.services.people.invites import create_invite
    _invite, token = create_invite(worker)
    page = client.get(f"/join/{token}", follow_redirects=True)
    data = {"display_name": "Amira", "email": "amira@example.org", "password": "a long enough password",
            "child_birth_month": "2026-01", "timezone": "Europe/London", "window_start": "19:00",
            "window_end": "20:30", "csrf_token": factories.extract_csrf(page.get_data(as_text=True))}
    return page.request.path, data | changes


@pytest.mark.parametrize(("zone", "typed", "e164"), [("Europe/London", "07911 123456", "+447911123456"),
                                                     ("America/Chicago", "(201) 555-0123", "+12015550123"),
                                                     ("Europe/London", "", "")])
def test_a_parent_may_give_a_phone_number_when_joining(client, zone, typed, e164):
    path, data = join_form(client, factories.make_user("worker"), timezone=zone, phone=typed)
    assert 'autocomplete="tel"' in client.get(path).get_data(as_text=True)
    response = client.post(path, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    assert User.get(User.email == "amira@example.org").phone == e164


@pytest.mark.parametrize("typed", ["12", "not a phone", "0" * 41])
def test_a_bad_phone_number_at_enrolment_is_explained_and_nothing_is_created(client, typed):
    path, data = join_form(client, factories.make_user("worker"), phone=typed)
    response = client.post(path, data=data)
    assert response.status_code == 422
    assert "look like a phone number we can call" in response.get_data(as_text=True)
    assert User.select().where(User.email == "amira@example.org").count() == 0 and Family.select().count() == 0
