"""Holding off abuse on the public routes, on SQLite and PostgreSQL: one phone cannot hoard a
day's places (防号贩子), a code alone does not change a booking, and one address cannot hammer
booking, look-ups or cancels; the kiosk cannot give itself priority, a screen only reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from auth_support import add_device, add_user, sign_in
from engine_support import DESK, BookForTests, EngineForTests
from fastapi.testclient import TestClient

from onestop.app import create_app
from onestop.queue.calendar import HallCalendar
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import ManualClock
from onestop.queue.errors import InvalidTransition, Rejected
from onestop.settings import RuntimeSettings

ITEM = "elderly-card"
THU = date(2026, 11, 26)
PHONE = "13912345678"


@pytest.fixture
def book(engine: EngineForTests) -> BookForTests:
    return BookForTests(engine, HallCalendar(engine.config))


def test_one_phone_cannot_hoard_the_places_of_a_day(book: BookForTests) -> None:
    first = book.book(ITEM, THU, time(10, 0), PHONE)
    with pytest.raises(InvalidTransition, match="reschedule it instead"):
        book.book(ITEM, THU, time(14, 0), PHONE)  # the same item, the same day
    book.book("gas-payment", THU, time(10, 0), PHONE)  # another item is fine
    book.book(ITEM, date(2026, 11, 27), time(10, 0), PHONE)  # so is another day
    with pytest.raises(InvalidTransition, match="at most 3"):  # [appointments] per_phone_active
        book.book("consultation", THU, time(11, 0), PHONE)
    book.cancel(first["code"])
    assert book.book("consultation", THU, time(11, 0), PHONE)["state"] == "booked"
    # Moving a booking onto a day where the phone already holds that item is refused too.
    other = book.book(ITEM, date(2026, 11, 30), time(10, 0), "13900000001")
    book.book(ITEM, date(2026, 12, 1), time(10, 0), "13900000001")
    with pytest.raises(InvalidTransition, match="already holds a booking"):
        book.reschedule(other["code"], date(2026, 12, 1), time(15, 0))


def test_a_code_alone_does_not_change_a_booking(book: BookForTests) -> None:
    booked = book.book(ITEM, THU, time(10, 0), PHONE)
    with pytest.raises(Rejected, match="last four digits of the phone"):
        book.cancel(booked["code"], "")
    with pytest.raises(Rejected, match="do not match"):
        book.cancel(booked["code"], "1234")
    with pytest.raises(Rejected, match="do not match"):
        book.reschedule(booked["code"], THU, time(11, 0), "0000")
    assert book.get(booked["code"])["state"] == "booked"
    # The desk, on the resident's behalf, needs only the code.
    assert book.cancel(booked["code"], "", actor=DESK, staff=True)["state"] == "cancelled"


@pytest.fixture
def hall(db_url: str, config: HallConfig, clock: ManualClock, tmp_path: Path
         ) -> Iterator[dict[str, Any]]:
    add_user(db_url, "desk", "desk")
    kiosk_token = add_device(db_url, "kiosk-k1", "kiosk", "k1")
    screen_token = add_device(db_url, "tv", "screen")
    limits = config.rate_limits.model_copy(update={"booking": "5/hour", "lookup": "8/minute",
                                                   "cancel": "3/hour"})
    hall_config = config.model_copy(update={"rate_limits": limits})
    settings = RuntimeSettings(db=db_url, data_dir=tmp_path, printer_poll_seconds=60)
    with TestClient(create_app(settings, hall_config, clock)) as public:
        desk = TestClient(public.app)
        sign_in(desk, "desk")
        yield {"public": public, "desk": desk,
               "kiosk": TestClient(public.app,
                                   headers={"Authorization": f"Bearer {kiosk_token}"}),
               "screen": TestClient(public.app,
                                    headers={"Authorization": f"Bearer {screen_token}"})}


def test_one_address_cannot_hammer_the_public_routes(hall: dict[str, Any]) -> None:
    public: TestClient = hall["public"]
    answers = [public.post("/api/appointments", json={
        "service": ITEM, "day": "2026-11-26", "slot": "10:00" if i < 4 else "10:30",
        "phone": f"1390000{i:04d}"}) for i in range(7)]
    assert [a.status_code for a in answers] == [201, 201, 201, 201, 201, 429, 429]
    assert "预约过于频繁" in answers[5].json()["message"]
    code = answers[0].json()["code"]
    looks = [public.get(f"/api/appointments/{code}").status_code for _ in range(10)]
    assert looks == [200] * 8 + [429, 429]
    cancels = [public.post("/api/appointments/ZZZZZZZZ/cancel", json={"phone_last4": "0000"})
               .status_code for _ in range(4)]
    assert cancels == [404, 404, 404, 429]
    # Staff are not rate-limited by address: the desk books for residents all day.
    desk: TestClient = hall["desk"]
    assert desk.post("/api/appointments", json={"service": ITEM, "day": "2026-11-27",
                                                "slot": "10:00", "phone": "13900009999"}
                     ).status_code == 201


def test_priority_only_by_right_and_a_screen_only_reads(hall: dict[str, Any]) -> None:
    kiosk: TestClient = hall["kiosk"]
    green = kiosk.post("/api/tickets", json={"service": ITEM, "priority": "green",
                                             "reason": "老人"})
    assert green.status_code == 403 and "首问责任岗" in green.json()["message"]
    appointment = hall["desk"].post("/api/tickets", json={"service": ITEM,
                                                          "priority": "appointment"})
    assert appointment.status_code == 403 and "预约签到" in appointment.json()["message"]
    normal = kiosk.post("/api/tickets", json={"service": ITEM})
    assert normal.status_code == 201 and normal.json()["kiosk"] == "k1"  # recorded as its own
    desk_green = hall["desk"].post("/api/tickets", json={"service": ITEM, "priority": "green",
                                                         "reason": "孕妇"})
    assert desk_green.status_code == 201
    screen: TestClient = hall["screen"]
    assert screen.get("/api/queues").status_code == 200
    token = normal.json()["token"]
    for method, url, body in (
            ("POST", "/api/appointments", {"service": ITEM, "day": "2026-11-26",
                                           "slot": "11:00", "phone": "13900001111"}),
            ("POST", f"/api/tickets/{token}/cancel", None),
            ("POST", "/api/appointments/ZZZZZZZZ/cancel", {"phone_last4": "1111"}),
            ("POST", "/api/tickets", {"service": ITEM})):
        assert screen.request(method, url, json=body).status_code == 403, url
