"""/help as people use it: the safety question, the emergency number first for each seeded country,
the international fallback, the parent's request and its status, and bad input refused with the
numbers still on the page."""
from __future__ import annotations

# ruff: noqa: F811  (pytest fixtures imported from help_fixtures are parameters by design)
import re
from datetime import timedelta

import pytest

from coach.models import MailMessage, StaffAlert, SupportRequest, SupportResource, utcnow
from coach.services.families import resources
from coach.services.families.caseload import mark_followed_up

from . import factories
from .admin_helpers import sign_in
from .help_fixtures import family, parent, worker  # noqa: F401  (fixtures, used by name)

SEEDED = ("US", "GB", "CA", "AU", "IE", "NZ")


@pytest.fixture
def seeded(app):
    assert resources.seed_resources_if_empty() > 0
    return {r.country: r for r in SupportResource.select().where(SupportResource.kind == "emergency")}


def tel_links(html: str) -> list[str]:
    return re.findall(r'href="tel:([^"]+)"', html)


@pytest.mark.parametrize("country", SEEDED)
def test_each_seeded_country_shows_its_emergency_number_first(client, seeded, country):
    html = client.get(f"/help?country={country}&safe=no").get_data(as_text=True)
    number = seeded[country].phone.replace(" ", "")
    assert tel_links(html)[0] == number
    assert f"Call {seeded[country].phone}" in html
    # Without the "not safe" answer the emergency number still leads the country's list.
    html = client.get(f"/help?country={country}").get_data(as_text=True)
    assert tel_links(html)[0] == number


def test_not_safe_puts_the_emergency_number_on_top_then_crisis_lines(client, seeded):
    html = client.get("/help?country=GB&safe=unsure").get_data(as_text=True)
    urgent = html.index('id="urgent"')
    assert urgent < html.index("Are you or your child safe right now?")
    assert html.index("Call 999") > urgent and html.index("Samaritans") > html.index("Call 999")
    calm = client.get("/help?country=GB&safe=yes").get_data(as_text=True)
    assert 'id="urgent"' not in calm and "We're glad" in calm


def test_a_country_without_resources_gets_the_international_list(client, seeded):
    html = client.get("/help?country=FR").get_data(as_text=True)
    assert "We don't have numbers for France yet" in html
    assert "findahelpline.com" in html and "Samaritans" not in html


def test_anonymous_country_follows_the_browsers_region(client, seeded):
    html = client.get("/help", headers={"Accept-Language": "en-NZ,en;q=0.8"}).get_data(as_text=True)
    assert tel_links(html)[0] == "111"
    html = client.get("/help", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "These help from anywhere" in html
    assert "Sign in to ask" in html and 'name="contact"' not in html


def test_a_signed_in_parent_sees_their_countrys_numbers(parent, seeded):
    html = parent.get("/help", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert tel_links(html)[0] == "999" and 'name="contact"' in html


@pytest.mark.parametrize("query", ["safe=maybe", "country=XX", "country=%3Cscript%3E", "safe=no&country=ZZZ"])
def test_bad_query_is_400_but_still_shows_help(client, seeded, query):
    response = client.get(f"/help?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'role="alert"' in html and "Are you or your child safe right now?" in html
    assert "<script>" not in html


def test_parent_asks_for_contact_and_sees_it_sent_then_followed_up(app, parent, family, worker, seeded):
    page = parent.get("/help?safe=no").get_data(as_text=True)
    token = factories.extract_csrf(page)
    response = parent.post("/help", data={"csrf_token": token, "safe": "no", "contact": "1",
                                          "note": "Rough night, please call"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/help?safe=no#status")
    request = SupportRequest.get()
    assert (request.source, request.safe, request.urgent, request.note) == ("help", "no", True,
                                                                           "Rough night, please call")
    assert StaffAlert.select().where(StaffAlert.user == worker.id).count() == 1
    assert MailMessage.select().where(MailMessage.to_address == worker.email).count() == 1
    html = parent.get("/help?safe=no").get_data(as_text=True)
    assert "Sent to Maria at" in html and "Maria usually replies within a working day." in html
    assert "the duty team was told too" in html
    # A second tap of the same button does not send the worker a second alert.
    parent.post("/help", data={"csrf_token": token, "safe": "no", "contact": "1"})
    assert SupportRequest.select().count() == 1
    mark_followed_up(family, request.id, worker)
    html = parent.get("/help").get_data(as_text=True)
    today = utcnow()
    assert f"Maria followed up on {today.day} {today:%B}." in html


@pytest.mark.parametrize(("form", "status", "words"), [
    ({"safe": "no", "contact": "1", "note": "x" * 501}, 422, "500 characters or fewer"),
    ({"safe": "perhaps", "contact": "1"}, 422, "Choose yes, no or not sure."),
    ({"safe": "no"}, 422, "Ask them to get in touch"),
    ({"safe": "no", "contact": "1", "note": "a\x00b"}, 422, "can&#39;t store"),
    ({"safe": "no", "contact": "1", "csrf_token": "stale"}, 400, "press the button again"),
])
def test_bad_help_requests_store_nothing_and_keep_the_numbers(parent, seeded, form, status, words):
    token = factories.extract_csrf(parent.get("/help").get_data(as_text=True))
    response = parent.post("/help", data={"csrf_token": token} | form)
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert words in html and "Call 999" in html
    assert SupportRequest.select().count() == 0 and MailMessage.select().count() == 0


def test_staff_and_visitors_cannot_send_a_request(app, client, worker, seeded):
    token = factories.extract_csrf(client.get("/help").get_data(as_text=True))
    response = client.post("/help", data={"csrf_token": token, "contact": "1"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    staff = sign_in(app, worker)
    token = factories.extract_csrf(staff.get("/help").get_data(as_text=True))
    assert staff.post("/help", data={"csrf_token": token, "contact": "1"}).status_code == 403
    assert SupportRequest.select().count() == 0


def test_help_works_for_a_paused_parent_with_no_prompt_today(app, parent, family, seeded):
    family.paused_until = (utcnow() + timedelta(days=10)).date()
    family.save()
    token = factories.extract_csrf(parent.get("/help").get_data(as_text=True))
    assert parent.post("/help", data={"csrf_token": token, "contact": "1"}).status_code == 302
    assert SupportRequest.get().urgent is False


def test_every_parent_page_links_to_help(parent, family, seeded):
    for path in ("/", "/journal", "/settings", "/help"):
        assert 'href="/help"' in parent.get(path).get_data(as_text=True), path
    assert 'href="/help"' in parent.get("/offline").get_data(as_text=True)
