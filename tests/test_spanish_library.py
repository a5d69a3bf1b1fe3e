"""Attune in Spanish, the library half: the one check on translations, init-db loading the files,
selection never sending an untranslated prompt to a family that reads Spanish, the prompt shown in
the reader's language (push, check-in page, /api/today, journal), the admin's translation page,
and export/import carrying translations."""
from __future__ import annotations

import html
import io
import json
from datetime import date, timedelta

import pytest

from coach.models import Family, Prompt, PromptRevision, PromptTranslation, User, utcnow
from coach.services.delivery.sending import run_send_tick
from coach.services.families.languages import family_languages
from coach.services.programme import library, translations
from coach.services.programme.selection import choose_prompt
from coach.services.programme.translations import (
    check_translation_files,
    load_translation_files,
    prompt_in,
    save_translation,
    validate_translation,
)

from . import admin_helpers, factories
from .admin_helpers import CUES, csrf_for, make_prompt, sample, sign_in
from .delivery_helpers import NOW, make_due, subscribe
from .parent_helpers import ParentClient, make_delivery

# A fixture translation of the starter CUES prompt (0–3 months, pause-signal), written to pass
# the Spanish rules, with one label per English answer.
CUES_ES = {"title": "Mirar a otro lado es una señal",
           "body": "Al dar de comer, mira cuando tu bebé gira la cara. Para un poco y espera a que vuelva.",
           "question": "¿Viste a tu bebé mirar a otro lado y volver?",
           "answers": ["Sí, esperé", "Creo que sí, fue rápido", "Hoy no pude mirar", "No pasó hoy"][
               :len(CUES["answers"])],
           "why": "Los bebés miran a otro lado para descansar. Si esperas, sabe que lo entiendes."}
# The delivery helpers' prompt in Spanish ({child} kept, as the English has it).
PAUSE_ES = {"title": "Mira las señales de {child}",
            "body": "Cuando {child} mire a otro lado, para y espera a que vuelva.",
            "question": "¿Esperaste?", "answers": ["Sí"], "why": ""}

admin = admin_helpers.admin


def spanish(user: User) -> User:
    User.update(language="es").where(User.id == user.id).execute()
    return User.get_by_id(user.id)


def spanish_family(**fields) -> Family:
    family = factories.make_family(**fields)
    spanish(family.user)
    return family


# --- the one check ------------------------------------------------------------------------------

def test_a_good_translation_passes_and_each_rule_names_its_field(app):
    english = library.prompt_data(make_prompt(status="published"))
    assert validate_translation(CUES_ES, english)[1] == {}

    _, problems = validate_translation(CUES_ES | {
        "title": "Mira a {kid}",
        "body": "Sí. " * 40,
        "question": "La consideración epistemológica fundamentalmente inadecuada caracteriza todo.",
        "answers": CUES_ES["answers"][:-1],
        "why": ""}, english)

    assert "{kid}" in problems["title"]
    assert "limit is 140" in problems["body"]
    assert "reads at ease" in problems["question"] and "80" in problems["question"]
    assert f"has {len(CUES['answers'])} answers" in problems["answers"]
    assert "can't be empty" in problems["why"]


def test_child_is_kept_where_the_english_names_the_child():
    english = {"title": "Notice {child}", "body": "b", "question": "q", "answers": [{}], "why": ""}
    _, problems = validate_translation({"title": "Mira a tu bebé", "body": "Mira.", "question": "¿Sí?",
                                        "answers": ["Sí"], "why": ""}, english)
    assert "drops {child}" in problems["title"]


def test_the_file_check_fails_on_missing_or_bad_entries_and_passes_on_good_ones(tmp_path):
    """The data test's check (tests/test_library_data_es.py) on fixture files."""
    starter = tmp_path / "prompts.json"
    starter.write_text(json.dumps([CUES]), encoding="utf-8")
    band = f"{CUES['age_min_months']}-{CUES['age_max_months']}"
    folder = tmp_path / "es"
    folder.mkdir()

    (missing,) = check_translation_files(directory=tmp_path, starter=starter)
    assert missing.missing == [CUES["skill"]]

    entry = {"skill": CUES["skill"], "age_min_months": CUES["age_min_months"]} | CUES_ES
    (folder / f"{band}.json").write_text(json.dumps([entry | {"title": "Mira a {kid}"}]), encoding="utf-8")
    (bad,) = check_translation_files(directory=tmp_path, starter=starter)
    assert bad.missing == [] and len(bad.problems) == 1 and "{kid}" in bad.problems[0]

    (folder / f"{band}.json").write_text(json.dumps([entry]), encoding="utf-8")
    (good,) = check_translation_files(directory=tmp_path, starter=starter)
    assert (good.translated, good.problems, good.missing) == (1, [], [])


# --- init-db --------------------------------------------------------------------------------------

def test_init_db_loads_translations_for_prompts_without_one_and_keeps_an_admins(app, tmp_path, admin):
    starter = tmp_path / "prompts.json"
    other = sample(skill="gaze-two", title="A second prompt to keep")
    starter.write_text(json.dumps([CUES, other]), encoding="utf-8")
    library.seed_library_if_empty(starter)
    first = Prompt.get(Prompt.skill == CUES["skill"])
    second = Prompt.get(Prompt.skill == "gaze-two")
    save_translation(second, "es", CUES_ES | {"title": "Mi título"}, admin)  # an admin's own words
    folder = tmp_path / "es"
    folder.mkdir()
    entries = [{"skill": p["skill"], "age_min_months": p["age_min_months"]} | CUES_ES for p in (CUES, other)]
    (folder / "0-3.json").write_text(json.dumps(entries), encoding="utf-8")

    assert load_translation_files(directory=tmp_path, starter=starter) == {"added": 1, "invalid": 0}
    assert load_translation_files(directory=tmp_path, starter=starter) == {"added": 0, "invalid": 0}

    assert PromptTranslation.get(PromptTranslation.prompt == first).title == CUES_ES["title"]
    assert PromptTranslation.get(PromptTranslation.prompt == second).title == "Mi título"
    revision = PromptRevision.get(PromptRevision.prompt == first, PromptRevision.version == 2)
    assert revision.editor is None and revision.data["translations"]["es"]["title"] == CUES_ES["title"]
    # init-db's own revision: the starter prompt still counts as untouched for later upgrades
    assert library.upgrade_starter_library(starter)["kept"] == 1  # only the admin's


def test_init_db_skips_a_translation_that_breaks_the_rules(app, tmp_path):
    starter = tmp_path / "prompts.json"
    starter.write_text(json.dumps([CUES]), encoding="utf-8")
    library.seed_library_if_empty(starter)
    (tmp_path / "es").mkdir()
    entry = {"skill": CUES["skill"], "age_min_months": CUES["age_min_months"]} | CUES_ES | {"answers": ["Sí"]}
    (tmp_path / "es" / "0-3.json").write_text(json.dumps([entry]), encoding="utf-8")
    assert load_translation_files(directory=tmp_path, starter=starter) == {"added": 0, "invalid": 1}
    assert PromptTranslation.select().count() == 0


# --- selection ------------------------------------------------------------------------------------

def twin_prompts() -> tuple[Prompt, Prompt]:
    """Two prompts a Sam of 8 months gets in an evening window; only the second has Spanish."""
    base = {"theme": "cues", "age_min_months": 6, "age_max_months": 12, "question": "¿Sí?",
            "answers": [{"label": "Yes", "tried": "yes"}, {"label": "Not today", "tried": "not_yet"}],
            "status": "published", "strand": "watching-cues", "week": 1}
    plain = Prompt.create(skill="plain", title="Plain", body="English only.", **base)
    both = Prompt.create(skill="both", title="Both", body="English and Spanish.", **base)
    PromptTranslation.create(prompt=both, language="es", title="Las dos", body="Inglés y español.",
                             question="¿Sí?", answers=["Sí", "Hoy no"], why="")
    return plain, both


def test_a_spanish_family_never_gets_an_untranslated_prompt(app):
    plain, both = twin_prompts()
    spanish_families = [spanish_family() for _ in range(6)]
    english_families = [factories.make_family() for _ in range(12)]
    start = date(2026, 11, 2)
    for family in spanish_families:
        assert family_languages(family) == ("es",)
        for day in range(5):  # the no-repeat rule would rather send plain: it never may
            assert choose_prompt(family, start + timedelta(days=day)) == both
    # English readers get both prompts (the choice is theirs to draw)
    chosen = {choose_prompt(family, start).id for family in english_families}
    assert chosen == {plain.id, both.id}
    # deterministic: the same family and date draw the same prompt
    assert all(choose_prompt(f, start) == choose_prompt(f, start) for f in english_families)


def test_a_spanish_family_gets_nothing_rather_than_english_when_nothing_is_translated(app):
    plain, both = twin_prompts()
    PromptTranslation.delete().execute()
    assert choose_prompt(spanish_family(), date(2026, 11, 2)) is None
    assert choose_prompt(factories.make_family(), date(2026, 11, 2)) in (plain, both)


def test_the_planner_plans_the_translated_prompt_for_a_spanish_family(app):
    from coach.models import Delivery
    from coach.services.delivery.scheduling import plan_due_deliveries

    _plain, both = twin_prompts()
    family = spanish_family()
    Family.update(next_due_at=NOW - timedelta(hours=20), recent_prompts=f"{NOW.date().toordinal() - 1}:{both.id},"
                  ).where(Family.id == family.id).execute()
    assert plan_due_deliveries(NOW) == 1
    assert Delivery.get(Delivery.family == family).prompt_id == both.id


# --- the prompt in the reader's language ------------------------------------------------------------

def test_a_spanish_familys_push_is_in_spanish_with_the_childs_name(push_app, ps):
    spanish_delivery = make_due(spanish_family())
    PromptTranslation.create(prompt=spanish_delivery.prompt, language="es", **PAUSE_ES)
    english_delivery = make_due(factories.make_family(child_name=None))
    subscribe(ps, spanish_delivery.family.user)
    subscribe(ps, english_delivery.family.user)

    assert run_send_tick(NOW)["sent"] == 2

    payloads = {msg.json()["delivery_id"]: msg.json() for msg in ps.wait_for(2)}
    assert payloads[spanish_delivery.id]["title"] == "Mira las señales de Sam"
    assert payloads[spanish_delivery.id]["body"] == "Cuando Sam mire a otro lado, para y espera a que vuelva."
    assert payloads[spanish_delivery.id]["notification"]["title"] == "Mira las señales de Sam"
    assert payloads[english_delivery.id]["title"] == "Notice your child's cues"


def test_spanish_check_in_page_today_and_journal(app):
    family = spanish_family()
    prompt = Prompt.create(theme="cues", skill="pause", title="Notice {child}", body="Wait for {child}.",
                           question="Did you wait for {child}?", why="Babies rest.", status="published",
                           answers=[{"label": "Yes", "tried": "yes"}, {"label": "Not today", "tried": "not_yet"}])
    PromptTranslation.create(prompt=prompt, language="es", title="Mira a {child}", body="Espera a {child}.",
                             question="¿Esperaste a {child}?", answers=["Sí", "Hoy no"],
                             why="Los bebés descansan.")
    delivery = make_delivery(family, prompt=prompt)
    parent = ParentClient(app, family)

    page = parent.get(f"/checkin/{delivery.id}").get_data(as_text=True)
    assert "Mira a Sam" in page and "¿Esperaste a Sam?" in page and "Hoy no" in page
    assert "Notice Sam" not in page and "Did you wait" not in page

    today = parent.api("GET", "/api/today").get_json()["delivery"]["prompt"]
    assert (today["language"], today["title"], today["answers"][1]) == (
        "es", "Mira a Sam", {"label": "Hoy no", "tried": "not_yet"})
    assert 'lang="es"' in parent.get("/").get_data(as_text=True)

    body = {"id": "0b8a4f7e-9c1d-4b8e-9f00-0000000000aa", "delivery_id": delivery.id, "answer": 0,
            "tried": "yes", "client_created_at": utcnow().isoformat() + "Z"}
    assert parent.api("POST", "/api/checkins", json=body).status_code in (200, 201)
    journal = parent.get("/journal").get_data(as_text=True)
    assert "Mira a Sam" in journal and "Notice Sam" not in journal


def test_a_staff_preview_falls_back_to_english_but_a_parent_path_does_not(app):
    prompt = Prompt.create(theme="cues", skill="x", title="Only English", body="b", question="q",
                           answers=[{"label": "Yes", "tried": "yes"}], status="published")
    assert prompt_in(prompt, "es") is None
    assert prompt_in(prompt, "es", staff_preview=True).title == "Only English"
    assert prompt_in(prompt, "en", "Ana").language == "en"


# --- the admin's translation page ---------------------------------------------------------------------

def translation_form(token: str, values: dict, **extra) -> dict:
    form = {"csrf_token": token, **{name: values[name] for name in ("title", "body", "question", "why")}}
    for index, label in enumerate(values["answers"]):
        form[f"answer-{index}-label"] = label
    return form | extra


def test_admin_saves_a_translation_as_a_new_version(app, admin):
    client = sign_in(app, admin)
    prompt = make_prompt(status="published")
    path = f"/admin/prompts/{prompt.id}/translations/es"
    page = client.get(path).get_data(as_text=True)
    assert "No Spanish yet" in page and 'data-score="ease"' in page and "tu peque" in page
    assert CUES["body"] in page  # the English beside each field

    response = client.post(path, data=translation_form(csrf_for(client, path), CUES_ES, base_version="1"))

    assert response.status_code == 302
    saved = PromptTranslation.get(PromptTranslation.prompt == prompt)
    assert (saved.title, saved.answers, saved.editor_id) == (CUES_ES["title"], CUES_ES["answers"], admin.id)
    assert Prompt.get_by_id(prompt.id).version == 2
    revision = PromptRevision.get(PromptRevision.prompt == prompt, PromptRevision.version == 2)
    assert revision.summary == "Spanish added" and revision.editor_id == admin.id
    diff = client.get(f"/admin/prompts/{prompt.id}/revisions/2").get_data(as_text=True)
    assert "Spanish title" in diff
    assert "Edit the Spanish" in client.get(f"/admin/prompts/{prompt.id}").get_data(as_text=True)


def test_bad_translation_is_refused_with_clear_sentences_and_nothing_written(app, admin):
    client = sign_in(app, admin)
    prompt = make_prompt(status="published")
    path = f"/admin/prompts/{prompt.id}/translations/es"
    bad = CUES_ES | {"title": "Mira a {kid}", "answers": CUES_ES["answers"][:-1] + [""]}

    response = client.post(path, data=translation_form(csrf_for(client, path), bad, base_version="1"))

    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "The Spanish wasn't saved" in page and "{kid}" in page
    assert f"Answer {len(CUES_ES['answers'])} has no label." in page
    assert PromptTranslation.select().count() == 0 and Prompt.get_by_id(prompt.id).version == 1

    library.save_prompt(prompt, sample(title="The look-away means a rest"), admin)  # someone else saves
    stale = client.post(path, data=translation_form(csrf_for(client, path), CUES_ES, base_version="1"))
    assert stale.status_code == 409 and "Someone else saved" in html.unescape(stale.get_data(as_text=True))
    assert PromptTranslation.select().count() == 0


def test_translation_page_needs_an_admin_csrf_and_a_known_language(app, admin):
    prompt = make_prompt(status="published")
    path = f"/admin/prompts/{prompt.id}/translations/es"
    worker = sign_in(app, factories.make_user("worker"))
    assert worker.get(path).status_code == 403
    assert worker.post(path, data=translation_form(csrf_for(worker, "/worker/"), CUES_ES)).status_code == 403
    client = sign_in(app, admin)
    assert client.post(path, data=translation_form("", CUES_ES)).status_code == 400  # no CSRF token
    assert client.get(f"/admin/prompts/{prompt.id}/translations/fr").status_code == 404
    assert PromptTranslation.select().count() == 0


def test_live_check_gives_problems_and_reading_ease(app, admin):
    client = sign_in(app, admin)
    prompt = make_prompt(status="published")
    url = f"/admin/prompts/{prompt.id}/translations/es/check"
    values = translation_form("", CUES_ES)
    del values["csrf_token"]
    headers = {"X-CSRFToken": csrf_for(client)}

    good = client.post(url, json=values, headers=headers).get_json()
    assert good["problems"] == {} and good["grades"]["title"] >= 80 and good["min_ease"] == 80

    hard = client.post(url, json=values | {"title": "Consideración epistemológica"}, headers=headers).get_json()
    assert "reads at ease" in hard["problems"]["title"]


# --- export / import ----------------------------------------------------------------------------------

def test_export_import_round_trip_carries_translations(app, admin):
    client = sign_in(app, admin)
    prompt = make_prompt(status="published")
    save_translation(prompt, "es", CUES_ES, admin)
    exported = client.get("/admin/prompts/export.json").get_json()
    assert exported[0]["translations"] == {"es": CUES_ES}

    exported[0]["translations"]["es"]["title"] = "Otra señal"
    new = {k: v for k, v in exported[0].items() if k not in ("id", "version")} | {"skill": "pause-two",
                                                                                 "title": "Look away again"}
    token = csrf_for(client, "/admin/prompts")
    response = client.post("/admin/prompts/import", headers={"Accept": "application/json"},
                           data={"csrf_token": token, "file": (io.BytesIO(json.dumps(exported + [new]).encode()),
                                                               "library.json")})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["updated"] == 1 and response.get_json()["created"] == 1
    assert PromptTranslation.get(PromptTranslation.prompt == prompt).title == "Otra señal"
    created = Prompt.get(Prompt.skill == "pause-two")
    assert translations.translations_of(created.id)["es"]["title"] == "Otra señal"
    assert client.get("/admin/prompts/export.json").get_json()[0]["translations"]["es"]["title"] == "Otra señal"


@pytest.mark.parametrize("bad, words", [
    ({"fr": CUES_ES}, "Translations are into es only"),
    ({"es": CUES_ES | {"answers": ["Sí"]}}, "Spanish: the English prompt has"),
    ({"es": CUES_ES | {"colour": "red"}}, "Spanish has a field we don't know"),
    ("es", "Translations must be an object"),
])
def test_import_with_a_bad_translation_changes_nothing(app, admin, bad, words):
    client = sign_in(app, admin)
    prompt = make_prompt(status="published")
    exported = client.get("/admin/prompts/export.json").get_json()
    exported[0]["translations"] = bad
    exported[0]["title"] = "Changed title"
    response = client.post("/admin/prompts/import", headers={"Accept": "application/json"},
                           data={"csrf_token": csrf_for(client, "/admin/prompts"),
                                 "file": (io.BytesIO(json.dumps(exported).encode()), "library.json")})
    assert response.status_code == 422
    assert any(words.lower() in problem.lower() for problem in response.get_json()["problems"]), response.get_json()
    assert Prompt.get_by_id(prompt.id).title == CUES["title"] and PromptTranslation.select().count() == 0


# --- coverage ----------------------------------------------------------------------------------------

def test_the_library_says_how_many_published_prompts_lack_spanish(app, admin):
    client = sign_in(app, admin)
    translated = make_prompt(status="published")
    save_translation(translated, "es", CUES_ES, admin)
    make_prompt(status="published", skill="no-spanish", title="No Spanish here")
    make_prompt(status="draft", skill="draft-one", title="A draft")
    page = client.get("/admin/prompts").get_data(as_text=True)
    assert "1 of 2 published prompts lack Spanish." in page and "No Spanish here" in page


# --- support resources in Spanish ---------------------------------------------------------------------

def test_help_lists_resources_that_answer_in_spanish_first_for_a_spanish_reader(app):
    from coach.models import SupportResource

    common = {"country": "US", "source_url": "https://example.org/source"}
    SupportResource.create(name="Emergency services", kind="emergency", phone="911", position=1, **common)
    SupportResource.create(name="English line", kind="crisis", phone="111", position=2, **common)
    SupportResource.create(name="Bilingual line", kind="crisis", phone="222", position=3, languages="es",
                           languages_source_url="https://example.org/es", **common)
    english = ParentClient(app, factories.make_family(country="US")).get("/help").get_data(as_text=True)
    spanish_page = ParentClient(app, spanish_family(country="US")).get("/help").get_data(as_text=True)

    assert english.index("English line") < english.index("Bilingual line")
    assert spanish_page.index("Emergency services") < spanish_page.index("Bilingual line") \
        < spanish_page.index("English line")  # the emergency number stays first, always
    assert "Atienden en español" in spanish_page


def test_a_resources_languages_need_a_known_code_and_the_page_that_says_so(app, admin):
    from coach.services.families import resources

    base = {"name": "Line", "kind": "crisis", "country": "US", "phone": "111"}
    assert "isn't one" in resources.validate_resource(base | {"languages": "fr"})[1]["languages"]
    assert "own page" in resources.validate_resource(base | {"languages": "es"})[1]["languages_source_url"]
    data, problems = resources.validate_resource(base | {"languages": " ES ",
                                                         "languages_source_url": "https://example.org/es"})
    assert problems == {} and data["languages"] == "es"
    seeded = {item["name"]: item for item in resources.load_seed_file()}
    assert seeded["988 Suicide & Crisis Lifeline"]["languages"] == "es"
    assert seeded["988 Suicide & Crisis Lifeline"]["languages_source_url"].startswith("https://988lifeline.org/")


def test_an_english_edit_that_changes_the_answers_leaves_the_spanish_out_of_date(app, admin):
    from tests.test_admin_prompts import editor_form

    client = sign_in(app, admin)
    prompt = make_prompt(status="published")
    save_translation(prompt, "es", CUES_ES, admin)
    assert translations.untranslated_published() == []
    fewer = sample(answers=CUES["answers"][1:])  # one answer dropped from the English

    response = client.post(f"/admin/prompts/{prompt.id}", follow_redirects=True,
                           data=editor_form(fewer, csrf_for(client, f"/admin/prompts/{prompt.id}"),
                                            base_version="2"))

    page = html.unescape(response.get_data(as_text=True))
    assert f"The Spanish still has {len(CUES['answers'])} answer labels" in page
    assert [p.id for p in translations.untranslated_published()] == [prompt.id]
    assert prompt.id not in translations.usable_translations().get("es", set())
    fixing = html.unescape(client.get(f"/admin/prompts/{prompt.id}/translations/es").get_data(as_text=True))
    assert f"the translation needs {len(CUES['answers']) - 1} labels" in fixing
    assert prompt_in(Prompt.get_by_id(prompt.id), "es") is None  # a parent never sees mismatched answers
