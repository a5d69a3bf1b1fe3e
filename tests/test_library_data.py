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
MIN_TOTAL = 285  # the sum of MIN_PER_BAND below
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
# "It didn't come up" words never sit on a not_yet answer, and "I didn't get
# to it" words never sit on a no_chance answer.
NO_CHANCE_WORDS = re.compile(r"(didn't come up|did not come up|no chance)", re.IGNORECASE)
NOT_TRYING_WORDS = re.compile(
    r"(didn't (get to|try|stop)|did not (get to|try)|forgot|not yet|maybe (next|tomorrow))",
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
    assert len(PROMPTS) >= MIN_TOTAL == sum(MIN_PER_BAND.values())


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
    # At least one "I tried", exactly one kind "not yet" (the editor's rule
    # too), and at most one "it didn't come up".
    tried = [a["tried"] for a in prompt["answers"]]
    assert tried.count("yes") >= 1
    assert tried.count("not_yet") == 1
    assert tried.count("no_chance") <= 1


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
            assert not NOT_TRYING_WORDS.search(label), label
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
def test_no_should_must_jargon_or_assumed_harm(prompt):
    # No "should", no jargon, and never a guess that the parent shouted or hit.
    for text in _texts(prompt):
        assert not BANNED_WORDS.search(text), text
        assert not ASSUMES_HARM.search(text), text


@per_prompt
def test_reading_grade_at_most_six(prompt):
    for field in TEXT_LIMITS:
        text = _as_read(prompt[field])
        grade = textstat.flesch_kincaid_grade(text)
        assert grade <= MAX_GRADE, (field, grade, text)


def test_placeholder_used_in_a_fair_share_but_not_all():
    using = sum(1 for p in PROMPTS if any(PLACEHOLDER in t for t in _texts(p)))
    assert 0.2 * len(PROMPTS) <= using <= 0.5 * len(PROMPTS), using


# --- the programme: depth, strands, arcs and moments per band --------------

#: Published prompts each band needs (CONTENT.md "The programme").
MIN_PER_BAND = {(0, 3): 30, (3, 6): 30, (6, 12): 45, (12, 24): 60, (24, 36): 60, (36, 60): 60}
MIN_PER_STRAND = 2


def _weekly_minimum(band):
    # A daily parent spends seven days in each week of the arc, and even a
    # family on the default evening window walks the whole arc: every week
    # has seven prompts to send in that window; in the bands a family stays
    # in for a year or more, ten, so some are left for the next time round.
    return 10 if MIN_PER_BAND[band] >= 60 else 7


#: Moments a family with the default 18:00–20:00 window is sent.
EVENING_FIT = {"evening", "bedtime", "any"}
MIN_EVENING_SHARE = 0.7


def _band(prompt):
    return (prompt["age_min_months"], prompt["age_max_months"])


def _in_band(band):
    return [p for p in PROMPTS if _band(p) == band]


per_band = pytest.mark.parametrize("band", BANDS, ids=[f"{lo}-{hi}" for lo, hi in BANDS])


@per_band
def test_band_has_its_depth(band):
    assert len(_in_band(band)) >= MIN_PER_BAND[band], len(_in_band(band))


@per_band
def test_band_covers_every_strand(band):
    strands = Counter(p["strand"] for p in _in_band(band))
    thin = {s: strands[s] for s in STRANDS if strands[s] < MIN_PER_STRAND}
    assert not thin, thin


@per_band
def test_band_fills_every_week_of_the_arc(band):
    weeks = Counter(p["week"] for p in _in_band(band))
    thin = {w: weeks[w] for w in range(1, 7) if weeks[w] < _weekly_minimum(band)}
    assert not thin, thin


@per_band
def test_most_of_a_band_fits_the_default_evening_window(band):
    prompts = _in_band(band)
    fits = sum(1 for p in prompts if p["moment"] in EVENING_FIT)
    assert fits >= MIN_EVENING_SHARE * len(prompts), (fits, len(prompts))


@per_band
def test_every_week_has_prompts_for_an_evening_window(band):
    weeks = Counter(p["week"] for p in _in_band(band) if p["moment"] in EVENING_FIT)
    thin = {w: weeks[w] for w in range(1, 7) if weeks[w] < _weekly_minimum(band)}
    assert not thin, thin


@per_prompt
def test_morning_words_are_not_sent_in_the_evening(prompt):
    # A prompt about a moment that happens in the morning says so in `moment`.
    text = f"{prompt['title']} {prompt['body']}".lower()
    if re.search(r"\b(this morning|breakfast|drop-off|school run)\b", text) and not re.search(
        r"\b(tomorrow|tonight|bedtime|later)\b", text
    ):
        assert prompt["moment"] in ("morning", "day"), prompt["title"]


@per_prompt
def test_daytime_prompts_do_not_point_to_the_evening(prompt):
    # A morning or day prompt is sent in a morning or day window: "tonight" or
    # "tomorrow" would then name the wrong time.
    if prompt["moment"] in ("morning", "day"):
        body = prompt["body"].lower()
        assert not re.search(r"\b(tonight|this evening|tomorrow|bedtime)\b", body), body


@per_prompt
def test_words_fit_the_age(prompt):
    # A prompt for a 2-year-old does not call them a baby, nor a 4-month-old a toddler.
    text = " ".join(_texts(prompt))
    if prompt["age_min_months"] >= 12:
        assert not re.search(r"\bbab(y|ies)\b", text, re.IGNORECASE), prompt["title"]
    if prompt["age_max_months"] <= 12:
        assert not re.search(r"\b(toddler|preschool)", text, re.IGNORECASE), prompt["title"]


# --- safety in the words ----------------------------------------------------

CRYING = re.compile(r"\b(cry|cries|crying|cried|tears|wail\w*|scream\w*)\b", re.IGNORECASE)
STEP_AWAY = ("somewhere safe", "step away", "breathe", "come back")
ASSUMES_HARM = re.compile(
    r"\b(you (shouted|yelled|hit|smacked|screamed|snapped)|when you (shout|yell|hit|smack))\b",
    re.IGNORECASE,
)
ORDER_ABOUT_A_WRONG = re.compile(r"^(say sorry|apologi[sz]e|stop|don't|never)\b", re.IGNORECASE)


@per_prompt
def test_young_baby_crying_prompts_carry_the_safe_step_away_line(prompt):
    if prompt["age_max_months"] <= 6 and any(CRYING.search(t) for t in _texts(prompt)):
        why = prompt["why"].lower()
        missing = [w for w in STEP_AWAY if w not in why]
        assert not missing, (prompt["title"], missing)


@per_prompt
def test_title_is_never_an_order_about_a_wrong(prompt):
    assert not ORDER_ABOUT_A_WRONG.match(prompt["title"]), prompt["title"]


# --- no near-copies ---------------------------------------------------------

_STOP = set(
    "a an the and or to of in on at is it you your they them their i we for with be"
    " this that today tonight just if when after one no not so as are was can baby"
    " child toddler up".split()
)
#: Word-sequence similarity (difflib ratio over the content words of title +
#: body) above which two prompts count as the same move in nearly the same
#: words. Measured on the first library (main before issue 13): in-band max
#: 0.29 ("Hum your way back" / "Breathe slow, hold close", which this test
#: catches); six pairs across bands above 0.33 (the "notice one out-of-step
#: moment" and "name the upset" clusters: "Missing a smile is fine" / "When you
#: missed the look" 0.41, "A fussy evening" / "Rushing out the door" 0.37, …).
NEAR_COPY_IN_BAND = 0.28
NEAR_COPY_ACROSS_BANDS = 0.33


def _content_words(prompt):
    text = f"{prompt['title']} {prompt['body']}".lower().replace(PLACEHOLDER, " ")
    return [w for w in re.findall(r"[a-z']+", text) if w not in _STOP]


def near_copies(prompts):
    """Pairs of prompts too alike to both stay: [(ratio, title, title)]."""
    from difflib import SequenceMatcher

    words = [(p, _content_words(p)) for p in prompts]
    found = []
    for i, (a, wa) in enumerate(words):
        for b, wb in words[i + 1 :]:
            limit = NEAR_COPY_IN_BAND if _band(a) == _band(b) else NEAR_COPY_ACROSS_BANDS
            ratio = SequenceMatcher(None, wa, wb, autojunk=False).ratio()
            if ratio > limit:
                found.append((round(ratio, 2), a["title"], b["title"]))
    return found


def _first_library_prompt(band, title, body):
    return {"title": title, "body": body, "age_min_months": band[0], "age_max_months": band[1]}


def test_near_copy_check_catches_the_first_library_clusters():
    # Four prompts of the first library, word for word: two in-band near-copies
    # of one soothing move, and two of the "notice a missed moment" cluster.
    first = [
        _first_library_prompt(
            (0, 3),
            "Hum your way back",
            "After a cry today, hold {child} close and hum or talk low and slow. "
            "Let your voice be the calm they lean on.",
        ),
        _first_library_prompt(
            (0, 3),
            "Breathe slow, hold close",
            "When your baby is upset today, hold them to your chest and slow your "
            "breath. Let them feel your chest rise and fall.",
        ),
        _first_library_prompt(
            (3, 6),
            "Missing a smile is fine",
            "Today you might be busy when your baby smiles or coos at you. If you "
            "notice a missed moment, that's enough. More will come.",
        ),
        _first_library_prompt(
            (6, 12),
            "When you missed the look",
            "Today you might be busy when {child} looks back for you. If you notice "
            "a missed glance, that's okay. They will look again.",
        ),
    ]
    found = {(a, b) for _, a, b in near_copies(first)}
    assert found == {
        ("Hum your way back", "Breathe slow, hold close"),
        ("Missing a smile is fine", "When you missed the look"),
    }


def test_no_two_prompts_are_near_copies():
    assert not near_copies(PROMPTS)


# --- docs/programme.md is generated from this data ---------------------------


def _programme_doc_tool():
    import importlib.util

    path = PROMPTS_PATH.parents[2] / "tools" / "programme_doc.py"
    spec = importlib.util.spec_from_file_location("programme_doc", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_programme_doc_explains_every_strand_in_arc_order():
    tool = _programme_doc_tool()
    assert list(tool.STRANDS) == sorted(STRANDS, key=STRAND_WEEK.get)
    assert {s: w for s, (w, _, _) in tool.STRANDS.items()} == STRAND_WEEK


def test_programme_doc_is_up_to_date_with_the_data():
    tool = _programme_doc_tool()
    assert tool.DOC.read_text(encoding="utf-8") == tool.render(PROMPTS), (
        "docs/programme.md is stale: run python3 tools/programme_doc.py"
    )
