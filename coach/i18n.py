"""Languages (DESIGN "Reach → Languages"): Flask-Babel with the catalogues in ``coach/translations``.

Each person reads Attune in their own ``User.language`` ("en" or "es"); a visitor who is not signed
in gets the best match of their browser's ``Accept-Language``. Outside a request (the scheduler, the
CLI) text is English unless a caller wraps it in :func:`in_language` for its recipient, as pushes
and emails do.

Strings are marked with ``_`` (translated now, in the request's language), ``_l`` (lazy: module
constants such as form labels, translated when shown) or ``N_`` (only marked, translated later with
``_``). How to add or update a translation: docs/translations.md.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from babel.dates import format_date as babel_format_date
from babel.dates import get_day_names
from flask import Flask, has_request_context, request
from flask_babel import Babel, force_locale, get_locale, ngettext, refresh
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .models import LANGUAGES

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
#: The name each language has for itself, as the language choice lists it.
LANGUAGE_NAMES = {"en": "English", "es": "Español"}

__all__ = ["_", "_l", "N_", "ngettext", "language", "in_language", "browser_language",
           "LANGUAGE_NAMES", "day_words", "init_app"]


def N_(text: str) -> str:  # noqa: N802 (the gettext convention)
    """Mark ``text`` for the catalogue without translating it (``_`` translates it when shown)."""
    return text


def language_problem(value: object) -> str | None:
    """Why ``value`` can't be someone's language, in the reader's words; None for "en" or "es"."""
    if value in LANGUAGES:
        return None
    return _("Choose a language Attune speaks: %(names)s.", names=", ".join(
        f"{name} ({code})" for code, name in LANGUAGE_NAMES.items()))


def browser_language() -> str:
    """The browser's best match among LANGUAGES (English when it names neither)."""
    if not has_request_context():
        return LANGUAGES[0]
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def _select_locale() -> str:
    """The signed-in person's own language, else the browser's."""
    if not has_request_context():
        return LANGUAGES[0]
    from flask_login import current_user

    chosen = getattr(current_user, "language", None) if current_user.is_authenticated else None
    return chosen if chosen in LANGUAGES else browser_language()


def language() -> str:
    """The language of what is being written now ("en" or "es")."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else LANGUAGES[0]


@contextmanager
def in_language(code: str | None):
    """Write in ``code`` (a recipient's ``User.language``) for the duration: pushes, emails."""
    with force_locale(code if code in LANGUAGES else LANGUAGES[0]):
        yield


#: Date patterns per language (Babel/CLDR): how each language writes a day on the parent's pages.
DATE_PATTERNS = {
    "long": {"en": "EEEE d MMMM", "es": "EEEE d 'de' MMMM"},  # Monday 7 December · lunes 7 de diciembre
    "short": {"en": "EEE d MMM", "es": "EEE d MMM"},  # Mon 7 Dec · lun 7 dic
    "day_month": {"en": "d MMMM", "es": "d 'de' MMMM"},  # 7 December · 7 de diciembre
    "full": {"en": "EEEE d MMMM y", "es": "EEEE d 'de' MMMM 'de' y"},
    "month_year": {"en": "d MMMM y", "es": "d 'de' MMMM 'de' y"},
    "short_year": {"en": "d MMM y", "es": "d MMM y"},  # 1 Nov 2026 · 1 nov 2026 (staff pages)
    "short_day": {"en": "d MMM", "es": "d MMM"},  # 26 Nov · 26 nov (staff pages)
    "weekday": {"en": "EEEE", "es": "EEEE"},
    "month": {"en": "MMMM", "es": "'de' MMMM"},  # after the day: "7 December" · "7 de diciembre"
}


def day_words(day: date | datetime, style: str = "long") -> str:
    """A date the way the reader's language writes it (``DATE_PATTERNS``)."""
    lang = language()
    return babel_format_date(day, DATE_PATTERNS[style][lang], locale=lang)


def weekday_heads() -> list[tuple[str, str]]:
    """The calendar's column heads, Monday first: (the day's name, its one letter): ("Monday", "M"),
    ("miércoles", "X")."""
    lang = language()
    wide, narrow = get_day_names("wide", locale=lang), get_day_names("narrow", locale=lang)
    return [(wide[i], narrow[i].upper()) for i in range(7)]


#: Words other modules keep in English constants (models.THEME_NAMES, which cannot import this
#: module), marked here so they reach the catalogue; shown through ``_``/``theme_names``.
CATALOGUE_ONLY = (N_("Noticing cues"), N_("Out of sync"), N_("Coming back together"))


def refresh_language() -> None:
    """After a person changes their language: what this request still writes is in the new one."""
    refresh()


def init_app(app: Flask) -> None:
    """Babel with the locale selector; templates get ``_``, ``ngettext``, ``lang`` and the date helpers."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LANGUAGES[0])
    Babel(app, locale_selector=_select_locale)
    # {% trans %} blocks are compared with whitespace collapsed: templates are compiled without their
    # indentation (assets.CompactHtml) but extracted from the source, so both must read the same.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    from .js_words import page_words

    app.jinja_env.globals.update(lang=language, day_words=day_words, weekday_heads=weekday_heads,
                                 page_words=page_words, LANGUAGE_NAMES=LANGUAGE_NAMES)
