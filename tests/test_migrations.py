"""The Alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from onestop.queue.store import migrate, normalise_url
from onestop.queue.tables import metadata


def test_migrated_schema_matches_the_tables(db_url: str) -> None:
    migrate(db_url)
    engine = sa.create_engine(normalise_url(db_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert diff == [], f"migrations and tables.py disagree: {diff}"
