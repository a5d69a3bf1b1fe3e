"""Shared helpers for the admin tests: sample prompts, a signed-in admin client, and the extra
world the route-access table needs for admin URLs."""
from __future__ import annotations

import copy
import json

import pytest

from coach.models import Prompt, SupportResource, User
from coach.services.people import staff as people
from coach.services.programme import library

from . import factories

STARTER = json.loads(library.STARTER_FILE.read_text(encoding="utf-8"))
#: A valid cues prompt (0–3 months) and a valid rupture prompt with a "hard moment" answer.
CUES = next(p for p in STARTER if p["theme"] == "cues")
RUPTURE = next(p for p in STARTER if p["theme"] == "rupture")


def sample(base: dict = CUES, **changes) -> dict:
    """A deep copy of a valid prompt with some fields changed."""
    item = copy.deepcopy(base)
    item.update(changes)
    return item


def make_prompt(editor: User | None = None, status: str = "draft", base: dict = CUES, **changes) -> Prompt:
    """A saved prompt (version 1) through the library service."""
    prompt, _ = library.save_prompt(None, sample(base, **changes), editor, status=status)
    return prompt


def sign_in(app, user: User):
    """A client signed in as ``user`` through the real login form."""
    client = app.test_client()
    token = factories.extract_csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


@pytest.fixture
def admin(app):
    """An admin account, "Ada Admin". A test module takes it with ``admin = admin_helpers.admin``."""
    return factories.make_user("admin", name="Ada Admin")


@pytest.fixture
def admin_client(app, admin):
    """A client signed in as ``admin``: a module that takes it as ``client = admin_helpers.admin_client``
    has every ``client`` signed in as the admin."""
    return sign_in(app, admin)


def csrf_for(client, path: str = "/admin/") -> str:
    """The CSRF token from a page the client can see."""
    return factories.extract_csrf(client.get(path).get_data(as_text=True))


def admin_params(admin: User) -> dict:
    """URL values for the admin rows of the access table: a prompt with two versions, a spare
    worker to deactivate, a support resource, and a reset link for another spare worker."""
    prompt = make_prompt(admin)
    library.save_prompt(prompt, sample(title="The look-away means a rest"), admin)
    resource = SupportResource.create(name="Parent line", phone="0800 123 456", position=1)
    _, token = people.create_staff("Reset Me", f"reset{prompt.id}-{admin.id}@example.org", "worker", "",
                                   True, admin)
    return {"prompt_id": prompt.id, "version": 1, "user_id": factories.make_user("worker").id,
            "resource_id": resource.id, "reset_token": token, "language": "es"}
