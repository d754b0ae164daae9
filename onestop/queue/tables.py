"""The store's schema (SQLAlchemy Core). Alembic migrations in onestop/migrations mirror it.

Core rather than the ORM: every operation is a handful of targeted statements inside one
transaction, and the hot paths (issue, call next) stay cheap enough for a city-level hall.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware instants as UTC and always hands back aware UTC, on SQLite and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use the clock")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("token", sa.String(32), nullable=False, unique=True),
    sa.Column("number", sa.String(12), nullable=False),
    sa.Column("prefix", sa.String(1), nullable=False),
    sa.Column("seq_no", sa.Integer, nullable=False),
    sa.Column("service_day", sa.Date, nullable=False),
    sa.Column("service_id", sa.String(64), nullable=False),
    sa.Column("queue_id", sa.String(64), nullable=False),
    sa.Column("priority", sa.String(16), nullable=False),
    sa.Column("priority_rank", sa.SmallInteger, nullable=False),
    sa.Column("reason", sa.String(200)),
    sa.Column("channel", sa.String(32), nullable=False, server_default="kiosk"),
    sa.Column("state", sa.String(16), nullable=False),
    # The instant the ticket ranks by in its queue: the issue time for walk-ins (kept through
    # transfers), the slot start for appointments, later after a 过号顺延 (back in line).
    sa.Column("sort_at", UTCDateTime, nullable=False),
    sa.Column("issued_at", UTCDateTime, nullable=False),
    sa.Column("called_at", UTCDateTime),
    sa.Column("started_at", UTCDateTime),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("counter", sa.Integer),
    sa.Column("target_counter", sa.Integer),
    sa.Column("recall_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("transfer_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("outcome", sa.String(16)),
    sa.Column("promised_date", sa.Date),
    sa.Column("note", sa.String(500)),
    sa.Column("wait_seconds", sa.Integer),
    sa.Column("service_seconds", sa.Integer),
    sa.Column("kiosk", sa.String(64)),
    sa.Column("request_key", sa.String(100), unique=True),
    sa.Column("print_state", sa.String(16), nullable=False, server_default="none"),
    sa.Column("printed_at", UTCDateTime),
    # The clerk (user name) who called the ticket last, then who finished it: per-clerk counts.
    sa.Column("clerk_id", sa.String(64)),
    sa.Column("requeue_count", sa.Integer, nullable=False, server_default="0"),
    # Why staff cancelled or closed the ticket (a bulk close at day's end, a correction).
    sa.Column("closed_reason", sa.String(200)),
    sa.UniqueConstraint("service_day", "prefix", "seq_no"),
    sa.Index("ix_tickets_waiting", "state", "queue_id", "priority_rank", "sort_at"),
    sa.Index("ix_tickets_served", "queue_id", "finished_at"),
    sa.Index("ix_tickets_counter", "counter", "state"),
)

day_numbers = sa.Table(
    "day_numbers",
    metadata,
    sa.Column("service_day", sa.Date, primary_key=True),
    sa.Column("prefix", sa.String(1), primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)

counters = sa.Table(
    "counters",
    metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("pause_reason", sa.String(100)),
    sa.Column("current_ticket_id", BigId),
    # Presence: who sits at the window (user name and display name), since when, and when their
    # terminal was last heard from; no clerk means the window is unstaffed.
    sa.Column("clerk_id", sa.String(64)),
    sa.Column("clerk_name", sa.String(100)),
    sa.Column("staffed_at", UTCDateTime),
    sa.Column("seen_at", UTCDateTime),
    # Who sat here last and why they left (signed_out, switched, lost, replaced): only a clerk
    # whose terminal went silent sits down again by itself when it comes back.
    sa.Column("last_clerk_id", sa.String(64)),
    sa.Column("unstaffed_reason", sa.String(16)),
    sa.Column("priority_streak", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # A pause asked for while a resident is at the window (lunch): it starts when they leave.
    sa.Column("pending_pause", sa.String(100)),
    # When a scheduled pause (lunch) ends, for the clerk's countdown and the automatic resume.
    sa.Column("pause_until", UTCDateTime),
    # Who started the pause (clerk, supervisor, scheduler): the scheduler resumes only its own.
    sa.Column("pause_origin", sa.String(16)),
    # A pending break's length: when it starts late (the clerk was serving), it still lasts this.
    sa.Column("pending_minutes", sa.Integer),
    # The window's last finish or no-show, which the clerk may undo for a short while.
    sa.Column("last_ticket_id", BigId),
    sa.Column("last_action", sa.String(16)),
    sa.Column("last_action_at", UTCDateTime),
)

ledger_head = sa.Table(
    "ledger_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    # Who caused it ({"kind", "id", "name", "role"}); kept for staff, never on the public wire.
    sa.Column("actor", sa.JSON),
    # The ticket the event is about, so a ticket's history is one indexed read.
    sa.Column("ticket_id", BigId),
    # What only staff may read (a reason, a clerk's note): never on the public wire.
    sa.Column("staff", sa.JSON),
    sa.Index("ix_events_ticket", "ticket_id", "seq"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("counters", sa.JSON, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("password_changed_at", UTCDateTime),
    sa.Column("disabled_at", UTCDateTime),
)

# A signed-in staff member's session: the cookie carries only its random id, stored here as a
# SHA-256 digest. It lives while not revoked (sign-out, deactivation, a password change, an
# admin), not past `expires_at`, and not idle longer than [security] session_idle_minutes.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", BigId, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    # logout, ended (by an admin), disabled, password_reset, password_changed, replaced
    sa.Column("revoked_reason", sa.String(32)),
    sa.Column("address", sa.String(64)),
    sa.Column("user_agent", sa.String(300)),
    # The window this session's clerk sits at: left when the session is ended.
    sa.Column("counter", sa.Integer),
    sa.Index("ix_sessions_user", "user_id", "revoked_at"),
)

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("kiosk", sa.String(64)),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    sa.Column("rotated_at", UTCDateTime),
)

notices = sa.Table(
    "notices",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("title_en", sa.String(200), nullable=False, server_default=""),
    sa.Column("body", sa.String(2000), nullable=False, server_default=""),
    sa.Column("body_en", sa.String(2000), nullable=False, server_default=""),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Column("starts_at", UTCDateTime),
    sa.Column("ends_at", UTCDateTime),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", sa.String(64)),
)

appointments = sa.Table(
    "appointments",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(12), nullable=False, unique=True),
    sa.Column("service_id", sa.String(64), nullable=False),
    sa.Column("service_day", sa.Date, nullable=False),
    sa.Column("slot_start", UTCDateTime, nullable=False),
    sa.Column("slot_end", UTCDateTime, nullable=False),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("name", sa.String(50)),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("ticket_id", BigId),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_appointments_day", "service_day", "state"),
)

# One row per (item, slot) that has bookings: `booked` is raised only while below capacity, in
# one conditional UPDATE, so concurrent bookings can never overfill a slot on either database.
appointment_slots = sa.Table(
    "appointment_slots",
    metadata,
    sa.Column("service_id", sa.String(64), primary_key=True),
    sa.Column("slot_start", UTCDateTime, primary_key=True),
    sa.Column("booked", sa.Integer, nullable=False),
)

# The hall's days: what the scheduler has done (opened, closed) and the lunch rotation in force.
hall_days = sa.Table(
    "hall_days",
    metadata,
    sa.Column("service_day", sa.Date, primary_key=True),
    sa.Column("opened_at", UTCDateTime),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("lunch_plan", sa.JSON),
    sa.Column("summary", sa.JSON),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Why the day runs without a rotation ({"service", "message", "message_en"}), for /admin.
    sa.Column("lunch_problem", sa.JSON),
    # Breaks a supervisor fixed ({clerk: slot}): re-planning keeps them.
    sa.Column("lunch_pins", sa.JSON),
)

# 防号贩子: codes sent by SMS to prove a phone before a booking counts (only the digest kept).
phone_checks = sa.Table(
    "phone_checks",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("used_at", UTCDateTime),
    sa.Column("address", sa.String(64)),
    sa.Index("ix_phone_checks_phone", "phone", "created_at"),
)

# Who is at work today: a supervisor marks a clerk absent (or present again); the lunch
# rotation is planned from the present ones. `break_started_at` records that the clerk has had
# today's break, so it is neither offered twice nor resumed by anyone but its owner.
clerk_days = sa.Table(
    "clerk_days",
    metadata,
    sa.Column("service_day", sa.Date, primary_key=True),
    sa.Column("clerk_id", sa.String(64), primary_key=True),
    sa.Column("absent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("marked_by", sa.String(100)),
    sa.Column("marked_at", UTCDateTime),
    sa.Column("break_started_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)
