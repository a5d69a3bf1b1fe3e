#!/usr/bin/env python3
"""Write docs/programme.md: the prompt library's programme in tables.

The tables are counted from coach/data/prompts.json, so the document is always
what the library holds: prompts per band × strand, per band × moment (and how
many fit the default 18:00–20:00 evening window), per band × week of the
six-week arc, and which idea of the reference article each strand teaches.

    python3 tools/programme_doc.py          # rewrite docs/programme.md
    python3 tools/programme_doc.py --check  # exit 1 when the file is stale

Standard library only. tests/test_library_data.py fails when the document and
the data drift apart.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ROOT / "coach" / "data" / "prompts.json"
DOC = ROOT / "docs" / "programme.md"

BANDS = ((0, 3), (3, 6), (6, 12), (12, 24), (24, 36), (36, 60))
MOMENTS = ("morning", "day", "evening", "bedtime", "any")
EVENING_FIT = ("evening", "bedtime", "any")
WEEK_NAMES = {
    1: "Watching cues · Presence",
    2: "Delight · Mirroring",
    3: "Wondering",
    4: "Noticing rupture · Your own state",
    5: "Repair · Calming together",
    6: "Triggers · Self-kindness · Good enough",
}
#: strand → (week, what it asks of a parent, the article's idea it teaches).
#: Every sentence is ours; the article is shared/reference/attunement-article.txt.
STRANDS = {
    "watching-cues": (
        1,
        "Read what the child is signalling: a look away, a reach, a clingy goodbye.",
        "Caregiver sensitivity (Ainsworth): seeing a child's signals, making sense of "
        "them and answering in time is the ground a secure bond grows on.",
    ),
    "presence": (
        1,
        "Give a few unhurried minutes, phone away, with nothing to get done.",
        "Presence comes first: a parent who is here, not rushing on, notices the small "
        "shifts in a child that a busy mind misses.",
    ),
    "delight": (
        2,
        "Let the child see you enjoy them: a laugh, a glow, a glad hello.",
        "Being in step is not only about distress: joy shared in the moment tells a "
        "child they are enjoyed, not just looked after.",
    ),
    "mirroring": (
        2,
        "Show a feeling back, in face or words, a little softer than the child shows it.",
        "Mirroring is more than copying: the parent catches the felt sense of the "
        "feeling and hands it back in a form the child can bear.",
    ),
    "wondering": (
        3,
        "Guess aloud at what is going on inside: “I wonder if…”.",
        "Mentalisation (Fonagy): a parent who is curious about the child's inner world "
        "helps the child come to know their own mind, and later other people's.",
    ),
    "noticing-rupture": (
        4,
        "Notice one moment out of step, without blame.",
        "Breaks in connection are part of every close bond; repair starts with seeing "
        "the break, and seeing it is enough for one day.",
    ),
    "own-state": (
        4,
        "Check your own body and breath: jaw, hands, pace, voice.",
        "Somatic attunement: the parent's body is part of the exchange, and tension "
        "shows in hands and voice before the mind has named it.",
    ),
    "repair-moves": (
        5,
        "Come back together: name what happened, own your part, reconnect.",
        "Rupture and repair (Tronick): a break that is mended teaches a child that "
        "closeness survives hard moments, which builds trust and resilience.",
    ),
    "co-regulation": (
        5,
        "Calm big feelings together: slow breath, soft voice, steady body.",
        "A young child borrows calm from a calm adult: slowing your own breath and "
        "softening your voice signals safety and helps their body settle.",
    ),
    "triggers": (
        6,
        "Notice when a moment stirs your own history.",
        "Staying steady with a child's distress is harder when it wakes old feelings; "
        "knowing the echo gives a parent a choice in how to answer.",
    ),
    "self-kindness": (
        6,
        "Rest, ask for help, speak to yourself as to a friend.",
        "Staying steady needs support, as therapists lean on supervision and "
        "self-reflection; a parent's kindness to themselves keeps their patience whole.",
    ),
    "good-enough": (
        6,
        "Let go of perfect: in step some of the time, and coming back, is enough.",
        "No one is in step all the time; missed moments are ordinary, and what "
        "counts is the coming back.",
    ),
}


def band_label(band):
    return f"{band[0]}–{band[1]} m"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _in_band(prompts, band):
    return [p for p in prompts if (p["age_min_months"], p["age_max_months"]) == band]


def _band_rows(prompts, row_of):
    """One table row per band: its label, then row_of(the band's prompts)."""
    return [[band_label(band)] + row_of(_in_band(prompts, band)) for band in BANDS]


def _grid(prompts, key, columns):
    """Rows of bands × columns of `key` values, with a total column and row."""

    def row_of(in_band):
        counts = Counter(p[key] for p in in_band)
        return [counts[c] for c in columns] + [len(in_band)]

    everyone = Counter(p[key] for p in prompts)
    rows = _band_rows(prompts, row_of)
    rows.append(["**All**"] + [everyone[c] for c in columns] + [len(prompts)])
    return _table(["Band"] + [str(c) for c in columns] + ["Total"], rows)


def _moment_row(in_band):
    counts = Counter(p["moment"] for p in in_band)
    fit = sum(counts[m] for m in EVENING_FIT)
    share = round(100 * fit / len(in_band)) if in_band else 0
    return [counts[m] for m in MOMENTS] + [len(in_band), f"{fit} ({share} %)"]


def _theme_row(in_band):
    themes = Counter(p["theme"] for p in in_band)
    repairs = {p["skill"] for p in in_band if p["theme"] == "repair"}
    pairs = sum(1 for p in in_band if p["theme"] == "rupture" and p["pairs_with"] in repairs)
    return [themes["cues"], themes["rupture"], themes["repair"], pairs]


def render(prompts):
    """The whole of docs/programme.md for this list of prompts."""
    parts = [
        "# The programme: strands, arcs and moments",
        "",
        "<!-- Generated by tools/programme_doc.py from coach/data/prompts.json. "
        "Do not edit by hand: change the data, then run `python3 tools/programme_doc.py`. -->",
        "",
        f"The starter library holds **{len(prompts)} prompts** in six age bands. Each band is "
        "a six-week arc: a parent meets the strands in this order, then the arc starts "
        "again with new prompts on the same strands. Rules and their reasons are in "
        "`shared/CONTENT.md` (\"Second release\"); every rule is a test in "
        "`tests/test_library_data.py`.",
        "",
        "## The six-week arc",
        "",
        _table(
            ["Week", "Strands"],
            [[w, WEEK_NAMES[w]] for w in range(1, 7)],
        ),
        "",
        "## What each strand teaches",
        "",
        "The ideas come from the reference article on attunement; the words are ours.",
        "",
        _table(
            ["Strand", "Week", "What a prompt asks", "The idea it teaches"],
            [[f"`{s}`", w, ask, idea] for s, (w, ask, idea) in STRANDS.items()],
        ),
        "",
        "## Prompts per band and strand",
        "",
        _grid(prompts, "strand", list(STRANDS)),
        "",
        "## Prompts per band and week of the arc",
        "",
        _grid(prompts, "week", list(range(1, 7))),
        "",
        "## Prompts per band and moment",
        "",
        "`moment` says when the moment to try happens. A family is only sent prompts whose "
        "moment fits its window; the default 18:00–20:00 window takes `evening`, `bedtime` "
        "and `any`.",
        "",
    ]
    parts += [
        _table(
            ["Band", *MOMENTS, "Total", "Fit 18:00–20:00"], _band_rows(prompts, _moment_row)
        ),
        "",
        "## Themes, pairs and answers",
        "",
    ]
    parts += [
        _table(
            ["Band", "cues", "rupture", "repair", "ruptures with a paired repair"],
            _band_rows(prompts, _theme_row),
        ),
        "",
        "Every rupture prompt names, in `pairs_with`, the skill of a repair prompt in its "
        "band that answers it: after a hard rupture the next day's prompt is that repair "
        "(the day after the week's reflection, when that comes between). "
        "Every check-in answer says what it means: `yes` (tried), `not_yet` (didn't try "
        "this time) or `no_chance` (the moment didn't come up, which never counts as not "
        "trying). Rupture prompts mark one answer `hard`.",
        "",
        "## The weekly reflection",
        "",
        "![The weekly reflection on a phone](screenshots/parent-reflection.png)",
        "",
        "Once a week the family's one delivery is not a prompt but a look back "
        "(`Delivery.kind` = `reflection`; `coach/services/programme/reflection.py`).",
        "",
        "- **The family's week** is the programme week: seven days counted from enrolment, as "
        "\"Week 3 · Wondering\" counts them. **The reflection day** is the last of the "
        "family's `days_of_week` in that week (day 7 for a daily family; for Mon/Wed/Fri, "
        "whichever of the three comes last in its week). A paused last day sends nothing, so "
        "that week has no reflection.",
        "- **Nothing to look back on**: with no check-in on a prompt made that week, the day "
        "brings an ordinary prompt instead. The planner decides from the check-ins it already "
        "reads, with no extra query.",
        "- **The notification** names the week, not its contents (\"Your week with Sam\" / "
        "\"A look back at your week, in your own answers, and one question for you.\"): the "
        "parent's answers are private and a lock screen is not. Discreet mode says only "
        "\"A moment for today is ready\". It opens `/reflection/<delivery id>` and offers only "
        "\"Later\"; `/checkin/<id>` of a reflection leads there too, and the check-in API and "
        "the one-tap ack refuse it (409 `reflection`).",
        "- **The page** tells the week back in the parent's own words: the days they checked "
        "in, the answer they chose each day, the ideas they tried, the repair they tried named "
        "by its prompt (\"On Thursday you came back together: …\"), a hard moment met kindly, "
        "\"not yet\" said to come round again. Home shows it on its day; the journal links it "
        "for seven days.",
        "- **One open question** per week of the arc (week 1: \"What did you notice about "
        "{child} this week that you hadn't seen before?\" … week 6: \"What would you say to a "
        "friend who had your week?\"). The answer (≤ 500 characters) is a check-in with "
        "`tried` = `reflected` and no prompt, one per reflection: private to the parent unless "
        "they tick \"Share\", in their journal and export, changeable for 7 days.",
        "- **Coaching keeps its promises**: a reflection sends no prompt, so it never counts "
        "against the no-repeat rest; a paired repair owed after a hard rupture comes on the "
        "next prompt day, and \"not yet\" still returns within 7 days.",
        "",
        "## Rules the data tests hold",
        "",
        "- Depth: at least 30 prompts for 0–3 and 3–6 months, 45 for 6–12, 60 for each "
        "band from 12 months; all twelve strands in every band.",
        "- Every week of every arc has at least 7 prompts that fit the 18:00–20:00 window "
        "(10 from 12 months), and at least 70 % of each band fits it.",
        "- A strand sits in its week; a rupture's `pairs_with` names a repair skill of its "
        "band; prompts that hinge on \"if\", \"after\" or \"when\" have a `no_chance` answer.",
        "- Plain words (reading grade 6 or below), no \"should\" or jargon, no guess that a "
        "parent shouted or hit, no title that orders a wrong, words that fit the age.",
        "- Every crying prompt for 0–6 months carries the safe step-away line.",
        "- No near-copies: a word-sequence similarity over title and body above 0.28 in a "
        "band (0.33 across bands) fails; the check finds the first library's clusters.",
        "",
    ]
    return "\n".join(parts)


def load():
    return json.loads(PROMPTS.read_text(encoding="utf-8"))


def main(argv):
    text = render(load())
    if "--check" in argv:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            print("docs/programme.md is out of date: run python3 tools/programme_doc.py")
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
