"""The calling policy: which waiting ticket a window calls next.

Order, best first:
1. tickets transferred to this very window (a resident already served once, sent here);
2. the window's service items in its configured priority order;
3. within an item, green channel, then appointments, then normal tickets;
4. first come, first served inside a class, by *original* issue time (a transfer keeps its place).

Fairness guard (see CallingPolicy): a normal ticket that has waited `promote_after_minutes`
ranks with the green channel by issue time, and after `max_priority_streak` priority calls in a
row at a window, its next call takes the best normal ticket. Either bound alone stops a stream of
priority tickets from starving a normal one; together they keep the wait short as well as finite.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from onestop.queue.catalogue import CallingPolicy
from onestop.queue.states import Priority, TicketState
from onestop.queue.tables import tickets

NORMAL_RANK = Priority.NORMAL.rank


def next_ticket_query(
    counter: int,
    services: list[str],
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
        sa.and_(t.target_counter.is_(None), t.service_id.in_(services)),
    )
    promoted_before = now - timedelta(minutes=policy.promote_after_minutes)
    effective_class = sa.case(
        (sa.and_(t.priority_rank == NORMAL_RANK, t.sort_at <= promoted_before), 0),
        else_=t.priority_rank,
    )
    service_rank = sa.case(
        {sid: i for i, sid in enumerate(services)}, value=t.service_id, else_=len(services)
    )
    query = (
        sa.select(tickets)
        .where(t.state == TicketState.WAITING.value, servable)
        .order_by(
            sa.case((t.target_counter == counter, 0), else_=1),
            service_rank,
            effective_class,
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


def guard_applies(streak: int, policy: CallingPolicy) -> bool:
    """True when the window owes the normal queue a call."""
    return streak >= policy.max_priority_streak


def next_streak(streak: int, called_rank: int) -> int:
    return 0 if called_rank == NORMAL_RANK else streak + 1
