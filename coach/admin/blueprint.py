"""The admin blueprint and the small helpers its views share."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from ..errors import AppError
from ..i18n import N_, _l
from ..inputs import form_text_problems, parse_id
from ..models import User

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: A prompt's status and a delivery's status as the admin pages name them (the stored keys stay English).
STATUS_WORDS = {"draft": _l("Draft"), "published": _l("Published"), "retired": _l("Retired")}
DELIVERY_WORDS = {"pending": _l("pending"), "sending": _l("sending"), "sent": _l("sent"),
                  "no_device": _l("no device"), "failed": _l("failed"), "expired": _l("expired")}
#: The moment rows of the library page (``library_stats.moment_coverage`` labels), shown through ``_``.
MOMENT_WORDS = (N_("Morning"), N_("Day"), N_("Evening"), N_("Bedtime"), N_("Any"))
#: The strand names (``models.STRAND_NAMES``, which can't import the catalogue helpers) not already
#: marked elsewhere; the library tables and the editor show them through ``_``.
STRAND_WORDS = (N_("Being there"), N_("Delight"), N_("Mirroring"), N_("Your own state"), N_("Repair"),
                N_("Calming together"), N_("Triggers"), N_("Self-kindness"), N_("Good enough"))


@bp.record_once
def _admin_words(state) -> None:
    # Globals, not context variables, so imported macros (``_prompt_macros.html``) see them too.
    state.app.jinja_env.globals.update(status_words=STATUS_WORDS, delivery_words=DELIVERY_WORDS)


def me() -> User:
    """The signed-in admin as a model instance (for services and the audit log)."""
    return current_user._get_current_object()


def refuse_unstorable_text() -> None:
    """AppError 422 naming each posted field that holds a NUL or other control character, for the
    views that show problems next to their fields (marked ``checks_own_text``)."""
    problems = form_text_problems(request.form)
    if problems:
        raise AppError(422, "Some of the text has an invisible control character (such as a NUL byte). "
                            "Remove it and save again.", fields=problems)


def int_or_none(value: object) -> int | None:
    """A form or query value as an id-sized whole number (ASCII digits, 1..2^63-1), or None."""
    return parse_id(value)
