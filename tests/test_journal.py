"""The journal: a five-week calendar with words for every day, counts over the last 30 days (not
the calendar month), a theme filter, editing and deleting recent entries, past prompts to read
again, and a printable copy."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from coach.models import CheckIn, Delivery, utcnow
from coach.services.families.checkins import local_today
from coach.services.families.journal import build_journal
from coach.services.families.upcoming import rolling_days

from . import factories
from .parent_helpers import ParentClient, make_delivery, make_prompt

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def parent(app):
    return ParentClient(app, factories.make_family(child_name="Sam"))


def _utc(day, hour=12):
    """Noon (London) on ``day`` as naive UTC, as the database keeps times."""
    return datetime.combine(day, time(hour), LONDON).astimezone(UTC).replace(tzinfo=None)


def add_checkin(family, days_ago=0, theme="cues", note=None, felt=4, answer=0, today=None):
    today = today or local_today(family)
    day = today - timedelta(days=days_ago)
    prompt = make_prompt(theme)
    taken = Delivery.select().where(Delivery.family == family, Delivery.local_date == day).exists()
    delivery = None if taken else make_delivery(family, local_date=day, prompt=prompt)  # one a day
    return CheckIn.create(id=uuid.uuid4(), family=family, user=family.user_id, delivery=delivery, prompt=prompt,
                          answer=answer, tried="yes", felt=felt, note=note,
                          client_created_at=_utc(day), received_at=min(_utc(day), utcnow()))


def test_on_the_first_of_the_month_the_count_is_the_last_30_days(app):
    family = factories.make_family()
    first = local_today(family).replace(day=1)
    for days_ago in (1, 5, 29, 31):  # last month's days; the last one is outside the 30 days
        add_checkin(family, days_ago, today=first)
    journal = build_journal(family, family.user, now=_utc(first, 13))
    assert journal.rolling_total == 3 and journal.rolling_days == 3
    assert journal.rolling_counts["cues"] == 3
    assert "3 times in the last 30 days" in journal.reflection
    assert rolling_days(family, family.user, first) == 3


def test_the_calendar_has_five_weeks_with_words_for_each_day(parent):
    add_checkin(parent.family, 0, "cues")
    add_checkin(parent.family, 0, "repair")
    add_checkin(parent.family, 2, "rupture")
    journal = build_journal(parent.family, parent.family.user)
    cells = [cell for week in journal.calendar for cell in week]
    assert len(journal.calendar) == 5 and len(cells) == 35
    (today,) = [c for c in cells if c.today]
    assert today.themes == ["cues", "repair"]
    assert today.label.endswith("(today): Noticing cues, Coming back together")
    html = parent.get("/journal").get_data(as_text=True)
    assert today.label in re.sub(r"<[^>]+>", "", html)  # a text label, not colour alone
    assert 'class="dot dot-square theme-rupture"' in html
    empty = next(c for c in cells if not c.themes and not c.today)
    assert f"<td><b>{empty.day.day}</b>" in html or f"<td class=cal-future><b>{empty.day.day}</b>" in html
    assert "of the last 30 days with a check-in" in html


def test_the_filter_shows_one_theme_and_a_bad_one_says_so(parent):
    add_checkin(parent.family, 1, "cues", note="cue note")
    add_checkin(parent.family, 2, "rupture", note="rupture note")
    html = parent.get("/journal?theme=rupture").get_data(as_text=True)
    assert "rupture note" in html and "cue note" not in html
    bad = parent.get("/journal?theme=nonsense")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "no theme with that name" in text
    assert "rupture note" in text and "cue note" in text


def test_edit_a_recent_entry(parent):
    checkin = add_checkin(parent.family, 1, note="first words", felt=2)
    page = parent.get(f"/journal/{checkin.id}/edit")
    assert page.status_code == 200 and "first words" in page.get_data(as_text=True)
    response = parent.form(f"/journal/{checkin.id}/edit", {"felt": "5", "note": "  better words ", "shared": "y"})
    assert response.status_code == 302
    saved = CheckIn.get_by_id(checkin.id)
    assert (saved.felt, saved.note, saved.shared_with_worker) == (5, "better words", True)
    assert "Your journal entry is saved." in parent.get("/journal").get_data(as_text=True)


def test_bad_edits_are_field_errors_and_change_nothing(parent):
    checkin = add_checkin(parent.family, 1, note="kept", felt=2)
    for data, message in (({"felt": "9", "note": "x"}, "Choose one of the faces"),
                          ({"felt": "3", "note": "n" * 501}, "Keep the note to 500 characters")):
        response = parent.form(f"/journal/{checkin.id}/edit", data)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert CheckIn.get_by_id(checkin.id).note == "kept"
    no_csrf = parent.client.post(f"/journal/{checkin.id}/edit", data={"felt": "3", "note": "y"})
    assert no_csrf.status_code == 400 and CheckIn.get_by_id(checkin.id).note == "kept"


def test_older_entries_say_why_they_cannot_change(parent):
    old = add_checkin(parent.family, 9, note="an old note")
    html = parent.get("/journal").get_data(as_text=True)
    assert "Entries can be changed for 7 days; this one is older" in html
    assert f"/journal/{old.id}/edit" not in html
    edit = parent.form(f"/journal/{old.id}/edit", {"felt": "1", "note": "rewritten"})
    assert edit.status_code == 409 and "This one is older" in edit.get_data(as_text=True)
    delete = parent.form(f"/journal/{old.id}/delete")
    assert delete.status_code == 409 and CheckIn.get_by_id(old.id).note == "an old note"


def test_delete_asks_first_then_deletes(parent):
    checkin = add_checkin(parent.family, 0, note="to go")
    confirm = parent.get(f"/journal/{checkin.id}/delete")
    assert confirm.status_code == 200 and "Delete this entry?" in confirm.get_data(as_text=True)
    assert CheckIn.get_or_none(CheckIn.id == checkin.id) is not None
    assert parent.client.post(f"/journal/{checkin.id}/delete").status_code == 400  # no CSRF token
    assert parent.form(f"/journal/{checkin.id}/delete").status_code == 302
    assert CheckIn.get_or_none(CheckIn.id == checkin.id) is None
    assert "to go" not in parent.get("/journal").get_data(as_text=True)


def test_another_familys_entries_and_prompts_are_not_found(app, parent):
    other = factories.make_family()
    theirs = add_checkin(other, 0, note="their secret")
    for path in (f"/journal/{theirs.id}/edit", f"/journal/{theirs.id}/delete",
                 f"/journal/prompts/{theirs.delivery_id}", "/journal/not-a-uuid/edit"):
        response = parent.get(path)
        assert response.status_code == 404 and "their secret" not in response.get_data(as_text=True)
    assert parent.form(f"/journal/{theirs.id}/delete").status_code == 404
    assert CheckIn.get_or_none(CheckIn.id == theirs.id) is not None


def test_a_past_prompt_opens_again_read_only(parent):
    checkin = add_checkin(parent.family, 3, note="we waited")
    html = parent.get("/journal").get_data(as_text=True)
    assert f'href="/journal/prompts/{checkin.delivery_id}"' in html
    page = parent.get(f"/journal/prompts/{checkin.delivery_id}").get_data(as_text=True)
    assert "When Sam looks away, wait for them to come back." in page
    assert "Yes, I waited for Sam" in page and "we waited" in page and "<form" not in page.split("<main")[1]


def test_the_print_page_has_every_entry_in_words(app, parent):
    add_checkin(parent.family, 1, "repair", note="A <b>calm</b> bath.", felt=5, answer=2)
    add_checkin(factories.make_family(), 1, note="someone else's note")
    response = parent.get("/journal/print")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    day = local_today(parent.family) - timedelta(days=1)
    assert f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}" in html
    assert "Notice Sam&#39;s look-away" in html and "Not today" in html and "Very close" in html
    assert "A &lt;b&gt;calm&lt;/b&gt; bath." in html and "someone else" not in html
    assert "@media print" in app.test_client().get("/static/css/pages.css").get_data(as_text=True)
    assert "css/pages.css" in html
    assert 'href="/journal/print"' in parent.get("/journal").get_data(as_text=True)


def test_the_journal_says_where_the_parent_is_in_the_six_weeks(parent):
    parent.family.created_at = utcnow() - timedelta(days=15)
    parent.family.save()
    page = parent.get("/journal").get_data(as_text=True)
    assert "Where you are in the six weeks: Week 3 · Wondering" in page
