"""Support resources: the helplines and services shown to a parent who asks for support.

Admins add, edit, reorder and hide them; parents see the visible ones in ``position`` order.
"""
from __future__ import annotations

import re
from urllib.parse import urlparse

from peewee import fn

from ...db import db
from ...errors import AppError
from ...models import SupportResource, User
from ...security import audit

#: field → (label in messages, character limit, required)
FIELDS = {
    "name": ("The name", 120, True),
    "description": ("The description", 300, False),
    "phone": ("The phone number", 40, False),
    "url": ("The web address", 300, False),
    "hours": ("The opening hours", 120, False),
    "region": ("The region", 120, False),
}
PHONE_RE = re.compile(r"^\+?[0-9 ()\-.]+$")


def ordered(include_hidden: bool = True) -> list[SupportResource]:
    """Resources in the order parents see them (hidden ones too, for admins)."""
    query = SupportResource.select().order_by(SupportResource.position, SupportResource.id)
    if not include_hidden:
        query = query.where(SupportResource.active)
    return list(query)


def visible() -> list[SupportResource]:
    """What a parent who asks for support is shown."""
    return ordered(include_hidden=False)


def get_resource(resource_id: int) -> SupportResource:
    resource = SupportResource.get_or_none(SupportResource.id == resource_id)
    if resource is None:
        raise AppError(404, "There is no support resource with that id.", code="resource_not_found")
    return resource


def validate_resource(item: dict) -> tuple[dict, dict[str, str]]:
    """Clean a resource's fields and list problems, one human sentence per field."""
    data, problems = {}, {}
    for name, (label, limit, required) in FIELDS.items():
        value = item.get(name)
        value = value.strip() if isinstance(value, str) else ""
        data[name] = value
        if required and not value:
            problems[name] = f"{label} can't be empty."
        elif len(value) > limit:
            problems[name] = f"{label} is {len(value)} characters; the limit is {limit}."
    phone, url = data["phone"], data["url"]
    if phone and "phone" not in problems and (not PHONE_RE.match(phone)
                                              or sum(c.isdigit() for c in phone) < 3):
        problems["phone"] = "The phone number can use digits, spaces, brackets, dashes and a leading +."
    if url and "url" not in problems:
        parsed = urlparse(url)
        if parsed.scheme != "https" or not parsed.hostname or " " in url or "@" in parsed.netloc:
            problems["url"] = "The web address must start with https:// (like https://example.org/help)."
    if not phone and not url and "phone" not in problems and "url" not in problems:
        problems["phone"] = "Add a phone number or a web address so parents can reach them."
    return data, problems


def _checked(item: dict) -> dict:
    data, problems = validate_resource(item)
    if problems:
        raise AppError(422, "The resource wasn't saved: some details need another look.",
                       code="resource_invalid", fields=problems)
    return data


def create_resource(item: dict, by: User) -> SupportResource:
    """Add a resource at the end of the list."""
    data = _checked(item)
    with db.atomic():
        last = SupportResource.select(fn.MAX(SupportResource.position)).scalar()
        resource = SupportResource.create(**data, position=(last or 0) + 1)
        audit("resource_create", "resource", resource.id, actor=by, name=resource.name)
    return resource


def update_resource(resource: SupportResource, item: dict, by: User) -> SupportResource:
    """Change a resource's details; the changed fields are recorded in the audit log."""
    data = _checked(item)
    changed = sorted(name for name, value in data.items() if getattr(resource, name) != value)
    if not changed:
        return resource
    with db.atomic():
        SupportResource.update(**data).where(SupportResource.id == resource.id).execute()
        audit("resource_update", "resource", resource.id, actor=by, name=data["name"], changed=changed)
    return get_resource(resource.id)


def move_resource(resource: SupportResource, direction: str, by: User) -> None:
    """Move a resource one place up or down the list (positions are renumbered 1…n)."""
    if direction not in ("up", "down"):
        raise AppError(422, "Choose whether to move the resource up or down.",
                       fields={"direction": "Choose up or down."})
    with db.atomic():
        items = ordered()
        index = next(i for i, other in enumerate(items) if other.id == resource.id)
        target = index - 1 if direction == "up" else index + 1
        if not 0 <= target < len(items):
            return
        items[index], items[target] = items[target], items[index]
        for position, item in enumerate(items, start=1):
            if item.position != position:
                SupportResource.update(position=position).where(SupportResource.id == item.id).execute()
        audit("resource_move", "resource", resource.id, actor=by, name=resource.name,
              direction=direction)


def set_visible(resource: SupportResource, show: bool, by: User) -> None:
    """Hide a resource from parents, or show it again."""
    if resource.active == show:
        return
    with db.atomic():
        SupportResource.update(active=show).where(SupportResource.id == resource.id).execute()
        audit("resource_show" if show else "resource_hide", "resource", resource.id, actor=by,
              name=resource.name)
