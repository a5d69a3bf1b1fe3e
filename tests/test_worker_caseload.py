"""The caseload page and its CSV: scoping, filters and search, the admin's worker filter, formula-safe
CSV cells, and a number of SQL queries that does not grow with the caseload."""
from __future__ import annotations

import csv
import io
import uuid
from contextlib import contextmanager
from datetime import datetime, time, timedelta

import pytest

from coach.db import db
from coach.models import CheckIn, Delivery, Family, PushSubscription, SupportRequest, User, utcnow
from coach.services.families.household import seat_main_contacts
from coach.worker.exports import safe_cell

from . import factories
from .test_engagement import add_checkin, add_device


def family_at(worker, name: str, checked_in_days_ago: int | None = 0, **fields) -> Family:
    """A family on the real clock (pages use it), with a working device and check-ins on three days
    in a row, the latest ``checked_in_days_ago`` (enough to count as engaged when recent)."""
    now = utcnow()
    fields.setdefault("timezone", "UTC")
    family = factories.make_family(worker=worker, display_name=name, created_at=now - timedelta(days=30), **fields)
    add_device(family, last_ok_at=now - timedelta(days=1))
    if checked_in_days_ago is not None:
        for extra in range(3):
            add_checkin(family, now - timedelta(days=checked_in_days_ago + extra))
    return family


def rows_of(response) -> list[dict]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def caseload(app):
    worker = factories.make_user("worker")
    other = factories.make_user("worker")
    families = {
        "engaged": family_at(worker, "Alice Engaged"),
        "slipping": family_at(worker, "Bella Slipping", checked_in_days_ago=5, child_name="Noor"),
        "disengaged": family_at(worker, "Carla Gone", checked_in_days_ago=12),
        "support": family_at(worker, "Dana Asked"),
        "theirs": family_at(other, "Erin Elsewhere"),
    }
    SupportRequest.create(family=families["support"])
    return {"worker": worker, "other": other, "families": families}


def test_caseload_shows_own_families_by_need(client, auth, caseload):
    auth.login(caseload["worker"])
    html = client.get("/worker/").get_data(as_text=True)
    order = [html.index(name) for name in ("Dana Asked", "Carla Gone", "Bella Slipping", "Alice Engaged")]
    assert order == sorted(order)
    assert "Erin Elsewhere" not in html
    assert 'class="chip chip-support">Asked for support' in html
    assert "No check-in for 12 days" in html
    assert 'role="img" aria-label="Last 28 days: check-ins on 3 days' in html
    assert html.count('<rect class="day-') == 4 * 28  # one bar a day, named once by the strip's label
    assert " style=" not in html  # strict CSP: classes only


def test_other_worker_sees_none_of_them(client, auth, caseload):
    auth.login(caseload["other"])
    html = client.get("/worker/").get_data(as_text=True)
    assert "Erin Elsewhere" in html
    assert "Alice Engaged" not in html and "Dana Asked" not in html


def test_status_filter_and_search(client, auth, caseload):
    auth.login(caseload["worker"])
    html = client.get("/worker/?status=slipping").get_data(as_text=True)
    assert "Bella Slipping" in html and "Alice Engaged" not in html
    assert '<span class="stat-value">1</span>' in html  # tiles still count the whole caseload
    html = client.get("/worker/?q=carla").get_data(as_text=True)
    assert "Carla Gone" in html and "Bella Slipping" not in html
    html = client.get("/worker/?q=noor").get_data(as_text=True)  # the child's name matches too
    assert "Bella Slipping" in html and "Carla Gone" not in html
    html = client.get("/worker/?q=carla&status=engaged").get_data(as_text=True)
    assert "No families match." in html
    html = client.get("/worker/?q=%25").get_data(as_text=True)  # LIKE wildcards are literal
    assert "No families match." in html


def test_bad_filter_gets_a_clear_error_and_the_full_list(client, auth, caseload):
    auth.login(caseload["worker"])
    response = client.get("/worker/?status=happy&q=" + "x" * 81)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Choose a status from the list." in html
    assert "Search with at most 80 characters." in html
    assert "Alice Engaged" in html and "Dana Asked" in html
    response = client.get("/worker/export.csv?status=happy")
    assert response.status_code == 400
    assert "Choose a status from the list." in response.get_data(as_text=True)


def test_admin_sees_all_families_and_filters_by_worker(client, auth, caseload):
    admin = factories.make_user("admin")
    orphan = family_at(None, "Fay Unassigned")
    auth.login(admin)
    html = client.get("/worker/").get_data(as_text=True)
    assert all(name in html for name in ("Alice Engaged", "Erin Elsewhere", "Fay Unassigned"))
    assert f'<option value="{caseload["other"].id}">{caseload["other"].label}</option>' in html
    html = client.get(f"/worker/?worker={caseload['other'].id}").get_data(as_text=True)
    assert "Erin Elsewhere" in html and "Alice Engaged" not in html
    html = client.get("/worker/?worker=none").get_data(as_text=True)
    assert "Fay Unassigned" in html and "Erin Elsewhere" not in html
    assert client.get("/worker/?worker=99999").status_code == 400
    assert orphan.worker_id is None


def test_worker_cannot_use_the_worker_filter(client, auth, caseload):
    auth.login(caseload["worker"])
    html = client.get(f"/worker/?worker={caseload['other'].id}").get_data(as_text=True)
    assert "Alice Engaged" in html and "Erin Elsewhere" not in html
    assert 'name="worker"' not in html


def test_empty_caseload_explains_what_to_do(client, auth, app):
    worker = factories.make_user("worker")
    auth.login(worker)
    html = client.get("/worker/").get_data(as_text=True)
    assert "No families yet." in html


# --- CSV --------------------------------------------------------------------------------------------

def test_caseload_csv_has_the_page_metrics_and_is_scoped(app, client, auth, caseload):
    auth.login(caseload["worker"])
    response = client.get("/worker/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="caseload-')
    rows = rows_of(response)
    assert [row["family"] for row in rows] == ["Dana Asked", "Carla Gone", "Bella Slipping", "Alice Engaged"]
    slipping = rows[2]
    assert (slipping["status"], slipping["days_since_check_in"], slipping["devices"]) == ("Slipping", "5", "1")
    assert {"checked_in_pct_7d", "opened_28d", "last_successful_push_utc"} <= set(slipping)
    assert len(rows_of(client.get("/worker/export.csv?status=slipping"))) == 1

    other = app.test_client()
    type(auth)(other).login(caseload["other"])
    assert [row["family"] for row in rows_of(other.get("/worker/export.csv"))] == ["Erin Elsewhere"]


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1+2", "-3", "@SUM(A1)", "\tTab", "\rCR"])
def test_safe_cell_neutralises_formulas(value):
    assert safe_cell(value) == "'" + value


def test_safe_cell_leaves_ordinary_values():
    assert safe_cell("Ana-Maria") == "Ana-Maria"
    assert safe_cell(-3) == -3 and safe_cell(None) == "" and safe_cell(True) == "yes"


def test_csv_cells_from_parents_cannot_run_formulas(client, auth, app):
    worker = factories.make_user("worker")
    family_at(worker, "=cmd|' /C calc'!A0", child_name="@child")
    auth.login(worker)
    row = rows_of(client.get("/worker/export.csv"))[0]
    assert row["family"] == "'=cmd|' /C calc'!A0"
    assert row["child"] == "'@child"


# --- a fixed number of queries ---------------------------------------------------------------------

@contextmanager
def counted_queries():
    """Record every SQL statement peewee sends while the block runs."""
    database = db.obj
    statements: list[str] = []
    real = database.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        statements.append(sql)
        return real(sql, params, *args, **kwargs)

    database.execute_sql = counting
    try:
        yield statements
    finally:
        del database.execute_sql


def bulk_caseload(worker: User, size: int, history: int = 10) -> None:
    """``size`` families with ``history`` days of prompts each, inserted in bulk. Every caseload has
    each kind of family that costs a query: one on a 35-day streak (older check-ins) and some that
    never checked in (their last check-in is looked up beyond the window); one family in every
    ``size // 50`` asked for support, so those 50 (with both kinds among them) fill page 1 in call order."""
    now = utcnow()
    tag = uuid.uuid4().hex[:8]
    with db.atomic():
        for start in range(0, size, 2000):
            User.insert_many([{"email": f"p{i}-{tag}@example.org", "password_hash": "x", "role": "parent"}
                              for i in range(start, min(size, start + 2000))]).execute()
        users = User.select(User.id).where(User.email.endswith(f"-{tag}@example.org")).order_by(User.id)
        rows = [{"user": u.id, "worker": worker.id, "display_name": f"Family {i:03}",
                 "child_birth_month": "2025-06", "timezone": "Europe/London",
                 "window_start": "18:00", "window_end": "20:00", "created_at": now - timedelta(days=60)}
                for i, u in enumerate(users)]
        for start in range(0, len(rows), 1000):
            Family.insert_many(rows[start:start + 1000]).execute()
        seat_main_contacts()
        families = list(Family.select().where(Family.worker == worker.id).order_by(Family.id))
        deliveries, checkins, devices = [], [], []
        for i, family in enumerate(families):
            devices.append({"user": family.user_id, "endpoint": f"https://fcm.googleapis.com/{tag}/{i}",
                            "p256dh": "k", "auth": "a", "last_ok_at": now - timedelta(days=i % 12),
                            "error_count": i % 3})
            for n in range(history):
                day = (now - timedelta(days=n)).date()
                due = datetime.combine(day, time(18))
                deliveries.append({"family": family.id, "local_date": day, "due_at": due, "expires_at": due,
                                   "next_attempt_at": due, "status": "sent" if n % 4 else "failed",
                                   "opened_at": due if n % 2 else None})
            streak_days = {0: 35, 1: 0}.get(i, i % 5)
            for n in range(streak_days):
                moment = now - timedelta(days=n, hours=1)
                checkins.append({"id": uuid.uuid4(), "family": family.id, "user": family.user_id, "tried": "yes",
                                 "client_created_at": moment, "received_at": moment})
        for start in range(0, len(devices), 1000):
            PushSubscription.insert_many(devices[start:start + 1000]).execute()
        for start in range(0, len(deliveries), 1000):
            Delivery.insert_many(deliveries[start:start + 1000]).execute()
        for start in range(0, len(checkins), 1000):
            CheckIn.insert_many(checkins[start:start + 1000]).execute()
        SupportRequest.insert_many([{"family": f.id} for f in families[::max(1, size // 50)]]).execute()


def queries_for_caseload(app, auth_user, size: int, history: int = 10) -> tuple[int, str]:
    worker = factories.make_user("worker")
    bulk_caseload(worker, size, history)
    client = app.test_client()
    token = factories.extract_csrf(client.get("/login").get_data(as_text=True))
    user = auth_user or worker
    client.post("/login", data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token})
    path = f"/worker/?worker={worker.id}" if auth_user else "/worker/"
    with counted_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('class="strip"') == min(size, 50)  # 50 a page
    return len(statements), html


def test_caseload_query_count_does_not_grow_with_size(app):
    """Signed-in user, the caseload index, the page's families, deliveries, check-ins, older last
    check-ins, devices, support requests, latest contacts, older streak days: 10, for 5 families or 500."""
    small, _ = queries_for_caseload(app, None, 5)
    large, html = queries_for_caseload(app, None, 500)
    assert small == large
    assert large <= 12
    assert "page 1 of 10" in html and 'rel="next"' in html
    assert html.count("chip chip-support") == 50  # those who asked fill page 1


def test_admin_page_of_ten_thousand_families_has_the_same_query_count(app):
    admin = factories.make_user("admin")
    small, _ = queries_for_caseload(app, admin, 5, history=2)
    large, html = queries_for_caseload(app, admin, 10_000, history=2)
    assert small == large  # one more than a worker's: the worker filter's list of workers
    assert large <= 12
    assert "10000 families" in html and "page 1 of 200" in html
    assert html.count("chip chip-support") == 50
