"""Reading level of prompt text, measured the way a parent reads it.

Uses ``textstat`` 0.7.4's Flesch–Kincaid grade (pinned: later versions fetch language data over the
network). The ``{child}`` placeholder is read as "your child", the fallback most parents see.
"""
from __future__ import annotations

import textstat

PLACEHOLDER = "{child}"
FALLBACK = "your child"
#: CONTENT.md: plain words, reading age about 11 (US grade 6).
MAX_GRADE = 6.0


def as_read(text: str) -> str:
    """The text with ``{child}`` replaced by "your child"."""
    return (text or "").replace(PLACEHOLDER, FALLBACK)


def reading_grade(text: str) -> float | None:
    """The Flesch–Kincaid grade of ``text`` as a parent reads it, or None for empty text."""
    text = as_read(text).strip()
    if not text:
        return None
    return float(textstat.flesch_kincaid_grade(text))


def too_hard(grade: float | None) -> bool:
    """True when a grade is above the library's limit."""
    return grade is not None and grade > MAX_GRADE
