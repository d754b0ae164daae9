"""Shared fixtures: every database test runs on SQLite and on the real PostgreSQL server.

With CI=true a missing PostgreSQL fails the run instead of skipping it: CI must never go green
by testing less.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from engine_support import EngineForTests

from onestop.queue.bus import EventBus
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import ManualClock
from onestop.queue.store import Store, migrate
from onestop.settings import load_hall_config

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
PG_ADMIN = os.environ.get("ONESTOP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SHANGHAI = ZoneInfo("Asia/Shanghai")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_reachable() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except Exception as exc:  # any failure means "not usable here"
        return str(exc)


_PG_PROBLEM: str | bool | None = False


def require_postgres() -> None:
    global _PG_PROBLEM
    if _PG_PROBLEM is False:
        _PG_PROBLEM = _pg_reachable()
    if _PG_PROBLEM:
        message = f"PostgreSQL not reachable at {PG_ADMIN}: {_PG_PROBLEM}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def _admin_exec(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def fresh_db_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """A brand-new empty database of the given kind, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'onestop.db'}"
        return
    require_postgres()
    name = f"onestop_t_{uuid.uuid4().hex[:12]}"
    _admin_exec(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_db_url(request.param, tmp_path)


@pytest.fixture(scope="session")
def config() -> HallConfig:
    return load_hall_config(CONFIG_DIR)


def hall_time(*args: int) -> datetime:
    """A wall-clock time in the hall's zone, e.g. hall_time(2026, 11, 25, 9, 0)."""
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(hall_time(2026, 11, 25, 9, 0))


@pytest.fixture
def bare_engine(db_url: str, config: HallConfig, clock: ManualClock) -> Iterator[EngineForTests]:
    """The engine of a hall where nobody has signed in at any window yet."""
    migrate(db_url)
    store = Store(db_url)
    engine = EngineForTests(store, config, clock, EventBus())
    engine.sync_counters()
    try:
        yield engine
    finally:
        store.dispose()


@pytest.fixture
def engine(bare_engine: EngineForTests) -> EngineForTests:
    """The engine with a clerk signed in at every window (see tests/engine_support.py)."""
    bare_engine.staff()
    return bare_engine


@pytest.fixture
def always_open(engine: EngineForTests) -> EngineForTests:
    """The engine of a hall that leaves issuing hours to its staff: for tests about numbering or
    load, which must be able to issue at midnight or ten thousand times."""
    from onestop.queue.calendar import HallCalendar

    hours = engine.config.hours.model_copy(update={"enforce": False})
    engine.config = engine.config.model_copy(update={"hours": hours})
    engine.calendar = HallCalendar(engine.config)
    return engine


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Any]:
    """A real `onestop serve` process on this test's database, with a supervisor account
    ("sup"); tests that need more accounts add them before signing in."""
    from auth_support import add_user
    from live_server import LiveServer

    add_user(db_url, "sup", "supervisor")
    live = LiveServer(db_url, tmp_path / "data")
    live.start()
    try:
        yield live
    finally:
        live.stop()
