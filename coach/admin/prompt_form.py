"""The prompt editor's form: its field names, and conversion to and from a library item.

The editor posts flat fields (``title``, ``age``, ``answer-0-label`` …); the live check posts the
same fields as JSON. Both go through :func:`item_from_values`, then the library's one validation
function, and problems come back keyed by the editor's row numbers.
"""
from __future__ import annotations

from collections.abc import Mapping

from ..i18n import _
from ..inputs import parse_int
from ..services.programme.library import ANY_AGE, MAX_ANSWERS

MAX_AGE_MONTHS = 1200  # far past any band: the library's check names the real choices

TEXT_FIELDS = ("theme", "skill", "age", "title", "body", "question", "why", "strand", "moment", "week",
               "pairs_with")
PLAIN_FIELDS = ("theme", "skill", "title", "body", "question", "why", "strand", "moment", "pairs_with")


def values_from_data(data: Mapping) -> dict[str, str]:
    """Editor values for a stored prompt (or a revision's data)."""
    values = {name: data.get(name) or "" for name in PLAIN_FIELDS}
    values["week"] = str(data.get("week") or "")
    low, high = data.get("age_min_months"), data.get("age_max_months")
    values["age"] = "any" if (low, high) == ANY_AGE else f"{low}-{high}"
    for index, answer in enumerate((data.get("answers") or [])[:MAX_ANSWERS]):
        values[f"answer-{index}-label"] = answer.get("label", "")
        values[f"answer-{index}-tried"] = answer.get("tried", "yes")
        values[f"answer-{index}-hard"] = "on" if answer.get("hard") else ""
    return values


def blank_values() -> dict[str, str]:
    """A new prompt: cues, any age, a kind "not today" answer ready to edit."""
    return {"theme": "cues", "age": "any", "strand": "watching-cues", "moment": "any", "week": "1",
            "answer-0-tried": "yes", "answer-1-tried": "yes",
            "answer-2-tried": "not_yet", "answer-2-label": "Not today, and that's okay"}


def form_values(source: Mapping) -> dict[str, str]:
    """The editor's fields from a posted form or JSON object, as strings."""
    names = list(TEXT_FIELDS) + [f"answer-{i}-{part}" for i in range(MAX_ANSWERS)
                                 for part in ("label", "tried", "hard")]
    values = {}
    for name in names:
        value = source.get(name)
        if isinstance(value, bool):
            value = "on" if value else ""
        values[name] = value if isinstance(value, str) else ""
    return values


def _age(value: str) -> tuple[int | None, int | None]:
    if value == "any":
        return ANY_AGE
    low, _, high = value.partition("-")
    low_months, high_months = parse_int(low, 0, MAX_AGE_MONTHS), parse_int(high, 0, MAX_AGE_MONTHS)
    if low_months is None or high_months is None:
        return None, None
    return low_months, high_months


def item_from_values(values: Mapping[str, str]) -> tuple[dict, list[int]]:
    """A library item from editor values, and the editor row of each answer kept.

    Rows whose label is empty are unused and skipped.
    """
    low, high = _age(values.get("age", ""))
    answers, rows = [], []
    for index in range(MAX_ANSWERS):
        label = values.get(f"answer-{index}-label", "").strip()
        if not label:
            continue
        answers.append({"label": label, "tried": values.get(f"answer-{index}-tried", ""),
                        "hard": values.get(f"answer-{index}-hard") == "on"})
        rows.append(index)
    item = {name: values.get(name, "") for name in PLAIN_FIELDS}
    week = values.get("week", "").strip()
    # A week that isn't a number goes on as typed, so the library's check names it.
    item["week"] = int(week) if week.isdigit() and len(week) < 6 else (week or None)
    item |= {"age_min_months": low, "age_max_months": high, "answers": answers}
    return item, rows


def problems_by_row(problems: Mapping[str, str], rows: list[int]) -> dict[str, str]:
    """Problem keys with answer indexes turned back into editor rows (``answers.1.label`` → row),
    each problem in the reader's language (the checks' sentences are marked with ``N_``)."""
    mapped = {}
    for key, message in problems.items():
        parts = key.split(".")
        if parts[0] == "answers" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(rows):
            row = rows[int(parts[1])]
            message = message.replace(f"Answer {int(parts[1]) + 1}", f"Answer {row + 1}", 1)
            key = ".".join(["answers", str(row), *parts[2:]])
        mapped[key] = _(message)
    return mapped
