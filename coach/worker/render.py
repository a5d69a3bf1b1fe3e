"""HTML pieces of the caseload built in Python: a 200-family page repeats them thousands of times,
which is too slow as Jinja macros.

The 28-day activity strip is inline SVG: bar height and shade both say how far a day got, so colour
is never the only cue; each cell carries a ``<title>`` and the whole strip an ``aria-label``.
Classes, not ``style``, set the colours (worker.css), as the Content-Security-Policy requires. The
text in these pieces is the app's own words and dates, never anything a person typed.
"""
from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup, escape

from ..i18n import _, day_words, language
from ..services.families.contacts import contact_words
from ..services.families.engagement import FamilyEngagement, Funnel
from .blueprint import bp

# The pages show a contact in the reader's language (the CSV keeps contact_summary's English).
bp.add_app_template_global(contact_words, "contact_summary")

PITCH = 10  # cell width 8 + gap 2
#: level → (y, height) of the bar in a 24-unit-tall strip
BARS = {"checked": (0, 24), "opened": (6, 18), "delivered": (10, 14), "due": (14, 10), "missed": (14, 10),
        "none": (14, 10)}


@lru_cache(maxsize=8192)
def _rect(index: int, level: str, title: str, role: str) -> str:
    y, height = BARS[level]
    return (f'<rect{role} class="day day-{level}" x="{index * PITCH}" y="{y}" width="8" height="{height}" '
            f'rx="1.5"><title>{escape(title)}</title></rect>')


@lru_cache(maxsize=512)
def _bar(index: int, level: str) -> str:
    """A caseload strip's day: no title of its own (the strip's name says it all, and 50 families ×
    28 titles would double the page), so it stays a few dozen bytes."""
    y, height = BARS[level]
    return f'<rect class="day-{level}" x="{index * PITCH}" y="{y}" width="8" height="{height}"/>'


def _day_title(cell) -> str:
    """A strip day's title in the reader's language: "mié 18 mar: idea entregada, abierta"."""
    return f"{day_words(cell.day, 'short')}: {', '.join(_(word) for word in cell.words)}"


@bp.app_template_global("activity_strip")
def activity_strip(row: FamilyEngagement, big: bool = False) -> Markup:
    """``<svg>`` for a family's last 28 days, oldest on the left.

    In the caseload the strip is one image named by its summary (28 stops per row would drown a
    screen reader); on the family page (``big``) it is a group whose days can be read one by one,
    each with its own title.
    """
    cells = row.strip
    role = "group" if big else "img"
    head = (f'<svg class="strip{" strip-big" if big else ""}" viewBox="0 0 {len(cells) * PITCH - 2} 24" '
            f'role="{role}" aria-label="{escape(row.strip_summary)}" focusable="false" preserveAspectRatio="none">')
    if big:
        english = language() == "en"
        body = "".join(_rect(i, cell.level, cell.title if english else _day_title(cell), ' role="img"')
                       for i, cell in enumerate(cells))
    else:
        body = "".join(_bar(i, cell.level) for i, cell in enumerate(cells))
    return Markup(head + body + "</svg>")


@bp.app_template_global("funnel_list")
def funnel_list(funnel: Funnel) -> Markup:
    """Delivered, opened and checked in over a period, each as "n/prompts · rate%"."""
    items = ((_("Delivered"), funnel.delivered), (_("Opened"), funnel.opened), (_("Checked in"), funnel.checked_in))
    return Markup('<dl class="funnel">' + "".join(
        f"<div><dt>{escape(label)}</dt><dd>{funnel.show(count)}</dd></div>" for label, count in items) + "</dl>")
