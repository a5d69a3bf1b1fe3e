"""Coaching that answers back (CONTENT.md "Second release"): where the parent is in the programme
("Week 3 · Wondering") and a specific word of praise after a repair tried."""
from __future__ import annotations

from datetime import date

from ...i18n import N_, _
from ...models import Family, Prompt
from .library import fill_child
from .selection import arc_week

#: How each week of the six-week arc is named to parents.
WEEK_NAMES = {1: N_("Watching cues"), 2: N_("Delight and mirroring"), 3: N_("Wondering"),
              4: N_("Noticing rupture"), 5: N_("Repair and calming together"), 6: N_("Kindness to yourself")}

#: Praise for a repair tried, by strand: it names what the parent did and why it matters.
PRAISE = {
    "repair-moves": N_("You came back after a hard moment. That is the repair that matters: it shows "
                       "{child} that upsets end and love stays."),
    "co-regulation": N_("You helped {child} calm down by staying calm with them. Each time you do, "
                        "{child} learns a little more how to settle."),
    "self-kindness": N_("You were kind to yourself after a hard moment. That counts as repair too."),
    "good-enough": N_("You came back, and that is enough. No parent is in step all the time."),
}
DEFAULT_PRAISE = N_("You came back after a moment out of step. Coming back is what teaches {child} "
                    "that love lasts through upsets.")


def programme_place(family: Family, local_date: date) -> str:
    """Where the family is in the arc on ``local_date``: "Week 3 · Wondering"."""
    week = arc_week(family.created_at, local_date)
    return _("Week %(week)d · %(name)s", week=week, name=_(WEEK_NAMES[week]))


def repair_praise(prompt: Prompt | dict | None, tried: str | None, child_name: str | None) -> str | None:
    """The sentence of praise after a repair prompt answered "tried it", or None (not a repair, or
    not tried: "not yet" and "didn't come up" get the usual thanks, never a judgement)."""
    if prompt is None or tried != "yes":
        return None
    theme = prompt.get("theme") if isinstance(prompt, dict) else prompt.theme
    strand = prompt.get("strand") if isinstance(prompt, dict) else prompt.strand
    if theme != "repair":
        return None
    return fill_child(_(PRAISE.get(strand, DEFAULT_PRAISE)), child_name or _("your child"))
