"""The command line named in DESIGN.md: init-db, create-user, invite."""
from __future__ import annotations

from pathlib import Path

from coach.models import Prompt, User

from . import factories


def test_init_db_creates_secrets_seeds_library_and_is_idempotent(app, runner):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    instance = Path(app.instance_path)
    assert (instance / "vapid_private.pem").exists()
    assert (instance / "vapid_private.pem").stat().st_mode & 0o077 == 0
    assert "Loaded 90 prompts" in result.output or Prompt.select().count() >= 72
    published = Prompt.published().count()
    assert published >= 72
    pem = (instance / "vapid_private.pem").read_text()
    again = runner.invoke(args=["init-db"])
    assert again.exit_code == 0 and "up to date" in again.output
    assert "Text messages are not configured" in again.output  # COACH_TWILIO_* unset: said, not hidden
    assert Prompt.select().count() == published
    assert (instance / "vapid_private.pem").read_text() == pem


def test_create_user_prints_id(runner):
    result = runner.invoke(args=["create-user", "--email", "Admin@Example.org",
                                 "--password", "long enough pw", "--role", "admin"])
    assert result.exit_code == 0, result.output
    user = User.get_by_id(int(result.output.strip()))
    assert user.email == "admin@example.org" and user.role == "admin"


def test_create_user_refuses_bad_input_with_a_sentence(runner):
    result = runner.invoke(args=["create-user", "--email", "x@example.org", "--password", "short",
                                 "--role", "worker"])
    assert result.exit_code != 0 and "at least 10 characters" in result.output
    factories.make_user("worker", email="taken@example.org")
    result = runner.invoke(args=["create-user", "--email", "taken@example.org", "--password",
                                 "long enough pw", "--role", "worker"])
    assert result.exit_code != 0 and "already exists" in result.output
    assert User.select().count() == 1


def test_invite_prints_absolute_link_that_works(runner, client):
    worker = factories.make_user("worker")
    result = runner.invoke(args=["invite", "--worker", worker.email, "--days", "3"])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith("http://localhost/join/")
    assert client.get(url.removeprefix("http://localhost"), follow_redirects=True).status_code == 200


def test_invite_for_unknown_worker_is_refused(runner):
    result = runner.invoke(args=["invite", "--worker", "ghost@example.org"])
    assert result.exit_code != 0 and "No family worker" in result.output
