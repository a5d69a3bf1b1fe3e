"""Support resources on day one: the seed file is complete and cited, init-db loads it once, and
admins keep the list per country (filter, new fields, order within a country, the gaps)."""
from __future__ import annotations

import json
from datetime import date

import pytest

from coach.models import SupportResource
from coach.services.families import resources

from . import factories
from .admin_helpers import csrf_for, sign_in

REQUIRED = ("US", "GB", "CA", "AU", "IE", "NZ", "*")
SEED = json.loads(resources.SEED_FILE.read_text(encoding="utf-8"))["resources"]


def test_every_seeded_resource_is_cited_and_checked():
    for item in SEED:
        assert item["source_url"].startswith(("https://", "http://")), item["name"]
        assert date.fromisoformat(item["checked_on"]) <= date.today(), item["name"]
        assert item["phone"] or item["text"] or item["url"], item["name"]


@pytest.mark.parametrize("country", REQUIRED)
def test_each_required_country_has_an_emergency_entry_and_a_crisis_line(country):
    kinds = {item["kind"] for item in SEED if item["country"] == country}
    assert {"emergency", "crisis"} <= kinds
    if country != "*":
        assert any(item["phone"] for item in SEED if item["country"] == country and item["kind"] == "emergency")


def test_the_seed_file_passes_the_admin_rules():
    assert len(resources.load_seed_file()) == len(SEED)


def test_init_db_seeds_an_empty_list_once_in_file_order(app, runner):
    assert "support resources" in runner.invoke(args=["init-db"]).output
    stored = list(SupportResource.select().order_by(SupportResource.position))
    assert [(r.country, r.name) for r in stored] == [(i["country"], i["name"]) for i in SEED]
    assert all(r.source_url and r.checked_on for r in stored)
    assert "support resources" not in runner.invoke(args=["init-db"]).output
    assert SupportResource.select().count() == len(SEED)


def test_an_admins_list_is_never_reseeded(app):
    admin = factories.make_user("admin")
    only = resources.create_resource({"name": "Local line", "phone": "0800 000 000", "country": "GB",
                                      "kind": "crisis"}, admin)
    resources.set_visible(only, False, admin)
    assert resources.seed_resources_if_empty() == 0
    assert SupportResource.select().count() == 1


def test_a_broken_seed_file_fails_loudly_and_stores_nothing(app, tmp_path):
    broken = tmp_path / "resources.json"
    broken.write_text(json.dumps({"resources": [SEED[0], dict(SEED[1], country="XX")]}))
    with pytest.raises(ValueError, match="resource 2"):
        resources.seed_resources_if_empty(broken)
    assert SupportResource.select().count() == 0


def test_parents_see_emergency_first_then_by_kind(app):
    admin = factories.make_user("admin")
    for kind in ("abuse", "parenting", "crisis", "emergency", "mental_health"):
        resources.create_resource({"name": kind, "phone": "123", "country": "IE", "kind": kind}, admin)
    country, items = resources.for_country("IE")
    assert country == "IE"
    assert [r.kind for r in items] == ["emergency", "crisis", "mental_health", "parenting", "abuse"]
    assert resources.for_country("FR")[0] == "*"


# --- the admin pages -----------------------------------------------------------------------------

GOOD = {"name": "Line", "phone": "0800 123 456", "country": "GB", "kind": "crisis",
        "source_url": "https://example.org/about", "checked_on": "2026-11-01"}


@pytest.fixture
def admin_client(app):
    return sign_in(app, factories.make_user("admin"))


@pytest.mark.parametrize(("changes", "words"), [
    ({"country": "XX"}, "Choose a country"),
    ({"country": ""}, "Choose a country"),
    ({"kind": "hotline"}, "Choose what kind of help"),
    ({"checked_on": "2099-01-01"}, "can&#39;t be in the future"),
    ({"checked_on": "yesterday"}, "Use a date like"),
    ({"source_url": "javascript:alert(1)"}, "The source page must be a web address"),
    ({"text": "x" * 121}, "121 characters; the limit is 120"),
])
def test_bad_new_fields_are_explained_and_nothing_is_stored(admin_client, changes, words):
    response = admin_client.post("/admin/resources", data=GOOD | changes | {"csrf_token": csrf_for(admin_client)})
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)
    assert SupportResource.select().count() == 0


def test_admin_adds_a_country_resource_and_filters_by_country(admin_client):
    token = csrf_for(admin_client)
    response = admin_client.post("/admin/resources", data=GOOD | {"text": "Text SHOUT to 85258", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/resources?country=GB")
    stored = SupportResource.get()
    assert (stored.country, stored.kind, stored.text, stored.checked_on) == ("GB", "crisis", "Text SHOUT to 85258",
                                                                           date(2026, 11, 1))
    admin_client.post("/admin/resources", data=GOOD | {"name": "Worldwide", "country": "*", "csrf_token": token})
    admin_client.get("/admin/resources")  # shows (and so clears) the "Added" message
    only_gb = admin_client.get("/admin/resources?country=GB").get_data(as_text=True)
    assert "Line" in only_gb and "Worldwide" not in only_gb
    assert "Worldwide" in admin_client.get("/admin/resources?country=*").get_data(as_text=True)
    assert admin_client.get("/admin/resources?country=Narnia").status_code == 400


def test_moving_stays_within_the_country(app, admin_client):
    admin = factories.make_user("admin")
    gb1 = resources.create_resource(GOOD | {"name": "GB one"}, admin)
    resources.create_resource(GOOD | {"name": "US one", "country": "US"}, admin)
    gb2 = resources.create_resource(GOOD | {"name": "GB two"}, admin)
    admin_client.post(f"/admin/resources/{gb2.id}/move", data={"csrf_token": csrf_for(admin_client), "direction": "up"})
    assert [r.name for r in resources.ordered(country="GB")] == ["GB two", "GB one"]
    assert [r.name for r in resources.ordered()] == ["GB two", "US one", "GB one"]
    assert gb1.id != gb2.id


def test_countries_with_families_but_no_resources_are_listed(app, admin_client):
    admin = factories.make_user("admin")
    resources.create_resource(GOOD, admin)
    factories.make_family(country="GB")
    factories.make_family(country="FR")
    factories.make_family(country="FR")
    factories.make_family(country="")
    assert resources.countries_without_resources() == [{"country": "FR", "name": "France", "families": 2}]
    html = admin_client.get("/admin/resources").get_data(as_text=True)
    assert "have no local numbers" in html and "France</a> (2 families)" in html
