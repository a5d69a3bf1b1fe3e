"""Fixtures shared by the help tests: a worker called Maria, her family in the UK, and the
parent's signed-in client (``client.csrf`` holds its CSRF token)."""
from __future__ import annotations

import pytest

from . import factories
from .parent_helpers import login


@pytest.fixture
def worker(app):
    return factories.make_user("worker", name="Maria")


@pytest.fixture
def family(app, worker):
    return factories.make_family(worker=worker, country="GB")


@pytest.fixture
def parent(app, family):
    client = app.test_client()
    client.csrf = login(client, family.user)
    return client
