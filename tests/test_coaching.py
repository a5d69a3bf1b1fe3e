"""Coaching that answers back: the parent sees where they are in the arc, and a repair they tried
is praised on the saved check-in screen (coach/services/programme/coaching.py)."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from coach.models import Family, utcnow
from coach.services.programme.coaching import programme_place, repair_praise

from . import factories
from .parent_helpers import ParentClient, make_delivery, make_prompt

REPAIR_ANSWERS = [{"label": "Yes, I came back", "tried": "yes"},
                  {"label": "Not today", "tried": "not_yet"},
                  {"label": "It didn't come up", "tried": "no_chance"}]


@pytest.mark.parametrize("days_ago, place", [
    (0, "Week 1 · Watching cues"), (8, "Week 2 · Delight and mirroring"), (15, "Week 3 · Wondering"),
    (41, "Week 6 · Kindness to yourself"), (42, "Week 1 · Watching cues"),
])
def test_home_says_where_the_parent_is_in_the_arc(app, days_ago, place):
    family = factories.make_family()
    Family.update(created_at=utcnow() - timedelta(days=days_ago)).where(Family.id == family.id).execute()
    page = ParentClient(app, family).get("/").get_data(as_text=True)
    assert place in page


def test_programme_place_counts_from_enrolment(app):
    family = factories.make_family()
    assert programme_place(family, family.created_at.date() + timedelta(days=20)) == "Week 3 · Wondering"


def saved_page(app, answer: int, theme: str = "repair", strand: str = "repair-moves") -> str:
    family = factories.make_family(child_name="Sam")
    prompt = make_prompt(theme, strand=strand, answers=REPAIR_ANSWERS)
    delivery = make_delivery(family, prompt=prompt)
    parent = ParentClient(app, family)
    response = parent.form(f"/checkin/{delivery.id}", {"id": str(uuid.uuid4()), "answer": str(answer)})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return parent.get(response.headers["Location"]).get_data(as_text=True)


def praise_shown(page: str) -> bool:
    match = re.search(r'<p id="checkin-praise"( hidden)?>', page)
    return bool(match) and match.group(1) is None


def test_a_repair_tried_is_praised_by_name(app):
    page = saved_page(app, answer=0)
    assert praise_shown(page)
    assert "You came back after a hard moment. That is the repair that matters: it shows Sam" in page


@pytest.mark.parametrize("answer", [1, 2])  # not yet, didn't come up: thanks, no praise
def test_no_praise_when_the_repair_was_not_tried(app, answer):
    page = saved_page(app, answer=answer)
    assert not praise_shown(page) and "Saved." in page


def test_no_praise_for_other_prompts(app):
    page = saved_page(app, answer=0, theme="cues", strand="watching-cues")
    assert "checkin-praise" not in page


def test_praise_follows_the_strand():
    calm = repair_praise({"theme": "repair", "strand": "co-regulation"}, "yes", None)
    assert calm.startswith("You helped your child calm down")
    assert repair_praise({"theme": "repair", "strand": "co-regulation"}, "no_chance", "Sam") is None
