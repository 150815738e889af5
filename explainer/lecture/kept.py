"""Small work kept across a worker restart: a trained head, in the lecture's shared store, under a random token.

When a worker dies, its sessions die with it; the browser reconnects into a fresh session on another (or the
restarted) worker. What a student trained is small (a head file is 11–52 KB), so "Teach it new classes" keeps
it here, in the same database every worker uses (:mod:`explainer.lecture.store`: SQLite by default, PostgreSQL
through ``EXPLAINER_DATABASE_URL``), under a token the browser keeps in its URL.

* The token is :func:`secrets.token_urlsafe` (192 random bits), never derived from anything the user typed or
  uploaded; the table stores only its SHA-256, so reading the database gives no working link.
* Bounded: an entry is at most :data:`MAX_ENTRY_BYTES`, the table holds at most :data:`MAX_ENTRIES` (the oldest
  go first), an entry lives :data:`EXPIRY_HOURS`; expired entries are purged on every write.
* Reading back: an unknown, expired, malformed or crafted token, a database that cannot be reached and a stored
  head that does not pass :func:`explainer.transfer.head.read_head` (the same checks as an uploaded head file:
  ``weights_only``, shapes, names) all give ``None`` — the page says one line, never a traceback.

The table lives in its own :class:`~sqlalchemy.MetaData` and is created on first use (``CREATE TABLE`` if
missing), beside the lecture's tables: a database made by an older version simply gains it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
import time
from typing import Callable

from sqlalchemy import Column, Engine, Float, LargeBinary, MetaData, String, Table, delete, func, inspect, insert, select

from explainer.errors import ExplainerError, InvalidInputError
from explainer.lecture.store import engine_for

log = logging.getLogger(__name__)

#: How long a kept head lives (a lecture, and the evening after it).
EXPIRY_HOURS = 12
#: Largest entry (a ten-class MobileNetV2 head file is about 52 KB).
MAX_ENTRY_BYTES = 128 * 1024
#: Most entries in the table (expired ones are purged first, then the oldest): at most 128 MB in all.
MAX_ENTRIES = 1000
#: A token as :func:`new_token` makes them (and the only form :func:`get` looks up).
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")

metadata = MetaData()

kept_heads = Table(
    "kept_heads", metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the token (the token itself is not stored)
    Column("data", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

_READY: set[int] = set()
_LOCK = threading.Lock()


def new_token() -> str:
    """A fresh token: 24 random bytes, URL-safe (32 characters)."""
    return secrets.token_urlsafe(24)


def valid_token(token: object) -> bool:
    return isinstance(token, str) and TOKEN_RE.fullmatch(token) is not None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _ensure_table(engine: Engine) -> None:
    """Create the table once per engine (two workers racing: the loser finds it made)."""
    with _LOCK:
        if id(engine) in _READY:
            return
        try:
            metadata.create_all(engine, checkfirst=True)
        except Exception:  # noqa: BLE001 - another worker created it between the check and the CREATE
            if not inspect(engine).has_table(kept_heads.name):
                raise
        _READY.add(id(engine))


class KeptHeads:
    """The kept-heads table of one database (default: the lecture's, :func:`explainer.lecture.store.default_url`)."""

    def __init__(self, url: str | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine_for(url)
        _ensure_table(self.engine)
        self.clock = clock

    def put(self, token: str, data: bytes) -> None:
        """Keep ``data`` under ``token`` (replacing what it held) for :data:`EXPIRY_HOURS`."""
        if not valid_token(token):
            raise InvalidInputError("kept.bad_token")
        if len(data) > MAX_ENTRY_BYTES:
            raise InvalidInputError("kept.too_large", kb=len(data) // 1024, limit=MAX_ENTRY_BYTES // 1024)
        now = self.clock()
        key = _hash(token)
        with self.engine.connect().execution_options(write=True) as connection, connection.begin():
            connection.execute(delete(kept_heads).where(kept_heads.c.expires_at <= now))
            connection.execute(delete(kept_heads).where(kept_heads.c.token_hash == key))
            count = connection.execute(select(func.count()).select_from(kept_heads)).scalar_one()
            if count >= MAX_ENTRIES:
                oldest = select(kept_heads.c.token_hash).order_by(kept_heads.c.created_at).limit(count - MAX_ENTRIES + 1)
                victims = [row[0] for row in connection.execute(oldest)]
                connection.execute(delete(kept_heads).where(kept_heads.c.token_hash.in_(victims)))
            connection.execute(insert(kept_heads).values(token_hash=key, data=bytes(data), created_at=now,
                                                         expires_at=now + EXPIRY_HOURS * 3600))

    def get(self, token: object) -> bytes | None:
        """What ``token`` keeps, or ``None`` (malformed, unknown or expired)."""
        if not valid_token(token):
            return None
        with self.engine.connect() as connection:
            row = connection.execute(select(kept_heads.c.data).where(
                kept_heads.c.token_hash == _hash(str(token)), kept_heads.c.expires_at > self.clock())).first()
        return bytes(row[0]) if row is not None else None

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(kept_heads)).scalar_one())


def keep_head(token: str, head, url: str | None = None) -> bool:
    """Keep ``head`` (a :class:`explainer.transfer.head.Head`) under ``token``; ``False`` (logged) if the store
    cannot take it: keeping is a courtesy, and training never fails because of it."""
    from explainer.transfer.head import head_bytes

    try:
        KeptHeads(url).put(token, head_bytes(head))
        return True
    except Exception as err:  # noqa: BLE001 - database down, full disk, a too-large head: nothing kept
        log.warning("trained head not kept: %s", str(err).splitlines()[0][:200] if str(err) else type(err).__name__)
        return False


def kept_head(token: object, url: str | None = None):
    """The head kept under ``token``, checked as an uploaded head file is, or ``None`` for anything else."""
    from explainer.transfer.head import read_head

    try:
        data = KeptHeads(url).get(token)
        return read_head(data, "kept.pt") if data is not None else None
    except ExplainerError:
        return None  # a stored entry that is not a valid head, or the database cannot be reached
    except Exception as err:  # noqa: BLE001 - a driver error while reading: the student sees "nothing kept"
        log.warning("kept head not read: %s", type(err).__name__)
        return None
