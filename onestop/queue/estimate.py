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


def queues_by_counter(config: HallConfig) -> dict[int, list[str]]:
    """Which queues each window takes tickets from; config-only, so computed once."""
    result: dict[int, list[str]] = {}
    for c in config.counters:
        served = set(config.counter_services(c.number))
        result[c.number] = [
            q.id for q in config.queues if served.intersection(config.queue_services(q.id))
        ]
    return result


_OPEN_COUNTERS = sa.select(counters.c.number).where(counters.c.state == CounterState.OPEN.value)


def open_counters_by_queue(
    conn: Connection, config: HallConfig, served: dict[int, list[str]]
) -> dict[str, list[int]]:
    result: dict[str, list[int]] = {q.id: [] for q in config.queues}
    for (number,) in conn.execute(_OPEN_COUNTERS):
        for queue_id in served.get(number, ()):
            result[queue_id].append(number)
    for numbers in result.values():
        numbers.sort()
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
    return math.ceil(people_ahead * avg_service / open_counters)
