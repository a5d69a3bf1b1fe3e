"""Pooled connections (coach/db.py): requests reuse a connection instead of opening one each (a new
PostgreSQL session, or a SQLite file re-opened with its PRAGMAs); threads never share one; a forked
child (a gunicorn worker) opens its own instead of using its parent's."""
from __future__ import annotations

import os
import threading

import pytest

from coach.db import PooledDatabase, db, is_postgres


def backend() -> object:
    """Which server session (PostgreSQL) or connection object (SQLite) this thread is using."""
    if is_postgres():
        return db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    return id(db.connection())


@pytest.fixture
def opened(app, monkeypatch):
    """Counts the connections the pool opens from now on."""
    count = {"n": 0}
    pool_class = type(db.obj)
    real = pool_class.__mro__[pool_class.__mro__.index(PooledDatabase) + 1]._connect

    def counting(self):
        count["n"] += 1
        return real(self)

    monkeypatch.setattr(pool_class.__mro__[pool_class.__mro__.index(PooledDatabase) + 1], "_connect", counting)
    if not db.is_closed():
        db.close()
    db.obj.close_all()
    return count


def test_the_database_is_pooled_on_both_stores(app):
    assert isinstance(db.obj, PooledDatabase)
    assert db.obj._max_connections == app.config["DB_POOL_SIZE"] == 16


def test_requests_reuse_one_connection(app, opened):
    client = app.test_client()
    for _ in range(10):
        assert client.get("/healthz").status_code == 200  # each request connects and closes
    assert opened["n"] == 1
    assert db.is_closed()  # given back at teardown, not kept by the finished request


def test_threads_working_at_once_get_connections_of_their_own(app, opened):
    seen, both_in = [], threading.Barrier(2)

    def work():
        with app.app_context(), db.connection_context():
            seen.append(backend())
            both_in.wait(timeout=30)  # hold it until the other thread has one too

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(set(seen)) == 2 and opened["n"] == 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_opens_its_own_connection(app, opened):
    with db.connection_context():
        parent = backend()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child, as a gunicorn worker after the master forked it
            try:
                with db.connection_context():
                    child = backend()
                os.write(write, b"ok" if child != parent and opened["n"] == 2 else f"{child} {parent} {opened}".encode())
            finally:
                os._exit(0)
        os.close(write)
        _pid, status = os.waitpid(pid, 0)
        answer = os.read(read, 100)
        os.close(read)
        assert answer == b"ok" and status == 0
        assert backend() == parent  # the parent's connection still works: the child never closed it
