"""The newcomer path (issue 14): links printed by the command line point at the server `make run`
started, and the demo data lives beside the accounts README's first steps create."""
from __future__ import annotations

import sys

import pytest

from coach import ROOT as ROOT_DIR
from coach import create_app
from coach.db import db, init_db
from coach.models import User
from coach.services.programme.library import seed_library_if_empty
from tests import factories

sys.path.insert(0, str(ROOT_DIR / "scripts"))
import demo_data  # noqa: E402


@pytest.fixture
def bare_app(database_url, tmp_path):
    """An app configured the way `flask` in a second shell is: no COACH_BASE_URL given."""
    def make(**config):
        app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "newcomer",
                          "INSTANCE_PATH": str(tmp_path / "instance"), **config})
        init_db()
        return app
    (tmp_path / "instance").mkdir()
    return make


def invite_link(app) -> str:
    with app.app_context(), db.connection_context():
        if not User.by_email("worker@example.org"):
            factories.make_user("worker", email="worker@example.org")
        result = app.test_cli_runner().invoke(args=["invite", "--worker", "worker@example.org"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_invite_links_point_at_the_port_make_run_serves_on(bare_app, tmp_path):
    assert invite_link(bare_app()).startswith("http://127.0.0.1:5000/join/")  # nothing recorded yet
    (tmp_path / "instance" / "base_url").write_text("http://127.0.0.1:8123\n")  # as scripts/run-dev.sh does
    assert invite_link(bare_app()).startswith("http://127.0.0.1:8123/join/")


def test_an_explicit_base_url_wins_and_a_garbled_file_is_ignored(bare_app, tmp_path):
    (tmp_path / "instance" / "base_url").write_text("http://127.0.0.1:8123\n")
    assert invite_link(bare_app(BASE_URL="https://attune.example.org/")).startswith(
        "https://attune.example.org/join/")
    (tmp_path / "instance" / "base_url").write_text("not a url at all\n")
    assert invite_link(bare_app()).startswith("http://127.0.0.1:5000/join/")


def test_the_demo_lives_beside_readmes_worker_and_prints_parent_sign_ins(app):
    factories.make_user("worker", email="worker@example.org")  # README's first steps
    seed_library_if_empty()

    first = demo_data.seed_demo()
    again = demo_data.seed_demo()

    assert first["families"] == 17 and not first["already"]
    assert again["already"] and again["parents"] == first["parents"]
    assert User.select().where(User.email.startswith("demo.")).count() == 3 + 17  # nothing added twice
    text = demo_data.describe(first, app.config["BASE_URL"])
    assert f"Open {app.config['BASE_URL']}/login" in text and repr(demo_data.PASSWORD) in text
    assert "demo.parent4@example.org  (Sofia Marquez)" in text and "demo.worker@example.org" in text
