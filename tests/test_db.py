"""Schema creation and migrations: init-db is idempotent and an older database keeps its rows."""
from __future__ import annotations

from coach.db import LATEST_VERSION, MIGRATIONS, current_version, db, downgrade_to, init_db
from coach.models import Family, Invite, User

from . import factories


def test_fresh_database_is_at_latest_version(app):
    assert current_version() == LATEST_VERSION


def test_init_db_twice_changes_nothing(app):
    factories.make_user("worker")
    assert init_db() == {"from": LATEST_VERSION, "to": LATEST_VERSION}
    assert User.select().count() == 1


def test_upgrade_from_version_1_keeps_rows(app):
    worker = factories.make_user("worker", name="Keeps Me")
    family = factories.make_family(worker=worker)
    downgrade_to(1)  # the schema version 1 shipped: e.g. invites without label or revoked_at
    assert current_version() == 1
    columns = {c.name for c in db.get_columns("invite")}
    assert "label" not in columns
    db.execute_sql(
        "INSERT INTO invite (token_hash, worker_id, created_at, expires_at) VALUES (%s, %s, %s, %s)"
        .replace("%s", db.param), ("abc123", worker.id, "2026-11-01 10:00:00", "2026-11-15 10:00:00"))

    result = init_db()

    assert result == {"from": 1, "to": LATEST_VERSION}
    assert current_version() == LATEST_VERSION
    assert User.get_by_id(worker.id).name == "Keeps Me"
    assert Family.get_by_id(family.id).user_id == family.user_id  # table rebuilds must not cascade
    invite = Invite.get(Invite.token_hash == "abc123")
    assert invite.label == "" and invite.revoked_at is None and invite.worker_id == worker.id


def test_every_migration_steps_down_and_up_again(app):
    """Each migration's downgrade undoes it exactly, so the upgrade path is tested from every version."""
    for step in reversed(MIGRATIONS):
        downgrade_to(step.version - 1)
        assert current_version() == step.version - 1
        assert init_db() == {"from": step.version - 1, "to": LATEST_VERSION}
