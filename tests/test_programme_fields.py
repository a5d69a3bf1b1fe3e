"""The programme's prompt fields (strand, moment, week, pairs_with) and the ``no_chance`` answer kind:
the one validation function, the editor, export/import, check-ins and streaks (issue 13)."""
from __future__ import annotations

import json
import uuid

import pytest

from coach.models import CheckIn, Prompt
from coach.services.families.streaks import family_streak
from coach.services.programme import library, library_transfer

from . import admin_helpers, factories, parent_helpers
from .admin_helpers import CUES, RUPTURE, csrf_for, make_prompt, sample
from .parent_helpers import ParentClient, checkin_body, make_delivery

admin = admin_helpers.admin
admin_client = admin_helpers.admin_client

NO_CHANCE_ANSWERS = [{"label": "Yes, I tried it", "tried": "yes"},
                     {"label": "Not today", "tried": "not_yet"},
                     {"label": "It didn't come up", "tried": "no_chance"}]


def problems_of(item: dict) -> dict[str, str]:
    return library.validate_prompt(item)[1]


# --- validation -----------------------------------------------------------------------------------

def test_programme_fields_are_kept():
    data, problems = library.validate_prompt(sample(strand="delight", moment="bedtime", week=2))
    assert problems == {}
    assert (data["strand"], data["moment"], data["week"], data["pairs_with"]) == ("delight", "bedtime", 2, "")


def test_an_item_without_programme_fields_gets_its_themes():
    data, problems = library.validate_prompt(sample(RUPTURE))
    assert problems == {}
    assert (data["strand"], data["moment"], data["week"]) == ("noticing-rupture", "any", 4)


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"strand": "cuddles"}, "strand", "Strand must be one of watching-cues"),
    ({"moment": "noon"}, "moment", "Moment must be one of morning, day, evening, bedtime, any"),
    ({"strand": "wondering", "week": 2}, "week", "Week must be 3: the arc teaches wondering in week 3"),
    ({"week": 9}, "week", "Week must be a whole number from 1 to 6"),
    ({"week": "two"}, "week", "Week must be a whole number from 1 to 6"),
    ({"pairs_with": "say-sorry"}, "pairs_with", "Only rupture prompts name a paired repair"),
    ({"pairs_with": "Say Sorry!"}, "pairs_with", "skill tag of a repair prompt"),
])
def test_bad_programme_fields_name_the_field(changes, field, words):
    problems = problems_of(sample(**changes))
    assert words in problems[field]
    assert set(problems) == {field}


def test_a_rupture_prompt_names_its_repair():
    data, problems = library.validate_prompt(sample(RUPTURE, pairs_with="come-back-soon"))
    assert problems == {} and data["pairs_with"] == "come-back-soon"


def test_no_chance_is_an_answer_kind_once_at_most():
    assert problems_of(sample(answers=NO_CHANCE_ANSWERS)) == {}
    two = NO_CHANCE_ANSWERS + [{"label": "No chance at all", "tried": "no_chance"}]
    assert "one “it didn't come up” choice at most" in problems_of(sample(answers=two))["answers"]
    odd = NO_CHANCE_ANSWERS[:2] + [{"label": "Maybe", "tried": "maybe"}]
    assert "didn't come up (“no_chance”)" in problems_of(sample(answers=odd))["answers.2.tried"]


# --- export / import ------------------------------------------------------------------------------

def test_export_and_import_carry_the_programme_fields(app):
    prompt = make_prompt(status="published", strand="presence", moment="evening", week=1)
    exported = library_transfer.export_library()
    assert {k: exported[0][k] for k in ("strand", "moment", "week", "pairs_with")} == {
        "strand": "presence", "moment": "evening", "week": 1, "pairs_with": ""}
    exported[0]["moment"] = "bedtime"
    counts = library_transfer.import_library(json.dumps(exported).encode(), None)
    assert counts == {"created": 0, "updated": 1, "unchanged": 0}
    assert Prompt.get_by_id(prompt.id).moment == "bedtime"


def test_an_old_export_keeps_the_prompts_programme(app):
    prompt = make_prompt(status="published", strand="delight", week=2)
    old = [{k: v for k, v in item.items() if k not in ("strand", "moment", "week", "pairs_with")}
           for item in library_transfer.export_library()]
    old[0]["title"] = "The look-away is a sign"
    library_transfer.import_library(json.dumps(old).encode(), None)
    saved = Prompt.get_by_id(prompt.id)
    assert (saved.title, saved.strand, saved.week) == ("The look-away is a sign", "delight", 2)


def test_an_import_with_a_bad_strand_changes_nothing(app):
    item = sample(strand="cuddles", title="New one")
    with pytest.raises(library_transfer.ImportRejected) as raised:
        library_transfer.import_library(json.dumps([item]).encode(), None)
    assert any("Strand must be one of" in problem or "strand must be one of" in problem
               for problem in raised.value.problems)
    assert Prompt.select().count() == 0


# --- the editor -----------------------------------------------------------------------------------

def editor_form(item: dict, token: str, **extra) -> dict:
    form = {"csrf_token": token, "theme": item["theme"], "skill": item["skill"],
            "age": f"{item['age_min_months']}-{item['age_max_months']}", "title": item["title"],
            "body": item["body"], "question": item["question"], "why": item["why"],
            "strand": "watching-cues", "moment": "any", "week": "1", "pairs_with": ""}
    for index, answer in enumerate(item["answers"]):
        form[f"answer-{index}-label"] = answer["label"]
        form[f"answer-{index}-tried"] = answer["tried"]
    return form | extra


def test_editor_saves_strand_moment_week_and_no_chance(admin_client):
    token = csrf_for(admin_client, "/admin/prompts/new")
    form = editor_form(sample(answers=NO_CHANCE_ANSWERS), token, strand="mirroring", week="2",
                       moment="evening")
    response = admin_client.post("/admin/prompts/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    prompt = Prompt.get()
    assert (prompt.strand, prompt.week, prompt.moment) == ("mirroring", 2, "evening")
    assert [a["tried"] for a in prompt.answers] == ["yes", "not_yet", "no_chance"]
    page = admin_client.get(f"/admin/prompts/{prompt.id}").get_data(as_text=True)
    assert '<option value="mirroring" selected>' in page and '<option value="no_chance" selected>' in page


def test_editor_shows_a_wrong_week_next_to_the_field(admin_client):
    token = csrf_for(admin_client, "/admin/prompts/new")
    response = admin_client.post("/admin/prompts/new",
                                 data=editor_form(CUES, token, strand="wondering", week="5"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-error-for="week">Week must be 3: the arc teaches wondering in week 3.' in page
    assert Prompt.select().count() == 0


def test_live_check_names_a_paired_repair_on_a_cues_prompt(admin_client):
    token = csrf_for(admin_client, "/admin/prompts/new")
    form = editor_form(CUES, token, pairs_with="say-sorry")
    response = admin_client.post("/admin/prompts/check", json=form, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert "Only rupture prompts" in response.get_json()["problems"]["pairs_with"]


# --- check-ins ------------------------------------------------------------------------------------

def test_a_no_chance_check_in_is_saved_and_keeps_the_streak(app):
    parent = ParentClient(app, factories.make_family(child_name="Sam"))
    answers = [{"label": "Yes, we did", "tried": "yes"}, {"label": "Not yet", "tried": "not_yet"},
               {"label": "It didn't come up today", "tried": "no_chance"}]
    delivery = make_delivery(parent.family, prompt=parent_helpers.make_prompt(answers=answers))
    response = parent.api("POST", "/api/checkins", json=checkin_body(delivery_id=delivery.id, answer=2))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert CheckIn.get().tried == "no_chance"
    assert family_streak(parent.family, parent.family.user).days == 1  # a day that didn't come up still counts


def test_a_no_chance_answer_on_the_form_is_not_counted_as_tried(app):
    family = factories.make_family(child_name="Sam")
    prompt = make_prompt(status="published", answers=NO_CHANCE_ANSWERS)
    parent = ParentClient(app, family)
    delivery = make_delivery(family, prompt=prompt)
    response = parent.form(f"/checkin/{delivery.id}",
                           {"id": str(uuid.uuid4()), "answer": "2", "felt": "4"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert CheckIn.get().tried == "no_chance"


def test_an_unknown_tried_kind_is_a_field_error(app):
    parent = ParentClient(app, factories.make_family())
    response = parent.api("POST", "/api/checkins", json=checkin_body(tried="maybe"))
    assert response.status_code == 422
    assert "no_chance" in response.get_json()["fields"]["tried"]
    assert CheckIn.select().count() == 0


# --- the library page's programme grids -----------------------------------------------------------

def test_library_page_shows_strands_and_moments_by_band_and_what_works(app, admin_client):
    cues = make_prompt(status="published", strand="delight", week=2, moment="bedtime",
                       answers=NO_CHANCE_ANSWERS)  # 0–3 months
    family = factories.make_family()
    for tried in ("yes", "yes", "not_yet", "no_chance"):
        CheckIn.create(id=uuid.uuid4(), family=family, user=family.user_id, prompt=cues, tried=tried,
                       client_created_at=cues.created_at)
    page = admin_client.get("/admin/prompts").get_data(as_text=True)
    assert 'aria-label="1 published Delight prompts for 0–3 months"' in page
    assert 'aria-label="0 published Wondering prompts for 0–3 months: a gap"' in page
    assert 'aria-label="1 published Bedtime prompts for 0–3 months"' in page
    assert "67% tried, of 3" in page  # 2 of 3 tried; the day it didn't come up left out
