"""The hall's day, run from the clock: early opening, the lunch rotation, extended hours, close.

`tick()` is idempotent and reads only the clock and the store, so the server calls it every few
seconds and tests call it at the minutes they walk through. What it does each time:

- from early opening (早到30分钟): windows closed for the night open, the day is recorded and
  today's lunch rotation is planned (kept in `hall_days`, editable by supervisors);
- in each lunch slot: the windows the rotation closes get a break that starts once their
  resident leaves and never while it would leave an item with no open window; windows whose
  clerk is back resume (中午不关门、轮流就餐);
- after closing: windows keep calling until no ticket waits or sits at a window (延时服务); then
  the day closes with its report and the windows close for the night (不办完最后一个业务不下班);
- appointments whose check-in window passed are marked no-shows.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from onestop.queue.calendar import DayPlan
from onestop.queue.day_config import parse_span
from onestop.queue.engine import QueueEngine
from onestop.queue.errors import DomainError
from onestop.queue.lunch import LunchInfeasible, LunchPlan, LunchProblem, plan_lunch
from onestop.queue.reports import day_report
from onestop.queue.states import AT_WINDOW_STATES, CounterState, TicketState
from onestop.queue.tables import counters, hall_days, tickets

log = logging.getLogger(__name__)

NIGHT_REASON = "今日已下班"


class HallDay:
    def __init__(self, engine: QueueEngine, appointments: Any = None) -> None:
        self.engine = engine
        self.config = engine.config
        self.calendar = engine.calendar
        self.appointments = appointments
        self.lunch_problem: LunchInfeasible | None = None
        self.problem: LunchProblem | None = None
        try:
            self.problem = LunchProblem.from_config(
                self.config, [c.id for c in self.config.clerks if c.counters])
        except ValueError as exc:  # no slots, no clerks: the hall has no rotation to run
            log.info("no lunch rotation: %s", exc)

    # -- the clock's work -------------------------------------------------------------------

    def tick(self) -> list[str]:
        """Do what is due now; returns what was done (for the log and tests)."""
        now = self.engine.time.now()
        plan = self.calendar.plan(self.engine.time.service_day(now))
        done: list[str] = []
        if plan.is_open and plan.early_open_at is not None and now >= plan.early_open_at:
            done += self._open(plan)
            if plan.kind == "working":
                done += self._lunch(plan, now)
            if plan.closes_at is not None and now >= plan.closes_at:
                done += self._close(plan)
        if self.appointments is not None:
            marked = self.appointments.mark_no_shows(now)
            if marked:
                done.append(f"{marked} appointment no-show(s)")
        return done

    def _row(self, conn: Connection, day: date) -> Any:
        return conn.execute(sa.select(hall_days).where(hall_days.c.service_day == day)).first()

    def _open(self, plan: DayPlan) -> list[str]:
        with self.engine.store.read() as conn:
            row = self._row(conn, plan.day)
        if row is not None and row.opened_at is not None:
            return []
        lunch = self._plan_lunch() if plan.kind == "working" else None

        def change(conn: Connection, now: datetime) -> dict[str, Any]:
            values = {"opened_at": now, "updated_at": now,
                      "lunch_plan": lunch.to_json() if lunch else None}
            current = self._row(conn, plan.day)
            if current is not None and current.opened_at is not None:
                raise _AlreadyDone  # another instance opened the day since our read
            if current is None:
                conn.execute(sa.insert(hall_days).values(service_day=plan.day, **values))
            else:
                conn.execute(sa.update(hall_days).where(hall_days.c.service_day == plan.day)
                             .values(**values))
            return {"day": plan.to_json()}

        try:
            self.engine.record("day.opened", change)
        except _AlreadyDone:
            return []
        for number in self._paused_with(NIGHT_REASON):
            self._try(self.engine.resume, number)
        return [f"opened {plan.day}"]

    def _plan_lunch(self) -> LunchPlan | None:
        if self.problem is None:
            return None
        try:
            plan = plan_lunch(self.problem)
        except LunchInfeasible as exc:
            # No rotation can cover every item: nobody is sent to lunch by the system, so no
            # item ever closes at noon; supervisors see why on the admin page.
            self.lunch_problem = exc
            log.warning("no lunch rotation today: %s", exc.message_en)
            return None
        self.lunch_problem = None
        return plan

    # -- lunch ------------------------------------------------------------------------------

    def lunch_plan(self, day: date) -> LunchPlan | None:
        with self.engine.store.read() as conn:
            row = self._row(conn, day)
        if row is None or not row.lunch_plan:
            return None
        return LunchPlan.from_json(row.lunch_plan)

    def slot_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        spans = []
        for text in self.config.lunch.slots:
            start, end = parse_span(text)
            spans.append((self.calendar.at(day, start), self.calendar.at(day, end)))
        return spans

    def _lunch(self, plan: DayPlan, now: datetime) -> list[str]:
        rotation = self.lunch_plan(plan.day)
        if rotation is None:
            return []
        reason = self.config.lunch.reason
        spans = self.slot_spans(plan.day)
        current = next((i for i, (s, e) in enumerate(spans) if s <= now < e), None)
        closing: set[int] = set()
        until: datetime | None = None
        if current is not None:
            closing = set(rotation.closed_windows(current, [c.number for c in self.config.counters]))
            until = spans[current][1]
        done: list[str] = []
        with self.engine.store.read() as conn:
            rows = conn.execute(sa.select(counters)).all()
        for row in rows:
            if self.config.counter(row.number) is None:
                continue
            on_break = row.state == CounterState.PAUSED.value and row.pause_reason == reason
            waiting_break = row.pending_pause == reason
            if row.number in closing:
                if not on_break and not waiting_break and row.state == CounterState.OPEN.value:
                    self._try(self.engine.pause_when_free, row.number, reason, until)
                    done.append(f"lunch break for window {row.number}")
            elif on_break:
                if self._try(self.engine.resume, row.number):
                    done.append(f"window {row.number} back from lunch")
            elif waiting_break:
                self._try(self.engine.cancel_pending_pause, row.number)
        return done

    def edit_lunch(self, edit: Any) -> LunchPlan:
        """A supervisor's change to today's rotation (`edit(problem, plan) -> LunchPlan`, which
        raises LunchInfeasible naming the item it would leave uncovered): stored, announced."""
        day = self.engine.time.service_day()
        plan = self.lunch_plan(day) or self._plan_lunch()
        if plan is None or self.problem is None:
            raise self.lunch_problem or ValueError("this hall has no lunch slots or clerks")
        changed: LunchPlan = edit(self.problem, plan)

        def change(conn: Connection, now: datetime) -> dict[str, Any]:
            values = {"lunch_plan": changed.to_json(), "updated_at": now}
            if self._row(conn, day) is None:
                conn.execute(sa.insert(hall_days).values(service_day=day, **values))
            else:
                conn.execute(sa.update(hall_days).where(hall_days.c.service_day == day)
                             .values(**values))
            return {"lunch": changed.to_json()}

        self.engine.record("lunch.changed", change)
        return changed

    # -- closing ----------------------------------------------------------------------------

    def _close(self, plan: DayPlan) -> list[str]:
        with self.engine.store.read() as conn:
            row = self._row(conn, plan.day)
            if row is not None and row.closed_at is not None:
                return []
            if self._anyone_left(conn):
                return []  # 延时服务: windows keep calling until the last resident is served
        report = day_report(self.engine, plan.day, self.calendar)

        def change(conn: Connection, now: datetime) -> dict[str, Any]:
            current = self._row(conn, plan.day)
            if current is not None and current.closed_at is not None:
                raise _AlreadyDone  # another instance closed the day since our read
            if self._anyone_left(conn):
                raise _StillServing
            conn.execute(sa.update(hall_days).where(hall_days.c.service_day == plan.day)
                         .values(closed_at=now, summary={**report, "closed_at": now.isoformat()},
                                 updated_at=now))
            return {"day": plan.day.isoformat(), "summary": report}

        try:
            self.engine.record("day.closed", change)
        except (_StillServing, _AlreadyDone):
            return []
        for number in self._open_windows():
            self._try(self.engine.pause, number, NIGHT_REASON)
        return [f"closed {plan.day}"]

    @staticmethod
    def _anyone_left(conn: Connection) -> bool:
        """Any ticket of any day still waiting or at a window: tickets are never lost across days."""
        states = [TicketState.WAITING.value, *AT_WINDOW_STATES]
        found = conn.execute(sa.select(tickets.c.id).where(tickets.c.state.in_(states)).limit(1))
        return found.first() is not None

    # -- helpers ----------------------------------------------------------------------------

    def _paused_with(self, reason: str) -> list[int]:
        with self.engine.store.read() as conn:
            rows = conn.execute(sa.select(counters.c.number).where(
                counters.c.state == CounterState.PAUSED.value, counters.c.pause_reason == reason))
            return [n for (n,) in rows]

    def _open_windows(self) -> list[int]:
        with self.engine.store.read() as conn:
            rows = conn.execute(sa.select(counters.c.number).where(
                counters.c.state == CounterState.OPEN.value))
            return [n for (n,) in rows]

    @staticmethod
    def _try(operation: Any, *args: Any) -> bool:
        """A scheduled step that the hall's state refuses (a clerk paused by hand, a resident
        still at the window) is skipped and tried again next tick, never an error."""
        try:
            operation(*args)
        except DomainError as exc:
            log.info("scheduled %s%s skipped: %s", operation.__name__, args, exc.message_en)
            return False
        return True


class _StillServing(Exception):
    """Someone took a ticket between the check and the close: the day stays open."""


class _AlreadyDone(Exception):
    """Another instance did this step first: nothing to write, no event."""
