"""Appointments under concurrency, on SQLite and PostgreSQL: a check-in racing a cancel never
leaves a ticket without its booking, and two residents swapping slots never deadlock."""

from __future__ import annotations

import threading
from datetime import date, time

import pytest
import sqlalchemy as sa
from conftest import hall_time
from engine_support import BookForTests, EngineForTests
from test_concurrency import run_together

from onestop.queue.calendar import HallCalendar
from onestop.queue.clock import ManualClock
from onestop.queue.errors import DomainError
from onestop.queue.tables import appointments, tickets

ITEM = "elderly-card"
THU = date(2026, 11, 26)
ROUNDS = 15


@pytest.fixture
def book(engine: EngineForTests) -> BookForTests:
    return BookForTests(engine, HallCalendar(engine.config))


def test_check_in_racing_a_cancel_never_orphans_a_ticket(
        engine: EngineForTests, book: BookForTests, clock: ManualClock) -> None:
    clock.set(hall_time(2026, 11, 25, 9, 0))
    # Eight bookings fill two slots (capacity 4); at 10:05 both are open for check-in.
    codes = [book.book(ITEM, THU, time(10, 0) if i % 2 else time(10, 30),
                       f"1390000{i:04d}")["code"] for i in range(8)]
    clock.set(hall_time(2026, 11, 26, 10, 5))
    outcomes: list[str] = []
    lock = threading.Lock()
    for code in codes:
        def race(i: int, code: str = code) -> None:
            try:
                if i == 0:
                    book.check_in(code, "k1", False)
                else:
                    book.cancel(code)
            except DomainError as exc:
                with lock:
                    outcomes.append(type(exc).__name__)
        run_together(race, 2)
    with engine.store.read() as conn:
        rows = conn.execute(sa.select(appointments.c.state, appointments.c.ticket_id)).all()
        ticket_keys = {k for (k,) in conn.execute(sa.select(tickets.c.request_key))
                       if k and k.startswith("appointment:")}
    for state, ticket_id in rows:
        assert state in ("checked_in", "cancelled")
        assert (ticket_id is not None) == (state == "checked_in")
    # Exactly one ticket per checked-in booking, none for a cancelled one.
    assert len(ticket_keys) == sum(1 for s, _ in rows if s == "checked_in")
    assert len(outcomes) == len(codes)  # in each race one side found the other had won


def test_residents_swapping_slots_never_deadlock(
        engine: EngineForTests, book: BookForTests, clock: ManualClock) -> None:
    clock.set(hall_time(2026, 11, 25, 9, 0))
    a = book.book(ITEM, THU, time(10, 0), "13812341234")["code"]
    b = book.book(ITEM, THU, time(10, 30), "13912345678")["code"]
    slots = (time(10, 0), time(10, 30))
    for round_ in range(ROUNDS):
        here, there = slots[round_ % 2], slots[(round_ + 1) % 2]
        errors: list[BaseException] = []

        def move(i: int, here: time = here, there: time = there,
                 errors: list[BaseException] = errors) -> None:
            code, target = (a, there) if i == 0 else (b, here)
            try:
                book.reschedule(code, THU, target)
            except BaseException as exc:
                errors.append(exc)

        run_together(move, 2)
        assert errors == [], errors
        assert book.get(a)["slot_start"].endswith(f"T{there.isoformat()}+08:00")
        assert book.get(b)["slot_start"].endswith(f"T{here.isoformat()}+08:00")
    counts = {s["label"]: s["booked"] for s in book.slots(ITEM, THU)}
    assert counts["10:00-10:30"] == counts["10:30-11:00"] == 1
