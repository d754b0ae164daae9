"""Whole days walked with the clock, on SQLite and PostgreSQL: clerks sit down at their windows,
the hall opens early, eats in turns without ever leaving an item uncovered, stops issuing at the
cut-off, serves until the last resident is done, closes, and stays shut on holidays but opens on
make-up working days and for booked residents on an appointment Saturday.

The scheduler's own breaks run; a clerk's own 午餐 is theirs; absent clerks are left out of the
rotation; a planner failure leaves the hall open without a rotation."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from conftest import hall_time
from engine_support import ROTA, SUPERVISOR, BookForTests, EngineForTests

from onestop.queue import roster
from onestop.queue.actors import user
from onestop.queue.clock import ManualClock
from onestop.queue.day import NIGHT_REASON, HallDay
from onestop.queue.day_status import day_status
from onestop.queue.engine import QueueEngine
from onestop.queue.errors import HallClosed
from onestop.queue.reports import day_report
from onestop.queue.states import Outcome, Priority
from onestop.queue.tables import counters, events

WED = date(2026, 11, 25)


def _hall_day(engine: QueueEngine, node_limit: int | None = None) -> HallDay:
    book = BookForTests(engine, engine.calendar)
    return HallDay(engine, book) if node_limit is None else HallDay(engine, book, node_limit)


def tick(day: HallDay, engine: EngineForTests) -> list[str]:
    """The open terminals check in, then the scheduler runs (as in the server, every 5 s)."""
    engine.keep_alive()
    return day.tick()


def _states(engine: QueueEngine) -> dict[int, tuple[str, str | None, str | None]]:
    with engine.store.read() as conn:
        return {r.number: (r.state, r.pause_reason, r.pending_pause)
                for r in conn.execute(sa.select(counters))}


def _origin(engine: QueueEngine, number: int) -> str | None:
    with engine.store.read() as conn:
        return conn.execute(sa.select(counters.c.pause_origin)
                            .where(counters.c.number == number)).scalar()


def _uncovered(engine: QueueEngine) -> set[str]:
    open_now = {n for n, (state, _, _) in _states(engine).items() if state == "open"}
    served = {s for n in open_now for s in engine.config.counter_services(n)}
    return {s.id for s in engine.config.services} - served


def _event_types(engine: QueueEngine) -> list[str]:
    with engine.store.read() as conn:
        return [t for (t,) in conn.execute(sa.select(events.c.type).order_by(events.c.seq))]


def _refused(engine: EngineForTests, says: str, service: str) -> None:
    with pytest.raises(HallClosed) as refusal:
        engine.issue(service)
    assert says in refusal.value.message, refusal.value.message


def _serve(engine: EngineForTests, window: int) -> bool:
    called = engine.call_next(window)
    if called is None:
        return False
    engine.start(window)
    engine.finish(window, Outcome.ON_THE_SPOT)
    return True


def _opened_with_rota(bare_engine: EngineForTests, clock: ManualClock,
                      rota: dict[int, str] | None = None) -> HallDay:
    day = _hall_day(bare_engine)
    clock.set(hall_time(2026, 11, 25, 8, 20))
    bare_engine.seat_rota(rota)
    clock.set(hall_time(2026, 11, 25, 8, 30))
    assert tick(day, bare_engine) == ["opened 2026-11-25"]
    return day


def test_an_ordinary_weekday(bare_engine: EngineForTests, clock: ManualClock) -> None:
    engine = bare_engine
    day = _hall_day(engine)
    clock.set(hall_time(2026, 11, 25, 8, 0))
    assert tick(day, engine) == []
    _refused(engine, "08:30开始取号", "elderly-card")
    assert day_status(day)["phase"] == "before_open"
    # Clerks arrive before opening: their windows are staffed but not yet serving.
    clock.set(hall_time(2026, 11, 25, 8, 20))
    engine.seat_rota()
    assert {s[:2] for s in _states(engine).values()} == {("paused", "未到办公时间")}

    # 早到30分钟: at 08:30 the hall opens and the day's rotation is planned from who is here.
    clock.set(hall_time(2026, 11, 25, 8, 30))
    assert tick(day, engine) == ["opened 2026-11-25"]
    assert tick(day, engine) == []  # idempotent
    assert day_status(day)["phase"] == "early"
    assert all(s[0] == "open" for s in _states(engine).values())
    rotation = day.lunch_plan(WED)
    assert rotation is not None
    assert set(rotation.breaks) == set(ROTA.values()), "the spare clerks sit nowhere today"
    # The terminal keeps each clerk at one window: the rotation never moves anyone.
    for seating in rotation.seating:
        assert all(ROTA[w] == clerk for w, clerk in seating.items())
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
    tick(day, engine)
    states = _states(engine)
    assert states[busy] == ("open", None, "午餐")
    assert all(states[n][:2] == ("paused", "午餐") for n in first_slot - {busy})
    assert all(_origin(engine, n) == "scheduler" for n in first_slot - {busy})
    assert day_status(day)["phase"] == "lunch"

    # Every minute of lunch, every item has an open window (中午不关门).
    seen_closed: set[int] = set()
    minute = hall_time(2026, 11, 25, 11, 30)
    while minute <= hall_time(2026, 11, 25, 13, 40):
        clock.set(minute)
        tick(day, engine)
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
    # ...and each clerk had their break.
    taken = {c.id for c in roster.today(engine, WED) if c.break_started_at is not None}
    assert taken == set(ROTA.values())

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
    assert tick(day, engine) == []
    status = day_status(day)
    assert status["phase"] == "extended" and status["phase_label"].startswith("延时服务")
    clock.set(hall_time(2026, 11, 25, 17, 5))
    served_late = 0
    for window in windows:
        while _serve(engine, window):
            served_late += 1
    assert served_late == 5  # two from the morning, two before the cut-off, the desk's
    clock.set(hall_time(2026, 11, 25, 17, 25))
    assert tick(day, engine) == ["closed 2026-11-25"]
    assert "day.closed" in _event_types(engine)
    assert day_status(day)["phase"] == "closed"
    assert all(s[:2] == ("paused", NIGHT_REASON) for s in _states(engine).values())
    report = day_report(engine, WED, engine.calendar)
    assert report["extended_hours"]["served"] == 5
    assert report["waiting_left"] == 0 and report["green_channel"] == 1
    assert report["served"] == 2 + 1 + 5  # morning, the busy window, extended hours

    # The next morning the windows of the clerks still signed in open again at 08:30.
    clock.set(hall_time(2026, 11, 26, 8, 30))
    assert tick(day, engine) == ["opened 2026-11-26"]
    assert all(s[0] == "open" for s in _states(engine).values())


def test_a_clerks_own_lunch_stays_until_they_resume(bare_engine: EngineForTests,
                                                    clock: ManualClock) -> None:
    """Window 5's clerk goes to lunch early with the dialog's 午餐 button: the scheduler neither
    resumes that pause nor sends them to lunch again after they come back; its own breaks for
    the other windows still run."""
    engine = bare_engine
    day = _opened_with_rota(engine, clock)
    clock.set(hall_time(2026, 11, 25, 11, 0))
    # Window 6 (same items) stays open, so window 5 may pause.
    assert engine.pause(5, "午餐")["counter"]["pause_origin"] == "clerk"
    for at in ((11, 0), (11, 31), (12, 11), (12, 51), (13, 31), (13, 45)):
        clock.set(hall_time(2026, 11, 25, *at))
        tick(day, engine)
        assert _states(engine)[5][:2] == ("paused", "午餐"), at
        assert _origin(engine, 5) == "clerk"
        if at == (12, 11):  # meanwhile the scheduler's own breaks come and go
            assert any(s[:2] == ("paused", "午餐") and _origin(engine, n) == "scheduler"
                       for n, s in _states(engine).items() if n != 5)
    assert engine.resume(5)["counter"]["state"] == "open"
    for at in ((13, 46), (14, 30)):
        clock.set(hall_time(2026, 11, 25, *at))
        tick(day, engine)
        assert _states(engine)[5] == ("open", None, None), "their break is taken: not twice"


def test_absent_clerks_are_left_out_and_the_rotation_follows_who_is_here(
        bare_engine: EngineForTests, clock: ManualClock) -> None:
    engine = bare_engine
    # 罗晓梅 (window 6) phones in sick before opening; a supervisor marks her absent.
    rota = {n: c for n, c in ROTA.items() if n != 6}
    clock.set(hall_time(2026, 11, 25, 8, 10))
    roster.set_absent(engine, "luo-xiaomei", True, actor=SUPERVISOR)
    day = _opened_with_rota(engine, clock, rota)
    rotation = day.lunch_plan(WED)
    assert rotation is not None and "luo-xiaomei" not in rotation.breaks
    assert "luo-xiaomei" in {c.id for c in roster.today(engine) if c.absent}
    # 10:00: 赵磊 (window 7) is called away; he signs out and is marked absent: re-planned.
    clock.set(hall_time(2026, 11, 25, 10, 0))
    engine.windows.sign_out(7, actor=user("zhao-lei", "赵磊", "clerk"))
    roster.set_absent(engine, "zhao-lei", True, actor=SUPERVISOR)
    assert any(step.startswith("lunch rotation planned") for step in tick(day, engine))
    rotation = day.lunch_plan(WED)
    assert rotation is not None
    assert "zhao-lei" not in rotation.breaks and "luo-xiaomei" not in rotation.breaks
    # 10:30: she comes in after all; marked present and seated, she is planned with again.
    clock.set(hall_time(2026, 11, 25, 10, 30))
    roster.set_absent(engine, "luo-xiaomei", False, actor=SUPERVISOR)
    engine.seat(6, "luo-xiaomei")
    assert any(step.startswith("lunch rotation planned") for step in tick(day, engine))
    rotation = day.lunch_plan(WED)
    assert rotation is not None and "luo-xiaomei" in rotation.breaks
    assert "zhao-lei" not in rotation.breaks
    # Through lunch, window 7 stays unstaffed and every item keeps an open window.
    minute = hall_time(2026, 11, 25, 11, 30)
    while minute <= hall_time(2026, 11, 25, 13, 30):
        clock.set(minute)
        tick(day, engine)
        assert _uncovered(engine) == set(), minute
        assert _states(engine)[7][0] == "unstaffed"
        minute += timedelta(minutes=5)


def test_a_planner_failure_leaves_the_hall_open_without_a_rotation(
        bare_engine: EngineForTests, clock: ManualClock) -> None:
    """A search budget of one step: the planner gives up. The hall opens anyway, nobody is sent
    to lunch, /api/day says why, and every tick stays quiet instead of retrying the search."""
    engine = bare_engine
    day = _hall_day(engine, node_limit=1)
    clock.set(hall_time(2026, 11, 25, 8, 20))
    engine.seat_rota()
    clock.set(hall_time(2026, 11, 25, 8, 30))
    assert tick(day, engine) == ["opened 2026-11-25"]
    assert day.lunch_plan(WED) is None
    problem = day_status(day)["lunch"]["problem"]
    assert problem is not None and "午餐轮换" in problem["message"]
    assert all(s[0] == "open" for s in _states(engine).values())
    for at in ((11, 30), (12, 10), (12, 50)):
        clock.set(hall_time(2026, 11, 25, *at))
        assert tick(day, engine) == []
        assert all(s[0] == "open" for s in _states(engine).values())
    assert _event_types(engine).count("lunch.changed") == 1  # tried once, not every tick


def test_a_missed_break_is_offered_later(bare_engine: EngineForTests, clock: ManualClock) -> None:
    """The clerk's resident takes their whole slot: the break waits, then starts the moment the
    window frees (coverage allowing) and still lasts a full slot."""
    engine = bare_engine
    day = _opened_with_rota(engine, clock)
    rotation = day.lunch_plan(WED)
    assert rotation is not None
    windows = [c.number for c in engine.config.counters]
    busy = min(rotation.closed_windows(0, windows) - {1, 2})
    clock.set(hall_time(2026, 11, 25, 11, 25))
    engine.issue(engine.config.counter_services(busy)[0])
    engine.call_next(busy)
    engine.start(busy)
    for at in ((11, 30), (11, 50), (12, 9), (12, 11)):
        clock.set(hall_time(2026, 11, 25, *at))
        tick(day, engine)
        assert _states(engine)[busy] == ("open", None, "午餐"), at  # still serving: waits
    clock.set(hall_time(2026, 11, 25, 12, 20))
    engine.finish(busy, Outcome.ON_THE_SPOT)
    tick(day, engine)
    state = _states(engine)[busy]
    partner_paused = any(_states(engine)[n][0] == "paused" for n in windows if n != busy
                         and set(engine.config.counter_services(n))
                         == set(engine.config.counter_services(busy)))
    if not partner_paused:
        assert state[:2] == ("paused", "午餐")
    # However it went, the break ends a full 40 minutes after it began, never at the slot's end.
    for minute in range(20, 120, 5):
        clock.set(hall_time(2026, 11, 25, 12, 0) + timedelta(minutes=minute))
        tick(day, engine)
        assert _uncovered(engine) == set()
    with engine.store.read() as conn:
        rows = conn.execute(sa.select(events.c.type, events.c.at, events.c.data)
                            .where(events.c.type.in_(["counter.paused", "counter.resumed"]))
                            .order_by(events.c.seq)).all()
    mine = [(t, at) for t, at, data in rows if data["counter"]["number"] == busy
            and at >= hall_time(2026, 11, 25, 11, 0)]  # not the opening at 08:30
    assert [t for t, _ in mine] == ["counter.paused", "counter.resumed"]
    assert mine[1][1] - mine[0][1] >= timedelta(minutes=40)


def test_a_ticket_sent_to_a_window_that_empties_goes_back_to_its_line(
        engine: EngineForTests, clock: ManualClock) -> None:
    engine.issue("elderly-card")
    engine.call_next(5)
    sent = engine.transfer(5, to_counter=9, note="联合会审")["ticket"]
    assert sent["target_counter"] == 9
    engine.windows.sign_out(9, actor=user("clerk9", "9号窗口员", "clerk"))
    with engine.store.read() as conn:
        types = [t for (t,) in conn.execute(sa.select(events.c.type).order_by(events.c.seq))]
    assert types[-2:] == ["counter.unstaffed", "ticket.redirected"]
    back = engine.ticket_by_id(sent["id"])
    assert back["target_counter"] is None and back["state"] == "waiting"
    called = engine.call_next(6)
    assert called is not None and called["ticket"]["id"] == sent["id"]


def test_a_statutory_holiday_is_closed(engine: EngineForTests, clock: ManualClock) -> None:
    day = _hall_day(engine)
    clock.set(hall_time(2026, 10, 1, 10, 0))
    assert day.tick() == []
    _refused(engine, "国庆节", "elderly-card")
    status = day_status(day)
    assert status["phase"] == "closed_day" and status["kind"] == "closed"
    assert "opened" not in " ".join(_event_types(engine))


def test_a_make_up_working_saturday_is_open(engine: EngineForTests, clock: ManualClock) -> None:
    day = _hall_day(engine)
    clock.set(hall_time(2026, 10, 10, 9, 0))
    assert tick(day, engine) == ["opened 2026-10-10"]
    assert engine.issue("elderly-card")["number"] == "B001"
    assert day_status(day)["label"] == "调休上班"


def test_an_appointment_saturday_admits_booked_residents_only(
        engine: EngineForTests, clock: ManualClock) -> None:
    day = _hall_day(engine)
    book = day.appointments
    clock.set(hall_time(2026, 11, 27, 10, 0))  # Friday: book for Saturday 10:00
    booking = book.book("residence-permit", date(2026, 11, 28), time(10, 0), "13812341234")
    clock.set(hall_time(2026, 11, 28, 9, 40))
    assert tick(day, engine) == ["opened 2026-11-28"]
    status = day_status(day)
    assert status["check_in_only"] and status["kind"] == "appointments"
    _refused(engine, "仅限已预约群众", "residence-permit")
    checked = book.check_in(booking["code"], "k1", False)
    assert checked["ticket"]["priority"] == "appointment"
    called = engine.call_next(7)
    assert called is not None and called["ticket"]["id"] == checked["ticket"]["id"]


def test_a_ticket_left_overnight_is_served_first_and_the_old_day_is_closed(
        engine: EngineForTests, clock: ManualClock) -> None:
    """The server was down at closing and a resident's ticket was still waiting: nothing is lost.
    The next morning the old day gets its day.closed (late, with the ticket counted as left),
    and the ticket keeps its place ahead of new ones."""
    day = _hall_day(engine)
    clock.set(hall_time(2026, 11, 25, 16, 0))
    tick(day, engine)
    left = engine.issue("gas-payment")
    clock.set(hall_time(2026, 11, 26, 8, 40))  # the next morning; no tick ran at 17:00
    assert tick(day, engine) == ["closed 2026-11-25 (late)", "opened 2026-11-26"]
    fresh = engine.issue("gas-payment")
    assert fresh["number"] == "E001"  # numbering starts again each day
    first = engine.call_next(11)
    assert first is not None and first["ticket"]["id"] == left["id"]
    old = day_report(engine, WED, engine.calendar)
    assert old["closed_at"] is not None
    with engine.store.read() as conn:
        closed = conn.execute(sa.select(events.c.data).where(events.c.type == "day.closed")).all()
    assert [row.data["day"] for row in closed] == ["2026-11-25"] and closed[0].data["late"]


def test_the_day_closes_when_nobody_on_duty_can_serve_what_is_left(
        bare_engine: EngineForTests, clock: ManualClock) -> None:
    """A gas-payment ticket is still waiting at 17:10, but every clerk who could serve it has
    gone home: the day closes (the ticket stays in line for tomorrow), and a supervisor closes
    it with a reason, as its own event."""
    engine = bare_engine
    day = _opened_with_rota(engine, clock, {7: "zhao-lei", 11: "xu-hui"})
    clock.set(hall_time(2026, 11, 25, 16, 0))
    left = engine.issue("gas-payment")
    clock.set(hall_time(2026, 11, 25, 17, 0))
    assert tick(day, engine) == []  # window 11 can still serve it: 延时服务
    engine.windows.sign_out(11, actor=user("xu-hui", "徐慧", "clerk"))
    clock.set(hall_time(2026, 11, 25, 17, 10))
    assert tick(day, engine) == ["closed 2026-11-25"]
    assert engine.ticket_by_id(left["id"])["state"] == "waiting"
    closed = engine.corrections.close_leftovers("群众已离开", actor=SUPERVISOR)
    assert closed["numbers"] == [left["number"]]
    assert engine.ticket_by_id(left["id"])["state"] == "cancelled"
    history = engine.reads.history(left["id"])["events"]
    assert history[-1]["type"] == "ticket.cancelled"
    assert history[-1]["actor"]["id"] == "sup"
    assert history[-1]["staff"] == {"reason": "群众已离开", "bulk": True}


def test_a_hall_without_lunch_slots_still_runs_its_day(engine: EngineForTests,
                                                       clock: ManualClock) -> None:
    from onestop.queue.calendar import HallCalendar

    lunch = engine.config.lunch.model_copy(update={"slots": []})
    engine.config = engine.config.model_copy(update={"lunch": lunch, "clerks": []})
    engine.calendar = HallCalendar(engine.config)
    day = _hall_day(engine)
    clock.set(hall_time(2026, 11, 25, 12, 0))
    assert tick(day, engine) == ["opened 2026-11-25"]
    assert all(s[0] == "open" for s in _states(engine).values())
    assert day_status(day)["lunch"]["slots"] == []


def test_two_instances_open_and_close_the_day_once(engine: EngineForTests, clock: ManualClock,
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
        assert tick(_hall_day(engine), engine) == ["opened 2026-11-25"]
        assert ReadTooEarly(other).tick() == []
        assert _event_types(engine).count("day.opened") == 1

        clock.set(hall_time(2026, 11, 25, 17, 10))
        assert tick(_hall_day(engine), engine) == ["closed 2026-11-25"]
        late = ReadTooEarly(other)  # its first read, before the close was written, saw none
        assert late._close(engine.calendar.plan(WED)) == []
        assert late.reads == 2  # the stale read, then the one inside the write transaction
        assert _event_types(engine).count("day.closed") == 1
    finally:
        other_store.dispose()


def test_issuing_stops_when_the_wait_would_run_past_closing(engine: EngineForTests,
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
