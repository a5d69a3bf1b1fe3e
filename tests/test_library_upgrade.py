"""``init-db`` on an existing database: the starter library gains the new prompts and fields, never
touching a prompt an admin edited; schema v8 fills strands and each family's recent prompts."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta

from coach.db import current_version, downgrade_to, init_db
from coach.models import Delivery, Family, Prompt, PromptRevision
from coach.services.programme import library

from . import factories
from .admin_helpers import STARTER

PROGRAMME = ("strand", "moment", "week", "pairs_with")


def old_shape(item: dict) -> dict:
    """A starter item as the first release shipped it: no programme fields, no no_chance answer."""
    old = {k: v for k, v in copy.deepcopy(item).items() if k not in PROGRAMME}
    old["answers"] = [a for a in old["answers"] if a["tried"] != "no_chance"]
    return old


def write(tmp_path, name: str, items: list[dict]):
    path = tmp_path / name
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


def first_release(tmp_path, count: int = 4) -> list[Prompt]:
    """An existing library loaded from the first release's starter file."""
    items = [old_shape(item) for item in STARTER[:count]]
    assert library.seed_library_if_empty(write(tmp_path, "old.json", items)) == count
    return list(Prompt.select().order_by(Prompt.id))


def test_unedited_starter_prompts_gain_the_new_fields_and_answers(app, tmp_path):
    before = first_release(tmp_path)
    assert all(p.strand == library.THEME_STRANDS[p.theme] for p in before)  # the theme's, for now
    new = write(tmp_path, "new.json", STARTER[:4])

    counts = library.upgrade_starter_library(new)

    # … and each gains its Spanish from coach/data/translations/es, which these items have
    assert counts == {"seeded": 0, "added": 0, "updated": 4, "retired": 0, "kept": 0, "translated": 4}
    for prompt, item in zip(Prompt.select().order_by(Prompt.id), STARTER[:4], strict=True):
        assert [getattr(prompt, name) for name in PROGRAMME] == [
            item["strand"], item["moment"], item["week"], item["pairs_with"] or ""]
        assert prompt.answers == item["answers"] and prompt.version == 3  # 2: the English, 3: its Spanish
        revision = PromptRevision.get(PromptRevision.prompt == prompt, PromptRevision.version == 2)
        assert revision.editor is None and revision.summary.startswith("Starter library update")


def test_a_prompt_an_admin_edited_is_never_touched(app, tmp_path):
    editor = factories.make_user("admin")
    first = first_release(tmp_path)[0]
    item = library.prompt_data(first) | {"title": "My own words for this"}
    item.pop("status")
    edited, _ = library.save_prompt(first, item, editor)
    new = write(tmp_path, "new.json", STARTER[:4])

    counts = library.upgrade_starter_library(new)

    assert counts["kept"] == 1 and counts["updated"] == 3 and counts["added"] == 0
    after = Prompt.get_by_id(first.id)
    assert (after.title, after.version, after.strand, after.answers) == (
        "My own words for this", edited.version, edited.strand, edited.answers)


def test_new_starter_prompts_are_added_and_dropped_ones_retired(app, tmp_path):
    first_release(tmp_path, count=3)
    new = write(tmp_path, "new.json", STARTER[1:5])  # the first is gone, two are new

    counts = library.upgrade_starter_library(new)

    assert counts == {"seeded": 0, "added": 2, "updated": 2, "retired": 1, "kept": 0, "translated": 4}
    titles = {p.title: p.status for p in Prompt.select()}
    assert titles[STARTER[0]["title"]] == "retired"
    assert all(titles[item["title"]] == "published" for item in STARTER[1:5])
    added = Prompt.get(Prompt.title == STARTER[4]["title"])
    # version 1 as added, 2 with its Spanish
    assert (added.version, added.strand, added.moment) == (2, STARTER[4]["strand"], STARTER[4]["moment"])


def test_an_admins_own_prompt_with_a_starter_title_is_not_doubled(app, tmp_path):
    first_release(tmp_path, count=2)
    mine = copy.deepcopy(STARTER[2])
    library.save_prompt(None, mine, factories.make_user("admin"), status="published")
    counts = library.upgrade_starter_library(write(tmp_path, "new.json", STARTER[:3]))
    assert counts["added"] == 0
    assert Prompt.select().where(Prompt.title == STARTER[2]["title"]).count() == 1


def test_the_upgrade_is_idempotent(app, tmp_path):
    first_release(tmp_path)
    new = write(tmp_path, "new.json", STARTER[:6])
    library.upgrade_starter_library(new)
    revisions = PromptRevision.select().count()

    again = library.upgrade_starter_library(new)

    assert again == {"seeded": 0, "added": 0, "updated": 0, "retired": 0, "kept": 0, "translated": 0}
    assert PromptRevision.select().count() == revisions


def test_an_empty_library_is_seeded_with_the_whole_file(app):
    counts = library.upgrade_starter_library()
    assert counts["seeded"] == len(STARTER) == Prompt.select().count()
    assert {p.strand for p in Prompt.select()} == {item["strand"] for item in STARTER}


def test_init_db_command_reports_what_it_changed(app, runner, tmp_path, monkeypatch):
    first_release(tmp_path)
    monkeypatch.setattr(library, "STARTER_FILE", write(tmp_path, "new.json", STARTER[:5]))
    monkeypatch.setattr(library.upgrade_starter_library, "__defaults__", (library.STARTER_FILE,))
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Starter library: 1 prompts added, 4 updated, 0 retired" in result.output
    again = runner.invoke(args=["init-db"])
    assert "Starter library:" not in again.output


def test_schema_v8_fills_strands_and_recent_prompts_from_deliveries(app):
    family = factories.make_family()
    prompt = Prompt.create(theme="rupture", skill="s", title="t", body="b", question="q",
                           answers=[], status="published")
    today = datetime.utcnow().date()
    for back in (3, 1):
        moment = datetime.combine(today - timedelta(days=back), datetime.min.time())
        Delivery.create(family=family, local_date=today - timedelta(days=back), prompt=prompt,
                        theme="rupture", due_at=moment, expires_at=moment, next_attempt_at=moment)
    downgrade_to(7)

    init_db()

    assert current_version() >= 8
    assert (Prompt.get_by_id(prompt.id).strand, Prompt.get_by_id(prompt.id).week) == ("noticing-rupture", 4)
    expected = "".join(f"{(today - timedelta(days=back)).toordinal()}:{prompt.id}," for back in (3, 1))
    assert Family.get_by_id(family.id).recent_prompts == expected
