"""Import and export of the prompt library as a JSON file."""
from __future__ import annotations

import json
from contextlib import nullcontext

from flask import Response, flash, jsonify, redirect, render_template, request, url_for

from ..errors import AppError, wants_json
from ..i18n import N_, _, in_language
from ..models import utcnow
from ..security import role_required
from ..services.programme import library_transfer
from .blueprint import bp, me


@bp.get("/prompts/export.json")
@role_required("admin")
def export_prompts():
    """The whole library (every status, with versions) as a downloadable JSON file."""
    body = json.dumps(library_transfer.export_library(), ensure_ascii=False, indent=2)
    filename = f"attune-prompts-{utcnow():%Y-%m-%d}.json"
    return Response(body + "\n", mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/prompts/import")
@role_required("admin")
def import_prompts():
    """Import a JSON file (form field ``file``): all of it, or nothing when any prompt has a problem."""
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise AppError(400, N_("Choose a JSON file to import (like one exported from the library)."),
                           code="import_no_file")
        # Asked for JSON, the reply (and every problem in it) stays English for the scripts that read
        # it; on the page, the problems are in the admin's own language.
        with in_language("en") if wants_json() else nullcontext():
            counts = library_transfer.import_library(upload.read(), me())
    except AppError as error:
        if wants_json():
            return jsonify(error.payload()), error.status
        return render_template("admin/import.html", error=error,
                               problems=getattr(error, "problems", [])), error.status
    message = (f"Imported: {counts['created']} new (as drafts unless the file said otherwise), "
               f"{counts['updated']} updated, {counts['unchanged']} unchanged.")
    if wants_json():
        return jsonify(counts | {"message": message})  # the API's words stay English
    flash(_("Imported: %(created)s new (as drafts unless the file said otherwise), %(updated)s updated, "
            "%(unchanged)s unchanged.", **counts), "success")
    return redirect(url_for("admin.prompt_list"))
