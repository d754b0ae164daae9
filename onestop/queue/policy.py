"""The calling policy: which waiting ticket a window calls next, and who is ahead of whom.

Residents read their number and the numbers called, so within one queue (one letter, one number
sequence) the line is first come, first served at every window. The rule, best first:

1. tickets transferred to this very window by name (a resident sent here, e.g. 联合会审);
2. tickets that have waited `promote_after_minutes` or longer ("aged"), oldest first, whatever
   their queue or class: no window's preferences can starve anyone past that bound;
3. the rest by class: green channel (绿色通道), then appointments, then normal;
4. within a class, the window's queues in its order of preference (the order in which its
   items first name each queue; a comprehensive window follows the catalogue);
5. within a queue and class, by rank time: the original issue time (kept through transfers),
   the slot start for appointments, the time it went back in line for a 过号顺延.

Which item a ticket is for never orders it inside its queue: a window takes the earliest ticket
of the queue it can serve. Besides the order, the fairness guard: after `max_priority_streak`
priority calls in a row at a window, while a normal ticket waits for it, the next call takes the
best normal ticket.

"People ahead" of a ticket counts the tickets of its own queue that rank before it (rules 2, 3
and 5, which every window applies the same way), so "前面还有 N 人" is what the line shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from onestop.queue.catalogue import CallingPolicy, HallConfig
from onestop.queue.states import Priority, TicketState
from onestop.queue.tables import tickets

NORMAL_RANK = Priority.NORMAL.rank


def queue_preference(config: HallConfig, counter: int) -> list[str]:
    """The window's queues in its order of preference: as its items first name them."""
    order: list[str] = []
    for service_id in config.counter_services(counter):
        service = config.service(service_id)
        if service is not None and service.queue not in order:
            order.append(service.queue)
    return order


def aged_before(policy: CallingPolicy, now: datetime) -> datetime:
    """Tickets ranking at or before this instant have waited long enough to go first."""
    return now - timedelta(minutes=policy.promote_after_minutes)


def _band(cutoff: datetime) -> Any:
    return sa.case((tickets.c.sort_at <= cutoff, 0), else_=1)


def _class(cutoff: datetime) -> Any:
    return sa.case((tickets.c.sort_at <= cutoff, 0), else_=tickets.c.priority_rank)


def next_ticket_query(
    counter: int,
    services: Sequence[str],
    queues: Sequence[str],
    policy: CallingPolicy,
    now: datetime,
    normal_only: bool = False,
    lock: bool = True,
    limit: int = 1,
) -> sa.Select[Any]:
    """A SELECT of the best ticket rows for this window, locking them (SKIP LOCKED on PostgreSQL)
    unless `lock` is False (a read-only preview of the order)."""
    t = tickets.c
    servable = sa.or_(
        t.target_counter == counter,
        sa.and_(t.target_counter.is_(None), t.service_id.in_(list(services))),
    )
    cutoff = aged_before(policy, now)
    preference = sa.case({q: i for i, q in enumerate(queues)}, value=t.queue_id,
                         else_=len(queues)) if queues else sa.literal(0)
    query = (
        sa.select(tickets)
        .where(t.state == TicketState.WAITING.value, servable)
        .order_by(
            sa.case((t.target_counter == counter, 0), else_=1),
            _band(cutoff),
            _class(cutoff),
            sa.case((t.sort_at <= cutoff, 0), else_=preference),
            t.sort_at,
            t.id,
        )
        .limit(limit)
    )
    if lock:
        query = query.with_for_update(skip_locked=True)
    if normal_only:
        query = query.where(t.priority_rank == NORMAL_RANK)
    return query


def ahead_condition(row: Any, policy: CallingPolicy, now: datetime) -> Any:
    """WHERE clause: waiting tickets that rank before `row` in its line.

    A ticket sent to a window by name is in that window's own short line; every other ticket
    is in its queue's line, where rules 2, 3 and 5 order everyone the same at every window."""
    t = tickets.c
    cutoff = aged_before(policy, now)
    band = 0 if row.sort_at <= cutoff else 1
    klass = 0 if band == 0 else row.priority_rank
    line = (t.target_counter == row.target_counter if row.target_counter is not None
            else sa.and_(t.queue_id == row.queue_id, t.target_counter.is_(None)))
    earlier = sa.or_(t.sort_at < row.sort_at, sa.and_(t.sort_at == row.sort_at, t.id < row.id))
    return sa.and_(
        t.state == TicketState.WAITING.value,
        t.id != row.id,
        line,
        sa.or_(
            _band(cutoff) < band,
            sa.and_(_band(cutoff) == band, _class(cutoff) < klass),
            sa.and_(_band(cutoff) == band, _class(cutoff) == klass, earlier),
        ),
    )


def line_order(policy: CallingPolicy, now: datetime) -> list[Any]:
    """ORDER BY terms of one queue's line (rules 2, 3 and 5), for placing a ticket back in it."""
    cutoff = aged_before(policy, now)
    return [_band(cutoff), _class(cutoff), tickets.c.sort_at, tickets.c.id]


def guard_applies(streak: int, policy: CallingPolicy) -> bool:
    """True when the window owes the normal queue a call."""
    return streak >= policy.max_priority_streak


def next_streak(streak: int, called_rank: int) -> int:
    return 0 if called_rank == NORMAL_RANK else streak + 1
