"""Each bad input measured in issue 9 (item 4) answered with a clear 4xx, nothing written: JSON
nested ~1,000 deep, non-ASCII digits, a time zone sent as a list, ids past 2^63, CR/LF in ``next=``
and NUL bytes in text (PostgreSQL refuses them). Plus the parsing functions themselves."""
from __future__ import annotations

import io
import json

import pytest

from coach.errors import AppError
from coach.inputs import first_unstorable, json_depth_exceeds, parse_id, parse_int, parse_json
from coach.models import CheckIn, Family, Invite, Prompt, SupportRequest, SupportResource
from coach.security import safe_next
from coach.services.delivery.ack import make_ack_token

from . import factories
from .admin_helpers import admin_params, sample, sign_in
from .parent_helpers import ParentClient, checkin_body, make_delivery
from .test_fuzz import row_counts

DEEP = "[" * 1_000 + "]" * 1_000


# --- the parsing functions -----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["²", "٣", "１", "1²", "-1", "1.5", "1e3", "1_000", "", " ", True, 1.0, None, [1]])
def test_only_ascii_digits_and_real_ints_are_numbers(value):
    assert parse_int(value, 0, 10**6) is None


def test_numbers_are_bounded_and_ids_fit_a_bigint():
    assert parse_int(" 42 ", 1, 100) == 42 and parse_int(42, 1, 100) == 42
    assert parse_int("101", 1, 100) is None and parse_int(0, 1, 100) is None
    assert parse_int("5", 1, 10, text=False) is None  # JSON fields want JSON numbers
    assert parse_id(2**63 - 1) == 2**63 - 1
    assert parse_id(2**63) is None and parse_id(str(2**63)) is None and parse_id("9" * 30) is None


def test_json_depth_is_checked_before_parsing_and_strings_do_not_count():
    assert json_depth_exceeds(DEEP)
    assert json_depth_exceeds('{"a":' * 50_000 + "1" + "}" * 50_000)
    assert not json_depth_exceeds(json.dumps({"a": "[[[[[[[[[[[[[[[[[[[[[[", "b": [[1]]}))
    assert not json_depth_exceeds(json.dumps({"a": '\\"[[[[[[[[[[[[[[[[[[[[[[[[['}))
    with pytest.raises(AppError) as error:
        parse_json(DEEP.encode())
    assert error.value.status == 400 and "deep" in error.value.message


@pytest.mark.parametrize("raw, status", [
    (b"\xff{}", 400), (b"{\"a\": NaN}", 400), (b"{\"n\": " + b"9" * 5_000 + b"}", 400),
    (b"{\"a\": \"x\\u0000y\"}", 422), (b"{\"a\\u0000\": 1}", 422), (b"[\"\\ud800\"]", 422),
    (b"{\"a\": \"\\u001b[31m\"}", 422), (b"x" * 70_000, 413),
])
def test_bad_json_bytes_are_clear_errors(raw, status):
    with pytest.raises(AppError) as error:
        parse_json(raw)
    assert error.value.status == status and error.value.message.endswith(".")


def test_text_keeps_tabs_and_newlines_and_names_the_bad_path():
    assert first_unstorable({"note": "line one\r\nline\ttwo", "answers": [{"label": "ok"}]}) is None
    assert first_unstorable({"answers": [{"label": "ok"}, {"label": "x\x00"}]}) == "answers.1.label"


@pytest.mark.parametrize("target", ["/worker/\r\nSet-Cookie: a=b", "/\\evil.example", "/\t/evil.example",
                                    "/ok\x00", "//evil.example", "https://evil.example/", "/a b"])
def test_safe_next_refuses_header_breaking_and_browser_rewritten_targets(target):
    assert safe_next(target) is None


def test_safe_next_keeps_ordinary_paths():
    assert safe_next("/worker/?q=Ana%20Lopez&status=slipping") == "/worker/?q=Ana%20Lopez&status=slipping"


# --- over HTTP -----------------------------------------------------------------------------------

@pytest.fixture
def parent(app):
    """A signed-in parent whose family has a worker."""
    return ParentClient(app, factories.make_family(worker=factories.make_user("worker")))


@pytest.mark.parametrize("method, path", [
    ("POST", "/api/checkins"), ("PATCH", "/api/me/settings"), ("POST", "/api/push/subscriptions"),
    ("DELETE", "/api/push/subscriptions"), ("DELETE", "/api/me"), ("POST", "/api/deliveries/{id}/opened"),
    ("POST", "/api/deliveries/{id}/ack"),
])
def test_deep_json_is_a_400_on_every_endpoint(parent, method, path):
    delivery = make_delivery(parent.family)
    before = row_counts()
    for body in (DEEP, '{"id": ' + DEEP + "}"):
        response = parent.api(method, path.format(id=delivery.id), data=body, content_type="application/json")
        assert response.status_code == 400, (path, response.get_data(as_text=True)[:200])
        assert set(response.get_json()) == {"error", "message"} and "deep" in response.get_json()["message"]
    assert row_counts() == before


def test_deep_json_in_the_live_check_and_the_library_import(app):
    admin = factories.make_user("admin")
    client = sign_in(app, admin)
    token = factories.extract_csrf(client.get("/admin/").get_data(as_text=True))
    response = client.post("/admin/prompts/check", data=DEEP, content_type="application/json",
                           headers={"X-CSRFToken": token})
    assert response.status_code == 400 and response.get_json()["error"] == "bad_json"
    before = row_counts()
    nested = json.dumps([sample()])[:-1] + ", " + DEEP + "]"
    response = client.post("/admin/prompts/import", data={"csrf_token": token,
                                                          "file": (io.BytesIO(nested.encode()), "deep.json")})
    assert response.status_code == 400 and "nests lists or objects more than" in response.get_data(as_text=True)
    assert row_counts() == before


def test_json_sent_to_a_page_form_is_refused_not_read_as_fields(app):
    worker = factories.make_user("worker")
    client = sign_in(app, worker)
    token = factories.extract_csrf(client.get("/worker/invites").get_data(as_text=True))
    for body in ("[1, 2]", DEEP, '{"days": {"a": 1}}'):
        response = client.post("/worker/invites", data=body, content_type="application/json",
                               headers={"X-CSRFToken": token})
        assert response.status_code == 415 and "form, not JSON" in response.get_json()["message"]
    assert Invite.select().count() == 0


@pytest.mark.parametrize("digit", ["²", "٣", "１"])
def test_non_ascii_digits_are_not_numbers_anywhere(app, parent, digit):
    delivery = make_delivery(parent.family)
    response = parent.get(f"/api/checkins?limit={digit}")
    assert response.status_code == 422 and "limit" in response.get_json()["fields"]
    for name in ("felt", "answer"):
        response = parent.api("POST", "/api/checkins", json=checkin_body(delivery_id=delivery.id, **{name: digit}))
        assert response.status_code == 422 and name in response.get_json()["fields"]
    response = parent.form(f"/checkin/{delivery.id}", {"id": checkin_body()["id"], "answer": digit})
    assert response.status_code == 422 and "Choose the answer closest to your day." in response.get_data(as_text=True)
    response = parent.form(f"/checkin/{delivery.id}", {"id": checkin_body()["id"], "answer": "0", "felt": digit})
    assert response.status_code == 422 and "how connected you felt" in response.get_data(as_text=True)
    for days in (digit, [digit], f"0{digit}"):
        response = parent.api("PATCH", "/api/me/settings", json={"days_of_week": days})
        assert response.status_code == 422 and "days_of_week" in response.get_json()["fields"]
    response = parent.form("/settings", {"window_start": "18:00", "window_end": "20:00", "timezone": "Europe/London",
                                         "days": "custom", "custom_days": digit})
    assert response.status_code == 422
    assert CheckIn.select().count() == 0 and Family.get_by_id(parent.family.id).days_of_week == "0123456"
    worker = sign_in(app, parent.family.worker)
    assert worker.get(f"/worker/families/{parent.family.id}?days={digit}8").status_code == 400


@pytest.mark.parametrize("age", ["²-٣", "٠-3", "0-３"])
def test_non_ascii_digits_in_a_prompt_age_are_a_problem_not_a_crash(app, age):
    client = sign_in(app, factories.make_user("admin"))
    token = factories.extract_csrf(client.get("/admin/").get_data(as_text=True))
    result = client.post("/admin/prompts/check", json={"title": "T", "age": age}, headers={"X-CSRFToken": token})
    assert result.status_code == 200 and "age" in result.get_json()["problems"]
    before = Prompt.select().count()
    response = client.post("/admin/prompts/new", data={"csrf_token": token, "age": age, "title": "T"})
    assert response.status_code == 422 and Prompt.select().count() == before


@pytest.mark.parametrize("zone", [["Europe/London"], {"a": 1}, 3, True])
def test_a_time_zone_that_is_not_text_is_a_422(parent, zone):
    response = parent.api("PATCH", "/api/me/settings", json={"timezone": zone})
    assert response.status_code == 422
    assert response.get_json()["fields"]["timezone"].startswith("We don't know that time zone.")


def test_ids_past_a_bigint_are_422_in_a_body_and_404_in_a_path(app, parent):
    for big in (2**63, 2**64, 10**30):
        response = parent.api("POST", "/api/checkins", json=checkin_body(delivery_id=big))
        assert response.status_code == 422 and "delivery_id" in response.get_json()["fields"]
        assert parent.get(f"/checkin/{big}").status_code == 404
        response = parent.client.post(f"/api/deliveries/{big}/ack", json={"ack_token": make_ack_token(5)})
        assert response.status_code == 404
    assert CheckIn.select().count() == 0


def test_cr_lf_in_next_signs_in_to_the_home_page(app, client):
    worker = factories.make_user("worker")
    page = client.get("/login?next=/worker/%0D%0ASet-Cookie:%20a=b")
    assert page.status_code == 200
    token = factories.extract_csrf(page.get_data(as_text=True))
    response = client.post("/login?next=/worker/%0D%0ASet-Cookie:%20a=b",
                           data={"email": worker.email, "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/worker/"
    assert "a=b" not in response.headers.get("Set-Cookie", "")


NUL = "before\x00after"


def test_nul_in_the_check_in_note_is_a_field_error_on_the_api_and_the_page(parent):
    delivery = make_delivery(parent.family)
    response = parent.api("POST", "/api/checkins", json=checkin_body(delivery_id=delivery.id, note=NUL))
    assert response.status_code == 422 and "NUL" in response.get_json()["fields"]["note"]
    response = parent.form(f"/checkin/{delivery.id}", {"id": checkin_body()["id"], "answer": "0", "note": NUL})
    assert response.status_code == 422 and "control character" in response.get_data(as_text=True)
    assert CheckIn.select().count() == 0


def test_nul_in_worker_forms_is_a_field_error(app):
    worker = factories.make_user("worker")
    family = factories.make_family(worker=worker)
    client = sign_in(app, worker)
    token = factories.extract_csrf(client.get("/worker/invites").get_data(as_text=True))
    response = client.post("/worker/invites", data={"csrf_token": token, "label": NUL, "days": "14"})
    assert response.status_code == 422 and "control character" in response.get_data(as_text=True)
    support = SupportRequest.create(family=family)
    response = client.post(f"/worker/families/{family.id}/follow-up",
                           data={"csrf_token": token, "request_id": str(support.id), "note": NUL})
    assert response.status_code == 422 and "control character" in response.get_data(as_text=True)
    assert Invite.select().count() == 0
    assert SupportRequest.get_by_id(support.id).followed_up_at is None


@pytest.mark.parametrize("path, fields", [
    ("/admin/resources", {"name": NUL, "phone": "0800 1"}),
    ("/admin/resources/{resource_id}", {"name": NUL, "phone": "0800 1"}),
    ("/admin/users", {"name": NUL, "email": "n@example.org", "role": "worker", "set_password": "link"}),
    ("/admin/prompts/new", {"title": NUL, "age": "0-3"}),
    ("/admin/prompts/{prompt_id}", {"title": NUL, "age": "0-3"}),
])
def test_nul_in_admin_forms_is_a_field_error(app, path, fields):
    admin = factories.make_user("admin")
    params = admin_params(admin)
    client = sign_in(app, admin)
    token = factories.extract_csrf(client.get("/admin/").get_data(as_text=True))
    before = row_counts()
    response = client.post(path.format(**params), data={"csrf_token": token, **fields})
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:300]
    assert 'class="field-error"' in page and "Remove the invisible control character" in page
    assert row_counts() == before and SupportResource.get_by_id(params["resource_id"]).name == "Parent line"


def test_nul_in_a_query_string_is_a_clear_400(app):
    client = sign_in(app, factories.make_user("admin"))
    response = client.get("/admin/audit?action=a%00b")
    assert response.status_code == 400 and "(such as a NUL byte)" in response.get_data(as_text=True)
    response = client.get("/admin/audit?action=a%00b", headers={"Accept": "application/json"})
    assert response.get_json()["fields"] == {"action": "Remove the invisible control character (such as a NUL "
                                                       "byte) from this text."}


@pytest.mark.parametrize("path, fields", [
    ("/login", {"email": "a\x00@example.org", "password": "x" * 12}),
    ("/settings/delete", {"confirm": NUL}),
])
def test_nul_in_sign_in_and_delete_forms_is_refused(app, parent, path, fields):
    client = app.test_client() if path == "/login" else parent.client
    token = factories.extract_csrf(client.get("/login" if path == "/login" else "/settings").get_data(as_text=True))
    before = row_counts()
    response = client.post(path, data={"csrf_token": token, **fields})
    assert 400 <= response.status_code < 500
    assert row_counts() == before
