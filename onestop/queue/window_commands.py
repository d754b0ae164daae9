"""Who sits at which window, and when a window pauses: presence, pauses and breaks.

A window is *staffed* while a clerk is signed in at it and their terminal is heard from (every
action, and a heartbeat while the terminal is open, within `[presence] heartbeat_seconds`). Only
a staffed window can be open; sign-out, moving to another window or a silent terminal leave it
*unstaffed*, with an event. Everything that counts open windows (estimates, coverage, "请到N号
窗口", the lunch rotation) therefore counts windows with someone there.

Every change that can leave a window not open takes the hall lock first (see onestop.queue.unit),
so the coverage rule, no item without an open window, holds under concurrent pauses.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from onestop.queue.actors import SCHEDULER, Actor
from onestop.queue.coverage import left_uncovered, open_windows
from onestop.queue.errors import InvalidTransition, NotAtWindow, Rejected
from onestop.queue.roster import mark_break
from onestop.queue.rows import (
    counter_event,
    current,
    lock_counter,
    require_at_window,
    set_counter,
    ticket_event,
    update_ticket,
)
from onestop.queue.states import CounterState, PauseOrigin, TicketState
from onestop.queue.tables import counters, hall_days
from onestop.queue.unit import Work
from onestop.queue.views import counter_view

if TYPE_CHECKING:
    from onestop.queue.engine import QueueEngine

NIGHT_REASON = "今日已下班"
BEFORE_HOURS_REASON = "未到办公时间"
# Pauses the scheduler puts on windows outside the hall's hours, and lifts at early opening.
OFF_HOURS_REASONS = (NIGHT_REASON, BEFORE_HOURS_REASON)

UNSTAFF_REASONS = {
    "signed_out": ("工作人员已退出窗口", "the clerk signed out"),
    "switched": ("工作人员已换到其他窗口", "the clerk moved to another window"),
    "lost": ("叫号终端失去联系", "the counter terminal went silent"),
    "replaced": ("另一位工作人员接替", "another clerk took over"),
}


def origin_of(actor: Actor) -> PauseOrigin:
    if actor.kind == "system":
        return PauseOrigin.SCHEDULER
    return PauseOrigin.CLERK if actor.role == "clerk" else PauseOrigin.SUPERVISOR


def _pause_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Rejected("请填写暂停原因（如午餐、会议、后台办理）",
                       "give a reason to pause (e.g. lunch, meeting, back office)")
    return reason


class WindowCommands:
    def __init__(self, core: QueueEngine) -> None:
        self.core = core

    # -- presence ---------------------------------------------------------------------------

    def in_service(self, conn: Connection, now: datetime) -> bool:
        """From early opening until the day is closed, on a day the hall opens."""
        core = self.core
        plan = core.calendar.plan(core.time.service_day(now))
        if not plan.is_open or plan.early_open_at is None or now < plan.early_open_at:
            return False
        closed = conn.execute(sa.select(hall_days.c.closed_at)
                              .where(hall_days.c.service_day == plan.day)).scalar()
        return closed is None

    def sign_in(self, number: int, *, actor: Actor) -> dict[str, Any]:
        """The clerk sits down at window `number` (leaving any other window they were at).

        Refused while another clerk is there and alive; a window whose clerk's terminal went
        silent is taken over. Outside the hall's hours the window is staffed but paused."""
        core = self.core
        if actor.kind != "user":
            raise Rejected("只有工作人员可以登录窗口", "only staff can sign in at a window")
        with core.unit(actor) as work:
            work.lock_hall()
            elsewhere = [n for (n,) in work.conn.execute(
                sa.select(counters.c.number).where(counters.c.clerk_id == actor.id,
                                                   counters.c.number != number))]
            rows = {n: lock_counter(core, work, n) for n in sorted({number, *elsewhere})}
            target = rows[number]
            if target.clerk_id == actor.id and target.state != CounterState.UNSTAFFED.value:
                window = set_counter(work, number, seen_at=work.now)
                return {"counter": counter_view(window, core.config), "changed": False}
            if target.clerk_id is not None and target.state != CounterState.UNSTAFFED.value:
                if not self._silent(target, work.now):
                    raise InvalidTransition(
                        f"{core.counter_name(number)}已有{target.clerk_name or '其他工作人员'}在岗，"
                        "请选择其他窗口，或请其先退出",
                        f"window {number} is staffed by someone else; choose another window",
                        counter=number)
                self._leave(work, target, "replaced", keep_serving=True)
            for other in elsewhere:
                self._leave(work, rows[other], "switched", keep_serving=False)
            if self.in_service(work.conn, work.now):
                state: dict[str, Any] = {"state": CounterState.OPEN.value, "pause_reason": None,
                                         "pause_origin": None}
            else:
                state = {"state": CounterState.PAUSED.value, "pause_reason": BEFORE_HOURS_REASON
                         if not self._after_close(work) else NIGHT_REASON,
                         "pause_origin": PauseOrigin.SCHEDULER.value}
            window = set_counter(work, number, clerk_id=actor.id, clerk_name=actor.name,
                                 staffed_at=work.now, seen_at=work.now, pause_until=None,
                                 pending_pause=None, pending_minutes=None, **state)
            return {**counter_event(core, work, "counter.staffed", window), "changed": True}

    def _after_close(self, work: Work) -> bool:
        core = self.core
        plan = core.calendar.plan(core.time.service_day(work.now))
        return plan.early_open_at is not None and work.now >= plan.early_open_at

    def _silent(self, row: Row[Any], now: datetime) -> bool:
        limit = timedelta(seconds=self.core.config.presence.heartbeat_seconds)
        return row.seen_at is None or now - row.seen_at > limit

    def sign_out(self, number: int, *, actor: Actor, reason: str = "signed_out",
                 force: bool = False, clerk: str | None = None) -> dict[str, Any] | None:
        """The clerk leaves the window. Refused while a resident is at it, unless `force`d
        (signing out of the terminal, a lost terminal): then a called resident goes back in
        line and one being served stays at the window for whoever sits down next. With
        `clerk`, only while that clerk still sits there (an ended session's window)."""
        core = self.core
        with core.unit(actor) as work:
            work.lock_hall()
            row = lock_counter(core, work, number)
            if row.state == CounterState.UNSTAFFED.value or row.clerk_id is None:
                return None
            if clerk is not None and row.clerk_id != clerk:
                return None  # that clerk has left already: never unseat whoever sits there now
            if actor.kind == "user" and row.clerk_id != actor.id and not actor.is_supervisor:
                return None  # someone else sits there now: an old session cannot unseat them
            if reason == "lost" and not self._silent(row, work.now):
                return None  # heard from since the sweep looked
            return self._leave(work, row, reason, keep_serving=force)

    def _leave(self, work: Work, row: Row[Any], reason: str, keep_serving: bool
               ) -> dict[str, Any]:
        core = self.core
        at_window = current(work, row)
        if at_window is not None and not keep_serving:
            raise InvalidTransition(
                f"请先办结或转出{core.counter_name(row.number)}的号票 {at_window.number}，再离开窗口",
                f"finish or transfer ticket {at_window.number} at window {row.number} first",
                ticket=at_window.number, counter=row.number)
        keep_id = None
        if at_window is not None and at_window.state == TicketState.CALLED.value:
            back = update_ticket(work, at_window.id, state=TicketState.WAITING.value,
                                 counter=None, called_at=None)
            ticket_event(core, work, "ticket.returned", back, row,
                         returned={"from_counter": row.number, "reason": reason})
        elif at_window is not None:
            keep_id = at_window.id
        return self._unstaff(work, row, reason, keep_id)

    def _unstaff(self, work: Work, row: Row[Any], reason: str, keep_ticket: int | None = None
                 ) -> dict[str, Any]:
        core = self.core
        window = set_counter(work, row.number, state=CounterState.UNSTAFFED.value, clerk_id=None,
                             clerk_name=None, staffed_at=None, seen_at=None,
                             last_clerk_id=row.clerk_id, unstaffed_reason=reason, pause_reason=None,
                             pause_origin=None, pause_until=None, pending_pause=None,
                             pending_minutes=None, current_ticket_id=keep_ticket,
                             last_ticket_id=None, last_action=None, last_action_at=None)
        zh, en = UNSTAFF_REASONS.get(reason, UNSTAFF_REASONS["signed_out"])
        result = counter_event(core, work, "counter.unstaffed", window,
                               unstaffed={"reason": reason, "message": zh, "message_en": en})
        core.corrections.redirect_targeted(work, row.number, "unstaffed")
        return result

    def heartbeat(self, number: int, *, actor: Actor) -> dict[str, Any]:
        """The terminal is alive. A clerk whose window was unstaffed because this terminal was
        silent too long sits down again, unless someone else has taken the window; one who left
        it (signed out, moved, was replaced) is told so and must choose a window again."""
        core = self.core
        with core.store.write() as conn:
            seen = conn.execute(
                sa.update(counters).where(counters.c.number == number,
                                          counters.c.clerk_id == actor.id,
                                          counters.c.state != CounterState.UNSTAFFED.value)
                .values(seen_at=core.time.now()).returning(counters)).first()
        if seen is not None:
            return {"counter": counter_view(seen, core.config), "changed": False}
        with core.store.read() as conn:
            row = conn.execute(sa.select(counters).where(counters.c.number == number)).first()
        name = core.counter_name(number)
        if row is None:
            raise NotAtWindow(f"没有{name}", f"unknown window {number}", counter=number)
        if (row.clerk_id not in (None, actor.id) and row.state != CounterState.UNSTAFFED.value
                and not self._silent(row, core.time.now())):
            raise NotAtWindow(
                f"{name}现由{row.clerk_name or '其他工作人员'}在岗，请重新选择窗口",
                f"window {number} is now staffed by someone else; choose your window again",
                counter=number)
        lost_here = (row.state == CounterState.UNSTAFFED.value and row.last_clerk_id == actor.id
                     and row.unstaffed_reason == "lost")
        if not lost_here:
            raise NotAtWindow(f"您已离开{name}，请重新选择窗口",
                              f"you have left window {number}; choose your window again",
                              counter=number)
        return self.sign_in(number, actor=actor)

    def sweep_lost(self) -> list[int]:
        """Unstaff every window whose terminal has been silent too long (the scheduler's job)."""
        core = self.core
        limit = core.time.now() - timedelta(seconds=core.config.presence.heartbeat_seconds)
        with core.store.read() as conn:
            stale = [n for (n,) in conn.execute(
                sa.select(counters.c.number).where(
                    counters.c.clerk_id.is_not(None),
                    counters.c.state != CounterState.UNSTAFFED.value,
                    sa.or_(counters.c.seen_at.is_(None), counters.c.seen_at < limit)))]
        lost = []
        for number in stale:
            if self.sign_out(number, actor=SCHEDULER, reason="lost", force=True) is not None:
                lost.append(number)
        return lost

    # -- pauses -----------------------------------------------------------------------------

    def pause(self, number: int, reason: str, until: datetime | None = None, *,
              actor: Actor) -> dict[str, Any]:
        """Pause a free window; refused while it is the last open window for one of its items."""
        core = self.core
        reason = _pause_reason(reason)
        with core.unit(actor) as work:
            work.lock_hall()
            counter = lock_counter(core, work, number)
            touch = require_at_window(core, work, counter)
            if counter.state == CounterState.PAUSED.value:
                raise InvalidTransition(f"{core.counter_name(number)}已经暂停",
                                        f"window {number} is already paused")
            at_window = current(work, counter)
            if at_window is not None:
                raise InvalidTransition(
                    f"请先办结或转出当前号票 {at_window.number}，再暂停",
                    f"finish or transfer ticket {at_window.number} before pausing",
                    ticket=at_window.number)
            self._require_covered(work, number)
            return self._pause_now(work, counter, reason, until, origin_of(actor), **touch)

    def _require_covered(self, work: Work, number: int) -> None:
        service = self.uncovered(work, number)
        if service is None:
            return
        core = self.core
        item = core.service(service)
        raise InvalidTransition(
            f"{core.counter_name(number)}是目前唯一可办理“{item.name}”的窗口，"
            "暂停后该事项将无人受理，请等其他窗口恢复后再暂停",
            f"window {number} is the only open window for {item.name_en}; pausing it "
            "would leave that item with no open window",
            service=service)

    def pause_when_free(self, number: int, reason: str, until: datetime | None = None,
                        minutes: int | None = None, *, actor: Actor = SCHEDULER
                        ) -> dict[str, Any]:
        """A scheduled break (lunch): pause at once if nobody is at the window, else as soon as
        the resident leaves; while pausing would leave an item with no open window, the break
        waits (the window keeps serving). A break that starts late still lasts `minutes`."""
        core = self.core
        reason = _pause_reason(reason)
        with core.unit(actor) as work:
            work.lock_hall()
            counter = lock_counter(core, work, number)
            require_at_window(core, work, counter)
            if counter.state == CounterState.PAUSED.value:
                return {"counter": counter_view(counter, core.config)}
            if current(work, counter) is None and self.uncovered(work, number) is None:
                return self._pause_now(work, counter, reason, until, origin_of(actor))
            window = set_counter(work, number, pending_pause=reason, pause_until=until,
                                 pending_minutes=minutes)
            return counter_event(core, work, "counter.pause_pending", window)

    def cancel_pending_pause(self, number: int, *, actor: Actor = SCHEDULER
                             ) -> dict[str, Any] | None:
        """The break waiting at this window is no longer due (the rotation changed)."""
        core = self.core
        with core.unit(actor) as work:
            counter = lock_counter(core, work, number)
            if counter.pending_pause is None:
                return None
            window = set_counter(work, number, pending_pause=None, pause_until=None,
                                 pending_minutes=None)
            return counter_event(core, work, "counter.resumed", window)

    def start_pending(self, number: int, *, actor: Actor = SCHEDULER) -> bool:
        """Start the break waiting at a window that is now free, if every item stays covered."""
        core = self.core
        with core.unit(actor) as work:
            work.lock_hall()
            counter = lock_counter(core, work, number)
            if (counter.pending_pause is None or counter.state != CounterState.OPEN.value
                    or current(work, counter) is not None or self.uncovered(work, number)):
                return False
            self._start_break(work, counter)
            return True

    def window_freed(self, work: Work, window: Row[Any]) -> None:
        """The resident left: a waiting break starts now if every item stays covered (and this
        unit holds the hall lock; otherwise the scheduler starts it within seconds)."""
        if (window.pending_pause is not None and work.hall_locked
                and window.state == CounterState.OPEN.value
                and self.uncovered(work, window.number) is None):
            self._start_break(work, window)

    def _start_break(self, work: Work, window: Row[Any]) -> None:
        until = window.pause_until
        if window.pending_minutes:
            until = max(until or work.now, work.now + timedelta(minutes=window.pending_minutes))
        self._pause_now(work, window, window.pending_pause, until, PauseOrigin.SCHEDULER)

    def _pause_now(self, work: Work, counter: Row[Any], reason: str, until: datetime | None,
                   origin: PauseOrigin, **touch: Any) -> dict[str, Any]:
        core = self.core
        window = set_counter(work, counter.number, state=CounterState.PAUSED.value,
                             pause_reason=reason, pause_until=until, pause_origin=origin.value,
                             pending_pause=None, pending_minutes=None, last_ticket_id=None,
                             last_action=None, last_action_at=None, **touch)
        if reason == core.config.lunch.reason and counter.clerk_id:
            mark_break(work.conn, work.dialect, core.time.service_day(work.now),
                       counter.clerk_id, work.now)
        if reason in OFF_HOURS_REASONS:
            core.corrections.redirect_targeted(work, counter.number, "closed")
        return counter_event(core, work, "counter.paused", window)

    def uncovered(self, work: Work, number: int) -> str | None:
        """The item pausing this window would leave with no open window, while the hall is in
        service today (from early opening until the day is closed)."""
        if not self.in_service(work.conn, work.now):
            return None
        return left_uncovered(self.core.config, open_windows(work.conn), number)

    def resume(self, number: int, *, actor: Actor, only_origin: PauseOrigin | None = None
               ) -> dict[str, Any]:
        """End a pause. `only_origin`: the scheduler ends only the pauses it started itself."""
        core = self.core
        with core.unit(actor) as work:
            counter = lock_counter(core, work, number)
            touch = require_at_window(core, work, counter)
            if counter.state != CounterState.PAUSED.value:
                raise InvalidTransition(f"{core.counter_name(number)}未暂停",
                                        f"window {number} is not paused")
            if only_origin is not None and counter.pause_origin != only_origin.value:
                raise InvalidTransition(
                    f"{core.counter_name(number)}的暂停不是系统安排的，由工作人员自行恢复",
                    f"window {number} was paused by {counter.pause_origin}, not by "
                    f"{only_origin.value}; it stays paused")
            window = set_counter(work, number, state=CounterState.OPEN.value, pause_reason=None,
                                 pause_until=None, pause_origin=None, pending_pause=None,
                                 pending_minutes=None, last_ticket_id=None, last_action=None,
                                 last_action_at=None, **touch)
            return counter_event(core, work, "counter.resumed", window)
