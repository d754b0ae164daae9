"""The queue engine: the hall's store, configuration, clock and bus, and its three aggregates.

- `engine.tickets`: a ticket's life (issue, call, serve, finish, no-show, transfer, cancel);
- `engine.corrections`: staff putting mistakes right (undo, 过号顺延, cancel or re-route by
  number, closing leftover tickets at day's end);
- `engine.windows`: who sits at which window, pauses and breaks;
- `engine.reads`: what screens, terminals and kiosks draw (queues, windows, a ticket's status
  and history, the snapshot).

Every change is one unit of work (`engine.unit(actor)`, see onestop.queue.unit) with one or more
ledger events, each carrying its actor, published after commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from onestop.queue import ledger
from onestop.queue.actors import DEVICE_WATCH, Actor
from onestop.queue.bus import EventBus
from onestop.queue.calendar import HallCalendar
from onestop.queue.catalogue import HallConfig, ServiceItem
from onestop.queue.clock import Clock, HallTime
from onestop.queue.corrections import Corrections
from onestop.queue.errors import NotFound
from onestop.queue.estimate import average_service_seconds, open_counters_by_queue, wait_seconds
from onestop.queue.read_models import ReadModels
from onestop.queue.states import CounterState
from onestop.queue.store import Store
from onestop.queue.tables import counters
from onestop.queue.ticket_commands import TicketCommands
from onestop.queue.ticket_issue import format_number
from onestop.queue.unit import Work, unit
from onestop.queue.window_commands import WindowCommands

AVERAGE_CACHE_SECONDS = 30

__all__ = ["QueueEngine", "format_number"]


class QueueEngine:
    def __init__(self, store: Store, config: HallConfig, clock: Clock, bus: EventBus | None = None):
        self.store = store
        self.config = config
        self.time = HallTime(clock, config.hall.timezone)
        self.bus = bus or EventBus()
        self.calendar = HallCalendar(config)
        self._avg_cache: dict[str, tuple[float, datetime]] = {}
        self._served: tuple[int, dict[int, list[str]]] | None = None
        self.tickets = TicketCommands(self)
        self.corrections = Corrections(self)
        self.windows = WindowCommands(self)
        self.reads = ReadModels(self)

    # -- units of work ----------------------------------------------------------------------

    @contextmanager
    def unit(self, actor: Actor) -> Iterator[Work]:
        """One write transaction by `actor`, for this module's aggregates and for the modules
        kept beside the queue (appointments, notices, the day): events after commit."""
        with unit(self.store, self.time, self.bus, actor) as work:
            yield work

    def record_device(self, device: str, kind: str, state: str, ok: bool, message: str,
                      actor: Actor = DEVICE_WATCH) -> None:
        """A device changed health (printer out of paper, LED bus unplugged): into the ledger,
        so staff screens hear of it and the day's record keeps it."""
        with self.unit(actor) as work:
            work.event("device.status", {"device": device, "kind": kind, "state": state,
                                         "ok": ok, "message": message})

    # -- the hall as configured -------------------------------------------------------------

    def service(self, service_id: str) -> ServiceItem:
        service = self.config.service(service_id)
        if service is None:
            raise NotFound(f"没有这个事项：{service_id}", f"unknown service item {service_id!r}")
        return service

    def counter_name(self, number: int) -> str:
        definition = self.config.counter(number)
        return definition.name if definition else f"{number}号窗口"

    def served_queues(self) -> dict[int, list[str]]:
        """Which queues each window takes tickets from (config only, cached per config)."""
        if self._served is None or self._served[0] != id(self.config):
            from onestop.queue.estimate import queues_by_counter

            self._served = (id(self.config), queues_by_counter(self.config))
        return self._served[1]

    def sync_counters(self) -> None:
        """Create rows for configured windows (unstaffed until a clerk signs in); windows
        removed from the config stay as history."""
        with self.store.write() as conn:
            existing = {n for (n,) in conn.execute(sa.select(counters.c.number))}
            now = self.time.now()
            for c in self.config.counters:
                if c.number not in existing:
                    conn.execute(sa.insert(counters).values(
                        number=c.number, state=CounterState.UNSTAFFED.value, updated_at=now))

    # -- estimates --------------------------------------------------------------------------

    def average_service(self, conn: Connection, queue_id: str) -> float:
        """Recent average service time, cached briefly: it moves slowly and every issue needs
        it. Finishing a ticket in this process refreshes it at once."""
        now = self.time.now()
        cached = self._avg_cache.get(queue_id)
        if cached is not None and (now - cached[1]).total_seconds() < AVERAGE_CACHE_SECONDS:
            return cached[0]
        value = average_service_seconds(conn, self.config, queue_id)
        self._avg_cache[queue_id] = (value, now)
        return value

    def forget_average(self, queue_id: str) -> None:
        self._avg_cache.pop(queue_id, None)

    def estimate(self, conn: Connection, queue_id: str, ahead: int,
                 target_counter: int | None = None) -> dict[str, Any]:
        """People ahead and the wait they mean, shared among the open (staffed) windows of the
        queue, or only the named window for a ticket sent there."""
        open_now = open_counters_by_queue(conn, self.config, self.served_queues())[queue_id]
        if target_counter is not None:
            open_now = [target_counter] if _is_open(conn, target_counter) else []
        avg = self.average_service(conn, queue_id)
        return {
            "people_ahead": ahead,
            "estimated_wait_seconds": wait_seconds(ahead, avg, len(open_now)),
            "open_counters": len(open_now),
        }

    # -- the ledger -------------------------------------------------------------------------

    def replay(self, since: int, limit: int) -> list[ledger.Event] | None:
        """Events after `since`, or None when the ledger cannot serve them as a catch-up:
        `since` is ahead of the ledger (a client of an older database) or too far behind."""
        with self.store.read(consistent=True) as conn:
            current = ledger.head(conn)
            if since > current or current - since > limit:
                return None
            return ledger.after(conn, since, limit, upto=current)

    def events_between(self, since: int, upto: int) -> list[ledger.Event]:
        with self.store.read() as conn:
            return ledger.after(conn, since, upto - since, upto=upto)

    def head(self) -> int:
        with self.store.read() as conn:
            return ledger.head(conn)


def _is_open(conn: Connection, number: int) -> bool:
    state = conn.execute(sa.select(counters.c.state).where(counters.c.number == number)).scalar()
    return bool(state == CounterState.OPEN.value)
