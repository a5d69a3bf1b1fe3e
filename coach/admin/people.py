"""People: workers and admins, deactivation, one-time reset links, and moving families between
caseloads."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ..errors import AppError
from ..i18n import _, ngettext
from ..inputs import checks_own_text
from ..models import Family, User
from ..security import role_required
from ..services.people import staff as people
from .blueprint import bp, int_or_none, me, refuse_unstorable_text


def render_people(values: dict | None = None, problems: dict | None = None, new_link: str | None = None,
                  new_user: User | None = None, status: int = 200):
    """The people list with the "add a person" form."""
    unassigned = Family.select().where(Family.worker.is_null()).count()
    return render_template("admin/users.html", staff=people.staff(), values=values or {"role": "worker"},
                           problems=problems or {}, new_link=new_link, new_user=new_user,
                           unassigned=unassigned), status


@bp.get("/users")
@role_required("admin")
def user_list():
    """Workers and admins: role, active or not, caseload size; and a form to add one."""
    return render_people()


@bp.post("/users")
@role_required("admin")
@checks_own_text
def create_user():
    """Add a worker or admin with a password, or with a one-time set-password link to pass on."""
    form = request.form
    values = {name: form.get(name, "") for name in ("name", "email", "role", "set_password")}
    send_link = values["set_password"] == "link"
    try:
        refuse_unstorable_text()
        user, token = people.create_staff(values["name"], values["email"], values["role"],
                                          form.get("password", ""), send_link, me())
    except AppError as error:
        if error.status not in (409, 422):
            raise
        flash(error.message, "error")
        return render_people(values, error.fields, status=error.status)
    if token:
        flash(_("%(name)s can now set their password with the link below.", name=user.label), "success")
        return render_people(new_link=people.reset_url(token), new_user=user, status=201)
    flash(_("%(name)s can now sign in.", name=user.label), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


def render_person(user: User, new_link: str | None = None, problems: dict | None = None, status: int = 200):
    """A worker's or admin's page: their details, actions and caseload."""
    workers = (User.select().where(User.role == "worker", User.active, User.id != user.id)
               .order_by(User.name, User.email))
    return render_template("admin/user.html", person=user, families=people.caseload(user),
                           workers=list(workers), new_link=new_link, problems=problems or {},
                           is_me=(user.id == me().id)), status


@bp.get("/users/<int:user_id>")
@role_required("admin")
def user_detail(user_id: int):
    """One worker or admin: deactivate or reactivate, reset link, and their caseload."""
    return render_person(people.get_staff(user_id))


def _set_active(user_id: int, active: bool):
    user = people.get_staff(user_id)
    try:
        user = people.set_active(user, active, me())
    except AppError as error:
        if error.status != 409:
            raise
        flash(error.message, "error")
        return render_person(user, status=409)
    if active:
        flash(_("%(name)s is active again and can sign in.", name=user.label), "success")
    else:
        flash(_("%(name)s is deactivated: they are signed out everywhere and can't sign in.", name=user.label),
              "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/deactivate")
@role_required("admin")
def deactivate_user(user_id: int):
    """Deactivate an account: its sessions end at once (not yourself, not the last admin)."""
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/reactivate")
@role_required("admin")
def reactivate_user(user_id: int):
    """Let a deactivated worker or admin sign in again."""
    return _set_active(user_id, True)


@bp.post("/users/<int:user_id>/reset")
@role_required("admin")
def reset_link(user_id: int):
    """Make a one-time password-reset link (48 hours) and show it once to pass on."""
    user = people.get_staff(user_id)
    try:
        token = people.create_reset_link(user, me())
    except AppError as error:
        if error.status != 409:
            raise
        flash(error.message, "error")
        return render_person(user, status=409)
    flash(_("Reset link made. Pass it on; it works once, for 48 hours."), "success")
    return render_person(user, new_link=people.reset_url(token))


@bp.post("/users/<int:user_id>/reassign")
@role_required("admin")
def reassign(user_id: int):
    """Move the chosen families (``families``) from this worker to another (``to_worker``)."""
    user = people.get_staff(user_id)
    family_ids = [value for value in map(int_or_none, request.form.getlist("families")) if value is not None]
    to_worker = int_or_none(request.form.get("to_worker"))
    try:
        moved = people.reassign_families(user, family_ids, to_worker, me())
    except AppError as error:
        if error.status not in (409, 422):
            raise
        flash(error.message, "error")
        return render_person(user, problems=error.fields, status=error.status)
    target = User.get_by_id(to_worker)
    flash(ngettext("Moved %(num)d family to %(name)s.", "Moved %(num)d families to %(name)s.", moved,
                   name=target.label), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))
