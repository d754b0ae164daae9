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


def alternative_window(config: HallConfig, open_now: set[int], closed: int) -> int | None:
    """Where to send the residents of a closed window: the open window covering most of its
    items, and of those the most specialised (a birth registration is better sent to the births
    window than to a comprehensive one with a longer line)."""
    wanted = set(config.counter_services(closed))
    best: tuple[int, int, int] | None = None
    for number in open_now:
        if number == closed:
            continue
        served = set(config.counter_services(number))
        rank = (-len(wanted & served), len(served), number)
        if wanted & served and (best is None or rank < best):
            best = rank
    return best[2] if best else None
