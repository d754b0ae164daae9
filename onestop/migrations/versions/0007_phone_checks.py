"""phone checks: SMS codes that prove a phone before a booking counts (防号贩子)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('phone_checks',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_checks'))
    )
    with op.batch_alter_table('phone_checks', schema=None) as batch_op:
        batch_op.create_index('ix_phone_checks_phone', ['phone', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('phone_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_phone_checks_phone')
    op.drop_table('phone_checks')
