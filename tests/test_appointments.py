"""预约服务 in the domain: slots, capacity, booking changes, check-in and no-shows, on SQLite and
PostgreSQL. The hall clock starts Wednesday 2026-11-25 09:00 (Shanghai)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import hall_time
from engine_support import BookForTests

from onestop.queue.appointments import CODE_ALPHABET, AppointmentBook, mask_phone
from onestop.queue.calendar import HallCalendar
from onestop.queue.clock import ManualClock
from onestop.queue.engine import QueueEngine
from onestop.queue.errors import InvalidTransition, NotFound, Rejected
from onestop.queue.tables import events

ITEM = "elderly-card"  # civil-affairs (B), served first... at window 5 after four other items
THU = date(2026, 11, 26)
SAT = date(2026, 11, 28)
SUN = date(2026, 11, 29)
PHONE = "13812341234"


def phone(n: int) -> str:
    """Another resident's phone (one phone holds one booking per item and day)."""
    return f"1390000{n:04d}"


@contextmanager
def raises(kind: type[Exception], zh: str) -> Iterator[Any]:
    """pytest.raises for domain errors, matched on the Chinese message residents see."""
    with pytest.raises(kind) as info:
        yield info
    message = getattr(info.value, "message", "")
    assert zh in message, message


@pytest.fixture
def book(engine: QueueEngine) -> AppointmentBook:
    return BookForTests(engine, HallCalendar(engine.config))


def ledger(engine: QueueEngine, prefix: str = "appointment.") -> list[tuple[str, dict[str, Any]]]:
    with engine.store.read() as conn:
        rows = conn.execute(sa.select(events.c.type, events.c.data).order_by(events.c.seq))
        return [(t, d) for t, d in rows if t.startswith(prefix)]


def test_days_and_slot_grid(book: AppointmentBook) -> None:
    days = {d["day"]: d for d in book.days(ITEM)}
    assert "2026-11-25" in days and "2026-11-26" in days
    assert days["2026-11-28"]["kind"] == "appointments"  # the Saturday session
    assert "2026-11-29" not in days  # Sunday: closed
    assert max(days) <= "2026-12-09"  # 14 days ahead
    slots = book.slots(ITEM, THU)
    assert len(slots) == 16  # 09:00-17:00 by 30 minutes
    assert slots[0]["start"] == "2026-11-26T09:00:00+08:00"
    assert slots[-1]["end"] == "2026-11-26T17:00:00+08:00"
    assert all(s["capacity"] == 4 and s["remaining"] == 4 and s["bookable"] for s in slots)
    today = book.slots(ITEM, date(2026, 11, 25))
    assert today[0]["remaining"] == 0 and not today[0]["bookable"]  # 09:00 has begun
    assert today[1]["remaining"] == 4 and today[1]["bookable"]
    sat = book.slots(ITEM, SAT)
    assert [s["label"] for s in sat] == ["09:00-09:30", "09:30-10:00", "10:00-10:30",
                                         "10:30-11:00", "11:00-11:30", "11:30-12:00"]


def test_book_get_cancel_reschedule_and_events(engine: QueueEngine, book: AppointmentBook
                                               ) -> None:
    booked = book.book(ITEM, THU, time(10, 0), "138-1234 1234", name="张三")
    code = booked["code"]
    assert len(code) == 8 and set(code) <= set(CODE_ALPHABET)
    assert not set(code) & set("01OIL")
    assert booked["phone_masked"] == "138****1234" and "phone" not in booked
    assert booked["slot_start"] == "2026-11-26T10:00:00+08:00"
    assert booked["state"] == "booked"
    assert book.get(code.lower()) == booked
    ten = next(s for s in book.slots(ITEM, THU) if s["label"] == "10:00-10:30")
    assert (ten["booked"], ten["remaining"]) == (1, 3)

    moved = book.reschedule(code, THU, time(11, 0))
    assert moved["slot_start"] == "2026-11-26T11:00:00+08:00"
    by_label = {s["label"]: s for s in book.slots(ITEM, THU)}
    assert by_label["10:00-10:30"]["booked"] == 0 and by_label["11:00-11:30"]["booked"] == 1

    cancelled = book.cancel(code)
    assert cancelled["state"] == "cancelled"
    assert {s["label"]: s for s in book.slots(ITEM, THU)}["11:00-11:30"]["booked"] == 0
    with raises(InvalidTransition, "已取消"):
        book.cancel(code)
    with pytest.raises(InvalidTransition):
        book.reschedule(code, THU, time(14, 0))

    types = [t for t, _ in ledger(engine)]
    assert types == ["appointment.booked", "appointment.rescheduled", "appointment.cancelled"]
    # The code alone cancels or moves a booking: it never reaches the public stream, nor does
    # the phone (even masked); staff see both in the ledger's staff part, the phone masked.
    for _, data in ledger(engine):
        assert code not in str(data) and "phone_masked" not in data
        assert PHONE not in str(data)
    with engine.store.read() as conn:
        staff = [r for (r,) in conn.execute(sa.select(events.c.staff).where(
            events.c.type.like("appointment.%")).order_by(events.c.seq))]
    assert all(s == {"code": code, "phone_masked": "138****1234"} for s in staff)
    with engine.store.read() as conn:  # the full number is kept for the hall, never shown
        assert conn.execute(sa.text("SELECT phone FROM appointments")).scalar_one() == PHONE


def test_mask_phone() -> None:
    assert mask_phone("13912345678") == "139****5678"


@pytest.mark.parametrize("phone", ["12345", "2381234567x", "12812341234", "1381234123",
                                   "138123412345", "", "1３812341234"])
def test_malformed_phones_are_rejected(book: AppointmentBook, phone: str) -> None:
    with raises(Rejected, "手机号码格式不正确，请输入11位手机号"):
        book.book(ITEM, THU, time(10, 0), phone)


def test_bad_days_slots_items_and_codes(book: AppointmentBook) -> None:
    with raises(Rejected, "已过"):
        book.book(ITEM, date(2026, 11, 24), time(10, 0), PHONE)
    with raises(Rejected, "14 天内"):
        book.book(ITEM, date(2026, 12, 10), time(10, 0), PHONE)
    with raises(Rejected, "休息日"):
        book.book(ITEM, SUN, time(10, 0), PHONE)
    with raises(Rejected, "没有从 10:10 开始"):
        book.book(ITEM, THU, time(10, 10), PHONE)
    with raises(Rejected, "没有从 16:45"):
        book.book(ITEM, THU, time(16, 45), PHONE)
    with raises(Rejected, "没有从 12:00"):  # Saturday session ends at 12:00
        book.book(ITEM, SAT, time(12, 0), PHONE)
    with raises(Rejected, "已开始"):
        book.book(ITEM, date(2026, 11, 25), time(9, 0), PHONE)
    with pytest.raises(NotFound):
        book.book("no-such-item", THU, time(10, 0), PHONE)
    with pytest.raises(NotFound):
        book.slots("no-such-item", THU)
    for code in ("ABCDEFGH", "short", "", "0OIL1234", "' OR 1=1"):
        with raises(NotFound, "预约码不存在"):
            book.get(code)
        with raises(NotFound, "预约码不存在"):
            book.check_in(code, "k1", False)


def test_capacity_is_never_exceeded(book: AppointmentBook) -> None:
    for n in range(4):
        book.book(ITEM, THU, time(10, 0), phone(n))
    with raises(InvalidTransition, "该时段已约满，请选择其他时段"):
        book.book(ITEM, THU, time(10, 0), PHONE)
    other = book.book(ITEM, THU, time(10, 30), PHONE)
    with raises(InvalidTransition, "已约满"):
        book.reschedule(other["code"], THU, time(10, 0))
    assert book.get(other["code"])["slot_start"].endswith("T10:30:00+08:00")
    assert book.book("gas-payment", THU, time(10, 0), PHONE)["state"] == "booked"  # per item


def test_check_in_on_time_gives_an_appointment_ticket(
    engine: QueueEngine, book: AppointmentBook, clock: ManualClock
) -> None:
    booked = book.book(ITEM, THU, time(10, 0), PHONE)
    clock.set(hall_time(2026, 11, 26, 9, 35))
    result = book.check_in(booked["code"], "k1", False)
    ticket = result["ticket"]
    assert ticket["priority"] == "appointment" and ticket["number"].startswith("B")
    assert result["appointment"]["state"] == "checked_in"
    assert result["appointment"]["ticket_id"] == ticket["id"]
    with raises(InvalidTransition, f"已签到，号码 {ticket['number']}") as again:
        book.check_in(booked["code"], "k1", False)
    assert again.value.details["ticket"] == ticket["number"]
    with pytest.raises(InvalidTransition):
        book.cancel(booked["code"])
    assert [t for t, _ in ledger(engine)][-1] == "appointment.checked_in"


def test_retried_check_in_returns_the_same_ticket(
    engine: QueueEngine, book: AppointmentBook, clock: ManualClock
) -> None:
    """The ticket was issued but the booking not yet marked (a crash in between): the retry
    gets that ticket back, not a second one."""
    booked = book.book(ITEM, THU, time(10, 0), PHONE)
    clock.set(hall_time(2026, 11, 26, 10, 5))
    from onestop.queue.states import Priority
    first = engine.issue(ITEM, priority=Priority.APPOINTMENT, channel="appointment",
                         request_key=f"appointment:{booked['code']}")
    retried = book.check_in(booked["code"], None, False)
    assert retried["ticket"]["id"] == first["id"] and retried["ticket"]["replayed"]
    assert retried["appointment"]["state"] == "checked_in"


def test_too_early_and_too_late(book: AppointmentBook, clock: ManualClock) -> None:
    booked = book.book(ITEM, THU, time(10, 0), PHONE)
    clock.set(hall_time(2026, 11, 26, 9, 10))
    with pytest.raises(InvalidTransition) as early:
        book.check_in(booked["code"], "k1", False)
    assert early.value.message == "预约时段 10:00-10:30，请于 09:30 后签到"
    assert "09:30" in early.value.message_en
    assert early.value.details["offer_normal_ticket"] is True
    assert early.value.details["service"] == ITEM
    clock.set(hall_time(2026, 11, 25, 15, 0))  # the day before: the date is named
    with raises(InvalidTransition, "2026-11-26 10:00-10:30"):
        book.check_in(booked["code"], "k1", False)
    clock.set(hall_time(2026, 11, 26, 10, 16))
    with raises(InvalidTransition, "预约已失效") as late:
        book.check_in(booked["code"], "k1", False)
    assert "normal ticket" in late.value.message_en
    assert late.value.details["offer_normal_ticket"] is True
    assert book.get(booked["code"])["state"] == "booked"  # nothing changed


def test_no_shows_after_the_window(engine: QueueEngine, book: AppointmentBook,
                                   clock: ManualClock) -> None:
    ten = book.book(ITEM, THU, time(10, 0), phone(1))
    eleven = book.book(ITEM, THU, time(11, 0), phone(2))
    gone = book.book(ITEM, THU, time(10, 0), phone(3))
    book.cancel(gone["code"])
    assert book.mark_no_shows(hall_time(2026, 11, 26, 10, 15)) == 0  # the last minute counts
    assert book.mark_no_shows(hall_time(2026, 11, 26, 10, 16)) == 1
    assert book.get(ten["code"])["state"] == "no_show"
    assert book.get(eleven["code"])["state"] == "booked"
    assert book.get(gone["code"])["state"] == "cancelled"
    assert book.mark_no_shows(hall_time(2026, 11, 26, 10, 30)) == 0
    assert [t for t, _ in ledger(engine)].count("appointment.no_show") == 1
    clock.set(hall_time(2026, 11, 26, 10, 20))
    with raises(InvalidTransition, "已失约"):
        book.check_in(ten["code"], "k1", False)


def test_saturday_session_booking_and_check_in(book: AppointmentBook, clock: ManualClock
                                               ) -> None:
    booked = book.book(ITEM, SAT, time(9, 30), PHONE)
    assert booked["day"] == "2026-11-28"
    clock.set(hall_time(2026, 11, 28, 9, 20))
    result = book.check_in(booked["code"], "k1", False)
    assert result["ticket"]["priority"] == "appointment"
    assert result["ticket"]["service_day"] == "2026-11-28"


def test_appointment_ticket_is_called_before_earlier_normal_tickets(
    engine: QueueEngine, book: AppointmentBook, clock: ManualClock
) -> None:
    booked = book.book(ITEM, THU, time(10, 0), PHONE)
    clock.set(hall_time(2026, 11, 26, 9, 40))
    normal = [engine.issue(ITEM) for _ in range(2)]
    clock.advance(timedelta(minutes=5))
    ticket = book.check_in(booked["code"], "k1", False)["ticket"]
    called = engine.call_next(5)["ticket"]
    assert called["id"] == ticket["id"] and called["priority"] == "appointment"
    assert called["issued_at"] > normal[1]["issued_at"]
