"""The parent's pages through HTTP: home, check-in (with its no-JavaScript form), journal, settings,
deleting the account, and the PWA files (manifest, service worker, offline page)."""
from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from coach.models import CheckIn, Delivery, Family, PushSubscription, SupportRequest, SupportResource, User
from coach.services.families.checkins import local_today
from coach.services.families.upcoming import next_prompt, paused_until

from . import factories
from .parent_helpers import ParentClient, checkin_body, make_delivery, make_prompt


@pytest.fixture
def parent(app):
    return ParentClient(app, factories.make_family(child_name="Sam"))


def html(response) -> str:
    return response.get_data(as_text=True)


def test_home_shows_todays_prompt_even_without_a_push(parent):
    delivery = make_delivery(parent.family, status="no_device", sent_at=None)
    page = html(parent.get("/"))
    assert "Notice Sam&#39;s look-away" in page and "{child}" not in page
    assert "Why it matters" in page and f'href="/checkin/{delivery.id}"' in page
    assert 'rel="manifest"' in page and "js/app.js" in page


def test_home_without_a_prompt_says_when_the_next_comes(parent):
    page = html(parent.get("/"))
    upcoming = next_prompt(parent.family)  # later today, tomorrow or a weekday, by the real clock
    assert f"Your next prompt comes {upcoming.words}" in page and "18:00" in page
    assert "Ready when you are" in page  # no streak yet: no shaming zero
    assert "whenever you&#39;re ready" not in page  # no prompt today: nothing "is here"


def test_home_shows_the_check_in_state_and_a_gentle_streak(parent):
    delivery = make_delivery(parent.family)
    parent.api("POST", "/api/checkins", json=checkin_body(delivery_id=delivery.id))
    page = html(parent.get("/"))
    assert "You checked in on this one" in page
    assert re.search(r"<strong>1</strong>&nbsp;day of noticing", page)


def test_checkin_page_offers_the_prompts_answers_and_faces(parent):
    SupportResource.create(name="Family Line", phone="0808 800 2222")
    delivery = make_delivery(parent.family)
    response = parent.get(f"/checkin/{delivery.id}")
    page = html(response)
    assert response.status_code == 200
    # One button per answer (tried is taken from the answer on the server).
    assert re.search(r'<button[^>]*name="answer" value="2"[^>]*>Not today</button>', page)
    assert "Yes, I waited for Sam" in page
    assert page.count('class="face"') == 5 and "Very close" in page and "Far apart" in page
    assert 'maxlength="500"' in page and "0 / 500" in page
    assert "Share this note with my family worker" in page and "get in touch" in page
    assert "Family Line" in page  # ready to show at once, even offline
    assert Delivery.get_by_id(delivery.id).opened_at is not None


def test_prefetching_the_checkin_page_for_offline_is_not_opening_it(parent):
    delivery = make_delivery(parent.family)
    assert parent.get(f"/checkin/{delivery.id}", headers={"Purpose": "prefetch"}).status_code == 200
    assert Delivery.get_by_id(delivery.id).opened_at is None


def test_share_default_comes_from_settings(parent):
    Family.update(share_notes_default=True).where(Family.id == parent.family.id).execute()
    delivery = make_delivery(parent.family)
    page = html(parent.get(f"/checkin/{delivery.id}"))
    assert re.search(r'name="shared_with_worker"\s+checked', page)


def test_someone_elses_checkin_page_is_404(parent):
    theirs = make_delivery(factories.make_family())
    assert parent.get(f"/checkin/{theirs.id}").status_code == 404
    assert parent.form(f"/checkin/{theirs.id}", {"id": str(uuid.uuid4()), "answer": "0"}).status_code == 404
    assert CheckIn.select().count() == 0 and Delivery.get_by_id(theirs.id).opened_at is None


def test_no_javascript_form_saves_once_and_shows_support(parent):
    SupportResource.create(name="Family Line", phone="0808 800 2222")
    delivery = make_delivery(parent.family)
    form = {"id": str(uuid.uuid4()), "answer": "2", "felt": "4", "note": " Long day. ",
            "shared_with_worker": "on", "wants_support": "on"}
    response = parent.form(f"/checkin/{delivery.id}", form)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/checkin/{delivery.id}?saved={form['id']}"
    assert parent.form(f"/checkin/{delivery.id}", form).status_code == 302  # a double tap
    row = CheckIn.get()
    assert (row.answer, row.tried, row.felt, row.note, row.shared_with_worker) == (2, "not_yet", 4, "Long day.", True)
    assert SupportRequest.select().count() == 1
    page = html(parent.get(response.headers["Location"]))
    assert "Saved." in page and re.search(r'id="support-resources"[^>]*>', page).group(0).count("hidden") == 0


def test_no_javascript_form_explains_what_is_missing(parent):
    delivery = make_delivery(parent.family)
    response = parent.form(f"/checkin/{delivery.id}", {"id": str(uuid.uuid4()), "note": "kept"})
    assert response.status_code == 422
    assert "Choose the answer closest to your day." in html(response) and ">kept</textarea>" in html(response)
    too_long = parent.form(f"/checkin/{delivery.id}", {"id": str(uuid.uuid4()), "answer": "0", "note": "x" * 501})
    assert too_long.status_code == 422 and "500 characters or fewer" in html(too_long)
    assert CheckIn.select().count() == 0


def test_journal_groups_by_week_and_reflects_kindly(parent):
    repair = make_prompt("repair", title="Come back to {child}")
    today = local_today(parent.family)
    for days_ago, prompt in ((0, repair), (1, repair), (9, None)):
        delivery = make_delivery(parent.family, local_date=today - timedelta(days=days_ago), prompt=prompt)
        when = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
        parent.api("POST", "/api/checkins", json=checkin_body(delivery_id=delivery.id, client_created_at=when,
                                                              note=f"note {days_ago}", felt=5))
    page = html(parent.get("/journal"))
    assert "This week" in page or "Last week" in page
    assert page.index("note 0") < page.index("note 1") < page.index("note 9")
    assert "Come back to Sam" in page and "Very close" in page
    assert "Being in sync some of the time is enough." in page


def test_empty_journal(parent):
    page = html(parent.get("/journal"))
    assert "Nothing here yet" in page and "Your check-ins will gather here" in page


def test_settings_page_saves_and_shows_errors(parent):
    page = html(parent.get("/settings"))
    assert 'value="18:00"' in page and "Europe/London" in page and "Send me a test prompt" in page
    form = {"window_start": "07:00", "window_end": "09:00", "timezone": "Europe/London", "days": "custom",
            "custom_days": ["5", "6"], "paused_until": "", "share_notes_default": "y"}
    response = parent.form("/settings", form)
    assert response.status_code == 302
    family = Family.get_by_id(parent.family.id)
    assert (family.window_start, family.days_of_week, family.share_notes_default) == ("07:00", "56", True)
    assert "Saturday and Sunday" in html(parent.get("/"))
    bad = parent.form("/settings", form | {"window_end": "07:10", "days": "custom", "custom_days": []})
    assert bad.status_code == 422
    assert "at least 30 minutes" in html(bad) and "Choose at least one day." in html(bad)
    assert Family.get_by_id(parent.family.id).window_end == "09:00"


def test_settings_three_days_a_week_and_pause(parent):
    until = (local_today(parent.family) + timedelta(days=3)).isoformat()
    form = {"window_start": "18:00", "window_end": "20:00", "timezone": "Europe/London", "days": "three",
            "paused_until": until}
    assert parent.form("/settings", form).status_code == 302
    family = Family.get_by_id(parent.family.id)
    assert family.days_of_week == "024" and family.paused_until.isoformat() == until
    assert "Prompts are paused until" in html(parent.get("/settings"))
    assert parent.form("/settings", form | {"resume": "1"}).status_code == 302
    assert Family.get_by_id(parent.family.id).paused_until is None


def test_settings_lists_devices_and_removes_one(app, parent):
    mine = PushSubscription.create(user=parent.user, endpoint="https://fcm.googleapis.com/m", p256dh="B" * 87,
                                   auth="A" * 22, user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/130.0")
    theirs = PushSubscription.create(user=factories.make_family().user, endpoint="https://fcm.googleapis.com/t",
                                     p256dh="B" * 87, auth="A" * 22)
    assert "Chrome on Android" in html(parent.get("/settings"))
    assert parent.form(f"/settings/devices/{theirs.id}/remove").status_code == 404
    assert parent.form(f"/settings/devices/{mine.id}/remove").status_code == 302
    assert [s.id for s in PushSubscription.select()] == [theirs.id]


def test_delete_account_page_needs_the_email_or_delete(parent):
    assert "Delete my account and data" in html(parent.get("/settings/delete"))
    wrong = parent.form("/settings/delete", {"confirm": "please"})
    assert wrong.status_code == 422 and User.get_or_none(User.id == parent.user.id)
    done = parent.form("/settings/delete", {"confirm": "delete"})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert User.get_or_none(User.id == parent.user.id) is None
    assert Family.get_or_none(Family.id == parent.family.id) is None
    assert parent.get("/").status_code == 302


def test_parent_pages_have_no_inline_script_or_style(parent):
    delivery = make_delivery(parent.family)
    for path in ("/", f"/checkin/{delivery.id}", "/journal", "/settings", "/settings/delete", "/offline"):
        page = html(parent.get(path))
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert " style=" not in page and "<style" not in page, path
        assert re.search(r"\son[a-z]+=", page) is None, path


def test_manifest_is_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in manifest["icons"]}
    assert any(icon["purpose"] == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_service_worker_is_served_at_the_root_with_a_version(client):
    response = client.get("/sw.js")
    source = html(response)
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/" and response.headers["Cache-Control"] == "no-cache"
    version = re.search(r'const VERSION = "([0-9a-f]{12})";', source).group(1)
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", source).group(1))
    assert "/offline" in shell and "/static/css/app.css" in shell
    for path in shell:
        assert client.get(path).status_code == 200, path
    assert client.get("/sw.js").get_data(as_text=True).count(version) == 1


def test_offline_page_is_public(client):
    response = client.get("/offline")
    assert response.status_code == 200 and "You're offline" in html(response)


def test_paused_home_says_paused_and_until_when(parent):
    today = local_today(parent.family)
    Family.update(paused_until=today + timedelta(days=9)).where(Family.id == parent.family.id).execute()
    page = html(parent.get("/"))
    until = paused_until(Family.get_by_id(parent.family.id))
    assert f"Prompts are paused until {until:%A} {until.day} {until:%B}" in page
    assert "Your next prompt comes on " in page


def test_home_counts_days_with_a_check_in_in_the_last_30_days(parent):
    for days_ago in (0, 3, 3, 40):
        when = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
        parent.api("POST", "/api/checkins", json=checkin_body(client_created_at=when))
    page = html(parent.get("/"))
    assert re.search(r'stat-value">2</span><span class="stat-label">days with a check-in in the last 30 days', page)
