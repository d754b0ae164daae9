"""The append-only ledger (台账): one event per state change, in the same transaction.

Sequence numbers come from bumping the single `ledger_head` row. That row lock is held until
commit, so numbers are gapless and increase in commit order on both SQLite and PostgreSQL; a
client that has seen seq N and asks for everything after N can never miss a later commit that got
a smaller number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from onestop.queue.actors import LEGACY, Actor
from onestop.queue.tables import events, ledger_head

_BUMP = sa.update(ledger_head).where(ledger_head.c.id == 1).values(seq=ledger_head.c.seq + 1)


@dataclass(frozen=True)
class Event:
    seq: int
    type: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    actor: Actor = LEGACY
    ticket_id: int | None = None
    staff: dict[str, Any] | None = None

    def wire(self, tz: tzinfo) -> dict[str, Any]:
        """The one message shape every client sees: {"seq", "type", "at", "data"}.

        The actor is not part of it: the stream reaches public screens, and who did what is for
        staff (a ticket's history)."""
        return {
            "seq": self.seq,
            "type": self.type,
            "at": self.at.astimezone(tz).isoformat(),
            "data": self.data,
        }


def append(conn: Connection, type_: str, at: datetime, data: dict[str, Any], actor: Actor,
           ticket_id: int | None = None, staff: dict[str, Any] | None = None) -> Event:
    """Write one event; call it last in the transaction so the head row is locked briefly.

    `data` is what every audience may see; `staff` what only staff may (reasons, notes)."""
    seq = conn.execute(_BUMP.returning(ledger_head.c.seq)).scalar_one()
    conn.execute(sa.insert(events).values(seq=seq, type=type_, at=at, data=data,
                                          actor=actor.to_json(), ticket_id=ticket_id,
                                          staff=staff))
    return Event(seq=seq, type=type_, at=at, data=data, actor=actor, ticket_id=ticket_id,
                 staff=staff)


def _event(row: Any) -> Event:
    return Event(seq=row.seq, type=row.type, at=row.at, data=row.data,
                 actor=Actor.from_json(row.actor), ticket_id=row.ticket_id, staff=row.staff)


def head(conn: Connection) -> int:
    return int(conn.execute(sa.select(ledger_head.c.seq).where(ledger_head.c.id == 1)).scalar_one())


def after(
    conn: Connection, since: int, limit: int = 10_000, upto: int | None = None
) -> list[Event]:
    query = sa.select(events).where(events.c.seq > since).order_by(events.c.seq).limit(limit)
    if upto is not None:
        query = query.where(events.c.seq <= upto)
    return [_event(row) for row in conn.execute(query)]


def of_ticket(conn: Connection, ticket_id: int, limit: int = 500) -> list[Event]:
    """Every event about one ticket, oldest first (its history)."""
    query = (sa.select(events).where(events.c.ticket_id == ticket_id)
             .order_by(events.c.seq).limit(limit))
    return [_event(row) for row in conn.execute(query)]
