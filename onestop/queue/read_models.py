"""What screens, terminals, kiosks and staff pages draw: read-only views of the store.

Public views (queues, windows, a ticket by its token, the snapshot) carry nothing private: no
status token, no account name, no reason typed by staff. Staff views (a window's clerk, a
ticket's history with who did each step, counts per clerk) are served only to staff routes.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from onestop.queue import ledger, policy
from onestop.queue.errors import NotFound
from onestop.queue.estimate import average_service_seconds, open_counters_by_queue, wait_seconds
from onestop.queue.rows import waiting_counts
from onestop.queue.states import AT_WINDOW_STATES, Outcome, TicketState
from onestop.queue.tables import counters, tickets
from onestop.queue.views import counter_view, ticket_view

if TYPE_CHECKING:
    from onestop.queue.engine import QueueEngine


class ReadModels:
    def __init__(self, core: QueueEngine) -> None:
        self.core = core

    # -- one ticket -------------------------------------------------------------------------

    def position(self, conn: Connection, row: Row[Any]) -> dict[str, Any]:
        """People ahead in the ticket's line and the estimated wait, for a waiting ticket (the
        calling policy's own order: see onestop.queue.policy)."""
        core = self.core
        if row.state != TicketState.WAITING.value:
            return {
                "people_ahead": 0,
                "estimated_wait_seconds": 0 if row.state in AT_WINDOW_STATES else None,
                "open_counters": 0,
            }
        ahead = conn.execute(sa.select(sa.func.count()).where(
            policy.ahead_condition(row, core.config.policy, core.time.now()))).scalar_one()
        return core.estimate(conn, row.queue_id, int(ahead), row.target_counter)

    def ticket_status(self, token: str) -> dict[str, Any]:
        core = self.core
        with core.store.read() as conn:
            row = conn.execute(sa.select(tickets).where(tickets.c.token == token)).first()
            if row is None:
                raise NotFound("没有这张号票", "unknown ticket")
            return {**ticket_view(row, core.config, core.time), **self.position(conn, row)}

    def ticket_by_id(self, ticket_id: int) -> dict[str, Any]:
        core = self.core
        with core.store.read() as conn:
            row = conn.execute(sa.select(tickets).where(tickets.c.id == ticket_id)).first()
            if row is None:
                raise NotFound(f"没有这张号票（编号 {ticket_id}）", f"unknown ticket id {ticket_id}")
            return {**ticket_view(row, core.config, core.time), **self.position(conn, row)}

    def find(self, number: str, day: date | None = None) -> dict[str, Any]:
        """A ticket by the number printed on it (A012), of today unless `day` is given."""
        core = self.core
        wanted = (number or "").strip().upper()
        when = day or core.time.service_day()
        with core.store.read() as conn:
            row = conn.execute(sa.select(tickets).where(
                tickets.c.number == wanted, tickets.c.service_day == when)).first()
            if row is None:
                raise NotFound(f"{when.isoformat()} 没有号票 {wanted}",
                               f"there is no ticket {wanted} on {when.isoformat()}")
            return {**ticket_view(row, core.config, core.time), **self.position(conn, row),
                    "closed_reason": row.closed_reason}

    def history(self, ticket_id: int) -> dict[str, Any]:
        """Every step of one ticket, oldest first, with who did it (staff only)."""
        core = self.core
        with core.store.read() as conn:
            row = conn.execute(sa.select(tickets).where(tickets.c.id == ticket_id)).first()
            if row is None:
                raise NotFound(f"没有这张号票（编号 {ticket_id}）", f"unknown ticket id {ticket_id}")
            steps = ledger.of_ticket(conn, ticket_id)
        return {
            "ticket": {**ticket_view(row, core.config, core.time),
                       "closed_reason": row.closed_reason, "reason": row.reason,
                       "channel": row.channel},
            "events": [{
                "seq": e.seq, "type": e.type, "at": core.time.iso(e.at),
                "actor": e.actor.to_json(),
                "state": (e.data.get("ticket") or {}).get("state"),
                "outcome": (e.data.get("ticket") or {}).get("outcome"),
                "counter": (e.data.get("counter") or {}).get("number"),
                "detail": {k: v for k, v in e.data.items()
                           if k not in ("ticket", "counter", "queues")},
                "staff": e.staff or {},
            } for e in steps],
        }

    # -- queues and windows -----------------------------------------------------------------

    def queues(self) -> list[dict[str, Any]]:
        with self.core.store.read() as conn:
            return self.queues_in(conn)

    def queues_in(self, conn: Connection) -> list[dict[str, Any]]:
        core = self.core
        config = core.config
        waiting = waiting_counts(conn, {q.id for q in config.queues})
        open_by_queue = open_counters_by_queue(conn, config, core.served_queues())
        result = []
        for q in config.queues:
            avg = average_service_seconds(conn, config, q.id)
            result.append({
                "id": q.id,
                "prefix": q.prefix,
                "name": q.name,
                "name_en": q.name_en,
                "waiting": waiting[q.id],
                "open_counters": len(open_by_queue[q.id]),
                "counters": open_by_queue[q.id],
                "average_service_seconds": round(avg, 1),
                "estimated_wait_seconds": wait_seconds(waiting[q.id], avg,
                                                       len(open_by_queue[q.id])),
                "services": config.queue_services(q.id),
            })
        return result

    def counters(self, staff: bool = False) -> list[dict[str, Any]]:
        with self.core.store.read() as conn:
            return self.counters_in(conn, staff)

    def counters_in(self, conn: Connection, staff: bool = False) -> list[dict[str, Any]]:
        """Every configured window: state, the ticket at it, served today; `staff` adds who
        sits there (account name) and when their terminal was last heard from."""
        core = self.core
        rows = conn.execute(sa.select(counters).order_by(counters.c.number)).all()
        current_ids = [r.current_ticket_id for r in rows if r.current_ticket_id is not None]
        current = {
            t.id: t for t in conn.execute(sa.select(tickets).where(tickets.c.id.in_(current_ids)))
        }
        today = core.time.service_day()
        served: dict[int, int] = dict(conn.execute(
            sa.select(tickets.c.counter, sa.func.count())
            .where(tickets.c.state == TicketState.DONE.value, tickets.c.service_day == today)
            .group_by(tickets.c.counter)).all())
        result = []
        for r in rows:
            if core.config.counter(r.number) is None:
                continue
            view = counter_view(r, core.config)
            t = current.get(r.current_ticket_id) if r.current_ticket_id else None
            view["ticket"] = (ticket_view(t, core.config, core.time)
                              if t and t.state in AT_WINDOW_STATES else None)
            view["served_today"] = int(served.get(r.number, 0))
            if staff:
                view["clerk_id"] = r.clerk_id
                view["staffed_at"] = core.time.iso(r.staffed_at) if r.staffed_at else None
                view["seen_at"] = core.time.iso(r.seen_at) if r.seen_at else None
                view["last_action"] = r.last_action
                view["last_action_at"] = (core.time.iso(r.last_action_at)
                                          if r.last_action_at else None)
            result.append(view)
        return result

    def recent_calls(self, conn: Connection, limit: int = 10) -> list[dict[str, Any]]:
        core = self.core
        rows = conn.execute(
            sa.select(tickets)
            .where(tickets.c.called_at.is_not(None), tickets.c.counter.is_not(None))
            .order_by(tickets.c.called_at.desc(), tickets.c.id.desc())
            .limit(limit))
        return [ticket_view(r, core.config, core.time) for r in rows]

    def snapshot(self) -> dict[str, Any]:
        """Everything a screen or terminal needs to draw, and the ledger seq it is consistent with."""
        core = self.core
        with core.store.read(consistent=True) as conn:
            return {
                "seq": ledger.head(conn),
                "hall": {"name": core.config.hall.name, "name_en": core.config.hall.name_en},
                "queues": self.queues_in(conn),
                "counters": self.counters_in(conn),
                "recent_calls": self.recent_calls(conn),
            }

    def waiting_for(self, number: int, limit: int = 200) -> list[dict[str, Any]]:
        """Waiting tickets this window may call, in the order "call next" would take them
        (before the fairness guard's occasional normal ticket)."""
        core = self.core
        if core.config.counter(number) is None:
            raise NotFound(f"没有{number}号窗口", f"unknown window {number}")
        with core.store.read() as conn:
            query = policy.next_ticket_query(
                number, core.config.counter_services(number),
                policy.queue_preference(core.config, number), core.config.policy,
                core.time.now(), lock=False, limit=limit)
            return [ticket_view(r, core.config, core.time) for r in conn.execute(query)]

    # -- people -----------------------------------------------------------------------------

    def served_by_clerk(self, day: date | None = None) -> dict[str, dict[str, int]]:
        """Per clerk (account name): tickets finished today by outcome, and no-shows."""
        core = self.core
        when = day or core.time.service_day()
        t = tickets.c
        with core.store.read() as conn:
            rows = conn.execute(
                sa.select(t.clerk_id, t.state, t.outcome, sa.func.count())
                .where(t.service_day == when, t.clerk_id.is_not(None),
                       t.state.in_([TicketState.DONE.value, TicketState.NO_SHOW.value]))
                .group_by(t.clerk_id, t.state, t.outcome)).all()
        result: dict[str, dict[str, int]] = {}
        for clerk, state, outcome, n in rows:
            counts = result.setdefault(clerk, {**{o.value: 0 for o in Outcome},
                                               "served": 0, "no_show": 0})
            if state == TicketState.DONE.value:
                counts["served"] += int(n)
                if outcome in counts:
                    counts[outcome] += int(n)
            else:
                counts["no_show"] += int(n)
        return result
