"""Checks on the starter prompt library in coach/data/prompts.json.

Plain data tests: no app import. They hold the library to the rules in
shared CONTENT.md (lengths, answers, plain words, no blame words, ages).
"""

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import textstat

PROMPTS_PATH = (
    Path(__file__).resolve().parent.parent / "coach" / "data" / "prompts.json"
)

THEMES = ("cues", "rupture", "repair")
BANDS = ((0, 3), (3, 6), (6, 12), (12, 24), (24, 36), (36, 60))
KEYS = {
    "theme",
    "skill",
    "age_min_months",
    "age_max_months",
    "title",
    "body",
    "question",
    "answers",
    "why",
}
TEXT_LIMITS = {"title": 40, "body": 140, "question": 100, "why": 300}
LABEL_LIMIT = 40
MAX_GRADE = 6.0
MIN_PER_CELL = 4
MIN_TOTAL = 72
PLACEHOLDER = "{child}"
FALLBACK = "your child"
BANNED_WORDS = re.compile(
    r"\b(should|must|attune\w*|misattune\w*|mentali[sz]\w*|co-?regulat\w*)\b",
    re.IGNORECASE,
)
BRACES = re.compile(r"\{[^{}]*\}|[{}]")
SKILL_TAG = re.compile(r"^[a-z]+(-[a-z]+)*$")


def _load():
    with PROMPTS_PATH.open(encoding="utf-8") as fh:
        return json.load(fh)


PROMPTS = _load()


def _id(prompt):
    return f"{prompt.get('theme')}-{prompt.get('age_min_months')}-{prompt.get('title')}"


def _texts(prompt):
    """Every piece of prompt text a parent sees: the four fields and the answer labels."""
    yield from (prompt[f] for f in TEXT_LIMITS)
    yield from (a["label"] for a in prompt["answers"])


def _as_read(text):
    return text.replace(PLACEHOLDER, FALLBACK)


per_prompt = pytest.mark.parametrize("prompt", PROMPTS, ids=[_id(p) for p in PROMPTS])


# --- library-wide ---------------------------------------------------------


def test_library_is_a_list_with_enough_prompts():
    assert isinstance(PROMPTS, list)
    assert len(PROMPTS) >= MIN_TOTAL


def test_every_theme_and_band_cell_has_enough_prompts():
    cells = Counter(
        (p["theme"], p["age_min_months"], p["age_max_months"]) for p in PROMPTS
    )
    for theme in THEMES:
        for lo, hi in BANDS:
            assert cells[(theme, lo, hi)] >= MIN_PER_CELL, (
                theme,
                lo,
                hi,
                cells[(theme, lo, hi)],
            )


def test_titles_are_unique():
    dupes = [
        t
        for t, n in Counter(p["title"].strip().lower() for p in PROMPTS).items()
        if n > 1
    ]
    assert not dupes


def test_bodies_are_unique():
    dupes = [
        b
        for b, n in Counter(p["body"].strip().lower() for p in PROMPTS).items()
        if n > 1
    ]
    assert not dupes


# --- shape ----------------------------------------------------------------


@per_prompt
def test_keys_are_exactly_the_schema(prompt):
    assert set(prompt) == KEYS


@per_prompt
def test_theme_skill_and_age_band(prompt):
    assert prompt["theme"] in THEMES
    assert isinstance(prompt["skill"], str) and SKILL_TAG.match(prompt["skill"]), (
        prompt["skill"]
    )
    assert len(prompt["skill"]) <= 30
    band = (prompt["age_min_months"], prompt["age_max_months"])
    assert all(type(v) is int for v in band)
    assert band in BANDS


@per_prompt
def test_text_fields_are_non_empty_and_within_limits(prompt):
    for field, limit in TEXT_LIMITS.items():
        text = prompt[field]
        assert isinstance(text, str) and text.strip() == text and text, field
        assert len(text) <= limit, (field, len(text))
        # The app swaps {child} for "your child" when there is no name: still fits.
        assert len(_as_read(text)) <= limit, (field, len(_as_read(text)))


# --- answers --------------------------------------------------------------


@per_prompt
def test_answers_count_and_shape(prompt):
    answers = prompt["answers"]
    assert isinstance(answers, list)
    assert 2 <= len(answers) <= 4
    for a in answers:
        assert set(a) <= {"label", "tried", "hard"}
        assert {"label", "tried"} <= set(a)
        assert isinstance(a["label"], str) and a["label"].strip()
        assert len(a["label"]) <= LABEL_LIMIT, a["label"]
        assert a["tried"] in ("yes", "not_yet")
    labels = [a["label"].lower() for a in answers]
    assert len(set(labels)) == len(labels)


@per_prompt
def test_at_least_one_yes_and_exactly_one_not_yet(prompt):
    tried = [a["tried"] for a in prompt["answers"]]
    assert tried.count("yes") >= 1
    assert tried.count("not_yet") == 1


@per_prompt
def test_hard_flag_only_on_rupture(prompt):
    flagged = [a for a in prompt["answers"] if "hard" in a]
    if prompt["theme"] == "rupture":
        assert len(flagged) == 1
        assert flagged[0]["hard"] is True
        assert flagged[0]["tried"] == "yes"
    else:
        assert flagged == []


# --- words ----------------------------------------------------------------


@per_prompt
def test_only_the_child_placeholder(prompt):
    for text in _texts(prompt):
        leftover = BRACES.findall(text.replace(PLACEHOLDER, ""))
        assert not leftover, (text, leftover)


@per_prompt
def test_child_placeholder_reads_well(prompt):
    # Not a possessive (reads badly as "your child's" next to a name), not in
    # answer labels, and never the first word of a title or body.
    for text in _texts(prompt):
        assert PLACEHOLDER + "'" not in text
        assert PLACEHOLDER + "\u2019" not in text
    for a in prompt["answers"]:
        assert PLACEHOLDER not in a["label"]
    assert not prompt["title"].startswith(PLACEHOLDER)
    assert not prompt["body"].startswith(PLACEHOLDER)
    assert prompt["title"][0].isupper()
    assert prompt["body"][0].isupper()


@per_prompt
def test_no_should_must_or_jargon(prompt):
    for text in _texts(prompt):
        assert not BANNED_WORDS.search(text), text


@per_prompt
def test_reading_grade_at_most_six(prompt):
    for field in TEXT_LIMITS:
        text = _as_read(prompt[field])
        grade = textstat.flesch_kincaid_grade(text)
        assert grade <= MAX_GRADE, (field, grade, text)


def test_placeholder_used_in_a_fair_share_but_not_all():
    using = sum(1 for p in PROMPTS if any(PLACEHOLDER in t for t in _texts(p)))
    assert 0.2 * len(PROMPTS) <= using <= 0.5 * len(PROMPTS), using
