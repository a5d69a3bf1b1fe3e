"""The prompt library pages through HTTP: list, coverage, editor, live check, status, revisions,
restore, import/export, and the escaping of admin-entered text wherever prompts are shown."""
from __future__ import annotations

import io
import json
import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from coach.models import CheckIn, Delivery, Prompt, PromptRevision, utcnow
from coach.services.programme import library
from coach.services.programme.readability import reading_grade

from . import admin_helpers, factories
from .admin_helpers import CUES, RUPTURE, csrf_for, make_prompt, sample, sign_in

XSS = "<img src=x onerror=alert(1)>"


# Fixtures: an admin ("Ada Admin") and a ``client`` signed in as them.
admin = admin_helpers.admin
client = admin_helpers.admin_client


def editor_form(item: dict, token: str, **extra) -> dict:
    """An editor POST body for a library item."""
    low, high = item["age_min_months"], item["age_max_months"]
    form = {"csrf_token": token, "theme": item["theme"], "skill": item["skill"],
            "age": "any" if (low, high) == (0, 60) else f"{low}-{high}", "title": item["title"],
            "body": item["body"], "question": item["question"], "why": item["why"]}
    for index, answer in enumerate(item["answers"]):
        form[f"answer-{index}-label"] = answer["label"]
        form[f"answer-{index}-tried"] = answer["tried"]
        if answer.get("hard"):
            form[f"answer-{index}-hard"] = "on"
    return form | extra


def no_inline_code(html: str) -> None:
    """Strict CSP: no style attributes, no inline script or style blocks."""
    assert 'style="' not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


# --- list and coverage --------------------------------------------------------------------------

def theme_grid(html: str) -> str:
    """The theme × age coverage table of the library page (the programme grids follow it)."""
    return html.split('id="coverage"', 1)[1].split("</section>", 1)[0]


def test_library_lists_filters_and_shows_coverage_gaps(client):
    library.seed_library_if_empty()
    html = client.get("/admin/prompts").get_data(as_text=True)
    no_inline_code(html)
    assert f"{Prompt.select().count()} prompts" in html and 'id="coverage"' in html
    assert 'class="num gap"' not in theme_grid(html)  # the starter library has enough per cell
    link = "/admin/prompts?theme=repair&amp;age=36-60&amp;status=published"
    assert link in html
    repairs = Prompt.select().where(Prompt.theme == "repair", Prompt.age_min_months == 36)
    for prompt in repairs.limit(repairs.count() - 3):
        library.set_status(prompt, "retired", None)
    html = client.get("/admin/prompts").get_data(as_text=True)
    assert theme_grid(html).count('class="num gap"') == 1
    assert "3 published Coming back together prompts for 36–60 months: a gap" in html
    html = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "3 prompts" in html
    assert "1 coverage gap</a>" in client.get("/admin/").get_data(as_text=True)


def test_library_search_sort_and_bad_filters(client):
    make_prompt(status="published", title="Bath time smile")
    make_prompt(status="draft", base=RUPTURE)
    html = client.get("/admin/prompts?q=bath").get_data(as_text=True)
    assert "1 prompt<" in html and "Bath time smile" in html
    html = client.get("/admin/prompts?sort=sent&dir=desc").get_data(as_text=True)
    assert 'aria-sort="descending"' in html
    html = client.get("/admin/prompts?theme=joy").get_data(as_text=True)
    assert "There is no theme called “joy”; showing every theme." in html and "2 prompts" in html


# --- editor -------------------------------------------------------------------------------------

def test_new_prompt_is_saved_as_a_draft(client, admin):
    page = client.get("/admin/prompts/new").get_data(as_text=True)
    no_inline_code(page)
    assert 'data-check-url="/admin/prompts/check"' in page and "Lock screen" in page
    response = client.post("/admin/prompts/new", data=editor_form(sample(RUPTURE), csrf_for(client)))
    assert response.status_code == 302
    prompt = Prompt.get(Prompt.title == RUPTURE["title"])
    assert (prompt.status, prompt.version, prompt.answers) == ("draft", 1, RUPTURE["answers"])
    assert PromptRevision.get(prompt=prompt, version=1).editor.id == admin.id


def test_editor_rejects_and_explains_every_problem(client):
    form = editor_form(sample(), csrf_for(client), title="x" * 41, body="Hi {name}",
                       **{"answer-2-tried": "yes"})
    response = client.post("/admin/prompts/new", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Title is 41 characters; the limit is 40." in html
    assert "Body uses “{name}”; the only placeholder allowed is {child}." in html
    assert "exactly one kind “not today” choice" in html
    assert 'value="Hi {name}"' not in html and ">Hi {name}</textarea>" in html  # kept for fixing
    assert Prompt.select().count() == 0


def test_answer_problems_point_at_the_editor_row(client):
    form = editor_form(sample(), csrf_for(client))
    # Rows 1 and 3 used; row 2 left empty.
    form.update({"answer-1-label": "", "answer-3-label": "x" * 45, "answer-3-tried": "yes"})
    html = client.post("/admin/prompts/new", data=form).get_data(as_text=True)
    assert "Answer 4&#39;s label is 45 characters; the limit is 40." in html


def test_saving_makes_a_version_and_stale_forms_conflict(client):
    prompt = make_prompt(status="published")
    token = csrf_for(client)
    response = client.post(f"/admin/prompts/{prompt.id}",
                           data=editor_form(sample(title="Look for the look-away"), token, base_version="1"))
    assert response.status_code == 302
    assert Prompt.get_by_id(prompt.id).version == 2
    response = client.post(f"/admin/prompts/{prompt.id}",
                           data=editor_form(sample(title="Look at me"), token, base_version="1"))
    assert response.status_code == 409
    assert "Someone else saved this prompt" in response.get_data(as_text=True)
    assert Prompt.get_by_id(prompt.id).title == "Look for the look-away"


def test_status_buttons_follow_the_lifecycle(client):
    prompt = make_prompt()
    token = csrf_for(client)
    assert client.post(f"/admin/prompts/{prompt.id}/status",
                       data={"csrf_token": token, "status": "published"}).status_code == 302
    response = client.post(f"/admin/prompts/{prompt.id}/status", data={"csrf_token": token, "status": "draft"})
    assert response.status_code == 409
    assert "A published prompt can&#39;t become draft" in response.get_data(as_text=True)
    html = client.get(f"/admin/prompts/{prompt.id}").get_data(as_text=True)
    assert 'value="retired"' in html and 'value="published"' not in html


def test_live_check_returns_problems_and_grades(client):
    values = {k: v for k, v in editor_form(sample(), "").items() if k != "csrf_token"}
    headers = {"X-CSRFToken": csrf_for(client)}
    result = client.post("/admin/prompts/check", json=values, headers=headers).get_json()
    assert result["problems"] == {} and result["grade"] <= 6
    assert result["grades"]["body"] == reading_grade(CUES["body"])
    values["why"] = "Reciprocal interpersonal communication strengthens developmental trajectories."
    values["theme"] = "cues"
    values["answer-0-hard"] = "on"
    result = client.post("/admin/prompts/check", json=values, headers=headers).get_json()
    assert set(result["problems"]) == {"why", "answers.0.hard"} and result["grades"]["why"] > 6
    response = client.post("/admin/prompts/check", data="[1", headers=headers | {"Content-Type": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"] == "bad_json"


def test_live_check_needs_the_csrf_header(client):
    response = client.post("/admin/prompts/check", json={})
    assert response.status_code == 400 and response.get_json()["error"] == "csrf_failed"


# --- revisions and restore ----------------------------------------------------------------------

def test_revision_diff_and_restore(client):
    prompt = make_prompt(status="published")
    library.save_prompt(prompt, sample(title="Look for the look-away"), None)
    html = client.get(f"/admin/prompts/{prompt.id}").get_data(as_text=True)
    assert "Version 2" in html and "Changed title" in html
    html = client.get(f"/admin/prompts/{prompt.id}/revisions/2").get_data(as_text=True)
    no_inline_code(html)
    assert "Changes from version 1" in html and "<del>" in html and "<ins>" in html
    assert "Restore this version" not in html  # it is the current one
    html = client.get(f"/admin/prompts/{prompt.id}/revisions/1").get_data(as_text=True)
    assert "Restore this version" in html
    response = client.post(f"/admin/prompts/{prompt.id}/revisions/1/restore",
                           data={"csrf_token": csrf_for(client), "base_version": "2"})
    assert response.status_code == 302
    restored = Prompt.get_by_id(prompt.id)
    assert (restored.title, restored.version) == (CUES["title"], 3)
    response = client.post(f"/admin/prompts/{prompt.id}/revisions/3/restore", data={"csrf_token": csrf_for(client)})
    assert response.status_code == 409 and "nothing to restore" in response.get_data(as_text=True)
    assert client.get(f"/admin/prompts/{prompt.id}/revisions/9").status_code == 404


def test_prompt_page_shows_what_works_and_sent_versions(client):
    prompt = make_prompt(status="published")
    family = factories.make_family()
    when = datetime(2026, 5, 1, 18)
    for day, version in ((1, 1), (2, 1), (3, 2)):
        delivery = Delivery.create(family=family, local_date=f"2026-05-0{day}", prompt=prompt,
                                   prompt_version=version, due_at=when, expires_at=when,
                                   next_attempt_at=when, status="sent", sent_at=when,
                                   opened_at=when if day < 3 else None)
        CheckIn.create(id=uuid.uuid4(), family=family, user=family.user_id, delivery=delivery, prompt=prompt,
                       tried="yes" if day == 1 else "not_yet", client_created_at=when)
    html = client.get(f"/admin/prompts/{prompt.id}").get_data(as_text=True)
    assert "Sent 2 times as" in html and "version 1</a>" in html and "Sent 1 time as" in html
    assert '<span class="stat-value">33%</span>' in html
    listing = client.get("/admin/prompts?sort=checkins&dir=desc").get_data(as_text=True)
    assert '<td class="num">3</td>' in listing and "33%" in listing


# --- import / export ----------------------------------------------------------------------------

def test_export_is_an_attachment_with_status_and_version(client):
    prompt = make_prompt(status="published")
    response = client.get("/admin/prompts/export.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="attune-prompts-')
    assert response.get_json() == [{"id": prompt.id, "status": "published", "version": 1}
                                   | {name: getattr(prompt, name) for name in library.PROMPT_FIELDS}
                                   | {"translations": {}}]


def _upload(client, content: bytes, filename="prompts.json", **headers):
    return client.post("/admin/prompts/import", content_type="multipart/form-data", headers=headers,
                       data={"csrf_token": csrf_for(client), "file": (io.BytesIO(content), filename)})


def test_import_applies_a_good_file(client):
    prompt = make_prompt(status="published")
    items = [sample(id=prompt.id, title="Now from a file"), sample(title="Brand new one")]
    response = _upload(client, json.dumps(items).encode())
    assert response.status_code == 302
    page = client.get("/admin/prompts").get_data(as_text=True)
    assert "Imported: 1 new (as drafts unless the file said otherwise), 1 updated, 0 unchanged." in page
    assert Prompt.get_by_id(prompt.id).title == "Now from a file"


def test_import_with_one_bad_prompt_changes_nothing(client):
    prompt = make_prompt()
    long_body = ("Look. " * 25 + "Look at me.").strip()
    items = [sample(id=prompt.id, title="Now from a file")] + [sample(title=f"Fine {n}") for n in range(5)]
    items.append(sample(title="Too long by far", body=long_body))
    response = _upload(client, json.dumps(items).encode())
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nothing was changed." in html
    assert f"Prompt 7 (“Too long by far”): body is {len(long_body)} characters; the limit is 140." in html
    assert Prompt.select().count() == 1 and Prompt.get_by_id(prompt.id).version == 1
    response = _upload(client, json.dumps(items).encode(), Accept="application/json")
    assert response.status_code == 422 and response.get_json()["error"] == "import_invalid"
    assert len(response.get_json()["problems"]) == 1


@pytest.mark.parametrize(("content", "status", "words"), [
    (b"not json at all", 400, "isn&#39;t valid JSON"),
    (b'{"a": 1}', 422, "must be a JSON array"),
])
def test_import_explains_bad_files(client, content, status, words):
    response = _upload(client, content)
    assert response.status_code == status and words in response.get_data(as_text=True)


def test_import_without_a_file_or_over_the_size_limit(client):
    response = client.post("/admin/prompts/import", data={"csrf_token": csrf_for(client)})
    assert response.status_code == 400 and "Choose a JSON file" in response.get_data(as_text=True)
    response = _upload(client, b"[" + b" " * (2 * 1024 * 1024) + b"]")
    assert response.status_code == 413


# --- admin-entered text is escaped everywhere it is shown ---------------------------------------

def _xss_prompt() -> Prompt:
    """A prompt whose text is markup (as if it slipped past the checks, e.g. from an old import)."""
    prompt = make_prompt(status="published")
    Prompt.update(title=XSS, body=f"Body {XSS}", question=f"Question {XSS}").where(Prompt.id == prompt.id).execute()
    data = library.prompt_data(Prompt.get_by_id(prompt.id))
    PromptRevision.update(data=data).where(PromptRevision.prompt == prompt).execute()
    return Prompt.get_by_id(prompt.id)


def _assert_escaped(html: str) -> None:
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_admin_entered_text_is_escaped_on_admin_pages(client):
    prompt = _xss_prompt()
    for path in ("/admin/prompts", f"/admin/prompts/{prompt.id}"):
        _assert_escaped(client.get(path).get_data(as_text=True))
    library.save_prompt(prompt, sample(), None)  # a revision whose diff removes the markup
    for version in (1, 2):
        _assert_escaped(client.get(f"/admin/prompts/{prompt.id}/revisions/{version}").get_data(as_text=True))


def test_admin_entered_text_is_escaped_for_parents_workers_and_push(app):
    prompt = _xss_prompt()
    worker = factories.make_user("worker")
    family = factories.make_family(worker=worker, child_name=None)
    today = datetime.now(ZoneInfo(family.timezone)).date()
    now = utcnow()
    delivery = Delivery.create(family=family, local_date=today, prompt=prompt, prompt_version=prompt.version,
                               theme=prompt.theme, due_at=now, expires_at=now, next_attempt_at=now,
                               status="sent", sent_at=now)
    parent = sign_in(app, family.user)
    _assert_escaped(parent.get("/").get_data(as_text=True))
    _assert_escaped(parent.get(f"/checkin/{delivery.id}").get_data(as_text=True))
    staff = sign_in(app, worker)
    _assert_escaped(staff.get(f"/worker/families/{family.id}").get_data(as_text=True))
    from coach.services.delivery.push import build_payload, encode_payload

    payload = build_payload(delivery)
    # Notifications show plain text: the title travels verbatim inside a JSON string.
    assert payload["title"] == XSS and payload["notification"]["title"] == XSS
    assert json.loads(encode_payload(payload))["body"] == f"Body {XSS}"
