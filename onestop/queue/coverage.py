"""No item left without an open window: the rule every pause (lunch or not) must keep."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from onestop.queue.catalogue import HallConfig
from onestop.queue.states import CounterState
from onestop.queue.tables import counters


def open_windows(conn: Connection) -> set[int]:
    rows = conn.execute(sa.select(counters.c.number)
                        .where(counters.c.state == CounterState.OPEN.value))
    return {number for (number,) in rows}


def left_uncovered(config: HallConfig, open_now: set[int], closing: int) -> str | None:
    """The first item of window `closing` that no other open window serves, if any."""
    others = [config.counter_services(n) for n in open_now if n != closing]
    for service in config.counter_services(closing):
        if not any(service in served for served in others):
            return service
    return None
