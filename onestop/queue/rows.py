"""Row-level steps shared by the ticket, window and correction commands, inside a unit of work:
locking a window or a ticket, checking who may act at a window, writing a ticket event."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from onestop.queue.errors import InvalidTransition, NotAtWindow, NotFound, NotStaffed
from onestop.queue.states import AT_WINDOW_STATES, STATE_ZH, CounterState, TicketState
from onestop.queue.tables import counters, tickets
from onestop.queue.unit import Work
from onestop.queue.views import counter_view, ticket_view

if TYPE_CHECKING:
    from onestop.queue.engine import QueueEngine


def lock_counter(core: QueueEngine, work: Work, number: int) -> Row[Any]:
    row = work.conn.execute(
        sa.select(counters).where(counters.c.number == number).with_for_update()
    ).first()
    if row is None or core.config.counter(number) is None:
        raise NotFound(f"没有{number}号窗口", f"unknown window {number}")
    return row


def lock_ticket(work: Work, ticket_id: int) -> Row[Any]:
    row = work.conn.execute(
        sa.select(tickets).where(tickets.c.id == ticket_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"没有这张号票（编号 {ticket_id}）", f"unknown ticket id {ticket_id}")
    return row


def current(work: Work, counter: Row[Any]) -> Row[Any] | None:
    """The ticket at the window (called or being served), if any."""
    if counter.current_ticket_id is None:
        return None
    row = lock_ticket(work, counter.current_ticket_id)
    return row if row.state in AT_WINDOW_STATES else None


def require_current(core: QueueEngine, work: Work, counter: Row[Any], *states: str) -> Row[Any]:
    at_window = current(work, counter)
    if at_window is None:
        raise InvalidTransition(
            f"{core.counter_name(counter.number)}当前没有号票，请先叫号",
            f"window {counter.number} has no ticket at the moment; call one first",
        )
    if at_window.state not in states:
        wanted_zh = "、".join(STATE_ZH[TicketState(s)] for s in states)
        raise InvalidTransition(
            f"{at_window.number} 当前为“{STATE_ZH[TicketState(at_window.state)]}”，"
            f"此操作只适用于“{wanted_zh}”的号票",
            f"ticket {at_window.number} is {at_window.state}; this needs a ticket that is "
            + " or ".join(states),
            ticket=at_window.number,
            state=at_window.state,
        )
    return at_window


def require_at_window(core: QueueEngine, work: Work, counter: Row[Any]) -> dict[str, Any]:
    """Refuse window work at a window nobody sits at, and a clerk's work at a window they no
    longer sit at; returns the counter values to write (a clerk acting is a sign of life)."""
    name = core.counter_name(counter.number)
    if counter.state == CounterState.UNSTAFFED.value or counter.clerk_id is None:
        raise NotStaffed(
            f"{name}暂无人员在岗，请先在叫号终端登录该窗口",
            f"nobody is signed in at window {counter.number}; sign in at it first",
            counter=counter.number,
        )
    actor = work.actor
    if actor.kind == "user" and actor.role == "clerk" and counter.clerk_id != actor.id:
        raise NotAtWindow(
            f"您已不在{name}在岗（目前在岗：{counter.clerk_name or counter.clerk_id}），"
            "请重新选择窗口",
            f"you are no longer signed in at window {counter.number}; choose your window again",
            counter=counter.number,
        )
    return {"seen_at": work.now} if counter.clerk_id == actor.id else {}


def update_ticket(work: Work, ticket_id: int, **values: Any) -> Row[Any]:
    return work.conn.execute(
        sa.update(tickets).where(tickets.c.id == ticket_id).values(**values).returning(tickets)
    ).one()


def set_counter(work: Work, number: int, **values: Any) -> Row[Any]:
    return work.conn.execute(
        sa.update(counters).where(counters.c.number == number)
        .values(updated_at=work.now, **values).returning(counters)
    ).one()


def waiting_counts(conn: Connection, queue_ids: set[str]) -> dict[str, int]:
    rows = conn.execute(
        sa.select(tickets.c.queue_id, sa.func.count())
        .where(tickets.c.state == TicketState.WAITING.value, tickets.c.queue_id.in_(queue_ids))
        .group_by(tickets.c.queue_id)
    )
    counts = dict.fromkeys(queue_ids, 0)
    counts.update({q: int(n) for q, n in rows})
    return counts


def ticket_event(
    core: QueueEngine,
    work: Work,
    type_: str,
    row: Row[Any],
    counter: Row[Any] | None = None,
    queues: set[str] | None = None,
    counts: dict[str, int] | None = None,
    staff: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One event about a ticket: its public view, the window, the waiting counts it changed;
    `staff` holds what only staff may read (reasons, notes)."""
    view = ticket_view(row, core.config, core.time)
    data: dict[str, Any] = {"ticket": view, **extra}
    if counter is not None:
        data["counter"] = counter_view(counter, core.config)
    data["queues"] = counts or waiting_counts(work.conn, (queues or set()) | {row.queue_id})
    work.event(type_, data, ticket_id=row.id, staff=staff)
    return view


def counter_event(core: QueueEngine, work: Work, type_: str, row: Row[Any],
                  **extra: Any) -> dict[str, Any]:
    view = counter_view(row, core.config)
    work.event(type_, {"counter": view, **extra})
    return {"counter": view}
