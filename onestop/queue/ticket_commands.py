"""A ticket's life at the window: called, recalled, served, finished, missed, sent on.

Each command is one unit of work with one ledger event (plus a break starting, when the window
had one waiting for its resident to leave). Who may act at a window is checked here too: a
window nobody sits at calls nobody, and a clerk acts only where they are signed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from onestop.queue import policy
from onestop.queue.actors import Actor
from onestop.queue.errors import InvalidTransition, NotFound, NotStaffed, Rejected
from onestop.queue.rows import (
    current,
    lock_counter,
    lock_ticket,
    require_at_window,
    require_current,
    set_counter,
    ticket_event,
    update_ticket,
)
from onestop.queue.states import (
    STATE_ZH,
    CounterState,
    Outcome,
    TicketState,
)
from onestop.queue.tables import counters, tickets
from onestop.queue.ticket_issue import IssueCommands
from onestop.queue.unit import Work

if TYPE_CHECKING:
    pass

MAX_PROMISE_DAYS = 366


class TicketCommands(IssueCommands):
    """At the window: call, recall, start, finish, no-show, transfer (issuing is inherited from
    IssueCommands, in onestop.queue.ticket_issue)."""

    # -- at the window ----------------------------------------------------------------------

    @contextmanager
    def window_unit(self, number: int, actor: Actor) -> Iterator[tuple[Work, Row[Any], dict[str, Any]]]:
        """A unit of work at one window: the window row locked, the caller checked to be able
        to act there. When a break waits for this window's resident to leave, the hall lock is
        taken first (lock order), so the break can start in the same transaction."""
        core = self.core
        with core.store.read() as conn:
            pending = conn.execute(sa.select(counters.c.pending_pause)
                                   .where(counters.c.number == number)).scalar()
        with core.unit(actor) as work:
            if pending is not None:
                work.lock_hall()
            counter = lock_counter(core, work, number)
            touch = require_at_window(core, work, counter)
            yield work, counter, touch

    def call_next(self, number: int, *, actor: Actor) -> dict[str, Any] | None:
        """Call the best waiting ticket for this window, or None when nobody waits for it."""
        core = self.core
        with self.window_unit(number, actor) as (work, counter, touch):
            self._require_free(work, counter)
            services = core.config.counter_services(number)
            queues = policy.queue_preference(core.config, number)
            cfg = core.config.policy
            row = None
            if policy.guard_applies(counter.priority_streak, cfg):
                row = work.conn.execute(policy.next_ticket_query(
                    number, services, queues, cfg, work.now, normal_only=True)).first()
            if row is None:
                row = work.conn.execute(policy.next_ticket_query(
                    number, services, queues, cfg, work.now)).first()
            if row is None:
                if touch:
                    set_counter(work, number, **touch)
                return None
            return self._call(work, counter, row, touch)

    def call(self, number: int, ticket_id: int, *, actor: Actor) -> dict[str, Any]:
        """Call one particular waiting ticket (e.g. a resident who came back after a no-show)."""
        core = self.core
        with self.window_unit(number, actor) as (work, counter, touch):
            self._require_free(work, counter)
            row = lock_ticket(work, ticket_id)
            if row.state != TicketState.WAITING.value:
                raise InvalidTransition(
                    f"{row.number} 当前为“{STATE_ZH[TicketState(row.state)]}”，只能呼叫等候中的号票",
                    f"ticket {row.number} is {row.state}; only waiting tickets can be called",
                )
            directed = row.target_counter
            if directed is not None and directed != number:
                raise Rejected(
                    f"{row.number} 已转给{core.counter_name(directed)}办理",
                    f"ticket {row.number} was transferred to window {directed}",
                )
            if directed is None and row.service_id not in core.config.counter_services(number):
                raise Rejected(
                    f"{core.counter_name(number)}不办理“{core.service(row.service_id).name}”",
                    f"window {number} does not serve {row.service_id!r}",
                )
            return self._call(work, counter, row, touch)

    def _require_free(self, work: Work, counter: Row[Any]) -> None:
        name = self.core.counter_name(counter.number)
        if counter.state == CounterState.PAUSED.value:
            raise InvalidTransition(
                f"{name}已暂停（{counter.pause_reason}），请先恢复服务",
                f"window {counter.number} is paused ({counter.pause_reason}); resume it first",
            )
        at_window = current(work, counter)
        if at_window is not None:
            raise InvalidTransition(
                f"{name}还有号票 {at_window.number}"
                f"（{STATE_ZH[TicketState(at_window.state)]}），请先办结、标记过号或转出",
                f"window {counter.number} still has ticket {at_window.number} "
                f"({at_window.state}); finish it, mark it a no-show or transfer it first",
                ticket=at_window.number,
            )

    def _call(self, work: Work, counter: Row[Any], row: Row[Any], touch: dict[str, Any]
              ) -> dict[str, Any]:
        waited = max(0, int((work.now - row.issued_at).total_seconds()))
        called = update_ticket(
            work, row.id, state=TicketState.CALLED.value, called_at=work.now,
            counter=counter.number, target_counter=None, wait_seconds=waited,
            clerk_id=counter.clerk_id,
        )
        window = set_counter(
            work, counter.number, current_ticket_id=row.id,
            priority_streak=policy.next_streak(counter.priority_streak, row.priority_rank),
            last_ticket_id=None, last_action=None, last_action_at=None, **touch,
        )
        return {"ticket": ticket_event(self.core, work, "ticket.called", called, window)}

    def recall(self, number: int, *, actor: Actor) -> dict[str, Any]:
        core = self.core
        with self.window_unit(number, actor) as (work, counter, touch):
            row = require_current(core, work, counter, TicketState.CALLED.value)
            recalled = update_ticket(work, row.id, recall_count=tickets.c.recall_count + 1)
            window = set_counter(work, number, **touch) if touch else counter
            return {"ticket": ticket_event(core, work, "ticket.recalled", recalled, window)}

    def start(self, number: int, *, actor: Actor) -> dict[str, Any]:
        core = self.core
        with self.window_unit(number, actor) as (work, counter, touch):
            row = require_current(core, work, counter, TicketState.CALLED.value)
            serving = update_ticket(work, row.id, state=TicketState.SERVING.value,
                                    started_at=work.now)
            window = set_counter(work, number, **touch) if touch else counter
            return {"ticket": ticket_event(core, work, "ticket.serving", serving, window)}

    def finish(
        self,
        number: int,
        outcome: Outcome,
        promised_date: date | None = None,
        note: str | None = None,
        *,
        actor: Actor,
    ) -> dict[str, Any]:
        """Record the outcome: 即办件, 承诺件 (with its promised date) or 咨询件."""
        core = self.core
        with self.window_unit(number, actor) as (work, counter, touch):
            _check_promise(outcome, promised_date, core.time.service_day(work.now))
            row = require_current(core, work, counter, TicketState.SERVING.value)
            served = int((work.now - row.started_at).total_seconds()) if row.started_at else None
            done = update_ticket(
                work, row.id, state=TicketState.DONE.value, finished_at=work.now,
                outcome=outcome.value, promised_date=promised_date, note=note,
                service_seconds=served, clerk_id=counter.clerk_id,
            )
            window = set_counter(work, number, current_ticket_id=None, last_ticket_id=row.id,
                                 last_action="finish", last_action_at=work.now, **touch)
            core.forget_average(done.queue_id)
            staff = {"note": note} if note else None
            result = {"ticket": ticket_event(core, work, "ticket.finished", done, window,
                                             staff=staff)}
            core.windows.window_freed(work, window)
            return result

    def no_show(self, number: int, *, actor: Actor) -> dict[str, Any]:
        """过号: the called resident did not come, after a fair chance (see CorrectionsDef)."""
        core = self.core
        with self.window_unit(number, actor) as (work, counter, touch):
            row = require_current(core, work, counter, TicketState.CALLED.value)
            self._check_fair_chance(row, work.now)
            missed = update_ticket(work, row.id, state=TicketState.NO_SHOW.value,
                                   finished_at=work.now)
            window = set_counter(work, number, current_ticket_id=None, last_ticket_id=row.id,
                                 last_action="no_show", last_action_at=work.now, **touch)
            result = {"ticket": ticket_event(core, work, "ticket.no_show", missed, window)}
            core.windows.window_freed(work, window)
            return result

    def _check_fair_chance(self, row: Row[Any], now: datetime) -> None:
        wait = self.core.config.corrections.no_show_after_seconds
        if row.recall_count > 0 or row.called_at is None:
            return
        since = (now - row.called_at).total_seconds()
        if since < wait:
            left = math.ceil(wait - since)
            raise InvalidTransition(
                f"{row.number} 刚叫号，请给群众到窗口的时间：叫号满{wait}秒（还需{left}秒）"
                "或重呼一次后，才能标记过号",
                f"{row.number} was called only {int(since)} s ago: a no-show needs {wait} s "
                f"since the call ({left} s more) or one recall",
                ticket=row.number, seconds_left=left,
            )

    def transfer(
        self,
        number: int,
        to_service: str | None = None,
        to_queue: str | None = None,
        to_counter: int | None = None,
        note: str | None = None,
        *,
        actor: Actor,
    ) -> dict[str, Any]:
        """Send the current resident on, keeping the number and the place by first issue time."""
        core = self.core
        given = [x for x in (to_service, to_queue, to_counter) if x is not None]
        if len(given) != 1:
            raise Rejected(
                "请选择一个转办目标：事项、队列或窗口（只选一个）",
                "give exactly one transfer target: a service, a queue or a window",
            )
        with self.window_unit(number, actor) as (work, counter, touch):
            row = require_current(core, work, counter, TicketState.CALLED.value,
                                  TicketState.SERVING.value)
            service_id, target = self.transfer_target(work, row, to_service, to_queue,
                                                      to_counter, number)
            new_queue = core.service(service_id).queue
            moved = update_ticket(
                work, row.id, state=TicketState.WAITING.value, service_id=service_id,
                queue_id=new_queue, counter=None, target_counter=target, called_at=None,
                started_at=None, transfer_count=tickets.c.transfer_count + 1, note=note,
            )
            window = set_counter(work, number, current_ticket_id=None, **touch)
            view = ticket_event(
                core, work, "ticket.transferred", moved, window, queues={row.queue_id},
                staff={"note": note} if note else None,
                transfer={"from_counter": number, "from_service": row.service_id,
                          "from_queue": row.queue_id, "to_service": service_id,
                          "to_queue": new_queue, "to_counter": target},
            )
            core.windows.window_freed(work, window)
            return {"ticket": view}

    def transfer_target(
        self,
        work: Work,
        row: Row[Any],
        to_service: str | None,
        to_queue: str | None,
        to_counter: int | None,
        from_counter: int | None,
    ) -> tuple[str, int | None]:
        """(item, window or None) a ticket is sent to; a named window must have a clerk."""
        core = self.core
        if to_service is not None:
            return core.service(to_service).id, None
        if to_queue is not None:
            items = core.config.queue_services(to_queue)
            if not items:
                raise NotFound(f"没有这个队列：{to_queue}", f"unknown queue {to_queue!r}")
            # Keep the item when it belongs to the new queue; otherwise the queue's first item.
            return (row.service_id if row.service_id in items else items[0]), None
        assert to_counter is not None
        if core.config.counter(to_counter) is None:
            raise NotFound(f"没有{to_counter}号窗口", f"unknown window {to_counter}")
        if to_counter == from_counter:
            raise Rejected("不能转给本窗口", "a ticket cannot be transferred to its own window")
        state = work.conn.execute(sa.select(counters.c.state)
                                  .where(counters.c.number == to_counter)).scalar()
        if state is None or state == CounterState.UNSTAFFED.value:
            raise NotStaffed(
                f"{core.counter_name(to_counter)}暂无人员在岗，不能转入；请转到队列或其他在岗窗口",
                f"nobody is signed in at window {to_counter}; transfer to a queue or a staffed "
                "window", counter=to_counter)
        return row.service_id, to_counter


def _check_promise(outcome: Outcome, promised: date | None, today: date) -> None:
    if outcome is Outcome.COMMITTED:
        if promised is None:
            raise Rejected("承诺件须填写承诺办结日期", "a committed case needs its promised date")
        if promised < today:
            raise Rejected("承诺办结日期不能早于今天", "the promised date cannot be in the past")
        if (promised - today).days > MAX_PROMISE_DAYS:
            raise Rejected("承诺办结日期超过一年，请核对", "the promised date is over a year away")
    elif promised is not None:
        raise Rejected("只有承诺件需要承诺办结日期", "only a committed case takes a promised date")

