"""Factories for test data: each call makes fresh rows with unique emails."""
from __future__ import annotations

import itertools
import re

from coach.models import Caregiver, Family, User
from coach.services.people.accounts import create_user

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_user(role: str = "worker", **kwargs) -> User:
    n = next(_counter)
    return create_user(kwargs.pop("email", f"{role}{n}@example.org"), kwargs.pop("password", PASSWORD),
                       role, kwargs.pop("name", f"{role.title()} {n}"))


def make_family(worker: User | None = None, **kwargs) -> Family:
    """A parent account and its family (child 8 months old, evening window, London)."""
    parent = kwargs.pop("user", None) or make_user("parent")
    fields = {
        "display_name": f"Parent {parent.id}",
        "child_name": "Sam",
        "child_birth_month": "2026-03",
        "timezone": "Europe/London",
        "window_start": "18:00",
        "window_end": "20:00",
    }
    fields.update(kwargs)
    family = Family.create(user=parent, worker=worker, **fields)
    Caregiver.create(family=family, user=parent, joined_at=family.created_at)
    return family


def add_caregiver(family: Family, **kwargs) -> User:
    """Another caregiver in ``family``'s household (their own parent account)."""
    user = kwargs.pop("user", None) or make_user("parent", **kwargs)
    Caregiver.create(family=family, user=user)
    return user


CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def extract_csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no csrf-token meta tag"
    return match.group(1)
