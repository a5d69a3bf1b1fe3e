"""Support resources per country: the helplines shown on ``/help`` — add, edit, reorder, hide,
and filter the list by country (``?country=GB``, ``*`` for the international list)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ..errors import AppError
from ..i18n import N_, _
from ..inputs import checks_own_text
from ..models import SupportResource
from ..security import role_required
from ..services.families import resources
from ..services.families.countries import EVERYWHERE, country_choices, country_name, is_country
from .blueprint import bp, me, refuse_unstorable_text


def _values() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in resources.FORM_FIELDS}


def _stored_values(resource: SupportResource) -> dict[str, str]:
    values = {name: getattr(resource, name) for name in resources.FORM_FIELDS}
    values["checked_on"] = resource.checked_on.isoformat() if resource.checked_on else ""
    return values


def _country_filter() -> str | None:
    """``?country=`` as a code, ``*``, or None for every country; a bad one is a clear 400."""
    code = request.args.get("country", "").strip().upper()
    if not code:
        return None
    if code != EVERYWHERE and not is_country(code):
        raise AppError(400, N_("Choose a country from the list (a two-letter code like GB, or * for everywhere)."),
                       code="bad_country")
    return code


def _form_context() -> dict:
    """What the resource form's selects need."""
    return {"country_options": [(EVERYWHERE, _("Everywhere (international list)")),
                                *country_choices(tuple(resources.countries_with_resources()))],
            "kind_options": [(kind, _(resources.KIND_LABELS[kind])) for kind in resources.KIND_ORDER],
            "kind_labels": {kind: _(label) for kind, label in resources.KIND_LABELS.items()}}


def render_list(values: dict | None = None, problems: dict | None = None, status: int = 200):
    """Every resource in parents' order (hidden ones marked), filtered by country, and the "add" form."""
    country = _country_filter()
    return render_template("admin/resources.html", resources=resources.ordered(country=country),
                           country=country, country_label=country_name,
                           with_resources=resources.countries_with_resources(),
                           missing=resources.countries_without_resources(),
                           values=values or {"country": country or EVERYWHERE, "kind": "crisis"},
                           problems=problems or {}, **_form_context()), status


@bp.get("/resources")
@role_required("admin")
def resource_list():
    """The support resources, in the order parents see them (``?country=`` narrows the list)."""
    return render_list()


@bp.post("/resources")
@role_required("admin")
@checks_own_text
def create_resource():
    """Add a resource at the end of the list."""
    try:
        refuse_unstorable_text()
        resource = resources.create_resource(_values(), me())
    except AppError as error:
        if error.status != 422:
            raise
        flash(error.message, "error")
        return render_list(_values(), error.fields, 422)
    if resource.country == EVERYWHERE:
        flash(_("Added “%(name)s”. Parents in countries without their own list see it on the help page.",
                name=resource.name), "success")
    else:
        flash(_("Added “%(name)s”. Parents in %(country)s see it on the help page.", name=resource.name,
                country=country_name(resource.country)), "success")
    return redirect(url_for("admin.resource_list", country=resource.country))


def render_edit(resource: SupportResource, values: dict, problems: dict | None = None, status: int = 200):
    return render_template("admin/resource_edit.html", resource=resource, values=values,
                           problems=problems or {}, **_form_context()), status


@bp.get("/resources/<int:resource_id>")
@role_required("admin")
def edit_resource(resource_id: int):
    """Edit one resource's details."""
    resource = resources.get_resource(resource_id)
    return render_edit(resource, _stored_values(resource))


@bp.post("/resources/<int:resource_id>")
@role_required("admin")
@checks_own_text
def update_resource(resource_id: int):
    """Save a resource's details."""
    resource = resources.get_resource(resource_id)
    try:
        refuse_unstorable_text()
        resource = resources.update_resource(resource, _values(), me())
    except AppError as error:
        if error.status != 422:
            raise
        flash(error.message, "error")
        return render_edit(resource, _values(), error.fields, 422)
    flash(_("Saved “%(name)s”.", name=resource.name), "success")
    return redirect(url_for("admin.resource_list", country=resource.country))


@bp.post("/resources/<int:resource_id>/move")
@role_required("admin")
def move_resource(resource_id: int):
    """Move a resource up or down the list (form field ``direction``)."""
    resource = resources.get_resource(resource_id)
    try:
        resources.move_resource(resource, request.form.get("direction", ""), me())
    except AppError as error:
        if error.status != 422:
            raise
        flash(error.message, "error")
        return render_list(status=422)
    return redirect(url_for("admin.resource_list", country=resource.country))


def _set_visible(resource_id: int, show: bool):
    resource = resources.get_resource(resource_id)
    resources.set_visible(resource, show, me())
    flash(_("“%(name)s” is shown to parents again.", name=resource.name) if show
          else _("“%(name)s” is hidden from parents.", name=resource.name), "success")
    return redirect(url_for("admin.resource_list", country=resource.country))


@bp.post("/resources/<int:resource_id>/hide")
@role_required("admin")
def hide_resource(resource_id: int):
    """Hide a resource from parents (kept, and can be shown again)."""
    return _set_visible(resource_id, False)


@bp.post("/resources/<int:resource_id>/show")
@role_required("admin")
def show_resource(resource_id: int):
    """Show a hidden resource to parents again."""
    return _set_visible(resource_id, True)
