"""The weekly reflection's page (``/reflection/<delivery id>``): the week in the parent's own
answers and one open question, whose answer is saved as a private note in the journal
(services/programme/reflection.py says how the week and the day are chosen)."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from ..errors import AppError
from ..inputs import checks_own_text
from ..security import role_required
from ..services.families import checkins
from ..services.families.checkins import family_for
from ..services.programme import reflection as reflection_service
from .views import bp


@bp.route("/reflection/<int:reflection_id>", methods=["GET", "POST"])
@role_required("parent")
@checks_own_text  # the answer's problems show next to the answer
def reflection(reflection_id: int):
    """Your week looked back on, and one question; the answer is a note private to you unless
    you tick "share" (form fields ``note`` ≤ 500, ``shared_with_worker``, ``csrf_token``)."""
    family = family_for(current_user)
    delivery = reflection_service.own_reflection(family, reflection_id)
    error, status = None, 200
    if request.method == "POST":
        try:
            reflection_service.save_answer(family, delivery, current_user, request.form.get("note", ""),
                                           request.form.get("shared_with_worker") == "on")
        except AppError as problem:
            error, status = (problem.fields or {}).get("note", problem.message), problem.status
        else:
            # "saved" in the address, not a flash: the page's script follows this redirect with
            # fetch, which would use a flash up before the page it then opens.
            return redirect(url_for(".reflection", reflection_id=delivery.id, saved=1))
    elif request.headers.get("Purpose") != "prefetch":
        checkins.mark_opened(delivery)
    week = reflection_service.build_reflection(family, delivery, current_user)
    answer = week.answer
    note = request.form.get("note") if request.method == "POST" else (answer.note if answer else "")
    shared = (request.form.get("shared_with_worker") == "on" if request.method == "POST"
              else (answer.shared_with_worker if answer else family.share_notes_default))
    return render_template("parent/reflection.html", family=family, week=week, note=note or "",
                           shared=shared, error=error,
                           saved=request.method == "GET" and request.args.get("saved") == "1" and answer,
                           note_max=reflection_service.NOTE_MAX,
                           edit_days=reflection_service.EDIT_DAYS), status
