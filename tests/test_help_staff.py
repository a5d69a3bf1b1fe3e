"""What staff see of the care loop: the request's details and the low-mood flag on the family page
and caseload, the "Turn on alerts" control (workers subscribe through the parents' API), and the
red items on /admin/."""
from __future__ import annotations

# ruff: noqa: F811  (pytest fixtures imported from help_fixtures are parameters by design)
import uuid
from datetime import timedelta

import pytest

from coach.models import CheckIn, PushSubscription, SupportRequest, utcnow
from coach.services.families import resources
from coach.services.families.support import ask_for_support, escalate_overdue

from . import factories
from .admin_helpers import sign_in
from .delivery_helpers import allow_push
from .help_fixtures import family, worker  # noqa: F401  (fixtures, used by name)
from .pushservice import PushService


@pytest.fixture
def staff(app, worker):
    return sign_in(app, worker)


def test_family_page_shows_urgency_safety_answer_and_the_note(staff, family):
    ask_for_support(family, family.user, source="help", safe="unsure", note="Please call after 6 <b>pm</b>")
    html = staff.get(f"/worker/families/{family.id}").get_data(as_text=True)
    assert "Urgent" in html and "From the help page" in html and "Safe right now? <strong>Not sure</strong>" in html
    assert "Please call after 6 &lt;b&gt;pm&lt;/b&gt;" in html


def test_low_mood_is_flagged_on_the_family_page(app, staff, family):
    for n, felt in enumerate((1, 2, 1)):
        at = utcnow() - timedelta(minutes=5 - n)
        CheckIn.create(id=uuid.uuid4(), family=family, user=family.user_id, tried="yes", felt=felt, client_created_at=at, received_at=at)
    assert "Low mood" in staff.get(f"/worker/families/{family.id}").get_data(as_text=True)
    CheckIn.update(felt=4).execute()
    assert "Low mood" not in staff.get(f"/worker/families/{family.id}").get_data(as_text=True)


def test_caseload_offers_alerts_and_workers_can_subscribe_a_device(app, staff, worker):
    html = staff.get("/worker/").get_data(as_text=True)
    assert "Turn on alerts" in html and "/static/js/alerts.js" in html
    token = factories.extract_csrf(html)
    with PushService() as service:
        allow_push(app, service)
        assert staff.get("/api/push/public-key").status_code == 200
        device = service.subscribe()
        response = staff.post("/api/push/subscriptions", json=device.info(), headers={"X-CSRFToken": token})
    assert response.status_code == 201
    assert PushSubscription.get().user_id == worker.id
    bad = staff.post("/api/push/subscriptions", json={"endpoint": "nope"}, headers={"X-CSRFToken": token})
    assert bad.status_code == 422 and PushSubscription.select().count() == 1


def test_admin_dashboard_shows_overdue_requests_missing_countries_and_mail(app, family):
    admin = sign_in(app, factories.make_user("admin"))
    html = admin.get("/admin/").get_data(as_text=True)
    assert "No support resources are shown to parents." in html
    assert "Email is not working." in html  # the test app has no COACH_SMTP_URL
    resources.seed_resources_if_empty()
    factories.make_family(country="FR")
    request = ask_for_support(family, family.user, source="help", safe="no", now=utcnow() - timedelta(hours=30))
    html = admin.get("/admin/").get_data(as_text=True)
    assert "Families in France have no local helplines" in html
    assert f"Urgent: <a href=\"/worker/families/{family.id}\">{family.display_name}</a> asked for help" in html
    assert "the duty address hears at the next tick" in html
    assert escalate_overdue() == 1
    assert "Passed to the duty address" in admin.get("/admin/").get_data(as_text=True)
    SupportRequest.update(followed_up_at=utcnow()).where(SupportRequest.id == request.id).execute()
    html = admin.get("/admin/").get_data(as_text=True)
    assert "asked for help" not in html and "No support resources" not in html
