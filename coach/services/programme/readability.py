"""Reading level of prompt text, measured the way a parent reads it.

Uses ``textstat`` 0.7.4's Flesch–Kincaid grade (pinned: later versions fetch language data over the
network). The ``{child}`` placeholder is read as "your child", the fallback most parents see.
"""
from __future__ import annotations

import threading

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
    return float(_textstat().flesch_kincaid_grade(text))


def _textstat():
    """``textstat``, imported on first use: it takes ≈ 0.2 s to import (pkg_resources, pyphen), and
    most processes — a send tick, a check-in — never grade a text."""
    import textstat

    return textstat


def too_hard(grade: float | None) -> bool:
    """True when a grade is above the library's limit."""
    return grade is not None and grade > MAX_GRADE


# --- Spanish (CONTENT.md "Safety in the words") ------------------------------------------------

#: How ``{child}`` reads in Spanish when no name is known: "peque" is warm and says neither boy nor
#: girl, so sentences around it need no gendered ending.
FALLBACK_ES = "tu peque"
#: Fernández-Huerta reading ease: 80 and above reads as easy.
MIN_EASE_ES = 80.0
_textstat_lock = threading.Lock()


def as_read_es(text: str) -> str:
    """The Spanish text with ``{child}`` replaced by "tu peque"."""
    return (text or "").replace(PLACEHOLDER, FALLBACK_ES)


def reading_ease_es(text: str) -> float | None:
    """Fernández-Huerta reading ease of Spanish ``text`` as a parent reads it, or None when empty.

    ``textstat``'s language is module-global, so it is switched under a lock and set back to
    English for every other caller."""
    text = as_read_es(text).strip()
    if not text:
        return None
    textstat = _textstat()
    with _textstat_lock:
        textstat.set_lang("es")
        try:
            return float(textstat.fernandez_huerta(text))
        finally:
            textstat.set_lang("en_US")


def too_hard_es(ease: float | None) -> bool:
    """True when a Spanish reading ease is below the library's floor."""
    return ease is not None and ease < MIN_EASE_ES
