"""个人信息保护法, on SQLite and PostgreSQL: a booking's phone and name are masked once their
keeping time has passed, by the day's scheduler, and an administrator can see what is held
about one phone number; neither leaves the phone on the public stream."""

from __future__ import annotations

from datetime import date, time, timedelta

import sqlalchemy as sa
from conftest import hall_time
from engine_support import BookForTests, EngineForTests

from onestop.queue.actors import user
from onestop.queue.calendar import HallCalendar
from onestop.queue.clock import ManualClock
from onestop.queue.day import HallDay
from onestop.queue.personal_data import PersonalData
from onestop.queue.tables import appointments, events

PHONE = "13912345678"
ADMIN = user("root", "管理员", "admin")


def test_phones_and_names_are_kept_ninety_days_then_masked(
        engine: EngineForTests, clock: ManualClock) -> None:
    book = BookForTests(engine, HallCalendar(engine.config))
    booked = book.book("elderly-card", date(2026, 11, 26), time(10, 0), PHONE, "张三")
    day = HallDay(engine, book)
    privacy = PersonalData(book)
    held = privacy.export(PHONE, actor=ADMIN)
    assert [b["code"] for b in held["bookings"]] == [booked["code"]]
    assert held["bookings"][0]["name"] == "张三" and held["bookings"][0]["phone"] == PHONE
    # 90 days after the booking's day: still kept; the day after: masked by the scheduler.
    clock.set(hall_time(2026, 11, 26, 12, 0) + timedelta(days=90))
    day.tick()
    with engine.store.read() as conn:
        assert conn.execute(sa.select(appointments.c.phone)).scalar_one() == PHONE
    clock.advance(timedelta(days=1))
    assert "personal data of 1 old booking(s) masked" in day.tick()
    with engine.store.read() as conn:
        row = conn.execute(sa.select(appointments.c.phone, appointments.c.name)).one()
        data = [d for (d,) in conn.execute(sa.select(events.c.data).where(
            events.c.type.like("privacy.%")))]
    assert (row.phone, row.name) == ("139****5678", None)
    assert data == [{"bookings": 1}, {"bookings": 1, "before": "2026-11-27"}]
    assert day.tick() == [], "nothing more to mask: the tick stays quiet"
    assert privacy.export(PHONE, actor=ADMIN)["bookings"] == []  # nothing held any more
