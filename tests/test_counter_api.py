"""The counter terminal's routes: GET /counter, /api/counters/{n}/waiting and /today.

Against the real application and a real database (SQLite and PostgreSQL), with real accounts and
real sign-in; the clock is a ManualClock so waited / served seconds are exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from auth_support import add_user, sign_in, staff_windows
from fastapi.testclient import TestClient

from onestop.app import create_app
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import ManualClock
from onestop.settings import RuntimeSettings


@pytest.fixture
def client(
    db_url: str, config: HallConfig, clock: ManualClock, tmp_path: Path
) -> Iterator[TestClient]:
    """Signed in as a supervisor; tests sign in as someone else with sign_in() when they need to."""
    settings = RuntimeSettings(db=db_url, data_dir=tmp_path, public_url="http://hall.test")
    add_user(db_url, "sup", "supervisor")
    add_user(db_url, "wang", "clerk", counters=[5])
    add_user(db_url, "chen", "clerk", counters=[5, 6])
    add_user(db_url, "desk", "desk")
    with TestClient(create_app(settings, config, clock)) as c:
        sign_in(c, "sup")
        yield c


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def issue(client: TestClient, service: str, priority: str = "normal") -> dict[str, Any]:
    body: dict[str, Any] = {"service": service, "priority": priority}
    if priority == "green":
        body["reason"] = "老年人"
    return dict(ok(client.post("/api/tickets", json=body), 201))


def checked_in(client: TestClient, service: str) -> dict[str, Any]:
    """An appointment ticket, as a booking's check-in at a kiosk makes it (the appointment class
    comes from nowhere else)."""
    from engine_support import KIOSK

    from onestop.queue.states import Priority

    engine = client.app.state.hall.engine  # type: ignore[attr-defined]
    return engine.tickets.issue(service, Priority.APPOINTMENT, channel="appointment",
                                actor=KIOSK)


def numbers(tickets: list[dict[str, Any]]) -> list[str]:
    return [t["number"] for t in tickets]


def test_waiting_list_is_in_calling_order(client: TestClient) -> None:
    staff_windows(client, 5, 6)
    b1 = issue(client, "elderly-card")  # window 5: 4th item; window 6: 1st
    b2 = issue(client, "subsistence-allowance")  # window 5: 1st item; window 6: last
    b3 = issue(client, "elderly-card", "green")
    b4 = checked_in(client, "subsistence-allowance")
    issue(client, "pension-qualification")  # another queue: windows 5 and 6 never see it
    # One queue, one line: the same order at both windows, whatever their item order.
    line = [b3["number"], b4["number"], b1["number"], b2["number"]]
    assert numbers(ok(client.get("/api/counters/5/waiting"))) == line
    assert numbers(ok(client.get("/api/counters/6/waiting"))) == line
    assert numbers(ok(client.get("/api/counters/5/waiting?limit=2"))) == line[:2]

    # A ticket transferred to window 5 by name comes first there, keeping its number.
    ok(client.post("/api/counters/6/call-next"))  # b3
    moved = ok(client.post("/api/counters/6/transfer", json={"counter": 5, "note": "联合会审"}))
    assert moved["ticket"]["number"] == b3["number"]
    assert numbers(ok(client.get("/api/counters/5/waiting")))[0] == b3["number"]
    assert b3["number"] not in numbers(ok(client.get("/api/counters/6/waiting")))

    # The list is exactly the order "call next" takes them in.
    expected = numbers(ok(client.get("/api/counters/5/waiting")))
    called = []
    for _ in expected:
        ticket = ok(client.post("/api/counters/5/call-next"))["ticket"]
        called.append(ticket["number"])
        ok(client.post("/api/counters/5/recall"))
        ok(client.post("/api/counters/5/no-show"))
    assert called == expected
    assert ok(client.get("/api/counters/5/waiting")) == []
    assert client.post("/api/counters/5/call-next").status_code == 204


def test_today_counts_and_times(client: TestClient, clock: ManualClock) -> None:
    staff_windows(client, 5, 6)
    today = ok(client.get("/api/counters/5/today"))
    assert today["counter"] == 5 and today["name"] == "5号窗口" and today["state"] == "open"
    assert today["served_today"] == 0 and today["ticket"] is None
    assert today["waited_seconds"] is None and today["served_seconds"] is None
    assert "elderly-card" in today["services"]

    ticket = issue(client, "elderly-card")
    clock.advance(timedelta(minutes=5))
    ok(client.post("/api/counters/5/call-next"))
    clock.advance(timedelta(seconds=40))
    today = ok(client.get("/api/counters/5/today"))
    assert today["ticket"]["number"] == ticket["number"] and today["ticket"]["state"] == "called"
    assert today["waited_seconds"] == 300
    assert today["since_called_seconds"] == 40
    assert today["served_seconds"] is None

    ok(client.post("/api/counters/5/start"))
    clock.advance(timedelta(minutes=3))
    today = ok(client.get("/api/counters/5/today"))
    assert today["ticket"]["state"] == "serving"
    assert today["waited_seconds"] == 300 and today["since_called_seconds"] is None
    assert today["served_seconds"] == 180

    ok(client.post("/api/counters/5/finish",
                   json={"outcome": "committed", "promised_date": "2026-12-01"}))
    today = ok(client.get("/api/counters/5/today"))
    assert today["served_today"] == 1 and today["ticket"] is None
    assert ok(client.get("/api/counters/6/today"))["served_today"] == 0

    ok(client.post("/api/counters/5/pause", json={"reason": "午餐"}))
    today = ok(client.get("/api/counters/5/today"))
    assert (today["state"], today["pause_reason"]) == ("paused", "午餐")

    # Tomorrow the count starts again.
    clock.advance(timedelta(days=1))
    assert client.get("/api/counters/5/today").status_code == 401  # yesterday's session ended
    sign_in(client, "sup")
    assert ok(client.get("/api/counters/5/today"))["served_today"] == 0


def test_clerk_only_at_own_window(client: TestClient) -> None:
    issue(client, "elderly-card")
    sign_in(client, "wang")  # one window: bound to 5 at sign-in
    assert ok(client.get("/auth/me"))["window"] == 5
    assert len(ok(client.get("/api/counters/5/waiting"))) == 1
    assert ok(client.get("/api/counters/5/today"))["counter"] == 5
    for path in ("/api/counters/6/waiting", "/api/counters/6/today"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.json()["message"] == "您已登录在5号窗口，不能操作6号窗口"
    assert client.post("/api/counters/6/call-next").status_code == 403
    assert client.post("/api/counters/6/pause", json={"reason": "午餐"}).status_code == 403

    sign_in(client, "chen")  # two windows, none chosen yet
    response = client.get("/api/counters/5/waiting")
    assert response.status_code == 403 and response.json()["message"] == "请先选择您所在的窗口"
    sign_in(client, "chen", window=6)
    assert client.get("/api/counters/6/today").status_code == 200
    assert client.get("/api/counters/5/today").status_code == 403

    sign_in(client, "desk")
    assert client.get("/api/counters/5/waiting").status_code == 403
    assert client.get("/api/counters/5/today").status_code == 403

    client.post("/auth/logout")
    assert client.get("/api/counters/5/waiting").status_code == 401
    assert client.get("/api/counters/5/today").status_code == 401


@pytest.mark.parametrize("path, status", [
    ("/api/counters/0/waiting", 422),
    ("/api/counters/-1/today", 422),
    ("/api/counters/abc/waiting", 422),
    ("/api/counters/10000/today", 422),
    ("/api/counters/5/waiting?limit=0", 422),
    ("/api/counters/5/waiting?limit=201", 422),
    ("/api/counters/5/waiting?limit=x", 422),
    ("/api/counters/99/waiting", 404),
    ("/api/counters/99/today", 404),
])
def test_bad_input_is_a_readable_4xx(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["message"] and body["message_en"]


def test_counter_page_access(client: TestClient) -> None:
    page = client.get("/counter")  # supervisor: may pick any window
    assert page.status_code == 200
    assert '<meta name="csrf-token"' in page.text and "/static/counter/counter.js" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert client.get("/static/counter/counter.css").status_code == 200

    sign_in(client, "desk")
    page = client.get("/counter")
    assert page.status_code == 403
    assert "此账号不能使用窗口叫号终端" in page.text and "counter.js" not in page.text

    client.post("/auth/logout")
    page = client.get("/counter", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/counter"
