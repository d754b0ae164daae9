"""What every screen needs to know about today: the phase of the day, who may take a ticket,
the lunch rotation and where a paused window sends its residents (GET /api/day)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from onestop.queue import roster
from onestop.queue.calendar import DayPlan
from onestop.queue.coverage import alternative_window
from onestop.queue.day import HallDay
from onestop.queue.states import CounterState
from onestop.queue.tables import counters, hall_days

_MINUTE = timedelta(minutes=1)

PHASES: dict[str, tuple[str, str]] = {
    "closed_day": ("今日休息", "Closed today"),
    "before_open": ("尚未开始取号", "Not open yet"),
    "early": ("早到服务：已开始取号", "Early opening: tickets are being issued"),
    "open": ("正常办理中", "Open"),
    "lunch": ("午间轮岗服务中（中午不关门）", "Open through lunch (clerks eat in turns)"),
    "after_cutoff": ("取号已截止，正在办理已取号业务", "Ticket issuing has stopped; serving those waiting"),
    "extended": ("延时服务中：取号已截止，正在办理剩余业务",
                 "Extended hours: serving the residents still waiting"),
    "closed": ("今日办理已结束", "Closed for the day"),
}


def phase(day: HallDay, plan: DayPlan, now: datetime, closed: bool) -> str:
    if not plan.is_open or plan.early_open_at is None or plan.opens_at is None:
        return "closed_day"
    assert plan.closes_at is not None
    if closed:
        return "closed"
    if now < plan.early_open_at:
        return "before_open"
    if now < plan.opens_at:
        return "early"
    if now >= plan.closes_at:
        return "extended"
    cutoff = plan.closes_at - day.calendar.hours.issue_cutoff_minutes * _MINUTE
    if plan.kind == "working" and now >= cutoff:
        return "after_cutoff"
    spans = day.slot_spans(plan.day) if plan.kind == "working" else []
    if spans and spans[0][0] <= now < spans[-1][1]:
        return "lunch"
    return "open"


def lunch_view(day: HallDay, plan: DayPlan, staff: bool = False) -> dict[str, Any]:
    """Today's rotation: which windows close in which slot (everyone), and for staff who eats
    when, who sits where, who is absent, and why there is no rotation if there is none."""
    config = day.config
    rotation = day.lunch_plan(plan.day) if plan.kind == "working" else None
    spans = day.slot_spans(plan.day) if plan.kind == "working" else []
    clerks = roster.today(day.engine, plan.day)
    seats = {c.id: c.seat for c in clerks if c.seat is not None}
    closed: dict[str, list[int]] = {str(c.number): [] for c in config.counters}
    if rotation is not None:
        for clerk, slot in rotation.breaks.items():
            seat = seats.get(clerk)
            if seat is None:  # not signed in yet: where the plan seats them outside their slot
                seat = next((w for s, seating in enumerate(rotation.seating) if s != slot
                             for w, c in seating.items() if c == clerk), None)
            if seat is not None and slot not in closed.setdefault(str(seat), []):
                closed[str(seat)].append(slot)
    view: dict[str, Any] = {
        "slots": [{"start": s.isoformat(), "end": e.isoformat(), "label": label}
                  for (s, e), label in zip(spans, config.lunch.slots, strict=False)],
        "countdown_minutes": config.lunch.countdown_minutes,
        "reason": config.lunch.reason,
        "closed": closed if rotation else {},
        "problem": day.lunch_problem(plan.day) if plan.kind == "working" else None,
    }
    if staff:
        view.update({
            "breaks": dict(rotation.breaks) if rotation else {},
            "clerks": {c.id: c.name for c in clerks},
            "seating": [{str(n): clerk for n, clerk in seats_.items()}
                        for seats_ in rotation.seating] if rotation else [],
            "roster": [{"id": c.id, "name": c.name, "absent": c.absent, "seat": c.seat,
                        "counters": list(c.counters), "marked_by": c.marked_by,
                        "break_started_at": (day.engine.time.iso(c.break_started_at)
                                             if c.break_started_at else None)}
                       for c in clerks],
        })
    return view


def day_status(day: HallDay) -> dict[str, Any]:
    engine = day.engine
    now = engine.time.now()
    plan = day.calendar.plan(engine.time.service_day(now))
    with engine.store.read() as conn:
        closed = conn.execute(sa.select(hall_days.c.closed_at)
                              .where(hall_days.c.service_day == plan.day)).scalar() is not None
        rows = conn.execute(sa.select(counters).order_by(counters.c.number)).all()
    open_now = {r.number for r in rows if r.state == CounterState.OPEN.value}
    windows = []
    for row in rows:
        definition = day.config.counter(row.number)
        if definition is None:
            continue
        alternative = (alternative_window(day.config, open_now, row.number)
                       if row.state != CounterState.OPEN.value else None)
        other = day.config.counter(alternative) if alternative is not None else None
        windows.append({
            "number": row.number, "name": definition.name, "name_en": definition.name_en,
            "state": row.state, "pause_reason": row.pause_reason,
            "staffed": row.state != CounterState.UNSTAFFED.value,
            "clerk_name": row.clerk_name if row.state != CounterState.UNSTAFFED.value else None,
            "pause_until": engine.time.iso(row.pause_until) if row.pause_until else None,
            "pending_pause": row.pending_pause, "alternative": alternative,
            "alternative_name": other.name if other else None,
            "alternative_name_en": other.name_en if other else None,
        })
    current = phase(day, plan, now, closed)
    later = day.calendar.next_open(plan.day)
    return {
        **plan.to_json(),
        "now": engine.time.iso(now),
        "phase": current,
        "phase_label": PHASES[current][0],
        "phase_label_en": PHASES[current][1],
        "check_in_only": plan.kind == "appointments",
        "issuing": engine.tickets.issuing(),
        "lunch": lunch_view(day, plan),
        "windows": windows,
        "next_open": later.to_json() if later else None,
    }


