"""Putting mistakes right: what clerks, the desk and supervisors do when the day goes wrong.

- **Undo** (a clerk): the window's last finish or no-show, within `[corrections] undo_seconds`,
  while nothing else has happened at the window: the resident is back at the window as before.
- **过号顺延** (the desk): a resident who missed their call comes back; the ticket returns to
  waiting with the same number, `requeue_places` tickets after the head of its queue.
- **Cancel or re-route by number** (the desk, supervisors): a ticket taken for the wrong item,
  a resident who left; always with a reason, kept for staff only.
- **Close leftovers** (supervisors, at day's end): every ticket still waiting, each closed with
  the reason as its own event.
- **Fallback** (the system): tickets sent by name to a window nobody staffs go back to their
  item's line, so nobody waits for a window that will not call them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from onestop.queue import policy
from onestop.queue.actors import Actor
from onestop.queue.errors import InvalidTransition, NotFound, Rejected
from onestop.queue.rows import (
    lock_counter,
    lock_ticket,
    require_at_window,
    set_counter,
    ticket_event,
    update_ticket,
)
from onestop.queue.states import STATE_ZH, CounterState, TicketState
from onestop.queue.tables import counters, tickets
from onestop.queue.unit import Work

if TYPE_CHECKING:
    from onestop.queue.engine import QueueEngine

_NUDGE = timedelta(microseconds=1)


def _require_state(row: Row[Any], states: tuple[str, ...], zh: str, en: str) -> None:
    """Refuse a correction that does not fit the ticket's state, in words the desk can act on:
    "B003 当前为“已办结”，<zh>" / "ticket B003 is done; <en>"."""
    if row.state not in states:
        raise InvalidTransition(
            f"{row.number} 当前为“{STATE_ZH[TicketState(row.state)]}”，{zh}",
            f"ticket {row.number} is {row.state}; {en}", ticket=row.number)


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise Rejected("请填写原因（将记入台账）", "give a reason (it is kept in the ledger)")
    return text[:200]


class Corrections:
    def __init__(self, core: QueueEngine) -> None:
        self.core = core

    # -- at the window ----------------------------------------------------------------------

    def undo(self, number: int, *, actor: Actor) -> dict[str, Any]:
        """Take back the window's last finish or no-show: the ticket is at the window again."""
        core = self.core
        limit = core.config.corrections.undo_seconds
        with core.tickets.window_unit(number, actor) as (work, counter, touch):
            if counter.last_ticket_id is None or counter.last_action_at is None:
                raise InvalidTransition("没有可撤销的操作", "there is nothing to undo at this window")
            age = (work.now - counter.last_action_at).total_seconds()
            if age > limit:
                raise InvalidTransition(
                    f"只能在{limit}秒内撤销（已过{int(age)}秒）；如需更正请联系咨询台或值班主任",
                    f"an undo is possible for {limit} s only ({int(age)} s have passed); ask the "
                    "desk or a supervisor to correct it", seconds=int(age))
            if counter.state != CounterState.OPEN.value or counter.current_ticket_id is not None:
                raise InvalidTransition(
                    f"{core.counter_name(number)}已有新的号票或已暂停，不能撤销",
                    f"window {number} has moved on (a new ticket or a pause); nothing to undo")
            row = lock_ticket(work, counter.last_ticket_id)
            action = counter.last_action
            if action == "finish" and row.state == TicketState.DONE.value:
                back = update_ticket(work, row.id, state=TicketState.SERVING.value,
                                     finished_at=None, outcome=None, promised_date=None,
                                     service_seconds=None)
                core.forget_average(row.queue_id)
            elif action == "no_show" and row.state == TicketState.NO_SHOW.value:
                back = update_ticket(work, row.id, state=TicketState.CALLED.value,
                                     finished_at=None)
            else:
                raise InvalidTransition(f"{row.number} 已被其他操作更改，不能撤销",
                                        f"ticket {row.number} has changed since; nothing to undo")
            window = set_counter(work, number, current_ticket_id=row.id, last_ticket_id=None,
                                 last_action=None, last_action_at=None, **touch)
            view = ticket_event(core, work, "ticket.undone", back, window,
                                undone="ticket.finished" if action == "finish" else "ticket.no_show")
            return {"ticket": view}

    # -- by the desk and supervisors --------------------------------------------------------

    def requeue(self, ticket_id: int, *, actor: Actor, reason: str | None = None
                ) -> dict[str, Any]:
        """过号顺延: a no-show back in line, same number, a few places after the head."""
        core = self.core
        places = core.config.corrections.requeue_places
        with core.unit(actor) as work:
            row = lock_ticket(work, ticket_id)
            _require_state(row, (TicketState.NO_SHOW.value,), "只有过号的号票可以顺延",
                           "only a no-show can go back in line")
            if row.service_day != core.time.service_day(work.now):
                raise Rejected(f"{row.number} 不是今天的号票，请重新取号",
                               f"ticket {row.number} is from another day; take a new ticket")
            rank_at = self._place(work, row, places)
            back = update_ticket(work, row.id, state=TicketState.WAITING.value, counter=None,
                                 target_counter=None, called_at=None, started_at=None,
                                 finished_at=None, sort_at=rank_at,
                                 requeue_count=tickets.c.requeue_count + 1)
            text = (reason or "").strip()[:200] or None
            view = ticket_event(core, work, "ticket.requeued", back, requeue={"places": places},
                                staff={"reason": text} if text else None)
            return {"ticket": {**view, **core.reads.position(work.conn, back)}}

    def _place(self, work: Work, row: Row[Any], places: int) -> Any:
        """The rank time that puts `row` after the first `places` tickets of its queue's line."""
        core = self.core
        t = tickets.c
        line = work.conn.execute(
            sa.select(t.sort_at).where(t.state == TicketState.WAITING.value,
                                       t.queue_id == row.queue_id, t.target_counter.is_(None),
                                       t.id != row.id)
            .order_by(*policy.line_order(core.config.policy, work.now)).limit(max(places, 1))
        ).all()
        if places == 0:
            return line[0].sort_at - _NUDGE if line else work.now
        if len(line) < places:
            return work.now
        return line[places - 1].sort_at + _NUDGE

    def cancel(self, ticket_id: int, *, actor: Actor, reason: str | None) -> dict[str, Any]:
        """Cancel a waiting or called ticket: the resident gave up (no reason needed) or staff
        closed it (`reason` required from staff routes, kept for staff only)."""
        core = self.core
        with core.store.read() as conn:
            found = conn.execute(sa.select(tickets.c.counter, tickets.c.state)
                                 .where(tickets.c.id == ticket_id)).first()
            pending = conn.execute(sa.select(counters.c.pending_pause).where(
                counters.c.number == found.counter)).scalar() if found and found.counter else None
        if found is None:
            raise NotFound(f"没有这张号票（编号 {ticket_id}）", f"unknown ticket id {ticket_id}")
        with core.unit(actor) as work:
            if pending is not None:
                work.lock_hall()
            if found.counter is not None:
                lock_counter(core, work, found.counter)
            row = lock_ticket(work, ticket_id)
            _require_state(row, (TicketState.WAITING.value, TicketState.CALLED.value), "不能取消",
                           "it can no longer be cancelled")
            if row.state == TicketState.CALLED.value and row.counter != found.counter:
                raise InvalidTransition(f"{row.number} 刚被其他窗口叫号，请刷新后重试",
                                        f"ticket {row.number} was just called elsewhere; retry")
            return {"ticket": self._cancel_in(work, row, reason)}

    def _cancel_in(self, work: Work, row: Row[Any], reason: str | None,
                   bulk: bool = False) -> dict[str, Any]:
        core = self.core
        cancelled = update_ticket(work, row.id, state=TicketState.CANCELLED.value,
                                  finished_at=work.now, closed_reason=reason)
        window = None
        if row.state == TicketState.CALLED.value and row.counter is not None:
            window = set_counter(work, row.counter, current_ticket_id=None)
        staff = {"reason": reason, **({"bulk": True} if bulk else {})} if reason else None
        view = ticket_event(core, work, "ticket.cancelled", cancelled, window, staff=staff)
        if window is not None:
            core.windows.window_freed(work, window)
        return view

    def reroute(self, ticket_id: int, to_service: str | None, to_queue: str | None,
                to_counter: int | None, reason: str | None, *, actor: Actor) -> dict[str, Any]:
        """A waiting ticket taken for the wrong item (or to be sent to a window by name): it
        moves, keeping its number and its place by issue time."""
        core = self.core
        text = _reason(reason)
        if len([x for x in (to_service, to_queue, to_counter) if x is not None]) != 1:
            raise Rejected("请选择一个目标：事项、队列或窗口（只选一个）",
                           "give exactly one target: a service, a queue or a window")
        with core.unit(actor) as work:
            row = lock_ticket(work, ticket_id)
            _require_state(row, (TicketState.WAITING.value,), "只能改派等候中的号票",
                           "only a waiting ticket can be re-routed")
            service_id, target = core.tickets.transfer_target(work, row, to_service, to_queue,
                                                              to_counter, None)
            new_queue = core.service(service_id).queue
            moved = update_ticket(work, row.id, service_id=service_id, queue_id=new_queue,
                                  target_counter=target,
                                  transfer_count=tickets.c.transfer_count + 1)
            view = ticket_event(core, work, "ticket.transferred", moved, queues={row.queue_id},
                                staff={"reason": text},
                                transfer={"from_counter": None, "from_service": row.service_id,
                                          "from_queue": row.queue_id, "to_service": service_id,
                                          "to_queue": new_queue, "to_counter": target})
            return {"ticket": view}

    def close_leftovers(self, reason: str | None, *, actor: Actor, day: date | None = None
                        ) -> dict[str, Any]:
        """Close every ticket still waiting (of `day` and before; today by default), and any
        still "called" at a window nobody sits at, each as its own event with the reason."""
        core = self.core
        text = _reason(reason)
        last = day or core.time.service_day()
        t = tickets.c
        with core.unit(actor) as work:
            work.lock_hall()
            unstaffed = [n for (n,) in work.conn.execute(
                sa.select(counters.c.number).where(counters.c.state == CounterState.UNSTAFFED.value)
                .order_by(counters.c.number).with_for_update())]
            rows = work.conn.execute(
                sa.select(tickets).where(
                    t.service_day <= last,
                    sa.or_(t.state == TicketState.WAITING.value,
                           sa.and_(t.state == TicketState.CALLED.value,
                                   t.counter.in_(unstaffed))))
                .order_by(t.id).with_for_update()).all()
            closed = [self._cancel_in(work, row, text, bulk=True)["number"] for row in rows]
        return {"closed": len(closed), "numbers": closed, "reason": text}

    # -- by the system ----------------------------------------------------------------------

    def redirect_targeted(self, work: Work, number: int, why: str) -> int:
        """Tickets sent by name to window `number`, which will not call them (nobody sits there,
        or it closed for the night), go back to their item's line keeping their place."""
        core = self.core
        rows = work.conn.execute(
            sa.select(tickets).where(tickets.c.state == TicketState.WAITING.value,
                                     tickets.c.target_counter == number)
            .order_by(tickets.c.id).with_for_update()).all()
        for row in rows:
            moved = update_ticket(work, row.id, target_counter=None)
            ticket_event(core, work, "ticket.redirected", moved,
                         redirect={"from_counter": number, "reason": why})
        return len(rows)

    def require_window_actor(self, work: Work, number: int) -> Row[Any]:
        """Lock a window and check the caller may act there (for undo-like steps)."""
        counter = lock_counter(self.core, work, number)
        require_at_window(self.core, work, counter)
        return counter
