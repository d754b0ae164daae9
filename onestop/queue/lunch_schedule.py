"""中午不关门、轮流就餐, run from the clock: today's rotation, planned from who is at work and
where they sit, and the breaks it gives.

- The rotation is planned for the clerks present today (not marked absent): a clerk signed in
  at a window stays at that window (the terminal keeps each clerk at one window), a clerk not
  signed in yet may sit at any of theirs. When who is present or where they sit changes before
  lunch is over, it is planned again, keeping the breaks already begun or counted down, and the
  ones a supervisor fixed.
- Any planner failure (no covering rotation, the search budget spent) leaves the hall open with
  no rotation: nobody is sent to lunch by the system, and /admin says why.
- In a clerk's slot their window gets a break that starts once the resident at it leaves and
  never while it would leave an item without an open window; a break that could not start in
  its slot is still offered later, as soon as the window frees and coverage allows, and lasts a
  full slot. The scheduler ends only the breaks it started; a clerk's own 午餐 pause is theirs.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from onestop.queue import roster
from onestop.queue.actors import SCHEDULER, Actor
from onestop.queue.day_config import parse_span
from onestop.queue.lunch import (
    LunchInfeasible,
    LunchPlan,
    LunchProblem,
    LunchSearchLimit,
    plan_lunch,
    with_breaks,
)
from onestop.queue.lunch_search import NODE_LIMIT
from onestop.queue.states import CounterState, PauseOrigin
from onestop.queue.tables import counters, hall_days

if TYPE_CHECKING:
    from onestop.queue.day import HallDay

log = logging.getLogger(__name__)


class LunchSchedule:
    def __init__(self, day: HallDay, node_limit: int = NODE_LIMIT) -> None:
        self.day = day
        self.engine = day.engine
        self.node_limit = node_limit

    @property
    def config(self) -> Any:
        return self.engine.config

    # -- spans ------------------------------------------------------------------------------

    def slot_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        spans = []
        for text in self.config.lunch.slots:
            start, end = parse_span(text)
            cal = self.engine.calendar
            spans.append((cal.at(day, start), cal.at(day, end)))
        return spans

    # -- the problem, from who is present ---------------------------------------------------

    def problem(self, clerks: list[roster.ClerkToday]) -> LunchProblem | None:
        """Today's planning problem: present clerks, seated ones fixed at their window; one not
        signed in yet may sit at any of their windows nobody sits at now."""
        config = self.config
        if not config.lunch.slots:
            return None
        present = roster.present(clerks)
        seated = {c.seat for c in present if c.seat is not None} | roster.occupied(self.engine)
        allowed: dict[str, tuple[int, ...]] = {}
        for c in present:
            if c.seat is not None:
                allowed[c.id] = (c.seat,)
            else:
                free = tuple(n for n in c.counters if n not in seated)
                if free:
                    allowed[c.id] = free
        lunch = config.lunch
        try:
            return LunchProblem(
                windows={c.number: frozenset(config.counter_services(c.number))
                         for c in config.counters},
                clerks=allowed, slots=tuple(lunch.slots),
                min_open={s.id: lunch.min_open_by_service.get(s.id, lunch.min_open)
                          for s in config.services},
                names={s.id: s.name for s in config.services})
        except ValueError as exc:
            log.info("no lunch problem today: %s", exc)
            return None

    def signature(self, clerks: list[roster.ClerkToday]) -> list[list[Any]]:
        """Who is present and where they sit (and which windows others occupy): a change means
        the rotation is planned again."""
        rota = sorted([c.id, c.seat] for c in roster.present(clerks))
        others = roster.occupied(self.engine) - {c.seat for c in clerks if c.seat is not None}
        return [*rota, ["*", sorted(others)]]

    # -- planning ---------------------------------------------------------------------------

    def stored(self, conn: Connection, day: date) -> Any:
        return conn.execute(sa.select(hall_days).where(hall_days.c.service_day == day)).first()

    def plan_for(self, day: date) -> LunchPlan | None:
        with self.engine.store.read() as conn:
            row = self.stored(conn, day)
        if row is None or not row.lunch_plan:
            return None
        try:
            return LunchPlan.from_json(row.lunch_plan)
        except ValueError:
            return None

    def replan_if_needed(self, day: date, now: datetime) -> list[str]:
        """Plan (again) when who is present or where they sit changed, until lunch is over."""
        spans = self.slot_spans(day)
        if not spans or now >= spans[-1][1]:
            return []
        clerks = roster.today(self.engine, day)
        wanted = self.signature(clerks)
        with self.engine.store.read() as conn:
            row = self.stored(conn, day)
        if row is None or row.opened_at is None:
            return []
        last = (row.lunch_plan or {}).get("roster") if row.lunch_plan else None
        tried = (row.lunch_problem or {}).get("roster") if row.lunch_problem else None
        if wanted in (last, tried):
            return []
        old = self.plan_for(day)
        pins = self._pins(old, clerks, spans, now, row.lunch_pins or {})
        self.store_plan(day, clerks, pins, SCHEDULER)
        return [f"lunch rotation planned for {len(wanted) - 1} clerk(s)"]

    def _pins(self, old: LunchPlan | None, clerks: list[roster.ClerkToday],
              spans: list[tuple[datetime, datetime]], now: datetime,
              fixed: dict[str, int]) -> dict[str, int]:
        """Breaks a new plan must keep: begun or counted down already, or fixed by a supervisor."""
        present = {c.id: c for c in roster.present(clerks)}
        countdown = timedelta(minutes=self.config.lunch.countdown_minutes)
        pins = {c: int(s) for c, s in fixed.items() if c in present}
        if old is not None:
            for clerk, slot in old.breaks.items():
                if clerk not in present or slot >= len(spans):
                    continue
                if present[clerk].break_started_at is not None or now >= spans[slot][0] - countdown:
                    pins[clerk] = slot
        return pins

    def store_plan(self, day: date, clerks: list[roster.ClerkToday], pins: dict[str, int],
                   actor: Actor, event: str | None = None) -> LunchPlan | None:
        """Plan with these pins and store the result, or store why there is no rotation.

        Never raises for a planner failure: the hall stays open without a rotation."""
        problem = self.problem(clerks)
        signature = self.signature(clerks)
        plan: LunchPlan | None = None
        failure: dict[str, Any] | None = None
        if problem is None:
            failure = {"service": "", "message": "今日没有可安排午餐轮换的工作人员",
                       "message_en": "no clerk to plan a lunch rotation for today"}
        else:
            try:
                known = {c: s for c, s in pins.items() if c in problem.clerks}
                plan = (with_breaks(problem, known, node_limit=self.node_limit) if known
                        else plan_lunch(problem, node_limit=self.node_limit))
            except LunchInfeasible as exc:
                failure = {"service": exc.service, "message": exc.message_zh,
                           "message_en": exc.message_en}
            except LunchSearchLimit as exc:
                failure = {"service": "", "message": "午餐轮换计算超出限制，今日不自动安排午餐，"
                                                     "请值班主任手工安排", "message_en": str(exc)}
            except ValueError as exc:
                failure = {"service": "", "message": f"午餐轮换无法安排：{exc}",
                           "message_en": str(exc)}
        if failure is not None:
            log.warning("no lunch rotation today: %s", failure["message_en"])
        stored_plan = {**plan.to_json(), "roster": signature} if plan else None
        stored_problem = {**failure, "roster": signature} if failure else None

        def write(conn: Connection, now: datetime) -> None:
            values = {"lunch_plan": stored_plan, "lunch_problem": stored_problem,
                      "updated_at": now}
            if self.stored(conn, day) is None:
                conn.execute(sa.insert(hall_days).values(service_day=day, **values))
            else:
                conn.execute(sa.update(hall_days).where(hall_days.c.service_day == day)
                             .values(**values))

        with self.engine.unit(actor) as work:
            write(work.conn, work.now)
            # Who eats when names clerks: for staff. Screens only hear that the day changed.
            work.event(event or "lunch.changed",
                       {"day": day.isoformat(), "problem": _public(failure)},
                       staff={"lunch": plan.to_json() if plan else None})
        return plan

    def problem_of(self, day: date) -> dict[str, Any] | None:
        with self.engine.store.read() as conn:
            row = self.stored(conn, day)
        return _public(row.lunch_problem) if row is not None and row.lunch_problem else None

    # -- the breaks -------------------------------------------------------------------------

    def tick(self, day: date, now: datetime, closes_at: datetime | None = None) -> list[str]:
        """Start the breaks that are due, end the ones whose time is over, re-offer missed ones
        (a missed break is offered while it can still end by closing time)."""
        done = self.replan_if_needed(day, now)
        rotation = self.plan_for(day)
        spans = self.slot_spans(day)
        reason = self.config.lunch.reason
        windows = self.engine.windows
        clerks = {c.id: c for c in roster.today(self.engine, day)}
        with self.engine.store.read() as conn:
            rows = {r.number: r for r in conn.execute(sa.select(counters))}
        due: set[int] = set()
        if rotation is not None:
            for clerk_id, slot in rotation.breaks.items():
                clerk = clerks.get(clerk_id)
                if clerk is None or clerk.absent or clerk.seat is None or slot >= len(spans):
                    continue
                start, end = spans[slot]
                length = end - start
                too_late = closes_at is not None and now + length > max(closes_at, end)
                if clerk.break_started_at is None and now >= start and not too_late:
                    due.add(clerk.seat)
                    row = rows.get(clerk.seat)
                    if (row is not None and row.state == CounterState.OPEN.value
                            and row.pending_pause is None):
                        minutes = int(length.total_seconds() // 60)
                        if _try(windows.pause_when_free, clerk.seat, reason, end, minutes):
                            done.append(f"lunch break for window {clerk.seat}")
        for number, row in sorted(rows.items()):
            if self.config.counter(number) is None:
                continue
            mine = row.pause_origin == PauseOrigin.SCHEDULER.value
            if (row.state == CounterState.PAUSED.value and mine and row.pause_reason == reason
                    and row.pause_until is not None and now >= row.pause_until):
                if _try(windows.resume, number, only_origin=PauseOrigin.SCHEDULER):
                    done.append(f"window {number} back from lunch")
            elif row.pending_pause == reason and number not in due:
                _try(windows.cancel_pending_pause, number)
            elif (row.pending_pause is not None and row.current_ticket_id is None
                  and _try(windows.start_pending, number)):
                done.append(f"lunch break for window {number} (late)")
        return done


def _public(problem: dict[str, Any] | None) -> dict[str, Any] | None:
    if not problem:
        return None
    return {k: problem.get(k) for k in ("service", "message", "message_en")}


def _try(operation: Any, *args: Any, **kwargs: Any) -> bool:
    """A scheduled step the hall's state refuses (a clerk paused by hand, a resident still at
    the window) is skipped and tried again next tick, never an error."""
    from onestop.queue.errors import DomainError

    try:
        result = operation(*args, actor=SCHEDULER, **kwargs)
    except DomainError as exc:
        log.info("scheduled %s%s skipped: %s", getattr(operation, "__name__", operation), args,
                 exc.message_en)
        return False
    return result is not False
