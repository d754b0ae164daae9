"""Whole days walked with the clock, on SQLite and PostgreSQL: the hall opens early, eats in
turns without ever leaving an item uncovered, stops issuing at the cut-off, serves until the last
resident is done, closes, and stays shut on holidays but opens on make-up working days and for
booked residents on an appointment Saturday."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from conftest import hall_time

from onestop.queue.appointments import AppointmentBook
from onestop.queue.clock import ManualClock
from onestop.queue.day import NIGHT_REASON, HallDay
from onestop.queue.day_status import day_status
from onestop.queue.engine import QueueEngine
from onestop.queue.errors import HallClosed
from onestop.queue.states import Outcome, Priority
from onestop.queue.tables import counters, events


def _hall_day(engine: QueueEngine) -> HallDay:
    return HallDay(engine, AppointmentBook(engine, engine.calendar))


def _states(engine: QueueEngine) -> dict[int, tuple[str, str | None, str | None]]:
    with engine.store.read() as conn:
        return {r.number: (r.state, r.pause_reason, r.pending_pause)
                for r in conn.execute(sa.select(counters))}


def _uncovered(engine: QueueEngine) -> set[str]:
    open_now = {n for n, (state, _, _) in _states(engine).items() if state == "open"}
    served = {s for n in open_now for s in engine.config.counter_services(n)}
    return {s.id for s in engine.config.services} - served


def _event_types(engine: QueueEngine) -> list[str]:
    with engine.store.read() as conn:
        return [t for (t,) in conn.execute(sa.select(events.c.type).order_by(events.c.seq))]


def _refused(engine: QueueEngine, says: str, service: str) -> None:
    with pytest.raises(HallClosed) as refusal:
        engine.issue(service)
    assert says in refusal.value.message, refusal.value.message


def _serve(engine: QueueEngine, window: int) -> bool:
    called = engine.call_next(window)
    if called is None:
        return False
    engine.start(window)
    engine.finish(window, Outcome.ON_THE_SPOT)
    return True


def test_an_ordinary_weekday(engine: QueueEngine, clock: ManualClock) -> None:
    day = _hall_day(engine)
    clock.set(hall_time(2026, 11, 25, 8, 0))
    assert day.tick() == []
    _refused(engine, "08:30开始取号", "elderly-card")
    assert day_status(day)["phase"] == "before_open"

    # 早到30分钟: at 08:30 the hall opens and the day's rotation is planned.
    clock.set(hall_time(2026, 11, 25, 8, 30))
    assert day.tick() == ["opened 2026-11-25"]
    assert day.tick() == []  # idempotent
    assert day_status(day)["phase"] == "early"
    rotation = day.lunch_plan(date(2026, 11, 25))
    assert rotation is not None
    for service in ("elderly-card", "birth-registration", "gas-payment", "full-agency"):
        engine.issue(service)
    assert _serve(engine, 5) and _serve(engine, 7)

    # A window due to break at 11:30 still has a resident: its break waits for them.
    windows = [c.number for c in engine.config.counters]
    first_slot = rotation.closed_windows(0, windows)
    busy = min(first_slot)
    clock.set(hall_time(2026, 11, 25, 11, 29))
    engine.issue(engine.config.counter_services(busy)[0])
    assert engine.call_next(busy) is not None
    clock.set(hall_time(2026, 11, 25, 11, 30))
    day.tick()
    states = _states(engine)
    assert states[busy] == ("open", None, "午餐")
    assert all(states[n][:2] == ("paused", "午餐") for n in first_slot - {busy})
    assert day_status(day)["phase"] == "lunch"

    # Every minute of lunch, every item has an open window (中午不关门).
    seen_closed: set[int] = set()
    minute = hall_time(2026, 11, 25, 11, 30)
    while minute <= hall_time(2026, 11, 25, 13, 35):
        clock.set(minute)
        day.tick()
        assert _uncovered(engine) == set(), minute
        seen_closed |= {n for n, s in _states(engine).items() if s[0] == "paused"}
        if minute == hall_time(2026, 11, 25, 11, 35):
            engine.start(busy)
            engine.finish(busy, Outcome.CONSULTATION)
            assert _states(engine)[busy] == ("paused", "午餐", None)  # the break starts now
        minute += timedelta(minutes=1)
    assert seen_closed == {n for i in range(len(rotation.slots))
                           for n in rotation.closed_windows(i, windows)}
    assert all(s[0] == "open" for s in _states(engine).values())  # everyone is back

    # The cut-off: kiosks stop at 16:30; the first-inquiry desk may still help.
    clock.set(hall_time(2026, 11, 25, 16, 29))
    engine.issue("residence-permit")
    engine.issue("residence-permit")
    clock.set(hall_time(2026, 11, 25, 16, 30))
    _refused(engine, "今日取号已于16:30截止", "residence-permit")
    desk = engine.issue("elderly-card", Priority.GREEN, reason="老年人", channel="desk")
    assert desk["priority"] == "green"
    assert day_status(day)["issuing"]["residency"]["open"] is False

    # 17:00: people still wait, so the day goes on (延时服务) until the last one is served.
    clock.set(hall_time(2026, 11, 25, 17, 0))
    assert day.tick() == []
    status = day_status(day)
    assert status["phase"] == "extended" and status["phase_label"].startswith("延时服务")
    clock.set(hall_time(2026, 11, 25, 17, 5))
    served_late = 0
    for window in windows:
        while _serve(engine, window):
            served_late += 1
    assert served_late == 5  # two from the morning, two before the cut-off, the desk's
    clock.set(hall_time(2026, 11, 25, 17, 25))
    assert day.tick() == ["closed 2026-11-25"]
    assert "day.closed" in _event_types(engine)
    assert day_status(day)["phase"] == "closed"
    assert all(s[:2] == ("paused", NIGHT_REASON) for s in _states(engine).values())
    from onestop.queue.reports import day_report

    report = day_report(engine, date(2026, 11, 25), engine.calendar)
    assert report["extended_hours"]["served"] == 5
    assert report["waiting_left"] == 0 and report["green_channel"] == 1
    assert report["served"] == 2 + 1 + 5  # morning, the busy window, extended hours

    # The next morning the windows open again at 08:30.
    clock.set(hall_time(2026, 11, 26, 8, 30))
    assert day.tick() == ["opened 2026-11-26"]
    assert all(s[0] == "open" for s in _states(engine).values())


def test_a_statutory_holiday_is_closed(engine: QueueEngine, clock: ManualClock) -> None:
    day = _hall_day(engine)
    clock.set(hall_time(2026, 10, 1, 10, 0))
    assert day.tick() == []
    _refused(engine, "国庆节", "elderly-card")
    status = day_status(day)
    assert status["phase"] == "closed_day" and status["kind"] == "closed"
    assert "opened" not in " ".join(_event_types(engine))


def test_a_make_up_working_saturday_is_open(engine: QueueEngine, clock: ManualClock) -> None:
    day = _hall_day(engine)
    clock.set(hall_time(2026, 10, 10, 9, 0))
    assert day.tick() == ["opened 2026-10-10"]
    assert engine.issue("elderly-card")["number"] == "B001"
    assert day_status(day)["label"] == "调休上班"


def test_an_appointment_saturday_admits_booked_residents_only(
        engine: QueueEngine, clock: ManualClock) -> None:
    day = _hall_day(engine)
    book = day.appointments
    clock.set(hall_time(2026, 11, 27, 10, 0))  # Friday: book for Saturday 10:00
    booking = book.book("residence-permit", date(2026, 11, 28), time(10, 0), "13812341234")
    clock.set(hall_time(2026, 11, 28, 9, 40))
    assert day.tick() == ["opened 2026-11-28"]
    status = day_status(day)
    assert status["check_in_only"] and status["kind"] == "appointments"
    _refused(engine, "仅限已预约群众", "residence-permit")
    checked = book.check_in(booking["code"], "k1", False)
    assert checked["ticket"]["priority"] == "appointment"
    called = engine.call_next(7)
    assert called is not None and called["ticket"]["id"] == checked["ticket"]["id"]


def test_a_ticket_left_overnight_is_served_first_the_next_morning(
        engine: QueueEngine, clock: ManualClock) -> None:
    """The server was down at closing and a resident's ticket was still waiting: nothing is lost.
    The old day is not closed over them, and the ticket keeps its place ahead of new ones."""
    day = _hall_day(engine)
    clock.set(hall_time(2026, 11, 25, 16, 0))
    day.tick()
    left = engine.issue("gas-payment")
    clock.set(hall_time(2026, 11, 26, 8, 40))  # the next morning; no tick ran at 17:00
    assert day.tick() == ["opened 2026-11-26"]
    fresh = engine.issue("gas-payment")
    assert fresh["number"] == "E001"  # numbering starts again each day
    first = engine.call_next(11)
    assert first is not None and first["ticket"]["id"] == left["id"]
    from onestop.queue.reports import day_report

    assert day_report(engine, date(2026, 11, 25), engine.calendar)["closed_at"] is None


def test_a_hall_without_lunch_slots_still_runs_its_day(engine: QueueEngine,
                                                       clock: ManualClock) -> None:
    from onestop.queue.calendar import HallCalendar

    lunch = engine.config.lunch.model_copy(update={"slots": []})
    engine.config = engine.config.model_copy(update={"lunch": lunch, "clerks": []})
    engine.calendar = HallCalendar(engine.config)
    day = _hall_day(engine)
    clock.set(hall_time(2026, 11, 25, 12, 0))
    assert day.tick() == ["opened 2026-11-25"]
    assert all(s[0] == "open" for s in _states(engine).values())
    assert day_status(day)["lunch"]["slots"] == []


def test_two_instances_open_and_close_the_day_once(engine: QueueEngine, clock: ManualClock,
                                                   db_url: str) -> None:
    """Two app instances share the database; the second read the day before the first wrote it
    (a race), so only the check inside its write transaction can stop a second event."""
    from typing import Any

    from onestop.queue.bus import EventBus
    from onestop.queue.store import Store

    class ReadTooEarly(HallDay):
        reads = 0

        def _row(self, conn: Any, day: date) -> Any:
            self.reads += 1
            return None if self.reads == 1 else super()._row(conn, day)

    other_store = Store(db_url)
    try:
        other = QueueEngine(other_store, engine.config, clock, EventBus())
        clock.set(hall_time(2026, 11, 25, 8, 45))
        assert _hall_day(engine).tick() == ["opened 2026-11-25"]
        assert ReadTooEarly(other).tick() == []
        assert _event_types(engine).count("day.opened") == 1

        clock.set(hall_time(2026, 11, 25, 17, 10))
        assert _hall_day(engine).tick() == ["closed 2026-11-25"]
        late = ReadTooEarly(other)  # its first read, before the close was written, saw none
        assert late._close(engine.calendar.plan(date(2026, 11, 25))) == []
        assert late.reads == 2  # the stale read, then the one inside the write transaction
        assert _event_types(engine).count("day.closed") == 1
    finally:
        other_store.dispose()


def test_issuing_stops_when_the_wait_would_run_past_closing(engine: QueueEngine,
                                                             clock: ManualClock) -> None:
    """Before the cut-off, a queue so long that its wait would end more than the allowed
    extension after closing takes no more walk-ins; the refusal leaves no number behind."""
    from onestop.queue.calendar import HallCalendar

    hours = engine.config.hours.model_copy(update={"max_extension_minutes": 0})
    engine.config = engine.config.model_copy(update={"hours": hours})
    engine.calendar = HallCalendar(engine.config)
    clock.set(hall_time(2026, 11, 25, 16, 0))  # an hour before closing, before the 16:30 cut-off
    issued = []
    with pytest.raises(HallClosed) as refusal:
        for _ in range(500):  # bounded: the wait passes 17:00 long before this
            issued.append(engine.issue("gas-payment"))
    assert "预计无法在今日办结" in refusal.value.message
    assert 0 < len(issued) < 500
    head = engine.head()
    with pytest.raises(HallClosed):
        engine.issue("gas-payment")
    assert engine.head() == head, "a refused ticket writes no event"
    desk = engine.issue("gas-payment", channel="desk")  # the desk may still help
    assert desk["number"] == f"E{len(issued) + 1:03d}", "refusals took no numbers"
