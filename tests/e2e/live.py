"""A live Attune for browser tests: the real app in a background thread (werkzeug, threaded) on a
temporary SQLite database, allowed to push to a loopback push service the test owns."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from coach import create_app
from coach.db import db, init_db
from coach.services.programme.library import upgrade_starter_library
from tests.parent_helpers import VAPID_PEM
from tests.pushservice import PushService


class QuietHandler(WSGIRequestHandler):
    """No request log lines: they would drown the test output."""

    def log_request(self, *args, **kwargs) -> None:
        pass


class LiveApp:
    """``url`` serves the app; ``context()`` opens an app context with a database connection."""

    def __init__(self, folder: Path, push: PushService):
        instance = folder / "instance"
        instance.mkdir()
        self.app = create_app({
            "TESTING": False,
            "DATABASE_URL": f"sqlite:///{folder / 'live.db'}",
            "SECRET_KEY": "e2e-secret",
            "VAPID_PRIVATE_KEY": VAPID_PEM,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "PUSH_ALLOWED_HOSTS": (push.host,),
            "PUSH_TIMEOUT": 5,
            "INSTANCE_PATH": str(instance),
        })
        init_db()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.app.config["BASE_URL"] = self.url
        with self.context():
            upgrade_starter_library()  # as init-db does: the prompts and their Spanish
        self.thread = threading.Thread(target=self.server.serve_forever, name="attune-live", daemon=True)
        self.thread.start()

    @contextmanager
    def context(self):
        with self.app.app_context(), db.connection_context():
            yield

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
