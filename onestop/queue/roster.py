"""Who is at work today (在岗): the configured clerks, less those a supervisor marked absent, and
where each one sits now. The lunch rotation is planned from this, not from the rota on paper.

A clerk's seat is the window they are signed in at; one not signed in yet is expected at a
window of theirs. A break once started is recorded here, so the scheduler neither offers it
twice nor mistakes a clerk's own lunch for one it must end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from onestop.queue.actors import Actor
from onestop.queue.errors import NotFound
from onestop.queue.states import CounterState
from onestop.queue.store import upsert
from onestop.queue.tables import clerk_days, counters

if TYPE_CHECKING:
    from onestop.queue.engine import QueueEngine


@dataclass(frozen=True)
class ClerkToday:
    id: str
    name: str
    counters: tuple[int, ...]
    absent: bool
    seat: int | None  # the window they are signed in at now
    break_started_at: datetime | None
    marked_by: str | None


def mark_break(conn: Connection, dialect: str, day: date, clerk_id: str, now: datetime) -> None:
    """Record that the clerk's break of `day` has begun (the first time only)."""
    insert = upsert(dialect)
    conn.execute(
        insert(clerk_days).values(service_day=day, clerk_id=clerk_id, absent=False,
                                  break_started_at=now, updated_at=now)
        .on_conflict_do_update(
            index_elements=[clerk_days.c.service_day, clerk_days.c.clerk_id],
            set_={"break_started_at": sa.func.coalesce(clerk_days.c.break_started_at, now),
                  "updated_at": now}))


def seats(conn: Connection) -> dict[str, int]:
    """clerk id → the window they are signed in at now."""
    rows = conn.execute(sa.select(counters.c.clerk_id, counters.c.number).where(
        counters.c.clerk_id.is_not(None), counters.c.state != CounterState.UNSTAFFED.value))
    return {clerk: number for clerk, number in rows}


def occupied(core: QueueEngine) -> set[int]:
    """Windows somebody sits at now, rota or not (a supervisor may sit at one too)."""
    with core.store.read() as conn:
        return set(seats(conn).values())


def today(core: QueueEngine, day: date | None = None) -> list[ClerkToday]:
    """Every configured clerk with today's attendance, seat and break."""
    when = day or core.time.service_day()
    with core.store.read() as conn:
        marks = {r.clerk_id: r for r in conn.execute(
            sa.select(clerk_days).where(clerk_days.c.service_day == when))}
        seated = seats(conn)
    result = []
    for clerk in core.config.clerks:
        mark = marks.get(clerk.id)
        result.append(ClerkToday(
            id=clerk.id, name=clerk.name, counters=tuple(clerk.counters),
            absent=bool(mark.absent) if mark else False, seat=seated.get(clerk.id),
            break_started_at=mark.break_started_at if mark else None,
            marked_by=mark.marked_by if mark else None))
    return result


def set_absent(core: QueueEngine, clerk_id: str, absent: bool, *, actor: Actor) -> ClerkToday:
    """A supervisor marks a clerk absent (or present again) for today; one ledger event."""
    clerk = core.config.clerk(clerk_id)
    if clerk is None:
        raise NotFound(f"没有这位工作人员：{clerk_id}", f"unknown clerk {clerk_id!r}")
    with core.unit(actor) as work:
        day = core.time.service_day(work.now)
        insert = upsert(work.dialect)
        values: dict[str, Any] = {"absent": absent, "marked_by": actor.name,
                                  "marked_at": work.now, "updated_at": work.now}
        work.conn.execute(
            insert(clerk_days).values(service_day=day, clerk_id=clerk_id, **values)
            .on_conflict_do_update(
                index_elements=[clerk_days.c.service_day, clerk_days.c.clerk_id], set_=values))
        # Public data says only that the roster changed; who is absent is for staff.
        work.event("roster.changed", {"day": day.isoformat()},
                   staff={"clerk": clerk_id, "name": clerk.name, "absent": absent})
    return next(c for c in today(core) if c.id == clerk_id)


def present(clerks: list[ClerkToday]) -> list[ClerkToday]:
    return [c for c in clerks if not c.absent and c.counters]
