"""The database: a proxy filled in by the factory, connection hooks, schema versions and migrations.

SQLite (the default) runs in WAL mode with foreign keys and a busy timeout; PostgreSQL is chosen by
a ``postgresql://`` URL in ``COACH_DATABASE_URL``. ``init_db`` creates a fresh schema at the latest
version or upgrades an older one in order, keeping its rows.

Connections are pooled (``playhouse.pool``) on both stores: a request, a scheduler job or a CLI
command takes one on ``connect()`` and gives it back on ``close()``, so a PostgreSQL session is not
opened per request, nor a SQLite file re-opened with its PRAGMAs. Each thread holds its own
connection while it works; ``COACH_DB_POOL_SIZE`` bounds them per process, a connection older than
``COACH_DB_POOL_RECYCLE_SECONDS`` is closed when it comes back, and a forked child (a gunicorn
worker of a ``--preload`` master) forgets the connections it inherited instead of sharing them.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlparse

from flask import Flask
from peewee import CharField, Database, DatabaseProxy, PostgresqlDatabase, SqliteDatabase
from playhouse.migrate import Operation, PostgresqlMigrator, SchemaMigrator, SqliteMigrator
from playhouse.pool import PooledDatabase, PooledPostgresqlDatabase, PooledSqliteDatabase

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
    "cache_size": -16000,
    # Deleted rows are overwritten with zeros, so an erased family can't be read from free pages.
    "secure_delete": 1,
}


#: Pool defaults (``COACH_DB_POOL_SIZE``, ``COACH_DB_POOL_RECYCLE_SECONDS``, ``COACH_DB_POOL_TIMEOUT``):
#: connections per process (a gunicorn worker needs one per thread; the scheduler one per job thread
#: and its sender's database thread), their age before they are replaced, and how long a thread
#: waits for a free one before the request fails.
POOL_DEFAULTS = {"size": 16, "recycle_seconds": 300, "timeout": 10}


class _PrivateFiles:
    """SQLite whose files are readable by their owner only. The database file is created 0600 (or
    narrowed to it) before SQLite opens it; SQLite gives the ``-wal`` and ``-shm`` files it creates
    the database file's mode, and ones left by an older release are narrowed too."""

    _made_private = False

    def _connect(self):
        if not self._made_private and self.database != ":memory:":
            os.close(os.open(self.database, os.O_RDWR | os.O_CREAT, 0o600))
            for path in (self.database, f"{self.database}-wal", f"{self.database}-shm"):
                if os.path.exists(path) and os.stat(path).st_mode & 0o077:
                    os.chmod(path, 0o600)
            self._made_private = True
        return super()._connect()


class PrivateSqliteDatabase(_PrivateFiles, SqliteDatabase):
    """One connection per thread, opened and closed by the caller (``:memory:`` databases)."""


class PooledPrivateSqliteDatabase(_PrivateFiles, PooledSqliteDatabase):
    """Pooled SQLite: a connection keeps its PRAGMAs and page cache from one request to the next."""


def make_database(url: str, pool: dict | None = None) -> Database:
    """Build a peewee database from a URL (``sqlite:///path`` or ``postgresql://…``), pooled with
    ``pool`` (``size``, ``recycle_seconds``, ``timeout``; ``POOL_DEFAULTS`` fill what is missing).

    A PostgreSQL URL may carry ``?search_path=schema`` (the test suite isolates each test that way)
    and ``?host=/path/to/socket/dir``: on the database's own machine a Unix socket costs a request
    a fraction of a TCP round trip's CPU (``bench/README.md``, "Check-in wave").
    """
    parsed = urlparse(url)
    options = POOL_DEFAULTS | (pool or {})
    pooling = {"max_connections": int(options["size"]), "stale_timeout": int(options["recycle_seconds"]),
               "timeout": int(options["timeout"])}
    if parsed.scheme == "sqlite":
        # As in SQLAlchemy: sqlite:///relative.db and sqlite:////absolute/path.db
        path = unquote(url.split("?", 1)[0][len("sqlite:///"):])
        if not path or path == ":memory:":  # each connection would be a database of its own
            return PrivateSqliteDatabase(":memory:", pragmas=SQLITE_PRAGMAS, timeout=10)
        # A pooled connection moves between threads (never used by two at once).
        database = PooledPrivateSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, check_same_thread=False, **pooling)
        database._timeout = 10  # the busy timeout ("timeout" is the pool's wait here); the PRAGMA agrees
        return database
    if parsed.scheme in ("postgres", "postgresql"):
        query = parse_qs(parsed.query)
        kwargs = {
            "host": parsed.hostname or "127.0.0.1",
            "port": parsed.port or 5432,
            "user": unquote(parsed.username) if parsed.username else None,
            "password": unquote(parsed.password) if parsed.password else None,
        }
        if "host" in query:  # libpq's own form for a Unix socket: postgresql://user@/db?host=/run/postgresql
            kwargs["host"] = query["host"][0]
        if "search_path" in query:
            kwargs["options"] = f"-c search_path={query['search_path'][0]}"
        return PooledPostgresqlDatabase(parsed.path.lstrip("/"), **pooling, **kwargs)
    raise ValueError(f"Unsupported database URL scheme: {parsed.scheme!r}")


def _forget_inherited_connections() -> None:
    """In a forked child: drop the parent's pooled connections without closing them (closing would
    end the parent's PostgreSQL sessions too); the child opens its own on first use."""
    database = db.obj
    if isinstance(database, PooledDatabase):
        # Another thread of the parent may have held these at the fork: the child starts with its own.
        database._lock = threading.Lock()
        database._pool_lock = threading.RLock()
        database._pool_available = threading.Condition(database._pool_lock)
        database.dispose()


os.register_at_fork(after_in_child=_forget_inherited_connections)


def is_postgres() -> bool:
    """True when the live database is PostgreSQL (claiming uses row locks there)."""
    return isinstance(db.obj, PostgresqlDatabase)  # the pooled one too


def write_transaction():
    """A transaction that reads before it writes. SQLite takes its write lock up front
    (``BEGIN IMMEDIATE``), so two writers queue on the busy timeout instead of failing on a lock
    upgrade; PostgreSQL uses row locks inside an ordinary transaction."""
    return db.atomic() if is_postgres() else db.atomic("IMMEDIATE")


def init_app(app: Flask) -> None:
    """Point the proxy at the configured database; each request takes a pooled connection and gives
    it back at teardown."""
    previous = db.obj
    if isinstance(previous, PooledDatabase):  # a new app in the same process (tests, benches)
        previous.close_all()
    pool = {key: app.config[f"DB_POOL_{key.upper()}"] for key in POOL_DEFAULTS if f"DB_POOL_{key.upper()}" in app.config}
    db.initialize(make_database(app.config["DATABASE_URL"], pool))

    @app.before_request
    def _connect() -> None:
        db.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        if not db.is_closed():
            db.close()


# --- schema versions ------------------------------------------------------------------------------

def _migrator() -> SchemaMigrator:
    return PostgresqlMigrator(db.obj) if is_postgres() else SqliteMigrator(db.obj)


@dataclass(frozen=True)
class Migration:
    """One schema step: ``upgrade`` produces ``version``; ``downgrade`` undoes it (tests use it to
    rebuild an older schema and prove the upgrade keeps rows)."""

    version: int
    upgrade: Callable[[SchemaMigrator], list]
    downgrade: Callable[[SchemaMigrator], list]


def _v2_up(migrator: SchemaMigrator) -> list:
    """v2: invites carry a worker's label for the family and can be revoked."""
    from .models import Invite

    return [
        migrator.add_column("invite", "label", Invite.label),
        migrator.add_column("invite", "revoked_at", Invite.revoked_at),
    ]


def _v2_down(migrator: SchemaMigrator) -> list:
    return [migrator.drop_column("invite", "label"), migrator.drop_column("invite", "revoked_at")]


def _v3_up(migrator: SchemaMigrator) -> list:
    """v3: indexes that keep planning a seek per family: its latest check-in, and when it last
    got each prompt."""
    return [
        migrator.add_index("check_in", ("family_id", "received_at"), False),
        migrator.add_index("delivery", ("family_id", "prompt_id", "local_date"), False),
    ]


def _v3_down(migrator: SchemaMigrator) -> list:
    return [
        migrator.drop_index("check_in", "check_in_family_id_received_at"),
        migrator.drop_index("delivery", "delivery_family_id_prompt_id_local_date"),
    ]


def _v4_up(migrator: SchemaMigrator) -> list:
    """v4: a per-user session token, so a password reset can end every open session.

    Adding the column fills every row with one default value, so each user then gets their own: a
    session cookie is readable by whoever holds it, and a shared token would be everyone's."""
    from .models import User, new_session_token

    def give_each_user_a_token(_migrator: SchemaMigrator) -> None:
        for (user_id,) in User.select(User.id).tuples():
            User.update(session_token=new_session_token()).where(User.id == user_id).execute()

    return [migrator.add_column("user", "session_token", User.session_token),
            Operation(migrator, give_each_user_a_token)]


def _v4_down(migrator: SchemaMigrator) -> list:
    return [migrator.drop_column("user", "session_token")]


_V5_COLUMNS = {
    "family": ("country", "discreet"),
    "support_request": ("user_id", "source", "safe", "urgent", "note", "respond_by", "escalated_at"),
    "support_resource": ("country", "kind", "text", "source_url", "checked_on"),
}


def _v5_up(migrator: SchemaMigrator) -> list:
    """v5, the care loop: a family's country and discreet mode, who asked for support and how safe
    they are, resources per country with their source, and the email and staff-alert outboxes."""
    from .models import Family, MailMessage, StaffAlert, SupportRequest, SupportResource

    models = {"family": Family, "support_request": SupportRequest, "support_resource": SupportResource}
    db.create_tables([MailMessage, StaffAlert], safe=True)
    steps = []
    for table, columns in _V5_COLUMNS.items():
        for column in columns:
            field = models[table]._meta.columns[column]
            steps.append(migrator.add_column(table, column, field))
    return steps  # add_column also creates the indexes the fields declare


def _v5_down(migrator: SchemaMigrator) -> list:
    from .models import MailMessage, StaffAlert

    db.drop_tables([StaffAlert, MailMessage], safe=True)
    steps = [migrator.drop_index("support_resource", "support_resource_country"),
             migrator.drop_index("support_request", "support_request_escalated_at")]
    for table, columns in _V5_COLUMNS.items():
        for column in columns:
            # SQLite's own DROP COLUMN refuses a foreign-key column; peewee's table rebuild does it.
            legacy = {"legacy": True} if column == "user_id" and not is_postgres() else {}
            steps.append(migrator.drop_column(table, column, **legacy))
    return steps


def _v6_up(migrator: SchemaMigrator) -> list:
    """v6, family workers' second release: a phone number on every account (E.164), a staff time
    zone for their pages, and the contact log of calls, texts and visits."""
    from .models import ContactLog, User

    db.create_tables([ContactLog], safe=True)
    return [migrator.add_column("user", "phone", User.phone),
            migrator.add_column("user", "timezone", User.timezone)]


def _v6_down(migrator: SchemaMigrator) -> list:
    from .models import ContactLog

    db.drop_tables([ContactLog], safe=True)
    return [migrator.drop_column("user", "phone"), migrator.drop_column("user", "timezone")]


def _v7_up(migrator: SchemaMigrator) -> list:
    """v7: the check-in index also holds when each check-in was made, so the caseload reads a
    10,000-family caseload's recent check-in days from the index alone (it replaces v3's
    (family_id, received_at) index, whose every use it serves)."""
    return [migrator.add_index("check_in", ("family_id", "received_at", "client_created_at"), False),
            migrator.drop_index("check_in", "check_in_family_id_received_at")]


def _v7_down(migrator: SchemaMigrator) -> list:
    return [migrator.add_index("check_in", ("family_id", "received_at"), False),
            migrator.drop_index("check_in", "check_in_family_id_received_at_client_created_at")]


_V8_PROMPT_COLUMNS = ("strand", "moment", "week", "pairs_with")


def _v8_up(migrator: SchemaMigrator) -> list:
    """v8, the programme: a prompt's strand, moment, week in the arc and paired repair (an older
    prompt becomes its theme's strand: cues → watching-cues, rupture → noticing-rupture, repair →
    repair-moves), and each family's recently sent prompts, filled from its deliveries, so planning
    never reads delivery history."""
    from .models import STRAND_WEEKS, THEME_STRANDS, Family, Prompt

    def fill(_migrator: SchemaMigrator) -> None:
        for theme, strand in THEME_STRANDS.items():
            Prompt.update(strand=strand, week=STRAND_WEEKS[strand]).where(Prompt.theme == theme).execute()
        from .services.programme.selection import rebuild_recent_prompts
        rebuild_recent_prompts()

    steps = [migrator.add_column("prompt", column, Prompt._meta.columns[column])
             for column in _V8_PROMPT_COLUMNS]
    if is_postgres():  # "no_chance" is 9 characters; SQLite never enforced the old 8
        steps.append(migrator.alter_column_type("check_in", "tried", CharField(max_length=10)))
    return steps + [migrator.add_column("family", "recent_prompts", Family.recent_prompts),
                    Operation(migrator, fill)]


def _v8_down(migrator: SchemaMigrator) -> list:
    from .models import CheckIn

    steps = [migrator.drop_column("prompt", column) for column in _V8_PROMPT_COLUMNS]
    steps.append(migrator.drop_column("family", "recent_prompts"))
    if is_postgres():  # the older release knew no "no_chance": such days read as skipped
        CheckIn.update(tried="skip").where(CheckIn.tried == "no_chance").execute()
        steps.append(migrator.alter_column_type("check_in", "tried", CharField(max_length=8)))
    return steps


def _v9_up(_migrator: SchemaMigrator) -> list:
    """v9: the scheduler records each job's runs, so ``status``, ``/healthz`` and ``/metrics`` see it."""
    from .models import SchedulerJob

    db.create_tables([SchedulerJob], safe=True)
    return []


def _v9_down(_migrator: SchemaMigrator) -> list:
    from .models import SchedulerJob

    db.drop_tables([SchedulerJob], safe=True)
    return []


def _v10_up(migrator: SchemaMigrator) -> list:
    """v10, the parent app's second release: "Later" counts its snoozes on the delivery, and a
    device turned off stays off (``push_opt_out``)."""
    from .models import Delivery, PushOptOut

    db.create_tables([PushOptOut], safe=True)
    return [migrator.add_column("delivery", "snoozes", Delivery.snoozes)]


def _v10_down(migrator: SchemaMigrator) -> list:
    from .models import PushOptOut

    db.drop_tables([PushOptOut], safe=True)
    return [migrator.drop_column("delivery", "snoozes")]


def _v11_up(migrator: SchemaMigrator) -> list:
    """v11: each person's language (``User.language``, "en" for everyone already here)."""
    from .models import User

    return [migrator.add_column("user", "language", User.language)]


def _v11_down(migrator: SchemaMigrator) -> list:
    return [migrator.drop_column("user", "language")]


def _v12_up(migrator: SchemaMigrator) -> list:
    """v12: a delivery is a ``prompt`` or the week's ``reflection`` (every existing one: a prompt)."""
    from .models import Delivery

    return [migrator.add_column("delivery", "kind", Delivery.kind)]


def _v12_down(migrator: SchemaMigrator) -> list:
    return [migrator.drop_column("delivery", "kind")]


def _v13_up(migrator: SchemaMigrator) -> list:
    """v13, Attune in Spanish: prompt translations, and the languages a support resource answers in."""
    from .models import PromptTranslation, SupportResource

    db.create_tables([PromptTranslation], safe=True)
    return [migrator.add_column("support_resource", "languages", SupportResource.languages),
            migrator.add_column("support_resource", "languages_source_url",
                                SupportResource.languages_source_url)]


def _v13_down(migrator: SchemaMigrator) -> list:
    from .models import PromptTranslation

    db.drop_tables([PromptTranslation], safe=True)
    return [migrator.drop_column("support_resource", "languages"),
            migrator.drop_column("support_resource", "languages_source_url")]


def _v14_up(migrator: SchemaMigrator) -> list:
    """v14, households: every family's parent becomes its first ``caregiver``, each check-in
    belongs to the caregiver who made it (all existing ones to the family's parent), and
    caregivers can invite others (``household_invite``)."""
    from .models import Caregiver, CheckIn, Family, HouseholdInvite

    db.create_tables([Caregiver, HouseholdInvite], safe=True)

    def fill(_migrator: SchemaMigrator) -> None:
        from .services.families.household import seat_main_contacts

        seat_main_contacts()
        parent = Family.select(Family.user).where(Family.id == CheckIn.family)
        CheckIn.update(user=parent).execute()

    return [migrator.add_column("check_in", "user_id", CheckIn.user), Operation(migrator, fill)]


def _v14_down(migrator: SchemaMigrator) -> list:
    """Back to one parent per family: the other caregivers' accounts stay, without a family."""
    from .models import Caregiver, HouseholdInvite

    db.drop_tables([HouseholdInvite, Caregiver], safe=True)
    legacy = {} if is_postgres() else {"legacy": True}  # SQLite refuses DROP COLUMN on a foreign key
    return [migrator.drop_column("check_in", "user_id", **legacy)]


def _v15_up(migrator: SchemaMigrator) -> list:
    """v15, text messages: each person's consent time and channel (everyone stays on push), the
    text outbox and the record of texts received."""
    from .models import TextInbound, TextMessage, User

    db.create_tables([TextMessage, TextInbound], safe=True)
    return [migrator.add_column("user", "sms_opt_in_at", User.sms_opt_in_at),
            migrator.add_column("user", "channel", User.channel)]


def _v15_down(migrator: SchemaMigrator) -> list:
    from .models import TextInbound, TextMessage

    db.drop_tables([TextInbound, TextMessage], safe=True)
    return [migrator.drop_column("user", "sms_opt_in_at"), migrator.drop_column("user", "channel")]


#: Ordered migrations. Version 1 is the first released schema. Append, never edit; every step
#: has a downgrade so tests can rebuild the schema it started from.
MIGRATIONS: list[Migration] = [
    Migration(2, _v2_up, _v2_down),
    Migration(3, _v3_up, _v3_down),
    Migration(4, _v4_up, _v4_down),
    Migration(5, _v5_up, _v5_down),
    Migration(6, _v6_up, _v6_down),
    Migration(7, _v7_up, _v7_down),
    Migration(8, _v8_up, _v8_down),
    Migration(9, _v9_up, _v9_down),
    Migration(10, _v10_up, _v10_down),
    Migration(11, _v11_up, _v11_down),
    Migration(12, _v12_up, _v12_down),
    Migration(13, _v13_up, _v13_down),
    Migration(14, _v14_up, _v14_down),
    Migration(15, _v15_up, _v15_down),
]
LATEST_VERSION = MIGRATIONS[-1].version if MIGRATIONS else 1


@contextmanager
def _foreign_keys_paused():
    """SQLite changes some columns by rebuilding the table (copy, drop, rename); with foreign keys
    on, dropping the old ``user`` table would cascade-delete every family and invite. So keys are
    off while migrating (the pragma only works outside a transaction) and checked afterwards."""
    if is_postgres():
        yield
        return
    db.execute_sql("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        db.execute_sql("PRAGMA foreign_keys = ON")
    broken = db.execute_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"Migration left rows pointing at missing rows: {broken[:5]}")


def downgrade_to(version: int) -> None:
    """Undo migrations newer than ``version``, newest first (for tests and emergency rollbacks;
    columns dropped lose their data)."""
    from playhouse.migrate import migrate

    from .models import SchemaVersion

    with _foreign_keys_paused():
        for step in reversed(MIGRATIONS):
            if step.version <= version:
                break
            with db.atomic():
                migrate(*step.downgrade(_migrator()))
                SchemaVersion.delete().where(SchemaVersion.version >= step.version).execute()
    if not SchemaVersion.select().where(SchemaVersion.version == version).exists():
        SchemaVersion.delete().execute()
        SchemaVersion.create(version=version)


def current_version() -> int | None:
    """The schema version recorded in the database, or None for an empty database."""
    from .models import SchemaVersion

    if not SchemaVersion.table_exists():
        return None
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else None


def init_db() -> dict:
    """Create the schema at the latest version, or upgrade an older one step by step.

    Idempotent: a database already at the latest version is left as it is.
    Returns ``{"from": version|None, "to": version}``.
    """
    from playhouse.migrate import migrate

    from .models import ALL_MODELS, SchemaVersion

    with db.connection_context():
        before = current_version()
        if before is None:
            with db.atomic():
                db.create_tables(ALL_MODELS)
                SchemaVersion.create(version=LATEST_VERSION)
            return {"from": None, "to": LATEST_VERSION}
        version = before
        with _foreign_keys_paused():
            for step in MIGRATIONS:
                if step.version <= version:
                    continue
                with db.atomic():
                    migrate(*step.upgrade(_migrator()))
                    SchemaVersion.create(version=step.version)
                version = step.version
        # Tables added in later versions of the models are created here without touching old ones.
        db.create_tables(ALL_MODELS, safe=True)
        return {"from": before, "to": version}
