"""The lecture's shared store: one SQL database for every worker, the CLI and the tests (SQLAlchemy 2.x).

* Default: an SQLite file in the app's data folder (``$EXPLAINER_DATA_HOME`` or
  ``~/.local/share/mobilenet-explainer/lecture.sqlite3``), in WAL mode (readers never block the one writer),
  with a busy timeout so a writer waits instead of failing. ``streamlit run app.py`` needs no set-up.
* Several machines: ``EXPLAINER_DATABASE_URL`` (e.g. ``postgresql+psycopg://user@host:5432/explainer``).

The schema is created and migrated by the app: the table ``schema_version`` holds the version this code
wrote; :data:`MIGRATIONS` lists the steps from each version to the next. An engine is made once per
process and URL (:func:`engine_for`).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from sqlalchemy import (Boolean, Column, Connection, Engine, Float, Integer, MetaData, PrimaryKeyConstraint, String,
                        Table, create_engine, event, inspect, select, text)

from explainer.errors import InvalidInputError

DATABASE_URL_ENV = "EXPLAINER_DATABASE_URL"
DATA_HOME_ENV = "EXPLAINER_DATA_HOME"
DB_FILE = "lecture.sqlite3"
#: How long an SQLite writer waits for the lock before giving up (milliseconds).
BUSY_TIMEOUT_MS = 15_000
SCHEMA_VERSION = 1

metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

#: One row per room: its state is what every phone polls (one primary-key read).
rooms = Table(
    "rooms", metadata,
    Column("code", String(6), primary_key=True),
    Column("title", String(120), nullable=False, default=""),
    Column("key_hash", String(64), nullable=False),  # SHA-256 of the lecturer key (a 192-bit random token)
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("step", Integer, nullable=False, default=0),
    Column("question", String(40), nullable=True),  # the question on screen (open, closed or revealed)
    Column("round", Integer, nullable=False, default=1),
    Column("is_open", Boolean, nullable=False, default=False),
    Column("revealed", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False, default=0),  # +1 on every change a phone must follow
)

#: Every (question, round) a room has asked: whether it is open and whether its results were revealed.
rounds = Table(
    "rounds", metadata,
    Column("room", String(6), nullable=False),
    Column("question", String(40), nullable=False),
    Column("round", Integer, nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("revealed", Boolean, nullable=False),
    Column("opened_at", Float, nullable=False),
    PrimaryKeyConstraint("room", "question", "round"),
)

#: One answer per participant per round (the primary key): a second answer replaces the first.
answers = Table(
    "answers", metadata,
    Column("room", String(6), nullable=False),
    Column("question", String(40), nullable=False),
    Column("round", Integer, nullable=False),
    Column("participant", String(64), nullable=False),
    Column("value", String(40), nullable=False),
    Column("answered_at", Float, nullable=False),
    PrimaryKeyConstraint("room", "question", "round", "participant"),
)

#: version -> the SQL that takes a database at ``version - 1`` to ``version`` (1: created from ``metadata``).
MIGRATIONS: dict[int, tuple[str, ...]] = {}


def data_home() -> Path:
    """The app's data folder (``$EXPLAINER_DATA_HOME`` or ``~/.local/share/mobilenet-explainer``)."""
    configured = os.environ.get(DATA_HOME_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(base).expanduser() if base else Path.home() / ".local" / "share") / "mobilenet-explainer"


def default_url() -> str:
    """``$EXPLAINER_DATABASE_URL`` if set, else the SQLite file in the data folder."""
    configured = os.environ.get(DATABASE_URL_ENV, "").strip()
    if configured:
        return configured
    return f"sqlite:///{data_home() / DB_FILE}"


def _sqlite_setup(engine: Engine) -> None:
    """WAL, busy timeout; transactions begun by us (``BEGIN IMMEDIATE`` for writes, so a read-then-write
    transaction never fails half-way with "database is locked": it waits for the lock up front)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # the driver's own implicit BEGIN off; see _begin
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # safe in WAL mode: a crash loses no committed answer's file
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """A new engine for ``url`` with the schema created or migrated (a bad URL is a one-line error)."""
    try:
        if url.startswith("sqlite"):
            path = url.split(":///", 1)[1] if ":///" in url else ""
            if path and path != ":memory:":
                Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})
            _sqlite_setup(engine)
        else:
            engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        migrate(engine)
    except InvalidInputError:
        raise
    except Exception as error:  # noqa: BLE001 - unknown driver, refused connection, bad path: one line
        raise InvalidInputError("lecture.db_unavailable", url=_redacted(url),
                                reason=str(error).splitlines()[0][:200]) from error
    return engine


def _redacted(url: str) -> str:
    """The URL without a password."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "(unreadable URL)"


def migrate(engine: Engine) -> int:
    """Create the tables on an empty database, or run the migrations from its version; returns the version."""
    with engine.connect().execution_options(write=True) as connection, connection.begin():
        if not inspect(connection).has_table("schema_version"):
            metadata.create_all(connection)
            connection.execute(schema_version.insert().values(version=SCHEMA_VERSION))
            return SCHEMA_VERSION
        version = connection.execute(select(schema_version.c.version)).scalar_one()
        if version > SCHEMA_VERSION:
            raise InvalidInputError("lecture.db_newer", version=version, supported=SCHEMA_VERSION)
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[step]:
                connection.execute(text(statement))
        if version != SCHEMA_VERSION:
            connection.execute(schema_version.update().values(version=SCHEMA_VERSION))
        return SCHEMA_VERSION


_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def engine_for(url: str | None = None) -> Engine:
    """The process's engine for ``url`` (default :func:`default_url`), made and migrated once."""
    url = url or default_url()
    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _ENGINES[url] = make_engine(url)
        return engine


def forget_engine(url: str) -> None:
    """Dispose of the process's engine for ``url`` (tests that drop a database)."""
    with _LOCK:
        engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()
