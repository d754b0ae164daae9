"""appointments, hall days, scheduled pauses

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 03:05:59.696232
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appointment_slots',
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('slot_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('service_id', 'slot_start', name=op.f('pk_appointment_slots'))
    )
    op.create_table('appointments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('service_day', sa.Date(), nullable=False),
    sa.Column('slot_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('slot_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments')),
    sa.UniqueConstraint('code', name=op.f('uq_appointments_code'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_day', ['service_day', 'state'], unique=False)

    op.create_table('hall_days',
    sa.Column('service_day', sa.Date(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lunch_plan', sa.JSON(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('service_day', name=op.f('pk_hall_days'))
    )
    with op.batch_alter_table('counters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_pause', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('pause_until', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('counters', schema=None) as batch_op:
        batch_op.drop_column('pause_until')
        batch_op.drop_column('pending_pause')

    op.drop_table('hall_days')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_day')

    op.drop_table('appointments')
    op.drop_table('appointment_slots')
