"""Low mood: the one rule, used by the parent's home (a kind offer of help) and by the worker's
caseload and family page (a "low mood" flag).

DESIGN.md: 3 of the last 5 check-ins with ``felt`` ≤ 2. Check-ins without a ``felt`` answer still
count among the last five (the parent chose not to say); free text is never read (CONTENT.md
"Safety": ask, don't scan).
"""
from __future__ import annotations

from collections import defaultdict

from peewee import fn

from ...models import CheckIn, Family, SupportRequest, User

WINDOW = 5  # the last five check-ins
LOW_FELT = 2  # felt ≤ 2 of 5 is a low day
LOW_COUNT = 3  # three low days among them


def is_low(felts: list[int | None]) -> bool:
    """The rule on a family's latest ``felt`` answers, newest first."""
    recent = felts[:WINDOW]
    return sum(1 for felt in recent if felt is not None and felt <= LOW_FELT) >= LOW_COUNT


def _recent_felts(family_ids: list[int]) -> dict[int, list[int | None]]:
    """Each family's last ``WINDOW`` ``felt`` answers, newest first, in one query (a window
    function: the caseload asks for a whole page of families at once)."""
    if not family_ids:
        return {}
    rank = fn.ROW_NUMBER().over(partition_by=[CheckIn.family],
                                order_by=[CheckIn.client_created_at.desc(), CheckIn.received_at.desc()])
    inner = (CheckIn.select(CheckIn.family, CheckIn.felt, CheckIn.client_created_at, rank.alias("n"))
             .where(CheckIn.family.in_(family_ids)))
    rows = (CheckIn.select(inner.c.family_id, inner.c.felt).from_(inner).where(inner.c.n <= WINDOW)
            .order_by(inner.c.family_id, inner.c.n).tuples())
    felts: dict[int, list[int | None]] = defaultdict(list)
    for family_id, felt in rows:
        felts[family_id].append(felt)
    return felts


def low_mood_families(family_ids: list[int]) -> set[int]:
    """Which of these families' latest check-ins meet the low-mood rule."""
    return {family_id for family_id, felts in _recent_felts(family_ids).items() if is_low(felts)}


def is_low_mood(family: Family) -> bool:
    """Whether this family's latest check-ins meet the low-mood rule."""
    return family.id in low_mood_families([family.id])


def latest_checkin_id(family: Family, user: User) -> str | None:
    """The caregiver's newest check-in's id: a dismissed offer stays dismissed until a newer one."""
    latest = (CheckIn.select(CheckIn.id).where(CheckIn.family == family.id, CheckIn.user == user.id)
              .order_by(CheckIn.client_created_at.desc(), CheckIn.received_at.desc()).first())
    return str(latest.id) if latest else None


def should_offer_help(family: Family, user: User, dismissed_after: str | None = None) -> bool:
    """Show the parent the low-mood card: the rule holds, they have not dismissed it since their
    latest check-in (``dismissed_after`` is that check-in's id), and no request of theirs is still
    open or was made since that check-in (they have already asked)."""
    own = (CheckIn.select(CheckIn.felt).where(CheckIn.family == family.id, CheckIn.user == user.id)
           .order_by(CheckIn.client_created_at.desc()).limit(WINDOW))
    if not is_low([row.felt for row in own]):  # their own feelings only, never another caregiver's
        return False
    latest = latest_checkin_id(family, user)
    if dismissed_after is not None and dismissed_after == latest:
        return False
    open_request = (SupportRequest.select().where((SupportRequest.family == family.id)
                                                  & SupportRequest.followed_up_at.is_null()).exists())
    if open_request:
        return False
    newest = CheckIn.select(fn.MAX(CheckIn.received_at)).where(CheckIn.family == family.id,
                                                                CheckIn.user == user.id).scalar()
    asked_since = (SupportRequest.select().where((SupportRequest.family == family.id)
                                                 & (SupportRequest.created_at >= newest)).exists())
    return not asked_since
