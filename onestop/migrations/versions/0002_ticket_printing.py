"""tickets: issuing kiosk, idempotency key for double taps, print state

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("kiosk", sa.String(64), nullable=True))
        batch.add_column(sa.Column("request_key", sa.String(100), nullable=True))
        batch.add_column(
            sa.Column("print_state", sa.String(16), nullable=False, server_default="none")
        )
        batch.add_column(sa.Column("printed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint("uq_tickets_request_key", ["request_key"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint("uq_tickets_request_key", type_="unique")
        batch.drop_column("printed_at")
        batch.drop_column("print_state")
        batch.drop_column("request_key")
        batch.drop_column("kiosk")
