"""The hall's day, run from the clock: early opening, presence, the lunch rotation, extended
hours, close.

`tick()` is idempotent and reads only the clock and the store, so the server calls it every few
seconds and tests call it at the minutes they walk through. What it does each time:

- windows whose terminal has gone silent are unstaffed (presence);
- a past day left open (the server was down at closing) is closed with its report;
- from early opening (早到30分钟): the day is recorded, windows the scheduler paused for the
  night open again, and today's lunch rotation is planned from who is at work;
- in each lunch slot the rotation's breaks start and end (see onestop.queue.lunch_schedule);
- after closing: windows keep calling while any open window has someone to call (延时服务);
  then the day closes with its report and staffed windows pause for the night
  (不办完最后一个业务不下班). Tickets nobody on duty can serve stay in line for the next day,
  or a supervisor closes them with a reason;
- appointments whose check-in window passed are marked no-shows.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from onestop.queue import roster
from onestop.queue.actors import SCHEDULER, Actor
from onestop.queue.calendar import DayPlan
from onestop.queue.engine import QueueEngine
from onestop.queue.lunch import LunchInfeasible, LunchPlan, LunchProblem
from onestop.queue.lunch_schedule import LunchSchedule, _try
from onestop.queue.lunch_search import NODE_LIMIT
from onestop.queue.personal_data import PersonalData
from onestop.queue.reports import day_report
from onestop.queue.states import AT_WINDOW_STATES, CounterState, PauseOrigin, TicketState
from onestop.queue.tables import counters, hall_days, tickets
from onestop.queue.window_commands import NIGHT_REASON, OFF_HOURS_REASONS

log = logging.getLogger(__name__)

__all__ = ["NIGHT_REASON", "HallDay"]


class HallDay:
    def __init__(self, engine: QueueEngine, appointments: Any = None,
                 node_limit: int = NODE_LIMIT) -> None:
        self.engine = engine
        self.appointments = appointments
        self.lunch = LunchSchedule(self, node_limit)

    @property
    def config(self) -> Any:
        return self.engine.config

    @property
    def calendar(self) -> Any:
        return self.engine.calendar

    # -- the clock's work -------------------------------------------------------------------

    def tick(self) -> list[str]:
        """Do what is due now; returns what was done (for the log and tests)."""
        now = self.engine.time.now()
        today = self.engine.time.service_day(now)
        plan = self.calendar.plan(today)
        done: list[str] = [f"window {n} unstaffed (terminal silent)"
                           for n in self.engine.windows.sweep_lost()]
        done += self._close_past(today)
        if plan.is_open and plan.early_open_at is not None and now >= plan.early_open_at:
            done += self._open(plan)
            if plan.kind == "working" and not self._closed(plan.day):
                done += self.lunch.tick(plan.day, now, plan.closes_at)
            if plan.closes_at is not None and now >= plan.closes_at:
                done += self._close(plan)
        if self.appointments is not None:
            marked = self.appointments.mark_no_shows(now)
            if marked:
                done.append(f"{marked} appointment no-show(s)")
            erased = PersonalData(self.appointments).erase_expired(now)
            if erased:
                done.append(f"personal data of {erased} old booking(s) masked")
        return done

    def _row(self, conn: Connection, day: date) -> Any:
        return conn.execute(sa.select(hall_days).where(hall_days.c.service_day == day)).first()

    def _closed(self, day: date) -> bool:
        with self.engine.store.read() as conn:
            row = self._row(conn, day)
        return row is not None and row.closed_at is not None

    def _open(self, plan: DayPlan) -> list[str]:
        with self.engine.store.read() as conn:
            row = self._row(conn, plan.day)
        if row is not None and row.opened_at is not None:
            return []
        try:
            with self.engine.unit(SCHEDULER) as work:
                current = self._row(work.conn, plan.day)
                if current is not None and current.opened_at is not None:
                    raise _AlreadyDone  # another instance opened the day since our read
                values = {"opened_at": work.now, "updated_at": work.now}
                if current is None:
                    work.conn.execute(sa.insert(hall_days).values(service_day=plan.day, **values))
                else:
                    work.conn.execute(sa.update(hall_days)
                                      .where(hall_days.c.service_day == plan.day).values(**values))
                work.event("day.opened", {"day": plan.to_json()})
        except _AlreadyDone:
            return []
        for number in self._paused_off_hours():
            _try(self.engine.windows.resume, number, only_origin=PauseOrigin.SCHEDULER)
        done = [f"opened {plan.day}"]
        if plan.kind == "working":
            self.plan_lunch(plan.day)
        return done

    # -- lunch ------------------------------------------------------------------------------

    def plan_lunch(self, day: date, actor: Actor = SCHEDULER) -> LunchPlan | None:
        """Plan today's rotation from who is present now, keeping supervisors' fixed breaks."""
        with self.engine.store.read() as conn:
            row = self._row(conn, day)
        pins = dict(row.lunch_pins or {}) if row is not None else {}
        return self.lunch.store_plan(day, roster.today(self.engine, day), pins, actor)

    def lunch_plan(self, day: date) -> LunchPlan | None:
        return self.lunch.plan_for(day)

    def lunch_problem(self, day: date | None = None) -> dict[str, Any] | None:
        """Why today runs without a rotation, if it does (for /admin and GET /api/lunch)."""
        return self.lunch.problem_of(day or self.engine.time.service_day())

    def slot_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        return self.lunch.slot_spans(day)

    def problem(self) -> LunchProblem | None:
        return self.lunch.problem(roster.today(self.engine))

    def edit_lunch(self, edit: Any, actor: Actor) -> LunchPlan:
        """A supervisor's change to today's rotation (`edit(problem, plan) -> LunchPlan`, which
        raises LunchInfeasible naming the item it would leave uncovered): stored, announced.
        The breaks it sets are kept through later re-planning."""
        day = self.engine.time.service_day()
        clerks = roster.today(self.engine, day)
        problem = self.lunch.problem(clerks)
        plan = self.lunch_plan(day)
        if problem is None:
            raise ValueError("this hall has no lunch slots or no clerk at work today")
        if plan is None:
            plan = self.lunch.store_plan(day, clerks, {}, actor)
            if plan is None:
                failure = self.lunch_problem(day) or {}
                raise LunchInfeasible(str(failure.get("service") or ""),
                                      str(failure.get("message") or "今日无法安排午餐轮换"),
                                      str(failure.get("message_en") or "no rotation today"))
        changed: LunchPlan = edit(problem, plan)
        pins = dict(changed.breaks)
        with self.engine.unit(actor) as work:
            values = {"lunch_plan": {**changed.to_json(), "roster": self.lunch.signature(clerks)},
                      "lunch_problem": None, "lunch_pins": pins, "updated_at": work.now}
            if self._row(work.conn, day) is None:
                work.conn.execute(sa.insert(hall_days).values(service_day=day, **values))
            else:
                work.conn.execute(sa.update(hall_days).where(hall_days.c.service_day == day)
                                  .values(**values))
            work.event("lunch.changed", {"day": day.isoformat(), "problem": None},
                       staff={"lunch": changed.to_json()})
        return changed

    # -- closing ----------------------------------------------------------------------------

    def _close(self, plan: DayPlan) -> list[str]:
        with self.engine.store.read() as conn:
            row = self._row(conn, plan.day)
            if row is not None and row.closed_at is not None:
                return []
            if self._anyone_left(conn):
                return []  # 延时服务: windows keep calling until the last resident is served
        if not self._write_close(plan.day, require_empty=True):
            return []
        for number in self._windows_in(CounterState.OPEN):
            _try(self.engine.windows.pause, number, NIGHT_REASON)
        for number in self._pending_breaks():
            _try(self.engine.windows.cancel_pending_pause, number)
        return [f"closed {plan.day}"]

    def _close_past(self, today: date) -> list[str]:
        """Close every earlier day that opened and never closed (the server was down, or a
        ticket kept it open), so every day has its `day.closed` and report."""
        with self.engine.store.read() as conn:
            days = [d for (d,) in conn.execute(
                sa.select(hall_days.c.service_day).where(
                    hall_days.c.service_day < today, hall_days.c.opened_at.is_not(None),
                    hall_days.c.closed_at.is_(None)).order_by(hall_days.c.service_day))]
        return [f"closed {d} (late)" for d in days if self._write_close(d, require_empty=False)]

    def _write_close(self, day: date, require_empty: bool) -> bool:
        report = day_report(self.engine, day, self.calendar)
        try:
            with self.engine.unit(SCHEDULER) as work:
                current = self._row(work.conn, day)
                if current is not None and current.closed_at is not None:
                    raise _AlreadyDone  # another instance closed the day since our read
                if require_empty and self._anyone_left(work.conn):
                    raise _AlreadyDone  # someone took a ticket between the check and the close
                summary = {**report, "closed_at": work.now.isoformat()}
                if current is None:
                    work.conn.execute(sa.insert(hall_days).values(
                        service_day=day, closed_at=work.now, summary=summary,
                        updated_at=work.now))
                else:
                    work.conn.execute(sa.update(hall_days).where(hall_days.c.service_day == day)
                                      .values(closed_at=work.now, summary=summary,
                                              updated_at=work.now))
                work.event("day.closed", {"day": day.isoformat(), "summary": report,
                                          "late": not require_empty})
        except _AlreadyDone:
            return False
        return True

    def _anyone_left(self, conn: Connection) -> bool:
        """Is there a resident someone on duty will still serve? One at a staffed window, or one
        waiting that an open or briefly paused window can call. Tickets nobody on duty can call
        (their windows' clerks have gone) do not keep the hall open: they stay in line."""
        rows = conn.execute(sa.select(counters)).all()
        on_duty = [r for r in rows if r.state != CounterState.UNSTAFFED.value
                   and self.config.counter(r.number) is not None
                   and not (r.state == CounterState.PAUSED.value
                            and r.pause_reason in OFF_HOURS_REASONS)]
        t = tickets.c
        busy = [r.current_ticket_id for r in on_duty if r.current_ticket_id is not None]
        if busy and conn.execute(sa.select(t.id).where(
                t.id.in_(busy), t.state.in_(list(AT_WINDOW_STATES))).limit(1)).first():
            return True
        if not on_duty:
            return False
        numbers = [r.number for r in on_duty]
        services = sorted({s for n in numbers for s in self.config.counter_services(n)})
        found = conn.execute(sa.select(t.id).where(
            t.state == TicketState.WAITING.value,
            sa.or_(t.target_counter.in_(numbers),
                   sa.and_(t.target_counter.is_(None), t.service_id.in_(services)))).limit(1))
        return found.first() is not None

    # -- helpers ----------------------------------------------------------------------------

    def _paused_off_hours(self) -> list[int]:
        with self.engine.store.read() as conn:
            rows = conn.execute(sa.select(counters.c.number).where(
                counters.c.state == CounterState.PAUSED.value,
                counters.c.pause_origin == PauseOrigin.SCHEDULER.value,
                counters.c.pause_reason.in_(OFF_HOURS_REASONS)))
            return [n for (n,) in rows]

    def _windows_in(self, state: CounterState) -> list[int]:
        with self.engine.store.read() as conn:
            rows = conn.execute(sa.select(counters.c.number).where(
                counters.c.state == state.value).order_by(counters.c.number))
            return [n for (n,) in rows]

    def _pending_breaks(self) -> list[int]:
        with self.engine.store.read() as conn:
            rows = conn.execute(sa.select(counters.c.number).where(
                counters.c.pending_pause.is_not(None)))
            return [n for (n,) in rows]


class _AlreadyDone(Exception):
    """Another instance did this step first, or the state moved on: nothing written."""
