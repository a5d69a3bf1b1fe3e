"""A parent's settings: when prompts come (window, days, time zone), a pause, the note-sharing default.

Every change is validated as a whole (one sentence per field) and saved in one transaction with the
re-planning it needs, so a new window or pause takes effect for today's prompt too.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from ...db import write_transaction
from ...errors import AppError
from ...i18n import N_, _, language_problem
from ...inputs import parse_int
from ...models import Family, User, utcnow
from . import text_consent
from .checkins import local_today
from .countries import is_country
from .phones import parse_phone
from .timezones import resolve_timezone

TIME_RE = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")  # ASCII digits, whole string (fullmatch)
DAILY = "0123456"
THREE_A_WEEK = "024"  # Monday, Wednesday, Friday
DAY_NAMES = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
             N_("Saturday"), N_("Sunday"))
MAX_PAUSE_DAYS = 365
TIMING_FIELDS = ("window_start", "window_end", "timezone", "days_of_week", "paused_until")
#: Safety settings (DESIGN "Safety and the care loop"): the help page's country, discreet notifications.
CARE_FIELDS = ("country", "discreet")
#: The person's own settings (saved on the signed-in User, not the family): their language.
PERSONAL_FIELDS = ("language",)
EDITABLE = TIMING_FIELDS + ("share_notes_default", "phone") + text_consent.FIELDS


def _minutes(value: str) -> int:
    hours, mins = value.split(":")
    return int(hours) * 60 + int(mins)


def settings_view(family: Family, user: User | None = None) -> dict:
    """The settings as the API shows them (phone and texts: ``user``'s own)."""
    person = user or family.user
    return {
        "window_start": family.window_start,
        "window_end": family.window_end,
        "timezone": family.timezone,
        "days_of_week": [int(d) for d in family.days_of_week],
        "days_label": days_label(family.days_of_week),
        "paused_until": family.paused_until.isoformat() if family.paused_until else None,
        "share_notes_default": bool(family.share_notes_default),
        "country": family.country or None,  # ISO alpha-2; null: the international help list
        "discreet": bool(family.discreet),
        "phone": person.phone or None,  # the caregiver's own, E.164
        "channel": person.channel,  # push | sms | push_then_sms
        "sms_opted_in": person.sms_opt_in_at is not None,
        "language": person.language,  # "en" | "es" (LANGUAGES)
    }


def days_label(days: str) -> str:
    """"Every day", "Monday, Wednesday and Friday", …"""
    if days == DAILY:
        return _("Every day")
    names = [_(DAY_NAMES[int(d)]) for d in days]
    if len(names) == 1:
        return names[0]
    return _("%(days)s and %(last)s", days=", ".join(names[:-1]), last=names[-1])


def parse_days(value: object) -> str | None:
    """Days as stored ("024"): from a list of weekday numbers (Monday=0) or such a string."""
    if isinstance(value, str):
        days = [parse_int(ch, 0, 6) for ch in value]
    elif isinstance(value, list):
        days = [parse_int(d, 0, 6, text=False) for d in value]
    else:
        return None
    if not days or None in days:
        return None
    return "".join(str(d) for d in sorted(set(days)))


def _parse_pause(value: object, today: date, fields: dict) -> date | None:
    if value in (None, ""):
        return None
    try:
        day = date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None:
        fields["paused_until"] = _("Use a date like 2026-12-24, or leave it empty.")
    elif day < today:
        fields["paused_until"] = _("Choose today or a later date.")
    elif day > today + timedelta(days=MAX_PAUSE_DAYS):
        fields["paused_until"] = _("Pause for a year at most.")
    return day


def clean_settings(family: Family, changes: dict, now: datetime, user: User | None = None) -> dict:
    """The validated new values for the keys in ``changes`` (the text settings are ``user``'s own,
    by default the family's main contact); AppError 422 with a sentence per field."""
    if not isinstance(changes, dict):
        raise AppError(400, _("Send the settings as a JSON object."))
    fields: dict[str, str] = {}
    clean: dict = {}
    for key in changes:
        if key not in EDITABLE + CARE_FIELDS + PERSONAL_FIELDS:
            fields[key] = _("This setting can't be changed here.")
    for key in ("window_start", "window_end"):
        if key in changes:
            if not isinstance(changes[key], str) or not TIME_RE.fullmatch(changes[key]):
                fields[key] = _("Use a time like 18:30.")
            else:
                clean[key] = changes[key]
    start = clean.get("window_start", family.window_start)
    end = clean.get("window_end", family.window_end)
    if "window_end" not in fields and "window_start" not in fields and _minutes(end) - _minutes(start) < 30:
        fields["window_end"] = _("Make the window at least 30 minutes long, ending after it starts.")
    if "timezone" in changes:
        zone = resolve_timezone(changes["timezone"])  # "London" as well as Europe/London
        if zone is None:
            fields["timezone"] = _("We don't know that time zone. Type a city like London, or pick one "
                                   "from the list.")
        else:
            clean["timezone"] = zone
    if "days_of_week" in changes:
        days = parse_days(changes["days_of_week"])
        if days is None:
            fields["days_of_week"] = _("Choose at least one day.")
        else:
            clean["days_of_week"] = days
    if "paused_until" in changes:
        clean["paused_until"] = _parse_pause(changes["paused_until"], local_today(family, now), fields)
    if "share_notes_default" in changes:
        if not isinstance(changes["share_notes_default"], bool):
            fields["share_notes_default"] = _("Use true or false.")
        else:
            clean["share_notes_default"] = changes["share_notes_default"]
    if "language" in changes:
        problem = language_problem(changes["language"])
        if problem:
            fields["language"] = problem
        else:
            clean["language"] = changes["language"]
    _clean_care(changes, clean, fields)
    if "phone" in changes:  # after the country, which it is read in
        _clean_phone(family, changes["phone"], clean, fields)
    text_consent.clean_text_settings(user or family.user, changes, clean, fields)
    if fields:
        raise AppError(422, _("Some of the settings need another look."), fields=fields)
    return clean


def _clean_phone(family: Family, value: object, clean: dict, fields: dict) -> None:
    """``phone``: text read in the family's country (phones.parse_phone), or null/"" to remove it."""
    if value is not None and not isinstance(value, str):
        fields["phone"] = _("Send the phone number as text, or null to remove it.")
        return
    try:
        # Read in the country being saved with it, if any: a parent may change both at once.
        clean["phone"] = parse_phone(value or "", clean.get("country", family.country))
    except AppError as error:
        fields["phone"] = error.message


def _clean_care(changes: dict, clean: dict, fields: dict) -> None:
    """``country`` (ISO alpha-2, or ""/null for none: the help page then shows the international
    list) and ``discreet`` (notifications say only "A moment for today is ready")."""
    if "country" in changes:
        country = changes["country"] or ""
        if not isinstance(country, str) or (country and not is_country(country.strip().upper())):
            fields["country"] = _("Choose your country from the list.")
        else:
            clean["country"] = country.strip().upper()
    if "discreet" in changes:
        if not isinstance(changes["discreet"], bool):
            fields["discreet"] = _("Use true or false.")
        else:
            clean["discreet"] = changes["discreet"]


def update_settings(family: Family, changes: dict, now: datetime | None = None,
                    user: User | None = None) -> Family:
    """Validate and save settings; timing changes re-plan the family in the same transaction.
    ``phone``, texts and ``language`` are the person's own: saved on ``user`` (who is changing
    them; the family's main contact when not given), so each caregiver has theirs."""
    from ..delivery.scheduling import reschedule_family

    now = now or utcnow()
    clean = clean_settings(family, changes, now, user)
    timing_changed = any(getattr(family, key) != value for key, value in clean.items()
                         if key in TIMING_FIELDS)
    phone = clean.pop("phone", None)
    texts = {key: clean.pop(key) for key in ("channel", "sms_opt_in") if key in clean}
    language = clean.pop("language", None)
    person = user or family.user
    with write_transaction():
        if language is not None and language != person.language:
            person.language = language
            person.save(only=[User.language])
        for key, value in clean.items():
            setattr(family, key, value)
        if clean:
            family.save(only=[getattr(Family, key) for key in clean])
        new_number = phone is not None and phone != person.phone
        if new_number:
            person.phone = phone
            person.save(only=[User.phone])
        text_consent.apply_text_settings(person, texts, new_number, now)
        if timing_changed:
            reschedule_family(family, now)
    return family
