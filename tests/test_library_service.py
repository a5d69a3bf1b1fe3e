"""The prompt library service: the one validation function, saving with revisions, status
transitions, restore, diffs, import/export and the "what works" numbers.

Validation tests need no database; the rest run on every configured backend.
"""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime

import pytest

from coach.db import db
from coach.errors import AppError
from coach.models import AuditEvent, CheckIn, Delivery, Prompt, PromptRevision
from coach.services.programme import library, library_stats, library_transfer

from . import factories
from .admin_helpers import CUES, RUPTURE, STARTER, make_prompt, sample


def problems_of(item: dict) -> dict[str, str]:
    return library.validate_prompt(item)[1]


# --- validation (no database) -------------------------------------------------------------------

def test_every_starter_prompt_passes_the_editor_checks():
    failing = {p["title"]: problems_of(p) for p in STARTER if problems_of(p)}
    assert not failing


@pytest.mark.parametrize(("field", "limit"), [("title", 40), ("body", 140), ("question", 140), ("why", 300)])
def test_text_limits_name_the_field_and_the_numbers(field, limit):
    message = problems_of(sample(**{field: "Go. " * (limit // 4) + "Go go."}))[field]
    assert "characters; the limit is" in message and str(limit) in message
    label = library.FIELD_LABELS[field]
    assert message.startswith(label)


def test_length_counts_the_placeholder_as_read():
    title = "Sing a song to {child} in the bath now"
    assert len(title) <= 40 < len(title.replace("{child}", "your child"))
    message = problems_of(sample(title=title))["title"]
    assert "with {child} read as “your child”" in message


def test_reading_grade_above_six_is_a_problem_per_field():
    hard = "Consider the developmental significance of reciprocal interpersonal communication."
    problems = problems_of(sample(why=hard))
    assert "reads at grade" in problems["why"] and "grade 6 or below" in problems["why"]
    assert set(problems) == {"why"}
    grades = library.reading_grades(sample(why=hard))
    assert grades["why"] > 6 and grades["title"] <= 6


def test_reading_grade_reads_child_as_your_child():
    from coach.services.programme.readability import reading_grade

    assert reading_grade("Hold {child} close.") == reading_grade("Hold your child close.")


@pytest.mark.parametrize("text", ["Hi {name}, look up", "A {child}} smile", "Look { up", "Use {{child}}"])
def test_only_the_child_placeholder_is_allowed(text):
    message = problems_of(sample(title=text))["title"]
    assert "the only placeholder allowed is {child}" in message


def test_child_placeholder_itself_is_fine():
    assert problems_of(sample(body="Smile at {child} during the bath today. Wait for a smile back.")) == {}


@pytest.mark.parametrize("count", [1, 5])
def test_two_to_four_answers(count):
    answers = [{"label": f"Yes {i}", "tried": "yes"} for i in range(count - 1)]
    answers.append({"label": "Not today", "tried": "not_yet"})
    message = problems_of(sample(answers=answers))["answers"]
    assert "2 to 4 answers" in message and str(count) in message


def test_exactly_one_not_today_and_at_least_one_tried():
    two_not_yet = [{"label": "Yes", "tried": "yes"}, {"label": "No", "tried": "not_yet"},
                   {"label": "Later", "tried": "not_yet"}]
    assert "exactly one" in problems_of(sample(answers=two_not_yet))["answers"]
    none_tried = [{"label": "Not today", "tried": "not_yet"}, {"label": "Not yet", "tried": "not_yet"}]
    assert "exactly one" in problems_of(sample(answers=none_tried))["answers"]
    no_yes = [{"label": "Not today", "tried": "not_yet"}, {"label": "Maybe", "tried": "maybe"}]
    problems = problems_of(sample(answers=no_yes))
    assert "count as tried" in problems["answers.1.tried"]


def test_answer_labels_are_checked():
    answers = [{"label": "x" * 41, "tried": "yes"}, {"label": "", "tried": "yes"},
               {"label": "Not today", "tried": "not_yet"}]
    problems = problems_of(sample(answers=answers))
    assert problems["answers.0.label"] == "Answer 1's label is 41 characters; the limit is 40."
    assert problems["answers.1.label"] == "Answer 2 has no label."


def test_hard_flag_only_on_rupture_prompts():
    assert problems_of(sample(RUPTURE)) == {}
    answers = [dict(a) for a in CUES["answers"]]
    answers[0]["hard"] = True
    message = problems_of(sample(answers=answers))["answers.0.hard"]
    assert "only rupture prompts" in message


@pytest.mark.parametrize(("low", "high", "ok"), [(0, 3, True), (36, 60, True), (0, 60, True),
                                                  (0, 12, False), (3, 7, False), ("0", "3", False)])
def test_age_must_be_a_band_or_any_age(low, high, ok):
    problems = problems_of(sample(age_min_months=low, age_max_months=high))
    assert ("age" not in problems) is ok
    if not ok:
        assert "0–3, 3–6, 6–12, 12–24, 24–36, 36–60" in problems["age"]


@pytest.mark.parametrize(("skill", "ok"), [("name-it", True), ("pause-signal-2", True), ("Name-It", False),
                                            ("name it", False), ("-name", False), ("a" * 41, False), ("", False)])
def test_skill_is_kebab_case_up_to_40(skill, ok):
    assert ("skill" not in problems_of(sample(skill=skill))) is ok


def test_theme_and_wrong_types_get_sentences():
    problems = problems_of(sample(theme="fun", title=5, answers="yes"))
    assert problems["theme"].startswith("Theme must be one of cues, rupture, repair")
    assert problems["title"] == "Title must be text."
    assert problems["answers"].startswith("Answers must be a list")
    assert library.validate_prompt(["not", "a", "dict"])[1] == {
        "prompt": "Each prompt must be an object with fields like title and body."}


def test_diff_escapes_before_wrapping():
    markup = str(library.word_diff("Hold them close", "Hold <script>x</script> close"))
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    assert markup.startswith("Hold <del>them</del><ins>&lt;script&gt;")
    assert str(library.word_diff("same text", "same text")) == "same text"


# --- saving, revisions, status, restore ---------------------------------------------------------

def test_create_and_save_make_revisions_with_summaries(app):
    admin = factories.make_user("admin")
    prompt = make_prompt(admin)
    assert (prompt.status, prompt.version) == ("draft", 1)
    saved, changed = library.save_prompt(prompt, sample(title="A new title", body=CUES["body"] + " Smile."), admin)
    assert changed and saved.version == 2
    revision = PromptRevision.get(PromptRevision.prompt == prompt, PromptRevision.version == 2)
    assert revision.summary == "Changed title, body" and revision.editor.id == admin.id
    assert revision.data["title"] == "A new title"
    assert PromptRevision.get(prompt=prompt, version=1).data["title"] == CUES["title"]
    # Saving the same text again writes nothing.
    again, changed = library.save_prompt(saved, sample(title="A new title", body=CUES["body"] + " Smile."), admin)
    assert not changed and again.version == 2
    assert AuditEvent.select().where(AuditEvent.action == "prompt_update").count() == 1


def test_invalid_save_changes_nothing(app):
    prompt = make_prompt()
    with pytest.raises(AppError) as raised:
        library.save_prompt(prompt, sample(title="x" * 41), None)
    assert raised.value.status == 422 and "title" in raised.value.fields
    assert Prompt.get_by_id(prompt.id).version == 1
    assert PromptRevision.select().where(PromptRevision.prompt == prompt).count() == 1


def test_stale_base_version_is_a_conflict(app):
    prompt = make_prompt()
    library.save_prompt(prompt, sample(title="First edit"), None)
    with pytest.raises(AppError) as raised:
        library.save_prompt(prompt, sample(title="Look again"), None, base_version=1)
    assert raised.value.status == 409
    assert Prompt.get_by_id(prompt.id).title == "First edit"


def test_status_moves_draft_published_retired_and_back(app):
    admin = factories.make_user("admin")
    prompt = make_prompt(admin)
    with pytest.raises(AppError) as raised:
        library.set_status(prompt, "retired", admin)
    assert raised.value.status == 409 and "can only become published" in raised.value.message
    prompt = library.set_status(prompt, "published", admin)
    assert (prompt.status, prompt.version) == ("published", 2)
    prompt = library.set_status(prompt, "retired", admin)
    prompt = library.set_status(prompt, "draft", admin)
    assert (prompt.status, prompt.version) == ("draft", 4)
    summaries = [r.summary for r in PromptRevision.select().where(PromptRevision.prompt == prompt)
                 .order_by(PromptRevision.version)]
    assert summaries == ["Created", "Published", "Retired", "Back to draft"]
    with pytest.raises(AppError):
        library.set_status(prompt, "archived", admin)


def test_restore_brings_back_text_as_a_new_revision(app):
    prompt = make_prompt(status="published")
    library.save_prompt(prompt, sample(title="A new title"), None)
    restored = library.restore_revision(Prompt.get_by_id(prompt.id), 1, None)
    assert (restored.title, restored.version, restored.status) == (CUES["title"], 3, "published")
    assert PromptRevision.get(prompt=prompt, version=3).summary == "Restored version 1"
    with pytest.raises(AppError) as raised:
        library.restore_revision(restored, 3, None)
    assert raised.value.status == 409
    with pytest.raises(AppError) as raised:
        library.restore_revision(restored, 99, None)
    assert raised.value.status == 404


def test_revision_diff_lists_changed_fields(app):
    prompt = make_prompt()
    library.save_prompt(prompt, sample(title="Look for the look-away"), None)
    old = PromptRevision.get(prompt=prompt, version=1).data
    new = PromptRevision.get(prompt=prompt, version=2).data
    changes = library.revision_diff(old, new)
    assert [c.label for c in changes] == ["Title"]
    assert "<ins>" in changes[0].markup and "<del>" in changes[0].markup


# --- import / export ----------------------------------------------------------------------------

def test_export_then_import_round_trips_without_changes(app):
    library.seed_library_if_empty()
    exported = library_transfer.export_library()
    assert len(exported) == len(STARTER) and {"id", "status", "version"} <= set(exported[0])
    counts = library_transfer.import_library(json.dumps(exported).encode(), None)
    assert counts == {"created": 0, "updated": 0, "unchanged": len(STARTER)}


def test_import_updates_by_id_and_creates_drafts(app):
    prompt = make_prompt(status="published")
    items = [sample(id=prompt.id, title="Now from a file"), sample(title="Brand new one"),
             sample(title="New and live", status="published")]
    counts = library_transfer.import_library(json.dumps(items).encode(), None)
    assert counts == {"created": 2, "updated": 1, "unchanged": 0}
    updated = Prompt.get_by_id(prompt.id)
    assert (updated.title, updated.version, updated.status) == ("Now from a file", 2, "published")
    assert Prompt.get(Prompt.title == "Brand new one").status == "draft"
    assert Prompt.get(Prompt.title == "New and live").status == "published"


def test_import_is_all_or_nothing_with_a_message_per_problem(app):
    prompt = make_prompt()
    long_body = "Look. " * 25 + "Look at me."
    items = [sample(id=prompt.id, title="Would be updated")] + [sample(title=f"Fine {n}") for n in range(5)]
    items.append(sample(title="Title that is a little too long for it", body=long_body.strip()))
    items.append(sample(title="Bad theme", theme="joy", extra=1))
    with pytest.raises(library_transfer.ImportRejected) as raised:
        library_transfer.import_library(json.dumps(items).encode(), None)
    problems = raised.value.problems
    assert problems[0] == (f"Prompt 7 (“Title that is a little too…”): body is {len(long_body.strip())} "
                           "characters; the limit is 140.")
    assert any(p.startswith("Prompt 8 (“Bad theme”): theme must be one of") for p in problems)
    assert any("Prompt 8" in p and "“extra” isn't one a prompt has" in p for p in problems)
    assert raised.value.payload()["problems"] == problems
    assert Prompt.select().count() == 1 and Prompt.get_by_id(prompt.id).title == CUES["title"]


@pytest.mark.parametrize(("raw", "status", "words"), [
    (b"", 400, "empty"),
    (b"{not json", 400, "isn't valid JSON"),
    (b"\xff\xfe\x00", 400, "UTF-8"),
    (b'{"title": "x"}', 422, "JSON array"),
    (b"[]", 422, "no prompts"),
    (b"[" + b" " * library_transfer.IMPORT_MAX_BYTES + b"]", 413, "the limit is 512 KB"),
])
def test_import_rejects_bad_files_clearly(app, raw, status, words):
    with pytest.raises(AppError) as raised:
        library_transfer.import_library(raw, None)
    assert raised.value.status == status and words in raised.value.message


def test_import_flags_duplicate_ids(app):
    items = [sample(id=5), sample(id=5, title="Look at me")]
    problems = library_transfer.import_problems(items)
    assert problems == ["Prompt 2 (“Look at me”): the id 5 is also used by prompt 1."]


# --- what works, coverage, filters --------------------------------------------------------------

def _deliver(family, prompt, day, opened=False, tried=None):
    when = datetime(2026, 5, day, 18)
    delivery = Delivery.create(family=family, local_date=date(2026, 5, day), prompt=prompt,
                               prompt_version=prompt.version, due_at=when, expires_at=when,
                               next_attempt_at=when, status="sent", sent_at=when,
                               opened_at=when if opened else None)
    if tried:
        CheckIn.create(id=uuid.uuid4(), family=family, user=family.user_id, delivery=delivery, prompt=prompt, tried=tried,
                       client_created_at=when)
    return delivery


def test_prompt_stats_come_from_one_query(app):
    family = factories.make_family()
    first, second = make_prompt(status="published"), make_prompt(status="published", title="Look at me")
    _deliver(family, first, 1, opened=True, tried="yes")
    _deliver(family, first, 2, opened=True, tried="not_yet")
    _deliver(family, first, 3)
    _deliver(family, second, 4, opened=True, tried="yes")
    statements = []
    original = db.obj.execute_sql

    def counting(sql, *args, **kwargs):
        statements.append(sql)
        return original(sql, *args, **kwargs)

    db.obj.execute_sql = counting
    try:
        stats = library_stats.prompt_stats()
    finally:
        db.obj.execute_sql = original
    assert len(statements) == 1
    assert (stats[first.id].sent, stats[first.id].opened, stats[first.id].checkins) == (3, 2, 2)
    assert stats[first.id].tried_share == 0.5 and stats[second.id].tried_share == 1.0
    assert library_stats.sent_by_version(first) == [(1, 3)]


def test_coverage_counts_published_prompts_per_band(app):
    for n in range(3):
        make_prompt(status="published", title=f"Cues baby {n}")
    make_prompt(status="published", title="For every age", age_min_months=0, age_max_months=60)
    make_prompt(status="draft", title="Not yet live")
    grid = dict(library_stats.coverage())
    cues = {cell.band: cell for cell in grid["cues"]}
    assert cues[(0, 3)].count == 4 and not cues[(0, 3)].gap
    assert cues[(3, 6)].count == 1 and cues[(3, 6)].gap
    assert all(cell.count == 0 for cell in grid["repair"])


def test_filters_and_sorting(app):
    make_prompt(status="published", title="Bath time smile", skill="bath-smile")
    make_prompt(status="draft", title="Look at me", base=RUPTURE)
    filters = library_stats.parse_filters({"q": "BATH", "theme": "cues", "age": "0-3", "status": "published"})
    assert [p.title for p in library_stats.filtered_prompts(filters)] == ["Bath time smile"]
    assert [p.title for p in library_stats.filtered_prompts(library_stats.parse_filters({"q": "bath-smile"}))] \
        == ["Bath time smile"]
    bad = library_stats.parse_filters({"theme": "joy", "age": "1-2", "status": "gone", "sort": "nope"})
    assert len(bad.problems) == 4 and (bad.theme, bad.age, bad.status, bad.sort) == ("", "", "", "theme")
    titles = [p.title for p in library_stats.filtered_prompts(library_stats.parse_filters({"sort": "title", "dir": "desc"}))]
    assert titles == sorted(titles, key=str.lower, reverse=True)
