"""initial schema: tickets, day numbers, counters, ledger

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 09:36:04.555874
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('counters',
    sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('pause_reason', sa.String(length=100), nullable=True),
    sa.Column('current_ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('clerk_id', sa.String(length=64), nullable=True),
    sa.Column('priority_streak', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_counters'))
    )
    op.create_table('day_numbers',
    sa.Column('service_day', sa.Date(), nullable=False),
    sa.Column('prefix', sa.String(length=1), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('service_day', 'prefix', name=op.f('pk_day_numbers'))
    )
    op.create_table('events',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_events'))
    )
    op.create_table('ledger_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_head'))
    )
    # The ledger's one head row: every state change bumps it inside its own transaction, so
    # sequence numbers are gapless and follow commit order.
    op.execute("INSERT INTO ledger_head (id, seq) VALUES (1, 0)")
    op.create_table('tickets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('number', sa.String(length=12), nullable=False),
    sa.Column('prefix', sa.String(length=1), nullable=False),
    sa.Column('seq_no', sa.Integer(), nullable=False),
    sa.Column('service_day', sa.Date(), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('queue_id', sa.String(length=64), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('priority_rank', sa.SmallInteger(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('channel', sa.String(length=32), server_default='kiosk', nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('sort_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('called_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('counter', sa.Integer(), nullable=True),
    sa.Column('target_counter', sa.Integer(), nullable=True),
    sa.Column('recall_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('transfer_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('promised_date', sa.Date(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('wait_seconds', sa.Integer(), nullable=True),
    sa.Column('service_seconds', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('service_day', 'prefix', 'seq_no', name=op.f('uq_tickets_service_day_prefix_seq_no')),
    sa.UniqueConstraint('token', name=op.f('uq_tickets_token'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_counter', ['counter', 'state'], unique=False)
        batch_op.create_index('ix_tickets_served', ['queue_id', 'finished_at'], unique=False)
        batch_op.create_index('ix_tickets_waiting', ['state', 'queue_id', 'priority_rank', 'sort_at'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_waiting')
        batch_op.drop_index('ix_tickets_served')
        batch_op.drop_index('ix_tickets_counter')

    op.drop_table('tickets')
    op.drop_table('ledger_head')
    op.drop_table('events')
    op.drop_table('day_numbers')
    op.drop_table('counters')

