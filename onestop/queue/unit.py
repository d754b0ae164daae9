"""The unit of work: one write transaction, its actor, and the events it publishes after commit.

Everything that changes the hall goes through one: ticket and window commands, and the modules
kept beside the queue (appointments, notices, the day's schedule). Each event it writes carries
the unit's actor. Events reach the bus only after the commit succeeded.

Lock order, the same in every unit so PostgreSQL transactions wait but never deadlock:

1. the hall lock (`lock_hall`), taken first by anything that may leave a window not open
   (pauses, sign-outs, a break starting), so the coverage check of one can never miss another;
2. window rows, in ascending window number when a unit needs several;
3. ticket rows;
4. appointment rows, then appointment slot rows in (item, slot start) order;
5. the ledger head (`ledger.append`), always last.

On SQLite every write unit begins with BEGIN IMMEDIATE, so units run one at a time and the
hall lock is implied.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from onestop.queue import ledger
from onestop.queue.actors import Actor
from onestop.queue.bus import EventBus
from onestop.queue.clock import HallTime
from onestop.queue.store import Store

# pg_advisory_xact_lock key of the hall-wide lock ("onestop" as a number; one hall per database
# until sites arrive, when the key will include the site).
HALL_LOCK_KEY = 0x6F6E6573746F70


@dataclass
class Work:
    """One write transaction: its connection, its instant, who acts, and what it will publish."""

    conn: Connection
    now: datetime
    actor: Actor
    dialect: str
    events: list[ledger.Event] = field(default_factory=list)
    hall_locked: bool = False

    def event(self, type_: str, data: dict[str, Any], ticket_id: int | None = None,
              staff: dict[str, Any] | None = None) -> ledger.Event:
        """Append one ledger event by this unit's actor (published after commit)."""
        written = ledger.append(self.conn, type_, self.now, data, self.actor, ticket_id, staff)
        self.events.append(written)
        return written

    def lock_hall(self) -> None:
        """Serialise every change that can leave a window not open (see the module docstring)."""
        if self.hall_locked:
            return
        if self.dialect == "postgresql":
            self.conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                              {"key": HALL_LOCK_KEY})
        self.hall_locked = True


@contextmanager
def unit(store: Store, time: HallTime, bus: EventBus, actor: Actor) -> Iterator[Work]:
    """A unit of work by `actor`; its events are published once it has committed."""
    with store.write() as conn:
        work = Work(conn=conn, now=time.now(), actor=actor, dialect=store.dialect)
        yield work
    bus.publish(work.events)
