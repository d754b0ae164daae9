"""Issuing tickets: the residents' side of a ticket's life (kiosk, desk, appointment check-in),
their own cancellation, and the printer's report on each printed ticket.

A ticket's number is the day's next for its queue's prefix, taken atomically; a request key
makes issuing idempotent (a double tap, a retried request get the first ticket back). Outside
the hall's hours, or past the cut-off, walk-in tickets are refused with words a resident reads.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from onestop.queue.actors import Actor
from onestop.queue.calendar import DayPlan
from onestop.queue.catalogue import QueueDef
from onestop.queue.errors import HallClosed, NotFound, Rejected
from onestop.queue.estimate import wait_seconds
from onestop.queue.issuing import check_extension, check_walk_in
from onestop.queue.rows import lock_ticket, ticket_event, update_ticket, waiting_counts
from onestop.queue.states import Priority, TicketState
from onestop.queue.store import upsert
from onestop.queue.tables import day_numbers, tickets
from onestop.queue.unit import Work
from onestop.queue.views import ticket_view

if TYPE_CHECKING:
    from onestop.queue.engine import QueueEngine


def format_number(prefix: str, seq_no: int) -> str:
    return f"{prefix}{seq_no:03d}"


class IssueCommands:
    def __init__(self, core: QueueEngine) -> None:
        self.core = core

    # -- residents' side --------------------------------------------------------------------

    def issue(
        self,
        service_id: str,
        priority: Priority = Priority.NORMAL,
        reason: str | None = None,
        channel: str = "kiosk",
        kiosk: str | None = None,
        request_key: str | None = None,
        print_requested: bool = False,
        *,
        actor: Actor,
    ) -> dict[str, Any]:
        """Issue a ticket: the day's next number for the item's queue prefix.

        `request_key` makes the call idempotent: a second request with the same key (a double
        tap, a retried network call) gets the ticket the first one issued, marked `replayed`.
        """
        if request_key is not None:
            existing = self.by_request_key(request_key)
            if existing is not None:
                return existing
        try:
            with self.core.unit(actor) as work:
                return self.issue_in(work, service_id, priority, reason, channel, kiosk,
                                     request_key, print_requested)
        except IntegrityError:
            existing = self.by_request_key(request_key) if request_key else None
            if existing is None:
                raise
            return existing

    def by_request_key(self, request_key: str) -> dict[str, Any] | None:
        core = self.core
        with core.store.read() as conn:
            row = conn.execute(
                sa.select(tickets).where(tickets.c.request_key == request_key)
            ).first()
            if row is None:
                return None
            view = ticket_view(row, core.config, core.time)
            return {**view, **core.reads.position(conn, row), "token": row.token,
                    "replayed": True}

    def issue_in(
        self,
        work: Work,
        service_id: str,
        priority: Priority = Priority.NORMAL,
        reason: str | None = None,
        channel: str = "kiosk",
        kiosk: str | None = None,
        request_key: str | None = None,
        print_requested: bool = False,
        rank_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Issue inside an existing unit of work (an appointment check-in issues its ticket and
        marks the booking in one transaction). `rank_at`: where the ticket ranks in its line,
        the slot start for an appointment; the issue time otherwise."""
        core = self.core
        service = core.service(service_id)
        queue = core.config.queue(service.queue)
        assert queue is not None  # cross_check guarantees it
        if priority is Priority.GREEN and not (reason and reason.strip()):
            raise Rejected(
                "绿色通道号票须注明原因（如老年人、残疾人、孕妇）",
                "a green-channel ticket needs a reason (e.g. elderly, disabled, pregnant)",
            )
        day = core.time.service_day(work.now)
        plan = self._check_hours(queue, work.now, channel)
        seq_no = self._next_number(work.conn, day, queue.prefix)
        row = work.conn.execute(
            sa.insert(tickets)
            .values(
                token=secrets.token_urlsafe(12),
                number=format_number(queue.prefix, seq_no),
                prefix=queue.prefix,
                seq_no=seq_no,
                service_day=day,
                service_id=service.id,
                queue_id=queue.id,
                priority=priority.value,
                priority_rank=priority.rank,
                reason=reason.strip() if reason else None,
                channel=channel,
                state=TicketState.WAITING.value,
                sort_at=rank_at or work.now,
                issued_at=work.now,
                kiosk=kiosk,
                request_key=request_key,
                print_state="pending" if print_requested else "none",
            )
            .returning(tickets)
        ).one()
        position = core.reads.position(work.conn, row)
        waiting = waiting_counts(work.conn, {queue.id})[queue.id]
        if plan is not None:
            # Everyone waiting before this ticket; a refusal rolls the ticket and its number back.
            queue_wait = wait_seconds(waiting - 1, core.average_service(work.conn, queue.id),
                                      position["open_counters"])
            check_extension(core.calendar, plan, queue, work.now, channel, queue_wait)
        view = ticket_event(core, work, "ticket.issued", row, counts={queue.id: waiting})
        return {**view, **position, "token": row.token, "replayed": False}

    def _check_hours(self, queue: QueueDef, now: datetime, channel: str) -> DayPlan | None:
        """Refuse a walk-in ticket outside the hall's issuing hours (see issuing.py); the plan
        of the day when the hours are enforced, for the extension check after the insert."""
        core = self.core
        if not core.config.hours.enforce:
            return None
        plan = core.calendar.plan(core.time.service_day(now))
        check_walk_in(core.calendar, plan, queue, now, channel)
        return plan

    def issuing(self) -> dict[str, dict[str, Any]]:
        """Per queue: may a walk-in take a ticket now, and if not, what the kiosk should say."""
        core = self.core
        result: dict[str, dict[str, Any]] = {}
        now = core.time.now()
        plan = core.calendar.plan(core.time.service_day(now))
        with core.store.read() as conn:
            for queue in core.config.queues:
                cutoff = core.calendar.issue_cutoff(plan, queue)
                entry: dict[str, Any] = {"open": True, "until": cutoff.isoformat() if cutoff
                                         else None, "message": None, "message_en": None}
                try:
                    if self._check_hours(queue, now, "kiosk") is not None:
                        waiting = waiting_counts(conn, {queue.id})[queue.id]
                        wait = core.estimate(conn, queue.id, waiting)["estimated_wait_seconds"]
                        check_extension(core.calendar, plan, queue, now, "kiosk", wait)
                except HallClosed as exc:
                    entry.update(open=False, message=exc.message, message_en=exc.message_en)
                result[queue.id] = entry
        return result

    def _next_number(self, conn: Connection, day: date, prefix: str) -> int:
        """Atomically take the next per-day, per-prefix number (upsert … RETURNING)."""
        insert = upsert(self.core.store.dialect)
        stmt = insert(day_numbers).values(service_day=day, prefix=prefix, last=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[day_numbers.c.service_day, day_numbers.c.prefix],
            set_={"last": day_numbers.c.last + 1},
        ).returning(day_numbers.c.last)
        return int(conn.execute(stmt).scalar_one())

    def cancel(self, token: str, *, actor: Actor) -> dict[str, Any]:
        """The resident (or the desk on their behalf) gives up a ticket that is not yet served."""
        core = self.core
        with core.store.read() as conn:
            found = conn.execute(
                sa.select(tickets.c.id, tickets.c.counter).where(tickets.c.token == token)
            ).first()
        if found is None:
            raise NotFound("没有这张号票", "unknown ticket")
        return core.corrections.cancel(int(found.id), actor=actor, reason=None)

    def record_print(self, ticket_id: int, printed: bool, state: str, message: str, *,
                     actor: Actor) -> None:
        """The kiosk's printer finished (or gave up on) a ticket; only `printed` counts it."""
        core = self.core
        with core.unit(actor) as work:
            row = lock_ticket(work, ticket_id)
            updated = update_ticket(
                work, row.id, print_state="printed" if printed else "failed",
                printed_at=work.now if printed else None,
            )
            ticket_event(core, work, "ticket.printed" if printed else "ticket.print_failed",
                         updated, kiosk=row.kiosk, printer_state=state, message=message)
