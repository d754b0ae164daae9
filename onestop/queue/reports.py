"""The day's figures, as a hall reports them upward: cases by outcome, no-shows, green channel,
appointments, and the cases served in extended hours (延时服务) after the official closing."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from onestop.queue.calendar import HallCalendar
from onestop.queue.states import Outcome, Priority, TicketState
from onestop.queue.tables import appointments, hall_days, tickets


def day_report(engine: Any, day: date, calendar: HallCalendar) -> dict[str, Any]:
    plan = calendar.plan(day)
    t = tickets.c
    with engine.store.read() as conn:
        of_day = t.service_day == day
        states = dict(conn.execute(sa.select(t.state, sa.func.count()).where(of_day)
                                   .group_by(t.state)).all())
        outcomes = dict(conn.execute(
            sa.select(t.outcome, sa.func.count())
            .where(of_day, t.state == TicketState.DONE.value).group_by(t.outcome)).all())
        green = conn.execute(sa.select(sa.func.count()).where(
            of_day, t.priority == Priority.GREEN.value)).scalar_one()
        averages = conn.execute(sa.select(sa.func.avg(t.wait_seconds),
                                          sa.func.avg(t.service_seconds))
                                .where(of_day, t.state == TicketState.DONE.value)).one()
        extended_served, last_finished = 0, None
        if plan.closes_at is not None:
            extended_served, last_finished = conn.execute(
                sa.select(sa.func.count(), sa.func.max(t.finished_at)).where(
                    of_day, t.state == TicketState.DONE.value, t.called_at >= plan.closes_at)
            ).one()
        booked = dict(conn.execute(
            sa.select(appointments.c.state, sa.func.count())
            .where(appointments.c.service_day == day).group_by(appointments.c.state)).all())
        waiting_left = conn.execute(sa.select(sa.func.count()).where(
            t.state == TicketState.WAITING.value)).scalar_one()
        row = conn.execute(sa.select(hall_days).where(hall_days.c.service_day == day)).first()

    def iso(value: Any) -> str | None:
        return engine.time.iso(value) if value is not None else None

    return {
        "day": day.isoformat(),
        "kind": plan.kind,
        "label": plan.label,
        "issued": int(sum(states.values())),
        "served": int(states.get(TicketState.DONE.value, 0)),
        "outcomes": {o.value: int(outcomes.get(o.value, 0)) for o in Outcome},
        "no_show": int(states.get(TicketState.NO_SHOW.value, 0)),
        "cancelled": int(states.get(TicketState.CANCELLED.value, 0)),
        "green_channel": int(green),
        "appointments": {s: int(booked.get(s, 0))
                         for s in ("booked", "checked_in", "no_show", "cancelled")},
        "extended_hours": {"served": int(extended_served or 0),
                           "last_finished_at": iso(last_finished)},
        "average_wait_seconds": _round(averages[0]),
        "average_service_seconds": _round(averages[1]),
        "waiting_left": int(waiting_left),
        "opened_at": iso(row.opened_at) if row else None,
        "closed_at": iso(row.closed_at) if row else None,
    }


def _round(value: Any) -> float | None:
    return round(float(value), 1) if value is not None else None
