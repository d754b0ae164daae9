"""Estimated waits: recent real service times, divided among the windows that are open.

Until a queue has finished tickets of its own, the configured typical minutes of its items stand
in, so a morning's first resident still gets a sensible figure.
"""

from __future__ import annotations

import math

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from onestop.queue.catalogue import HallConfig
from onestop.queue.states import CounterState, TicketState
from onestop.queue.tables import counters, tickets


def open_counters_by_queue(conn: Connection, config: HallConfig) -> dict[str, list[int]]:
    open_numbers = {
        n for (n,) in conn.execute(
            sa.select(counters.c.number).where(counters.c.state == CounterState.OPEN.value)
        )
    }
    result: dict[str, list[int]] = {q.id: [] for q in config.queues}
    for c in config.counters:
        if c.number not in open_numbers:
            continue
        served = set(config.counter_services(c.number))
        for q in config.queues:
            if served.intersection(config.queue_services(q.id)):
                result[q.id].append(c.number)
    return result


def average_service_seconds(conn: Connection, config: HallConfig, queue_id: str) -> float:
    recent = (
        sa.select(tickets.c.service_seconds)
        .where(
            tickets.c.queue_id == queue_id,
            tickets.c.state == TicketState.DONE.value,
            tickets.c.service_seconds.is_not(None),
        )
        .order_by(tickets.c.finished_at.desc())
        .limit(config.policy.estimate_sample)
        .subquery()
    )
    avg = conn.execute(sa.select(sa.func.avg(recent.c.service_seconds))).scalar()
    if avg is not None:
        return float(avg)
    minutes = [s.service_minutes for s in config.services if s.queue == queue_id]
    return 60.0 * (sum(minutes) / len(minutes) if minutes else 8.0)


def wait_seconds(people_ahead: int, avg_service: float, open_counters: int) -> int | None:
    """None when no window serving the queue is open: there is no honest estimate then."""
    if open_counters <= 0:
        return None
    return int(math.ceil(people_ahead * avg_service / open_counters))
