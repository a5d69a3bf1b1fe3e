"""A family's country from its time zone (zone.tab / zone1970.tab, aliases too), names for the
pickers, and a visitor's country from Accept-Language."""
from __future__ import annotations

import pytest

from coach.services.families import countries


@pytest.mark.parametrize(("zone", "country"), [
    ("Europe/London", "GB"), ("Europe/Belfast", "GB"), ("America/New_York", "US"), ("US/Pacific", "US"),
    ("America/Los_Angeles", "US"), ("America/Toronto", "CA"), ("America/St_Johns", "CA"),
    ("Australia/Sydney", "AU"), ("Australia/Perth", "AU"), ("Pacific/Auckland", "NZ"), ("Europe/Dublin", "IE"),
    ("Europe/Berlin", "DE"), ("Asia/Kolkata", "IN"), ("America/Sao_Paulo", "BR"),
])
def test_country_from_time_zone(zone, country):
    assert countries.country_for_timezone(zone) == country


@pytest.mark.parametrize("zone", ["UTC", "Etc/GMT+5", "", None, "Mars/Olympus", "../../etc/passwd", "Europe/"])
def test_zones_without_a_country(zone):
    assert countries.country_for_timezone(zone) == ""


def test_names_and_choices():
    assert countries.country_name("IE") == "Ireland" and countries.country_name("GB") == "United Kingdom"
    assert countries.country_name("*") == "Anywhere else"
    choices = countries.country_choices(("NZ", "AU"))
    assert choices[:2] == [("NZ", "New Zealand"), ("AU", "Australia")]
    assert len(choices) == len(countries.country_names()) > 240
    assert countries.is_country("FR") and not countries.is_country("fr") and not countries.is_country("XX")


@pytest.mark.parametrize(("languages", "country"), [
    (["en-GB", "en"], "GB"), (["en"], ""), (["zh-Hant-TW"], "TW"), (["es_MX"], "MX"), (["en-XX", "fr-CA"], "CA"),
    ([], ""),
])
def test_country_from_accept_language(languages, country):
    assert countries.country_from_languages(languages) == country
