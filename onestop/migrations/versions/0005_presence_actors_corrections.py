"""presence, actors, corrections

Windows know who sits at them (and become "unstaffed" when nobody does), every event records
its actor and the ticket it is about, tickets record their clerk and corrections, and the day
keeps who is at work.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('counters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clerk_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('staffed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_clerk_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('unstaffed_reason', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('pause_origin', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('pending_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_ticket_id', BigId, nullable=True))
        batch_op.add_column(sa.Column('last_action', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('last_action_at', sa.DateTime(timezone=True), nullable=True))
    # Before presence, every configured window counted as open; nobody was recorded as sitting
    # there, so after the upgrade each one waits for its clerk to sign in.
    op.execute("UPDATE counters SET state = 'unstaffed', pause_reason = NULL, pause_until = NULL,"
               " pending_pause = NULL WHERE clerk_id IS NULL")

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('ticket_id', BigId, nullable=True))
        batch_op.add_column(sa.Column('staff', sa.JSON(), nullable=True))
        batch_op.create_index('ix_events_ticket', ['ticket_id', 'seq'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clerk_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('requeue_count', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('closed_reason', sa.String(length=200), nullable=True))

    with op.batch_alter_table('hall_days', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lunch_problem', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('lunch_pins', sa.JSON(), nullable=True))

    op.create_table('clerk_days',
    sa.Column('service_day', sa.Date(), nullable=False),
    sa.Column('clerk_id', sa.String(length=64), nullable=False),
    sa.Column('absent', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('marked_by', sa.String(length=100), nullable=True),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('break_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('service_day', 'clerk_id', name=op.f('pk_clerk_days'))
    )


def downgrade() -> None:
    op.drop_table('clerk_days')
    with op.batch_alter_table('hall_days', schema=None) as batch_op:
        batch_op.drop_column('lunch_pins')
        batch_op.drop_column('lunch_problem')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('closed_reason')
        batch_op.drop_column('requeue_count')
        batch_op.drop_column('clerk_id')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_ticket')
        batch_op.drop_column('staff')
        batch_op.drop_column('ticket_id')
        batch_op.drop_column('actor')
    op.execute("UPDATE counters SET state = 'open' WHERE state = 'unstaffed'")
    with op.batch_alter_table('counters', schema=None) as batch_op:
        batch_op.drop_column('last_action_at')
        batch_op.drop_column('last_action')
        batch_op.drop_column('last_ticket_id')
        batch_op.drop_column('pending_minutes')
        batch_op.drop_column('pause_origin')
        batch_op.drop_column('unstaffed_reason')
        batch_op.drop_column('last_clerk_id')
        batch_op.drop_column('seen_at')
        batch_op.drop_column('staffed_at')
        batch_op.drop_column('clerk_name')
