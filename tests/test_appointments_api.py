"""预约服务 over HTTP: the routes, bad input (always a 4xx with a message, never a 500), kiosk
check-in, and capacity under real concurrent requests against a real server process."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier
from typing import Any

import httpx
import pytest
from auth_support import add_device, add_user, sign_in
from conftest import hall_time
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onestop.app import create_app
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import ManualClock
from onestop.settings import RuntimeSettings

ITEM = "elderly-card"
PHONE = "13812341234"


@pytest.fixture
def hall(db_url: str, config: HallConfig, clock: ManualClock, tmp_path: Path
         ) -> Iterator[dict[str, Any]]:
    settings_ = RuntimeSettings(db=db_url, data_dir=tmp_path, public_url="http://hall.test")
    add_user(db_url, "sup", "supervisor")
    token = add_device(db_url, "kiosk-k1", "kiosk", "k1")
    with TestClient(create_app(settings_, config, clock)) as public:
        kiosk = TestClient(public.app)
        kiosk.headers["Authorization"] = f"Bearer {token}"
        staff = TestClient(public.app)
        sign_in(staff, "sup")
        yield {"public": public, "kiosk": kiosk, "staff": staff, "clock": clock}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_book_look_up_reschedule_cancel_over_http(hall: dict[str, Any]) -> None:
    c: TestClient = hall["public"]
    days = ok(c.get("/api/appointments/days", params={"service": ITEM}))
    assert days[0]["day"] == "2026-11-25" and days[0]["kind"] == "working"
    slots = ok(c.get("/api/appointments/slots", params={"service": ITEM, "day": "2026-11-26"}))
    assert slots[2]["start"] == "2026-11-26T10:00:00+08:00" and slots[2]["remaining"] == 4
    booked = ok(c.post("/api/appointments", json={
        "service": ITEM, "day": "2026-11-26", "slot": slots[2]["start"], "phone": PHONE,
        "name": "李四"}), 201)
    code = booked["code"]
    assert booked["phone_masked"] == "138****1234" and PHONE not in str(booked)
    assert booked["status_url"] == f"http://hall.test/a/{code}"
    assert ok(c.get(f"/api/appointments/{code}"))["state"] == "booked"
    qr = c.get(f"/a/{code}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    # The code alone does not change a booking: the last four digits of the phone are asked.
    refused = c.post(f"/api/appointments/{code}/reschedule", json={"day": "2026-11-27",
                                                                  "slot": "14:00"})
    assert refused.status_code == 422 and "后四位" in refused.json()["message"]
    wrong = c.post(f"/api/appointments/{code}/cancel", json={"phone_last4": "0000"})
    assert wrong.status_code == 422 and "不符" in wrong.json()["message"]
    moved = ok(c.post(f"/api/appointments/{code}/reschedule",
                      json={"day": "2026-11-27", "slot": "14:00", "phone_last4": PHONE[-4:]}))
    assert moved["slot_start"] == "2026-11-27T14:00:00+08:00"
    assert moved["from"]["slot_start"] == "2026-11-26T10:00:00+08:00"
    assert ok(c.post(f"/api/appointments/{code}/cancel",
                     json={"phone_last4": PHONE[-4:]}))["state"] == "cancelled"
    again = c.post(f"/api/appointments/{code}/cancel", json={"phone_last4": PHONE[-4:]})
    assert again.status_code == 409 and "已取消" in again.json()["message"]
    page = c.get(f"/a/{code}")
    assert page.status_code == 200 and code in page.text and PHONE not in page.text
    assert c.get("/a/NOSUCH22").status_code == 404
    assert c.get("/book").status_code == 200


def test_kiosk_check_in_and_its_refusals(hall: dict[str, Any]) -> None:
    c: TestClient = hall["public"]
    kiosk: TestClient = hall["kiosk"]
    booked = ok(c.post("/api/appointments", json={
        "service": ITEM, "day": "2026-11-25", "slot": "09:30", "phone": PHONE}), 201)
    code = booked["code"]
    assert c.post("/api/kiosks/k1/check-in", json={"code": code}).status_code == 401
    assert kiosk.post("/api/kiosks/k2/check-in", json={"code": code}).status_code in (403, 404)
    ticket = ok(kiosk.post("/api/kiosks/k1/check-in", json={"code": code.lower()}), 201)
    assert ticket["priority"] == "appointment" and ticket["number"].startswith("B")
    assert ticket["appointment"]["state"] == "checked_in"
    assert ticket["qr_url"] == f"/t/{ticket['token']}/qr.svg" and "print" in ticket
    again = kiosk.post("/api/kiosks/k1/check-in", json={"code": code})
    assert again.status_code == 409 and ticket["number"] in again.json()["message"]
    missing = kiosk.post("/api/kiosks/k1/check-in", json={"code": "ABCDEFGH"})
    assert missing.status_code == 404 and missing.json()["message"] == "预约码不存在"

    later = ok(c.post("/api/appointments", json={
        "service": ITEM, "day": "2026-11-25", "slot": "15:00", "phone": PHONE}), 201)
    early = ok(hall["staff"].post("/api/kiosks/k1/check-in", json={"code": later["code"]}), 409)
    assert early["message"] == "预约时段 15:00-15:30，请于 14:30 后签到"
    assert early["details"]["offer_normal_ticket"] is True
    assert early["details"]["service"] == ITEM


BAD_BODIES: list[tuple[str, Any]] = [
    ("/api/appointments", {}),
    ("/api/appointments", {"service": ITEM, "day": "2026-11-26", "slot": "10:00"}),
    ("/api/appointments", {"service": ITEM, "day": "yesterday", "slot": "10:00", "phone": PHONE}),
    ("/api/appointments", {"service": ITEM, "day": "2026-11-26", "slot": "25:00", "phone": PHONE}),
    ("/api/appointments", {"service": ITEM, "day": "2026-11-26", "slot": "10:00",
                           "phone": "12345"}),
    ("/api/appointments", {"service": ITEM, "day": "2026-11-26", "slot": "10:00",
                           "phone": "2381234567x"}),
    ("/api/appointments", {"service": ITEM, "day": "2026-11-26",
                           "slot": "2026-11-26T10:00:00", "phone": PHONE}),
    ("/api/appointments", {"service": ITEM, "day": "2026-11-26",
                           "slot": "2026-11-27T10:00:00+08:00", "phone": PHONE}),
    ("/api/appointments", {"service": ITEM, "day": "2026-11-24", "slot": "10:00",
                           "phone": PHONE}),
    ("/api/appointments", {"service": ITEM, "day": "2027-01-30", "slot": "10:00",
                           "phone": PHONE}),
    ("/api/appointments", {"service": ITEM, "day": "2026-11-29", "slot": "10:00",
                           "phone": PHONE}),
    ("/api/appointments", {"service": ITEM, "day": "2026-11-26", "slot": "10:07",
                           "phone": PHONE}),
    ("/api/appointments", {"service": "nope", "day": "2026-11-26", "slot": "10:00",
                           "phone": PHONE}),
    ("/api/appointments", {"service": ITEM, "day": "2026-11-26", "slot": "10:00",
                           "phone": PHONE, "extra": 1}),
    ("/api/appointments", [1, 2]),
    ("/api/appointments/ABCDEFGH/reschedule", {"day": "2026-11-26", "slot": "10:00"}),
    ("/api/appointments/ABCDEFGH/reschedule", {"day": None}),
    ("/api/appointments/ABCDEFGH/cancel", None),
    ("/api/appointments/%3Cscript%3E/cancel", None),
    ("/api/kiosks/k1/check-in", {}),
    ("/api/kiosks/k1/check-in", {"code": "<script>"}),
    ("/api/kiosks/k1/check-in", {"code": "ABCDEFGH", "print": "maybe"}),
]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bad_input_is_a_4xx_with_a_message(hall: dict[str, Any]) -> None:
    for route, body in BAD_BODIES:
        client = hall["kiosk"] if "/kiosks/" in route else hall["public"]
        response = client.post(route, json=body)
        assert 400 <= response.status_code < 500, (route, body, response.text)
        data = response.json()
        assert data["message"] and data["message_en"], (route, body, data)
    for params in ({}, {"service": ITEM}, {"service": ITEM, "day": "x"},
                   {"service": "nope", "day": "2026-11-26"},
                   {"service": ITEM, "day": "2026-11-29"}, {"service": ITEM, "day": "1900-01-01"}):
        for path in ("/api/appointments/days", "/api/appointments/slots"):
            response = hall["public"].get(path, params=params)
            if path.endswith("days") and params.get("service") == ITEM:
                continue  # day is ignored there: a valid request
            assert 400 <= response.status_code < 500, (path, params, response.text)
            assert response.json()["message"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=24)
    | st.sampled_from(["10:00", "2026-11-26", "2026-11-26T10:00:00+08:00", PHONE, ITEM]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)
bodies = st.dictionaries(st.sampled_from(["service", "day", "slot", "phone", "name", "code",
                                          "print"]), json_values, max_size=5)
ROUTES = ["/api/appointments", "/api/appointments/ABCDEFGH/reschedule",
          "/api/appointments/ABCDEFGH/cancel", "/api/kiosks/k1/check-in"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), body=bodies)
def test_random_bodies_never_cause_a_500(hall: dict[str, Any], route: str, body: Any) -> None:
    response = hall["kiosk"].post(route, json=body)
    assert response.status_code < 500, response.text


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_concurrent_bookings_never_overfill_a_slot(db_url: str, tmp_path: Path) -> None:
    """30 residents press "book" for the same slot at once (capacity 4): 4 get it, 26 are told
    it is full, and the slot shows 4 booked. (All from this machine's one address: the hall's
    per-address rate limit is off for this test; each resident has their own phone.)"""
    from live_server import LiveServer

    server = LiveServer(db_url, tmp_path / "data", env={"ONESTOP_RATE_LIMITS__ENABLED": "false"})
    server.start()
    try:
        _thirty_at_once(server)
    finally:
        server.stop()


def _thirty_at_once(server: Any) -> None:
    day = "2026-11-27"  # a Friday after the server's Wednesday start
    start = Barrier(30)

    def attempt(i: int) -> int:
        body = {"service": ITEM, "day": day, "slot": "10:00", "phone": f"1390000{i:04d}"}
        with httpx.Client(base_url=server.base, timeout=60) as client:
            start.wait(timeout=60)
            return client.post("/api/appointments", json=body).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = Counter(pool.map(attempt, range(30)))
    assert statuses == Counter({201: 4, 409: 26}), statuses
    slots = httpx.get(f"{server.base}/api/appointments/slots",
                      params={"service": ITEM, "day": day}, timeout=10).json()
    ten = next(s for s in slots if s["label"] == "10:00-10:30")
    assert (ten["booked"], ten["remaining"]) == (4, 0)
    assert hall_time(2026, 11, 27, 10, 0).isoformat() == ten["start"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("when", "kind"), [((2026, 11, 25, 9, 0), "working"),
                                            ((2026, 11, 28, 9, 0), "appointments"),
                                            ((2026, 11, 29, 9, 0), "closed")])
def test_kiosk_page_knows_the_day(hall: dict[str, Any], when: tuple[int, ...], kind: str
                                  ) -> None:
    """The kiosk's boot data says what today is, so it can show check-in only, or nothing."""
    import json
    import re

    hall["clock"].set(hall_time(*when))
    page = hall["public"].get("/kiosk?k=k1")
    assert page.status_code == 200
    boot = json.loads(re.search(r'<script type="application/json" id="boot">(.*?)</script>',
                                page.text, re.S).group(1))  # type: ignore[union-attr]
    assert boot["day"]["kind"] == kind and boot["day"]["day"] == f"2026-11-{when[2]:02d}"
    assert boot["code"]["length"] == 8
