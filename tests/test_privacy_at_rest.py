"""Data at rest on SQLite: the instance folder and database files are the owner's alone, and an
erased account leaves nothing readable in the database file, its WAL or its shared-memory file."""
from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from coach import create_app
from coach.db import db, is_postgres
from coach.models import CheckIn, SupportRequest, utcnow

from . import factories
from .parent_helpers import ParentClient, checkin_body

SECRETS = ("MARIGOLD-ZEPHYRINE", "Quillonetta", "persimmon.lighthouse@example.org",
           "cinnabar-whisper-note", "obsidian-kettle-support")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_db_keeps_instance_folder_and_files_private(tmp_path, monkeypatch):
    monkeypatch.delenv("COACH_SECRET_KEY", raising=False)
    monkeypatch.delenv("COACH_VAPID_PRIVATE_KEY", raising=False)
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    old_db = instance / "attune.db"
    old_db.touch(mode=0o644)  # as an earlier release left it
    old_db.chmod(0o644)
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance)})
    assert app.config["DATABASE_URL"].endswith("attune.db")

    with app.app_context():
        result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output

    assert _mode(instance) == 0o700
    for name in ("secret_key", "vapid_private.pem", "attune.db"):
        assert _mode(instance / name) == 0o600, name
    with app.app_context():
        db.connect(reuse_if_open=True)
        db.execute_sql("CREATE TABLE IF NOT EXISTS probe (x)")  # a write: -wal and -shm exist now
        for suffix in ("-wal", "-shm"):
            assert _mode(instance / f"attune.db{suffix}") == 0o600, suffix
        db.close()


def test_a_new_database_file_is_created_private(tmp_path):
    path = tmp_path / "fresh.db"
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "inst"),
                      "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "x"})
    with app.app_context():
        db.connect(reuse_if_open=True)
        db.execute_sql("CREATE TABLE probe (x)")
        assert _mode(path) == 0o600 and _mode(Path(f"{path}-wal")) == 0o600
        db.close()


def _database_files(app) -> list[Path]:
    path = Path(app.config["DATABASE_URL"][len("sqlite:///"):])
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def _seed(app) -> ParentClient:
    """A family whose details, notes and support request carry the SECRETS; some of it already
    checkpointed into the database file, some still only in the WAL."""
    user = factories.make_user("parent", email=SECRETS[2])
    family = factories.make_family(worker=factories.make_user("worker"), user=user,
                                   display_name=SECRETS[0], child_name=SECRETS[1])
    parent = ParentClient(app, family)
    assert parent.api("POST", "/api/checkins", json=checkin_body(note=SECRETS[3])).status_code == 201
    db.connect(reuse_if_open=True)
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # these rows now live in the database file
    CheckIn.create(family=family, user=family.user_id, tried="yes", note=SECRETS[3] + "-again", client_created_at=utcnow())
    SupportRequest.create(family=family, user=user, note=SECRETS[4], source="help")
    return parent


@pytest.mark.parametrize("how", ["api", "page"])
def test_an_erased_account_leaves_nothing_readable_on_disk(app, how):
    if is_postgres():
        pytest.skip("the files checked here are SQLite's")
    parent = _seed(app)
    files = _database_files(app)
    # Another process holding the database open keeps the WAL file from being removed on close,
    # so what is left in it is what a reader of the disk would find.
    other = sqlite3.connect(files[0])
    other.execute("SELECT count(*) FROM user").fetchone()
    on_disk = b"".join(p.read_bytes() for p in _database_files(app))
    assert all(secret.encode() in on_disk for secret in SECRETS)  # the probe can see them

    if how == "api":
        response = parent.api("DELETE", "/api/me", json={"confirm": "delete"})
    else:
        response = parent.form("/settings/delete", {"confirm": "delete"})
    assert response.status_code in (200, 302)

    on_disk = b"".join(p.read_bytes() for p in _database_files(app))
    other.close()
    left = [secret for secret in SECRETS if secret.encode() in on_disk]
    assert left == [], f"still readable on disk after erasure: {left}"
