"""Checks on the prompt library in coach/data/prompts.json.

Plain data tests: no app import. They hold the library to the rules in
shared CONTENT.md (lengths, answers, plain words, no blame words, ages) and
its "Second release": strands, six-week arcs, moments, pairs and answer kinds.
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
    "strand",
    "moment",
    "week",
    "pairs_with",
}
# Each strand has its place in the band's six-week arc (CONTENT.md "The programme").
STRAND_WEEK = {
    "watching-cues": 1,
    "presence": 1,
    "delight": 2,
    "mirroring": 2,
    "wondering": 3,
    "noticing-rupture": 4,
    "own-state": 4,
    "repair-moves": 5,
    "co-regulation": 5,
    "triggers": 6,
    "self-kindness": 6,
    "good-enough": 6,
}
STRANDS = tuple(STRAND_WEEK)
MOMENTS = ("morning", "day", "evening", "bedtime", "any")
TRIED = ("yes", "not_yet", "no_chance")
RUPTURE_STRANDS = {"noticing-rupture", "own-state", "triggers"}
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
# A prompt whose moment may not come: "If…", "After…", "When…", "Next time…".
CONDITIONAL = re.compile(r"\b(if|after|when|next time)\b", re.IGNORECASE)
AMBIGUOUS_LABEL = re.compile(
    r"^(not|no)( (yet|today|tonight|this time))?[.!]?$", re.IGNORECASE
)
NEGATIVE_START = re.compile(r"^(not|no|didn't|did not|i didn't|i did not)\b", re.IGNORECASE)
NO_CHANCE_WORDS = re.compile(
    r"(didn't come up|did not come up|didn't happen|no chance|\bno \w+( \w+)? (today|tonight)|wasn't one|there wasn't)",
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
def test_strand_moment_and_week(prompt):
    assert prompt["strand"] in STRANDS, prompt["strand"]
    assert prompt["moment"] in MOMENTS, prompt["moment"]
    assert type(prompt["week"]) is int and 1 <= prompt["week"] <= 6
    # The strand fits its week of the arc.
    assert prompt["week"] == STRAND_WEEK[prompt["strand"]], (
        prompt["strand"],
        prompt["week"],
    )


@per_prompt
def test_strand_fits_theme(prompt):
    if prompt["theme"] == "rupture":
        assert prompt["strand"] in RUPTURE_STRANDS, prompt["strand"]
    if prompt["strand"] == "noticing-rupture":
        assert prompt["theme"] == "rupture"
    if prompt["strand"] == "repair-moves":
        assert prompt["theme"] == "repair"


def _repair_skills(band):
    return {
        p["skill"]
        for p in PROMPTS
        if p["theme"] == "repair" and (p["age_min_months"], p["age_max_months"]) == band
    }


@per_prompt
def test_rupture_pairs_with_a_repair_in_its_band(prompt):
    band = (prompt["age_min_months"], prompt["age_max_months"])
    if prompt["theme"] == "rupture":
        assert prompt["pairs_with"] in _repair_skills(band), prompt["pairs_with"]
    else:
        assert prompt["pairs_with"] is None


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
        assert a["tried"] in TRIED, a
    labels = [a["label"].lower() for a in answers]
    assert len(set(labels)) == len(labels)


@per_prompt
def test_a_yes_and_a_kind_way_out(prompt):
    # At least one "I tried"; at most one "not yet" and one "it didn't come
    # up"; and always at least one of those two, so no parent is stuck.
    tried = [a["tried"] for a in prompt["answers"]]
    assert tried.count("yes") >= 1
    assert tried.count("not_yet") <= 1
    assert tried.count("no_chance") <= 1
    assert tried.count("not_yet") + tried.count("no_chance") >= 1


@per_prompt
def test_conditional_prompt_tells_no_chance_from_not_yet(prompt):
    # "If the evening gets fussy…": when the moment never came, that is not
    # "I didn't try". Such prompts need their own no_chance answer.
    if CONDITIONAL.search(prompt["body"]):
        kinds = [a["tried"] for a in prompt["answers"]]
        assert "no_chance" in kinds, prompt["body"]


@per_prompt
def test_answer_labels_say_what_their_kind_means(prompt):
    for a in prompt["answers"]:
        label = a["label"]
        # A bare "Not today" cannot tell "it didn't come up" from "I didn't try".
        assert not AMBIGUOUS_LABEL.match(label), label
        if a["tried"] == "yes":
            # An answer that means "I didn't" never counts as tried.
            assert not NEGATIVE_START.match(label), label
        if a["tried"] == "no_chance":
            assert NO_CHANCE_WORDS.search(label), label
        if a["tried"] == "not_yet":
            assert not NO_CHANCE_WORDS.search(label), label


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
