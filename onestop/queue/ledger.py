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

from onestop.queue.tables import events, ledger_head

_BUMP = sa.update(ledger_head).where(ledger_head.c.id == 1).values(seq=ledger_head.c.seq + 1)


@dataclass(frozen=True)
class Event:
    seq: int
    type: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def wire(self, tz: tzinfo) -> dict[str, Any]:
        """The one message shape every client sees: {"seq", "type", "at", "data"}."""
        return {
            "seq": self.seq,
            "type": self.type,
            "at": self.at.astimezone(tz).isoformat(),
            "data": self.data,
        }


def append(conn: Connection, type_: str, at: datetime, data: dict[str, Any]) -> Event:
    """Write one event; call it last in the transaction so the head row is locked briefly."""
    seq = conn.execute(_BUMP.returning(ledger_head.c.seq)).scalar_one()
    conn.execute(sa.insert(events).values(seq=seq, type=type_, at=at, data=data))
    return Event(seq=seq, type=type_, at=at, data=data)


def head(conn: Connection) -> int:
    return int(conn.execute(sa.select(ledger_head.c.seq).where(ledger_head.c.id == 1)).scalar_one())


def after(
    conn: Connection, since: int, limit: int = 10_000, upto: int | None = None
) -> list[Event]:
    query = sa.select(events).where(events.c.seq > since).order_by(events.c.seq).limit(limit)
    if upto is not None:
        query = query.where(events.c.seq <= upto)
    return [
        Event(seq=row.seq, type=row.type, at=row.at, data=row.data) for row in conn.execute(query)
    ]
