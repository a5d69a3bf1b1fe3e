"""Support resources: the list shown to a parent who asks for support — add, edit, reorder, hide."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ..errors import AppError
from ..models import SupportResource
from ..security import role_required
from ..services.families import resources
from .blueprint import bp, me


def _values() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in resources.FIELDS}


def render_list(values: dict | None = None, problems: dict | None = None, status: int = 200):
    """Every resource in parents' order (hidden ones marked), and the "add" form."""
    return render_template("admin/resources.html", resources=resources.ordered(), values=values or {},
                           problems=problems or {}), status


@bp.get("/resources")
@role_required("admin")
def resource_list():
    """The support resources, in the order parents see them."""
    return render_list()


@bp.post("/resources")
@role_required("admin")
def create_resource():
    """Add a resource at the end of the list."""
    try:
        resource = resources.create_resource(_values(), me())
    except AppError as error:
        if error.status != 422:
            raise
        flash(error.message, "error")
        return render_list(_values(), error.fields, 422)
    flash(f"Added “{resource.name}”. Parents who ask for support now see it.", "success")
    return redirect(url_for("admin.resource_list"))


def render_edit(resource: SupportResource, values: dict, problems: dict | None = None, status: int = 200):
    return render_template("admin/resource_edit.html", resource=resource, values=values,
                           problems=problems or {}), status


@bp.get("/resources/<int:resource_id>")
@role_required("admin")
def edit_resource(resource_id: int):
    """Edit one resource's details."""
    resource = resources.get_resource(resource_id)
    return render_edit(resource, {name: getattr(resource, name) for name in resources.FIELDS})


@bp.post("/resources/<int:resource_id>")
@role_required("admin")
def update_resource(resource_id: int):
    """Save a resource's details."""
    resource = resources.get_resource(resource_id)
    try:
        resource = resources.update_resource(resource, _values(), me())
    except AppError as error:
        if error.status != 422:
            raise
        flash(error.message, "error")
        return render_edit(resource, _values(), error.fields, 422)
    flash(f"Saved “{resource.name}”.", "success")
    return redirect(url_for("admin.resource_list"))


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
    return redirect(url_for("admin.resource_list"))


def _set_visible(resource_id: int, show: bool):
    resource = resources.get_resource(resource_id)
    resources.set_visible(resource, show, me())
    flash(f"“{resource.name}” is {'shown to parents again' if show else 'hidden from parents'}.", "success")
    return redirect(url_for("admin.resource_list"))


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
