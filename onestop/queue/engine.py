"""The queue engine: every operation on tickets and windows, one transaction and one event each.

Lock order is always window row → ticket row → ledger head, so concurrent operations on
PostgreSQL can wait for each other but never deadlock; on SQLite the whole write transaction is
serialised by BEGIN IMMEDIATE. Events are published on the bus only after the commit succeeded.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from onestop.queue import ledger, policy
from onestop.queue.bus import EventBus
from onestop.queue.calendar import DayPlan, HallCalendar
from onestop.queue.catalogue import HallConfig, QueueDef, ServiceItem
from onestop.queue.clock import Clock, HallTime
from onestop.queue.coverage import left_uncovered, open_windows
from onestop.queue.errors import HallClosed, InvalidTransition, NotFound, Rejected
from onestop.queue.estimate import (
    average_service_seconds,
    open_counters_by_queue,
    queues_by_counter,
    wait_seconds,
)
from onestop.queue.issuing import check_extension, check_walk_in
from onestop.queue.states import (
    AT_WINDOW_STATES,
    STATE_ZH,
    CounterState,
    Outcome,
    Priority,
    TicketState,
)
from onestop.queue.store import Store
from onestop.queue.tables import counters, day_numbers, hall_days, tickets
from onestop.queue.views import counter_view, ticket_view

MAX_PROMISE_DAYS = 366
AVERAGE_CACHE_SECONDS = 30


def format_number(prefix: str, seq_no: int) -> str:
    return f"{prefix}{seq_no:03d}"


@dataclass
class _Tx:
    """One write transaction and the events it will publish after commit."""

    conn: Connection
    now: datetime
    events: list[ledger.Event]


class QueueEngine:
    def __init__(self, store: Store, config: HallConfig, clock: Clock, bus: EventBus | None = None):
        self.store = store
        self.config = config
        self.time = HallTime(clock, config.hall.timezone)
        self.bus = bus or EventBus()
        self._served = queues_by_counter(config)
        self._avg_cache: dict[str, tuple[float, datetime]] = {}
        self.calendar = HallCalendar(config)

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[_Tx]:
        with self.store.write() as conn:
            tx = _Tx(conn=conn, now=self.time.now(), events=[])
            yield tx
        self.bus.publish(tx.events)

    def _event(self, tx: _Tx, type_: str, data: dict[str, Any]) -> None:
        tx.events.append(ledger.append(tx.conn, type_, tx.now, data))

    def _service(self, service_id: str) -> ServiceItem:
        service = self.config.service(service_id)
        if service is None:
            raise NotFound(f"没有这个事项：{service_id}", f"unknown service item {service_id!r}")
        return service

    def _lock_counter(self, conn: Connection, number: int) -> Row[Any]:
        row = conn.execute(
            sa.select(counters).where(counters.c.number == number).with_for_update()
        ).first()
        if row is None or self.config.counter(number) is None:
            raise NotFound(f"没有{number}号窗口", f"unknown window {number}")
        return row

    def _lock_ticket(self, conn: Connection, ticket_id: int) -> Row[Any]:
        row = conn.execute(
            sa.select(tickets).where(tickets.c.id == ticket_id).with_for_update()
        ).first()
        if row is None:
            raise NotFound(f"没有这张号票（编号 {ticket_id}）", f"unknown ticket id {ticket_id}")
        return row

    def _current(self, conn: Connection, counter: Row[Any]) -> Row[Any] | None:
        """The ticket at the window (called or being served), if any."""
        if counter.current_ticket_id is None:
            return None
        row = self._lock_ticket(conn, counter.current_ticket_id)
        return row if row.state in AT_WINDOW_STATES else None

    def _require_current(self, conn: Connection, counter: Row[Any], *states: str) -> Row[Any]:
        current = self._current(conn, counter)
        if current is None:
            raise InvalidTransition(
                f"{self._counter_name(counter.number)}当前没有号票，请先叫号",
                f"window {counter.number} has no ticket at the moment; call one first",
            )
        if current.state not in states:
            wanted_zh = "、".join(STATE_ZH[TicketState(s)] for s in states)
            raise InvalidTransition(
                f"{current.number} 当前为“{STATE_ZH[TicketState(current.state)]}”，"
                f"此操作只适用于“{wanted_zh}”的号票",
                f"ticket {current.number} is {current.state}; this needs a ticket that is "
                + " or ".join(states),
                ticket=current.number,
                state=current.state,
            )
        return current

    def _counter_name(self, number: int) -> str:
        definition = self.config.counter(number)
        return definition.name if definition else f"{number}号窗口"

    def _waiting_counts(self, conn: Connection, queue_ids: set[str]) -> dict[str, int]:
        rows = conn.execute(
            sa.select(tickets.c.queue_id, sa.func.count())
            .where(tickets.c.state == TicketState.WAITING.value, tickets.c.queue_id.in_(queue_ids))
            .group_by(tickets.c.queue_id)
        )
        counts = dict.fromkeys(queue_ids, 0)
        counts.update({q: int(n) for q, n in rows})
        return counts

    def _ticket_event(
        self,
        tx: _Tx,
        type_: str,
        row: Row[Any],
        counter: Row[Any] | None = None,
        queues: set[str] | None = None,
        counts: dict[str, int] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        view = ticket_view(row, self.config, self.time)
        data: dict[str, Any] = {"ticket": view, **extra}
        if counter is not None:
            data["counter"] = counter_view(counter, self.config)
        data["queues"] = counts or self._waiting_counts(
            tx.conn, (queues or set()) | {row.queue_id}
        )
        self._event(tx, type_, data)
        return view

    def _update_ticket(self, conn: Connection, ticket_id: int, **values: Any) -> Row[Any]:
        return conn.execute(
            sa.update(tickets).where(tickets.c.id == ticket_id).values(**values).returning(tickets)
        ).one()

    def _set_counter(self, conn: Connection, number: int, now: datetime, **values: Any) -> Row[Any]:
        return conn.execute(
            sa.update(counters)
            .where(counters.c.number == number)
            .values(updated_at=now, **values)
            .returning(counters)
        ).one()

    # -- setup ------------------------------------------------------------------------------

    def sync_counters(self) -> None:
        """Create rows for configured windows (open); windows removed from config stay as history."""
        with self.store.write() as conn:
            existing = {n for (n,) in conn.execute(sa.select(counters.c.number))}
            now = self.time.now()
            for c in self.config.counters:
                if c.number not in existing:
                    conn.execute(
                        sa.insert(counters).values(
                            number=c.number, state=CounterState.OPEN.value, updated_at=now
                        )
                    )

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
    ) -> dict[str, Any]:
        """Issue a ticket: the day's next number for the item's queue prefix.

        `request_key` makes the call idempotent: a second request with the same key (a double
        tap, a retried network call) gets the ticket the first one issued, marked `replayed`.
        """
        if request_key is not None:
            existing = self._by_request_key(request_key)
            if existing is not None:
                return existing
        try:
            return self._issue(service_id, priority, reason, channel, kiosk, request_key,
                               print_requested)
        except IntegrityError:
            existing = self._by_request_key(request_key) if request_key else None
            if existing is None:
                raise
            return existing

    def _by_request_key(self, request_key: str) -> dict[str, Any] | None:
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(tickets).where(tickets.c.request_key == request_key)
            ).first()
            if row is None:
                return None
            view = ticket_view(row, self.config, self.time)
            return {**view, **self._position(conn, row), "token": row.token, "replayed": True}

    def _issue(
        self,
        service_id: str,
        priority: Priority,
        reason: str | None,
        channel: str,
        kiosk: str | None,
        request_key: str | None,
        print_requested: bool,
    ) -> dict[str, Any]:
        service = self._service(service_id)
        queue = self.config.queue(service.queue)
        assert queue is not None  # cross_check guarantees it
        if priority is Priority.GREEN and not (reason and reason.strip()):
            raise Rejected(
                "绿色通道号票须注明原因（如老年人、残疾人、孕妇）",
                "a green-channel ticket needs a reason (e.g. elderly, disabled, pregnant)",
            )
        with self._write() as tx:
            day = self.time.service_day(tx.now)
            plan = self._check_hours(queue, tx.now, channel)
            seq_no = self._next_number(tx.conn, day, queue.prefix)
            row = tx.conn.execute(
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
                    sort_at=tx.now,
                    issued_at=tx.now,
                    kiosk=kiosk,
                    request_key=request_key,
                    print_state="pending" if print_requested else "none",
                )
                .returning(tickets)
            ).one()
            t = tickets.c
            waiting, not_behind = tx.conn.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.sum(sa.case((t.priority_rank <= row.priority_rank, 1), else_=0)),
                ).where(t.state == TicketState.WAITING.value, t.queue_id == queue.id)
            ).one()
            # The new ticket is the latest of its class: everyone of its class or better is ahead.
            position = self._estimate(tx.conn, queue.id, int(not_behind or 1) - 1)
            if plan is not None:
                # Everyone waiting before this ticket, with the figures just read (the average is
                # cached); a refusal rolls the ticket and its number back.
                queue_wait = wait_seconds(int(waiting) - 1, self._average_service(tx.conn, queue.id),
                                          position["open_counters"])
                check_extension(self.calendar, plan, queue, tx.now, channel, queue_wait)
            view = self._ticket_event(tx, "ticket.issued", row, counts={queue.id: int(waiting)})
        return {**view, **position, "token": row.token, "replayed": False}

    def _check_hours(self, queue: QueueDef, now: datetime, channel: str) -> DayPlan | None:
        """Refuse a walk-in ticket outside the hall's issuing hours (see issuing.py); the plan
        of the day when the hours are enforced, for the extension check after the insert."""
        if not self.config.hours.enforce:
            return None
        plan = self.calendar.plan(self.time.service_day(now))
        check_walk_in(self.calendar, plan, queue, now, channel)
        return plan

    def issuing(self) -> dict[str, dict[str, Any]]:
        """Per queue: may a walk-in take a ticket now, and if not, what the kiosk should say."""
        result: dict[str, dict[str, Any]] = {}
        now = self.time.now()
        plan = self.calendar.plan(self.time.service_day(now))
        with self.store.read() as conn:
            for queue in self.config.queues:
                cutoff = self.calendar.issue_cutoff(plan, queue)
                entry: dict[str, Any] = {"open": True, "until": cutoff.isoformat() if cutoff
                                         else None, "message": None, "message_en": None}
                try:
                    if self._check_hours(queue, now, "kiosk") is not None:
                        waiting = self._waiting_counts(conn, {queue.id})[queue.id]
                        wait = self._estimate(conn, queue.id, waiting)["estimated_wait_seconds"]
                        check_extension(self.calendar, plan, queue, now, "kiosk", wait)
                except HallClosed as exc:
                    entry.update(open=False, message=exc.message, message_en=exc.message_en)
                result[queue.id] = entry
        return result

    def _next_number(self, conn: Connection, day: date, prefix: str) -> int:
        """Atomically take the next per-day, per-prefix number (upsert … RETURNING)."""
        insert: Any
        if self.store.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(day_numbers).values(service_day=day, prefix=prefix, last=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[day_numbers.c.service_day, day_numbers.c.prefix],
            set_={"last": day_numbers.c.last + 1},
        ).returning(day_numbers.c.last)
        return int(conn.execute(stmt).scalar_one())

    def _position(self, conn: Connection, row: Row[Any]) -> dict[str, Any]:
        """People ahead in the ticket's queue and the estimated wait, for a waiting ticket."""
        if row.state != TicketState.WAITING.value:
            return {
                "people_ahead": 0,
                "estimated_wait_seconds": 0 if row.state in AT_WINDOW_STATES else None,
            }
        t = tickets.c
        ahead = conn.execute(
            sa.select(sa.func.count()).where(
                t.state == TicketState.WAITING.value,
                t.queue_id == row.queue_id,
                sa.or_(
                    t.priority_rank < row.priority_rank,
                    sa.and_(t.priority_rank == row.priority_rank, t.sort_at < row.sort_at),
                    sa.and_(
                        t.priority_rank == row.priority_rank,
                        t.sort_at == row.sort_at,
                        t.id < row.id,
                    ),
                ),
            )
        ).scalar_one()
        return self._estimate(conn, row.queue_id, int(ahead))

    def _estimate(self, conn: Connection, queue_id: str, ahead: int) -> dict[str, Any]:
        open_now = open_counters_by_queue(conn, self.config, self._served)[queue_id]
        avg = self._average_service(conn, queue_id)
        return {
            "people_ahead": ahead,
            "estimated_wait_seconds": wait_seconds(ahead, avg, len(open_now)),
            "open_counters": len(open_now),
        }

    def _average_service(self, conn: Connection, queue_id: str) -> float:
        """Recent average service time, cached briefly: it moves slowly and every issue needs
        it. Finishing a ticket in this process refreshes it at once."""
        now = self.time.now()
        cached = self._avg_cache.get(queue_id)
        if cached is not None and (now - cached[1]).total_seconds() < AVERAGE_CACHE_SECONDS:
            return cached[0]
        value = average_service_seconds(conn, self.config, queue_id)
        self._avg_cache[queue_id] = (value, now)
        return value

    def cancel(self, token: str) -> dict[str, Any]:
        """The resident (or the desk on their behalf) gives up a ticket that is not yet served."""
        with self._write() as tx:
            found = tx.conn.execute(
                sa.select(tickets.c.id, tickets.c.counter).where(tickets.c.token == token)
            ).first()
            if found is None:
                raise NotFound("没有这张号票", "unknown ticket")
            if found.counter is not None:
                self._lock_counter(tx.conn, found.counter)
            row = self._lock_ticket(tx.conn, found.id)
            if row.state not in (TicketState.WAITING.value, TicketState.CALLED.value):
                raise InvalidTransition(
                    f"{row.number} 当前为“{STATE_ZH[TicketState(row.state)]}”，不能取消",
                    f"ticket {row.number} is {row.state} and can no longer be cancelled",
                )
            cancelled = self._update_ticket(
                tx.conn, row.id, state=TicketState.CANCELLED.value, finished_at=tx.now
            )
            counter = None
            if row.state == TicketState.CALLED.value and row.counter is not None:
                counter = self._set_counter(tx.conn, row.counter, tx.now, current_ticket_id=None)
            result = {"ticket": self._ticket_event(tx, "ticket.cancelled", cancelled, counter)}
            if counter is not None:
                self._window_freed(tx, counter)
            return result

    def record_print(self, ticket_id: int, printed: bool, state: str, message: str) -> None:
        """The kiosk's printer finished (or gave up on) a ticket; only `printed` counts it."""
        with self._write() as tx:
            row = self._lock_ticket(tx.conn, ticket_id)
            updated = self._update_ticket(
                tx.conn, row.id, print_state="printed" if printed else "failed",
                printed_at=tx.now if printed else None,
            )
            self._ticket_event(
                tx, "ticket.printed" if printed else "ticket.print_failed", updated,
                kiosk=row.kiosk, printer_state=state, message=message,
            )

    def record(self, type_: str, change: Callable[[Connection, datetime], dict[str, Any]]
               ) -> dict[str, Any]:
        """Run `change(conn, now)` and log what it returns as one ledger event, atomically.

        For hall data kept beside the queue (notices, rotas): their writes get the same
        guarantee as ticket changes, and screens hear of them on the same stream."""
        with self._write() as tx:
            data = change(tx.conn, tx.now)
            self._event(tx, type_, data)
            return data

    def waiting_for(self, number: int, limit: int = 200) -> list[dict[str, Any]]:
        """Waiting tickets this window may call, in the order "call next" would take them
        (before the fairness guard's occasional normal ticket)."""
        if self.config.counter(number) is None:
            raise NotFound(f"没有{number}号窗口", f"unknown window {number}")
        with self.store.read() as conn:
            query = policy.next_ticket_query(
                number, self.config.counter_services(number), self.config.policy,
                self.time.now(), lock=False, limit=limit,
            )
            return [ticket_view(r, self.config, self.time) for r in conn.execute(query)]

    def record_device(self, device: str, kind: str, state: str, ok: bool, message: str) -> None:
        """A device changed health (printer out of paper, LED bus unplugged): into the ledger,
        so staff screens hear of it and the day's record keeps it."""
        with self._write() as tx:
            self._event(tx, "device.status", {"device": device, "kind": kind, "state": state,
                                              "ok": ok, "message": message})

    # -- windows ----------------------------------------------------------------------------

    def call_next(self, number: int) -> dict[str, Any] | None:
        """Call the best waiting ticket for this window, or None when nobody waits for it."""
        with self._write() as tx:
            counter = self._lock_counter(tx.conn, number)
            self._require_free(tx.conn, counter)
            services = self.config.counter_services(number)
            cfg = self.config.policy
            row = None
            if policy.guard_applies(counter.priority_streak, cfg):
                row = tx.conn.execute(
                    policy.next_ticket_query(number, services, cfg, tx.now, normal_only=True)
                ).first()
            if row is None:
                row = tx.conn.execute(policy.next_ticket_query(number, services, cfg, tx.now)).first()
            if row is None:
                return None
            return self._call(tx, counter, row)

    def call(self, number: int, ticket_id: int) -> dict[str, Any]:
        """Call one particular waiting ticket (e.g. a resident who came back after a no-show)."""
        with self._write() as tx:
            counter = self._lock_counter(tx.conn, number)
            self._require_free(tx.conn, counter)
            row = self._lock_ticket(tx.conn, ticket_id)
            if row.state != TicketState.WAITING.value:
                raise InvalidTransition(
                    f"{row.number} 当前为“{STATE_ZH[TicketState(row.state)]}”，只能呼叫等候中的号票",
                    f"ticket {row.number} is {row.state}; only waiting tickets can be called",
                )
            directed = row.target_counter
            if directed is not None and directed != number:
                raise Rejected(
                    f"{row.number} 已转给{self._counter_name(directed)}办理",
                    f"ticket {row.number} was transferred to window {directed}",
                )
            if directed is None and row.service_id not in self.config.counter_services(number):
                raise Rejected(
                    f"{self._counter_name(number)}不办理“{self._service(row.service_id).name}”",
                    f"window {number} does not serve {row.service_id!r}",
                )
            return self._call(tx, counter, row)

    def _require_free(self, conn: Connection, counter: Row[Any]) -> None:
        if counter.state == CounterState.PAUSED.value:
            raise InvalidTransition(
                f"{self._counter_name(counter.number)}已暂停（{counter.pause_reason}），请先恢复服务",
                f"window {counter.number} is paused ({counter.pause_reason}); resume it first",
            )
        current = self._current(conn, counter)
        if current is not None:
            raise InvalidTransition(
                f"{self._counter_name(counter.number)}还有号票 {current.number}"
                f"（{STATE_ZH[TicketState(current.state)]}），请先办结、标记过号或转出",
                f"window {counter.number} still has ticket {current.number} ({current.state}); "
                "finish it, mark it a no-show or transfer it first",
                ticket=current.number,
            )

    def _call(self, tx: _Tx, counter: Row[Any], row: Row[Any]) -> dict[str, Any]:
        waited = int((tx.now - row.sort_at).total_seconds())
        called = self._update_ticket(
            tx.conn,
            row.id,
            state=TicketState.CALLED.value,
            called_at=tx.now,
            counter=counter.number,
            target_counter=None,
            wait_seconds=waited,
        )
        window = self._set_counter(
            tx.conn,
            counter.number,
            tx.now,
            current_ticket_id=row.id,
            priority_streak=policy.next_streak(counter.priority_streak, row.priority_rank),
        )
        return {"ticket": self._ticket_event(tx, "ticket.called", called, window)}

    def recall(self, number: int) -> dict[str, Any]:
        with self._write() as tx:
            counter = self._lock_counter(tx.conn, number)
            row = self._require_current(tx.conn, counter, TicketState.CALLED.value)
            recalled = self._update_ticket(tx.conn, row.id, recall_count=tickets.c.recall_count + 1)
            return {"ticket": self._ticket_event(tx, "ticket.recalled", recalled, counter)}

    def start(self, number: int) -> dict[str, Any]:
        with self._write() as tx:
            counter = self._lock_counter(tx.conn, number)
            row = self._require_current(tx.conn, counter, TicketState.CALLED.value)
            serving = self._update_ticket(
                tx.conn, row.id, state=TicketState.SERVING.value, started_at=tx.now
            )
            return {"ticket": self._ticket_event(tx, "ticket.serving", serving, counter)}

    def finish(
        self,
        number: int,
        outcome: Outcome,
        promised_date: date | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Record the outcome: 即办件, 承诺件 (with its promised date) or 咨询件."""
        with self._write() as tx:
            today = self.time.service_day(tx.now)
            self._check_promise(outcome, promised_date, today)
            counter = self._lock_counter(tx.conn, number)
            row = self._require_current(tx.conn, counter, TicketState.SERVING.value)
            served = int((tx.now - row.started_at).total_seconds()) if row.started_at else None
            done = self._update_ticket(
                tx.conn,
                row.id,
                state=TicketState.DONE.value,
                finished_at=tx.now,
                outcome=outcome.value,
                promised_date=promised_date,
                note=note,
                service_seconds=served,
            )
            window = self._set_counter(tx.conn, number, tx.now, current_ticket_id=None)
            self._avg_cache.pop(done.queue_id, None)
            result = {"ticket": self._ticket_event(tx, "ticket.finished", done, window)}
            self._window_freed(tx, window)
            return result

    @staticmethod
    def _check_promise(outcome: Outcome, promised: date | None, today: date) -> None:
        if outcome is Outcome.COMMITTED:
            if promised is None:
                raise Rejected(
                    "承诺件须填写承诺办结日期", "a committed case needs its promised date"
                )
            if promised < today:
                raise Rejected(
                    "承诺办结日期不能早于今天", "the promised date cannot be in the past"
                )
            if (promised - today).days > MAX_PROMISE_DAYS:
                raise Rejected(
                    "承诺办结日期超过一年，请核对", "the promised date is over a year away"
                )
        elif promised is not None:
            raise Rejected(
                "只有承诺件需要承诺办结日期", "only a committed case takes a promised date"
            )

    def no_show(self, number: int) -> dict[str, Any]:
        with self._write() as tx:
            counter = self._lock_counter(tx.conn, number)
            row = self._require_current(tx.conn, counter, TicketState.CALLED.value)
            missed = self._update_ticket(
                tx.conn, row.id, state=TicketState.NO_SHOW.value, finished_at=tx.now
            )
            window = self._set_counter(tx.conn, number, tx.now, current_ticket_id=None)
            result = {"ticket": self._ticket_event(tx, "ticket.no_show", missed, window)}
            self._window_freed(tx, window)
            return result

    def transfer(
        self,
        number: int,
        to_service: str | None = None,
        to_queue: str | None = None,
        to_counter: int | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Send the current resident on, keeping the number and the place by first issue time."""
        given = [x for x in (to_service, to_queue, to_counter) if x is not None]
        if len(given) != 1:
            raise Rejected(
                "请选择一个转办目标：事项、队列或窗口（只选一个）",
                "give exactly one transfer target: a service, a queue or a window",
            )
        with self._write() as tx:
            counter = self._lock_counter(tx.conn, number)
            row = self._require_current(
                tx.conn, counter, TicketState.CALLED.value, TicketState.SERVING.value
            )
            service_id, target = self._transfer_target(
                number, row, to_service, to_queue, to_counter
            )
            new_queue = self._service(service_id).queue
            moved = self._update_ticket(
                tx.conn,
                row.id,
                state=TicketState.WAITING.value,
                service_id=service_id,
                queue_id=new_queue,
                counter=None,
                target_counter=target,
                called_at=None,
                started_at=None,
                transfer_count=tickets.c.transfer_count + 1,
                note=note,
            )
            window = self._set_counter(tx.conn, number, tx.now, current_ticket_id=None)
            view = self._ticket_event(
                tx,
                "ticket.transferred",
                moved,
                window,
                queues={row.queue_id},
                transfer={
                    "from_counter": number,
                    "from_service": row.service_id,
                    "from_queue": row.queue_id,
                    "to_service": service_id,
                    "to_queue": new_queue,
                    "to_counter": target,
                    "note": note,
                },
            )
            self._window_freed(tx, window)
            return {"ticket": view}

    def _transfer_target(
        self,
        number: int,
        row: Row[Any],
        to_service: str | None,
        to_queue: str | None,
        to_counter: int | None,
    ) -> tuple[str, int | None]:
        if to_service is not None:
            return self._service(to_service).id, None
        if to_queue is not None:
            items = self.config.queue_services(to_queue)
            if not items:
                raise NotFound(f"没有这个队列：{to_queue}", f"unknown queue {to_queue!r}")
            # Keep the item when it belongs to the new queue; otherwise the queue's first item.
            return (row.service_id if row.service_id in items else items[0]), None
        assert to_counter is not None
        if self.config.counter(to_counter) is None:
            raise NotFound(f"没有{to_counter}号窗口", f"unknown window {to_counter}")
        if to_counter == number:
            raise Rejected("不能转给本窗口", "a ticket cannot be transferred to its own window")
        return row.service_id, to_counter

    @staticmethod
    def _pause_reason(reason: str) -> str:
        reason = (reason or "").strip()
        if not reason:
            raise Rejected(
                "请填写暂停原因（如午餐、会议、后台办理）",
                "give a reason to pause (e.g. lunch, meeting, back office)",
            )
        return reason

    def pause(self, number: int, reason: str, until: datetime | None = None) -> dict[str, Any]:
        """Pause a free window; refused while it is the last open window for one of its items."""
        reason = self._pause_reason(reason)
        with self._write() as tx:
            counter = self._lock_counter(tx.conn, number)
            if counter.state == CounterState.PAUSED.value:
                raise InvalidTransition(
                    f"{self._counter_name(number)}已经暂停", f"window {number} is already paused"
                )
            current = self._current(tx.conn, counter)
            if current is not None:
                raise InvalidTransition(
                    f"请先办结或转出当前号票 {current.number}，再暂停",
                    f"finish or transfer ticket {current.number} before pausing",
                    ticket=current.number,
                )
            service = self._uncovered(tx, number)
            if service is not None:
                item = self._service(service)
                raise InvalidTransition(
                    f"{self._counter_name(number)}是目前唯一可办理“{item.name}”的窗口，"
                    "暂停后该事项将无人受理，请等其他窗口恢复后再暂停",
                    f"window {number} is the only open window for {item.name_en}; pausing it "
                    "would leave that item with no open window",
                    service=service,
                )
            return self._pause_now(tx, number, reason, until)

    def pause_when_free(self, number: int, reason: str, until: datetime | None = None
                        ) -> dict[str, Any]:
        """A scheduled break (lunch): pause at once if nobody is at the window, else as soon as
        the resident leaves; while pausing would leave an item with no open window, the pause
        waits (the window keeps serving)."""
        reason = self._pause_reason(reason)
        with self._write() as tx:
            counter = self._lock_counter(tx.conn, number)
            if counter.state == CounterState.PAUSED.value:
                return {"counter": counter_view(counter, self.config)}
            if self._current(tx.conn, counter) is None and self._uncovered(tx, number) is None:
                return self._pause_now(tx, number, reason, until)
            window = self._set_counter(tx.conn, number, tx.now, pending_pause=reason,
                                       pause_until=until)
            return self._counter_event(tx, "counter.pause_pending", window)

    def cancel_pending_pause(self, number: int) -> dict[str, Any] | None:
        """The break's time is over before it could start: the window simply stays open."""
        with self._write() as tx:
            counter = self._lock_counter(tx.conn, number)
            if counter.pending_pause is None:
                return None
            window = self._set_counter(tx.conn, number, tx.now, pending_pause=None,
                                       pause_until=None)
            return self._counter_event(tx, "counter.resumed", window)

    def _pause_now(self, tx: _Tx, number: int, reason: str, until: datetime | None
                   ) -> dict[str, Any]:
        window = self._set_counter(tx.conn, number, tx.now, state=CounterState.PAUSED.value,
                                   pause_reason=reason, pause_until=until, pending_pause=None)
        return self._counter_event(tx, "counter.paused", window)

    def _window_freed(self, tx: _Tx, window: Row[Any]) -> None:
        """The resident left: a pending break starts now, if every item stays covered."""
        if window.pending_pause is not None and self._uncovered(tx, window.number) is None:
            self._pause_now(tx, window.number, window.pending_pause, window.pause_until)

    def _uncovered(self, tx: _Tx, number: int) -> str | None:
        """The item pausing this window would leave with no open window, while the hall is in
        service today (from early opening until the day is closed)."""
        plan = self.calendar.plan(self.time.service_day(tx.now))
        if plan.early_open_at is None or tx.now < plan.early_open_at:
            return None
        closed = tx.conn.execute(
            sa.select(hall_days.c.closed_at).where(hall_days.c.service_day == plan.day)
        ).scalar()
        if closed is not None:
            return None
        return left_uncovered(self.config, open_windows(tx.conn), number)

    def resume(self, number: int) -> dict[str, Any]:
        with self._write() as tx:
            counter = self._lock_counter(tx.conn, number)
            if counter.state != CounterState.PAUSED.value:
                raise InvalidTransition(
                    f"{self._counter_name(number)}未暂停", f"window {number} is not paused"
                )
            window = self._set_counter(
                tx.conn, number, tx.now, state=CounterState.OPEN.value, pause_reason=None,
                pause_until=None, pending_pause=None,
            )
            return self._counter_event(tx, "counter.resumed", window)

    def _counter_event(self, tx: _Tx, type_: str, row: Row[Any]) -> dict[str, Any]:
        view = counter_view(row, self.config)
        self._event(tx, type_, {"counter": view})
        return {"counter": view}

    # -- reads ------------------------------------------------------------------------------

    def ticket_status(self, token: str) -> dict[str, Any]:
        with self.store.read() as conn:
            row = conn.execute(sa.select(tickets).where(tickets.c.token == token)).first()
            if row is None:
                raise NotFound("没有这张号票", "unknown ticket")
            return {**ticket_view(row, self.config, self.time), **self._position(conn, row)}

    def ticket_by_id(self, ticket_id: int) -> dict[str, Any]:
        with self.store.read() as conn:
            row = conn.execute(sa.select(tickets).where(tickets.c.id == ticket_id)).first()
            if row is None:
                raise NotFound(
                    f"没有这张号票（编号 {ticket_id}）", f"unknown ticket id {ticket_id}"
                )
            return ticket_view(row, self.config, self.time)

    def queues(self) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            return self._queues(conn)

    def _queues(self, conn: Connection) -> list[dict[str, Any]]:
        waiting = self._waiting_counts(conn, {q.id for q in self.config.queues})
        open_by_queue = open_counters_by_queue(conn, self.config, self._served)
        result = []
        for q in self.config.queues:
            avg = average_service_seconds(conn, self.config, q.id)
            result.append(
                {
                    "id": q.id,
                    "prefix": q.prefix,
                    "name": q.name,
                    "name_en": q.name_en,
                    "waiting": waiting[q.id],
                    "open_counters": len(open_by_queue[q.id]),
                    "counters": open_by_queue[q.id],
                    "average_service_seconds": round(avg, 1),
                    "estimated_wait_seconds": wait_seconds(
                        waiting[q.id], avg, len(open_by_queue[q.id])
                    ),
                    "services": self.config.queue_services(q.id),
                }
            )
        return result

    def counters(self) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            return self._counters(conn)

    def _counters(self, conn: Connection) -> list[dict[str, Any]]:
        rows = conn.execute(sa.select(counters).order_by(counters.c.number)).all()
        current_ids = [r.current_ticket_id for r in rows if r.current_ticket_id is not None]
        current = {
            t.id: t for t in conn.execute(sa.select(tickets).where(tickets.c.id.in_(current_ids)))
        }
        today = self.time.service_day()
        served: dict[int, int] = dict(
            conn.execute(
                sa.select(tickets.c.counter, sa.func.count())
                .where(tickets.c.state == TicketState.DONE.value, tickets.c.service_day == today)
                .group_by(tickets.c.counter)
            ).all()
        )
        result = []
        for r in rows:
            if self.config.counter(r.number) is None:
                continue
            view = counter_view(r, self.config)
            t = current.get(r.current_ticket_id) if r.current_ticket_id else None
            view["ticket"] = (
                ticket_view(t, self.config, self.time)
                if t and t.state in AT_WINDOW_STATES
                else None
            )
            view["served_today"] = int(served.get(r.number, 0))
            result.append(view)
        return result

    def recent_calls(self, conn: Connection, limit: int = 10) -> list[dict[str, Any]]:
        rows = conn.execute(
            sa.select(tickets)
            .where(tickets.c.called_at.is_not(None), tickets.c.counter.is_not(None))
            .order_by(tickets.c.called_at.desc(), tickets.c.id.desc())
            .limit(limit)
        )
        return [ticket_view(r, self.config, self.time) for r in rows]

    def snapshot(self) -> dict[str, Any]:
        """Everything a screen or terminal needs to draw, and the ledger seq it is consistent with."""
        with self.store.read(consistent=True) as conn:
            return {
                "seq": ledger.head(conn),
                "hall": {"name": self.config.hall.name, "name_en": self.config.hall.name_en},
                "queues": self._queues(conn),
                "counters": self._counters(conn),
                "recent_calls": self.recent_calls(conn),
            }

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
