"""``/help`` — public: "Are you or your child safe right now?", the country's emergency number and
helplines, and for a signed-in parent "Would you like your family worker to get in touch?" with the
status of what they asked before. ``/help/low-mood`` answers the home page's low-mood offer.

Every answer, even to bad input, still shows the numbers: a parent in distress must never meet an
error page instead of a phone number. A bad answer is a 400/422 *with* the help page.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request, session, url_for
from flask import redirect as flask_redirect
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from ..errors import AppError
from ..i18n import N_, _
from ..models import LANGUAGES, SAFE_ANSWERS, Family, SupportRequest, utcnow
from ..security import csrf, role_required
from ..services.families import resources, wellbeing
from ..services.families.checkins import family_for
from ..services.families.countries import (
    EVERYWHERE,
    country_from_languages,
    country_name,
    is_country,
)
from ..services.families.support import NOTE_MAX, ask_for_support
from .status import status_lines

bp = Blueprint("help", __name__)

#: A second tap of the same button within this time shows the first request instead of sending again.
DOUBLE_TAP = timedelta(minutes=5)
LOW_MOOD_DISMISSED = "low_mood_dismissed"


def _parent_family() -> Family | None:
    if current_user.is_authenticated and current_user.role == "parent":
        return family_for(current_user)
    return None


def _pick_country(family: Family | None, problems: dict) -> str:
    """``?country=`` when given and valid; else the family's; else the browser's region; else ``*``."""
    asked = request.values.get("country", "").strip().upper()
    if asked:
        if asked == EVERYWHERE or is_country(asked):
            return asked
        problems["country"] = _("We don't know that country. Choose one from the list.")
    if family is not None and family.country:
        return family.country
    return country_from_languages([lang for lang, _q in request.accept_languages]) or EVERYWHERE


def _pick_safe(value: str, problems: dict) -> str | None:
    if not value:
        return None
    if value not in SAFE_ANSWERS:
        problems["safe"] = _("Choose yes, no or not sure.")
        return None
    return value


def _reader_language() -> str:
    """The language of whoever reads /help: their own choice, else their browser's."""
    if current_user.is_authenticated:
        return current_user.language
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def render_help(*, safe: str | None = None, problems: dict | None = None, note: str = "",
                status: int = 200):
    """The help page for whoever is looking, with ``problems`` (field → sentence) shown in place."""
    problems = problems if problems is not None else {}
    family = _parent_family()
    country = _pick_country(family, problems)
    shown_country, items = resources.for_country(country, _reader_language())
    if problems and status == 200:
        status = 400
    views = [resources.resource_view(r) for r in items]
    return render_template(
        "help/help.html", family=family, safe=safe, urgent=safe in ("no", "unsure"),
        country=country, shown_country=shown_country, country_label=country_name,
        emergency=[r for r in views if r["kind"] == "emergency"], resources=views, kinds=resources.kind_labels(),
        choices=_picker_choices(country),
        chosen_country=request.values.get("country", "").strip().upper(),
        statuses=status_lines(family, current_user) if family is not None else [],
        problems=problems, note=note, note_max=NOTE_MAX), status


def _picker_choices(country: str) -> list[tuple[str, str]]:
    """The "Show numbers for" choices: the countries we have numbers for, and the one in view if it
    is not among them (so the select shows it). Every other country would show only the
    international list, which "Anywhere" already offers, and 250 dead-end choices would weigh
    9 KB on a page each parent's phone keeps for offline use."""
    codes = list(resources.countries_with_resources())
    if country not in ("*", "", *codes) and is_country(country):
        codes.append(country)
    return sorted(((code, country_name(code)) for code in codes), key=lambda choice: choice[1].casefold())


@bp.get("/help")
def help_page():
    """Help, public: the safety question first (``?safe=yes|no|unsure``), the emergency number in
    large type when the answer is no or not sure, then helplines for ``?country=`` (default: the
    parent's country, else the browser's region, else the international list)."""
    problems: dict[str, str] = {}
    safe = _pick_safe(request.args.get("safe", ""), problems)
    return render_help(safe=safe, problems=problems)


def _just_sent(family: Family, safe: str | None) -> SupportRequest | None:
    """The same request from this parent moments ago (a double tap), if there is one."""
    return (SupportRequest.select()
            .where((SupportRequest.family == family.id) & (SupportRequest.user == current_user.id)
                   & (SupportRequest.source == "help") & (SupportRequest.safe == safe if safe else
                                                          SupportRequest.safe.is_null())
                   & SupportRequest.followed_up_at.is_null()
                   & (SupportRequest.created_at >= utcnow() - DOUBLE_TAP))
            .first())


@bp.post("/help")
@csrf.exempt  # checked below, so a stale token re-shows the numbers rather than an error page
@role_required("parent")
def ask_for_contact():
    """Ask the family worker to get in touch: form fields ``safe`` (yes|no|unsure, optional),
    ``contact`` = 1, ``note`` (≤ 500, optional), ``csrf_token``. Sends the worker a push and an
    email (urgent ones also to the duty address); bad input is a 4xx and nothing is stored."""
    form = request.form
    note = form.get("note", "")
    problems: dict[str, str] = {}
    safe = _pick_safe(form.get("safe", ""), problems)
    try:
        validate_csrf(form.get("csrf_token"))
    except (ValidationError, CSRFError):
        problems["form"] = _("This page was open too long to send safely. Please press the button again.")
        return render_help(safe=safe, problems=problems, note=note, status=400)
    if form.get("contact") != "1":
        problems["contact"] = _("Press “Ask them to get in touch” to send your request.")
    if problems:
        return render_help(safe=safe, problems=problems, note=note, status=422)
    family = family_for(current_user)
    if _just_sent(family, safe) is None:
        try:
            ask_for_support(family, current_user._get_current_object(), source="help", safe=safe,
                            note=note or None)
        except AppError as error:
            return render_help(safe=safe, problems=dict(error.fields or {"form": error.message}),
                               note=note, status=error.status)
    target = url_for(".help_page", **({"safe": safe} if safe else {}), _anchor="status")
    return flask_redirect(target)


# The input hook (coach/inputs.py) lets this form's text through: ask_for_support reports a bad
# character in the note next to the note, with the numbers still on the page.
ask_for_contact.checks_own_text = True  # type: ignore[attr-defined]


@bp.post("/help/low-mood")
@role_required("parent")
def low_mood_answer():
    """The home page's low-mood card: ``choice`` = ``accept`` (ask the family worker to get in
    touch) or ``dismiss`` (hide the card until the next check-in)."""
    family = family_for(current_user)
    choice = request.form.get("choice", "")
    if choice == "accept":
        already = (SupportRequest.select().where((SupportRequest.family == family.id)
                                                 & SupportRequest.followed_up_at.is_null()).exists())
        if not already:  # a second tap, or a request from /help meanwhile: the worker knows already
            ask_for_support(family, current_user._get_current_object(), source="low_mood")
        return flask_redirect(url_for(".help_page", _anchor="status"))
    if choice == "dismiss":
        session[LOW_MOOD_DISMISSED] = wellbeing.latest_checkin_id(family, current_user)
        return flask_redirect(url_for("parent.home"))
    raise AppError(422, N_("Choose whether you'd like your family worker to get in touch."),
                   fields={"choice": N_("Use accept or dismiss.")})
