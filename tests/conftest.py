"""Shared fixtures: a real app on a real temporary database (SQLite, and PostgreSQL when
``COACH_TEST_POSTGRES_URL`` is set), a test client, and sign-in helpers."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient

from coach import create_app
from coach.db import db, init_db

from . import factories
from .delivery_helpers import allow_push
from .mailserver import mail_app, smtp  # noqa: F401  (fixtures: a loopback SMTP server, an app using it)
from .pushservice import PushService

PG_URL = os.environ.get("COACH_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])


def pytest_collection_modifyitems(config, items):
    """Browser tests are slow to start: run them last so failures elsewhere show sooner."""
    items.sort(key=lambda item: "e2e" in item.nodeid)


@pytest.fixture
def database_url(request, tmp_path):
    """A fresh empty database: a temp SQLite file, or a private PostgreSQL schema per test."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    with postgres_schema(PG_URL) as url:
        yield url


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A private schema in the PostgreSQL database at ``url``, dropped afterwards (closing the app's
    connection first): yields ``url`` with its ``search_path`` set to that schema."""
    import psycopg2

    schema = "t_" + uuid.uuid4().hex[:16]
    conn = psycopg2.connect(url)
    conn.autocommit = True
    conn.cursor().execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}search_path={schema}"
    finally:
        if not db.is_closed():
            db.close()
        conn.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
        conn.close()


def pytest_generate_tests(metafunc):
    """Model and service tests (those using ``database_url``) run on every configured backend."""
    if "database_url" in metafunc.fixturenames:
        metafunc.parametrize("database_url", BACKENDS, indirect=True)


class IsolatedClient(FlaskClient):
    """Each request gets a fresh app context, as in production, even though the test body holds one
    (otherwise ``g`` — Flask-Login's user, Flask-WTF's token — would leak between requests)."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, tmp_path):
    """The real app on a migrated, empty database."""
    instance = tmp_path / "instance"
    instance.mkdir()
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # real hashing, just cheaper for the suite
        "BASE_URL": "http://localhost",
        "INSTANCE_PATH": str(instance),
    })
    app.test_client_class = IsolatedClient
    init_db()
    with app.app_context():
        db.connect(reuse_if_open=True)
        yield app
        if not db.is_closed():
            db.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Auth:
    """Sign in and out through the real login form."""

    def __init__(self, client):
        self.client = client

    def login(self, user, password=factories.PASSWORD):
        response = self.client.post("/login", data={
            "email": user.email, "password": password, "csrf_token": self.csrf_token()})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    def csrf_token(self, path="/login"):
        html = self.client.get(path).get_data(as_text=True)
        return factories.extract_csrf(html)


@pytest.fixture
def ps():
    """A fresh loopback push service per test."""
    with PushService() as service:
        yield service


@pytest.fixture
def twilio():
    """A fresh loopback fake of Twilio's Messages API per test (tests/twilio_fake.py)."""
    from tests.twilio_fake import TwilioFake

    with TwilioFake() as fake:
        yield fake


@pytest.fixture
def push_app(app, ps):
    """The app allowed to push to this test's loopback service."""
    return allow_push(app, ps)


@pytest.fixture
def auth(client):
    return Auth(client)
