"""Connections to SQLite (embedded default) or PostgreSQL, with the same code on both.

SQLite runs in WAL mode with synchronous=FULL: an issued number is durable before its ticket
is printed. Writes always take the database's write lock at the start of the transaction: on SQLite
`BEGIN IMMEDIATE` (so two writers queue instead of failing half-way with SQLITE_BUSY), on
PostgreSQL row locks taken by the statements themselves. Reads never block writers (WAL / MVCC).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

SQLITE_BUSY_TIMEOUT_MS = 15_000


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'onestop.db'}"


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and pick the psycopg 3 driver we ship."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_path(url: str) -> Path | None:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            return Path(path)
    return None


def prepare_sqlite_dir(url: str) -> None:
    """Create the data folder on first run, so `onestop serve` needs no setup step; only its
    owner may enter it (it holds phones, password hashes, tokens' digests)."""
    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)


def restrict_sqlite_files(url: str) -> None:
    """The database and its WAL files readable and writable by their owner only (0600), on a
    new install and on one made before this rule."""
    path = _sqlite_path(url)
    if path is None:
        return
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if name.exists():
            name.chmod(0o600)


class Store:
    """Owns the engines; `write()` and `read()` hand out transactions of the right kind."""

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            prepare_sqlite_dir(self.url)
            self.writer = self._sqlite_engine(immediate=True)
            self.reader = self._sqlite_engine(immediate=False)
        else:
            self.writer = sa.create_engine(
                self.url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self.reader = self.writer

    @property
    def dialect(self) -> str:
        return self.writer.dialect.name

    def _sqlite_engine(self, immediate: bool) -> Engine:
        engine = sa.create_engine(self.url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event below own the transaction start.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before the number is printed, even across a power cut
            # (in WAL mode NORMAL may lose the last commits then, and issue a number twice).
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        begin_sql = "BEGIN IMMEDIATE" if immediate else "BEGIN"

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql(begin_sql)

        return engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.writer.begin() as conn:
            yield conn

    @contextmanager
    def read(self, consistent: bool = False) -> Iterator[Connection]:
        """A read transaction; `consistent` makes every statement see one snapshot.

        SQLite transactions are snapshots already; PostgreSQL's default READ COMMITTED is not,
        so a snapshot (ledger head + the state it describes) asks for REPEATABLE READ there.
        """
        with self.reader.connect() as conn:
            if consistent and not self.is_sqlite:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()


def upsert(dialect: str) -> Any:
    """The dialect's INSERT with ON CONFLICT (SQLite and PostgreSQL spell it the same way)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def migrate(url: str) -> None:
    """Bring the schema to the newest Alembic revision (idempotent; safe on every start)."""
    from alembic import command
    from alembic.config import Config

    prepare_sqlite_dir(normalise_url(url))
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent.parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")
    restrict_sqlite_files(normalise_url(url))
