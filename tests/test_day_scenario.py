"""A day at the civil-affairs windows, lived through the HTTP API on SQLite and PostgreSQL.

Real accounts sign in at real windows; the kiosk issues through its device token; the hall's
clock is walked by the test (ManualClock) and the scheduler's tick is run at the minutes the
test reaches, after the open terminals have sent their heartbeat, as they do every 20 s.

What must hold, as the hall lives it: a window is open only while a clerk sits there, so
estimates and "people ahead" count the staffed windows; a clerk who presses 过号 too early is
stopped and can undo a mistake; a resident sent to a window whose clerk has gone goes back to
the line; the desk puts a no-show back in line; the day closes once the last resident is
served; and every step has its actor, which staff can read in the ticket's history.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from auth_support import add_device, add_user, sign_in
from conftest import hall_time
from fastapi.testclient import TestClient

from onestop.app import create_app
from onestop.hall import Hall
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import ManualClock
from onestop.queue.tables import events
from onestop.settings import RuntimeSettings

ELDERLY = "elderly-card"  # queue B: windows 5 and 6 (and the comprehensive 1 and 2)


@pytest.fixture
def hall(db_url: str, config: HallConfig, clock: ManualClock, tmp_path: Path
         ) -> Iterator[dict[str, Any]]:
    add_user(db_url, "sup", "supervisor")
    add_user(db_url, "desk", "desk")
    for clerk, name, windows in (("chen-jing", "陈静", [5, 6]), ("luo-xiaomei", "罗晓梅", [5, 6]),
                                 ("zhou-qiang", "周强", [9, 10])):
        add_user(db_url, clerk, "clerk", windows, name=name)
    token = add_device(db_url, "kiosk-east", "kiosk", "k1")
    clock.set(hall_time(2026, 11, 25, 8, 0))
    settings = RuntimeSettings(db=db_url, data_dir=tmp_path, printer_poll_seconds=60)
    app = create_app(settings, config, clock)
    with TestClient(app) as first:
        kiosk = TestClient(app, headers={"Authorization": f"Bearer {token}"})
        yield {"app": app, "sup": first, "kiosk": kiosk, "clock": clock,
               "people": {name: TestClient(app) for name in
                          ("chen-jing", "luo-xiaomei", "zhou-qiang", "desk")}}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def refused(response: Any, status: int, words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert words in body["message"], body["message"]
    return body


def windows(client: TestClient) -> dict[int, dict[str, Any]]:
    return {c["number"]: c for c in ok(client.get("/api/counters"))}


def queue(client: TestClient, queue_id: str) -> dict[str, Any]:
    return next(q for q in ok(client.get("/api/queues")) if q["id"] == queue_id)


@pytest.mark.slow
def test_a_day_at_the_windows(hall: dict[str, Any]) -> None:
    sup, kiosk, clock = hall["sup"], hall["kiosk"], hall["clock"]
    chen, luo, zhou, desk = (hall["people"][n] for n in
                             ("chen-jing", "luo-xiaomei", "zhou-qiang", "desk"))
    the_hall: Hall = hall["app"].state.hall

    def at(hour: int, minute: int) -> None:
        clock.set(hall_time(2026, 11, 25, hour, minute))

    def tick(*terminals: tuple[TestClient, int]) -> list[str]:
        """The open terminals check in; then the scheduler runs, as it does every 5 s."""
        for client, window in terminals:
            ok(client.post(f"/api/counters/{window}/heartbeat"))
        return the_hall.day.tick()

    sign_in(sup, "sup")
    sign_in(desk, "desk")
    # Before anyone is in, no window is open and no estimate is made up.
    at(8, 10)
    assert {w["state"] for w in windows(sup).values()} == {"unstaffed"}
    # Clerks arrive and sit down; the hall opens at 08:30 (早到30分钟).
    at(8, 20)
    assert sign_in(chen, "chen-jing", window=5)["window"] == 5
    sign_in(luo, "luo-xiaomei", window=6)
    refused(luo.post("/auth/window", json={"counter": 5}), 409, "已有陈静在岗")
    at(8, 30)
    assert "opened 2026-11-25" in tick((chen, 5), (luo, 6))
    now = windows(sup)
    assert (now[5]["state"], now[5]["clerk_name"]) == ("open", "陈静")
    assert now[6]["state"] == "open" and now[1]["state"] == "unstaffed"
    civil = queue(sup, "civil-affairs")
    assert civil["open_counters"] == 2 and civil["counters"] == [5, 6]
    assert queue(sup, "payments")["estimated_wait_seconds"] is None  # nobody to serve it

    # A burst at opening: six residents take civil-affairs tickets.
    at(8, 31)
    issued = []
    for i in range(6):
        clock.advance(timedelta(seconds=20))
        issued.append(ok(kiosk.post("/api/kiosks/k1/tickets",
                                    json={"service": ELDERLY, "request_id": f"burst-{i:04d}"}),
                         201))
    assert [t["people_ahead"] for t in issued] == [0, 1, 2, 3, 4, 5]
    two_windows = issued[5]["estimated_wait_seconds"]
    # 罗晓梅 is called away: with one window left, the estimate for B006 doubles.
    at(8, 35)
    ok(luo.post("/auth/window", json={"counter": None}))
    assert windows(sup)[6]["state"] == "unstaffed"
    status = ok(kiosk.get(f"/api/tickets/{issued[5]['token']}"))
    assert status["people_ahead"] == 5 and status["estimated_wait_seconds"] == 2 * two_windows

    # 陈静 calls B001 and presses 过号 at once by mistake: refused, then undone after a recall.
    at(8, 40)
    first = ok(chen.post("/api/counters/5/call-next"))["ticket"]
    assert first["number"] == "B001"
    refused(chen.post("/api/counters/5/no-show"), 409, "刚叫号")
    ok(chen.post("/api/counters/5/recall"))
    ok(chen.post("/api/counters/5/no-show"))
    back = ok(chen.post("/api/counters/5/undo"))["ticket"]  # the resident was there after all
    assert back["state"] == "called" and back["number"] == "B001"
    ok(chen.post("/api/counters/5/start"))
    clock.advance(timedelta(minutes=6))
    ok(chen.post("/api/counters/5/finish", json={"outcome": "on_the_spot"}))

    # B002 needs a joint review at window 9, where nobody sits yet: refused, then 周强 arrives.
    at(8, 50)
    second = ok(chen.post("/api/counters/5/call-next"))["ticket"]
    ok(chen.post("/api/counters/5/start"))
    refused(chen.post("/api/counters/5/transfer", json={"counter": 9}), 409, "暂无人员在岗")
    sign_in(zhou, "zhou-qiang", window=9)
    sent = ok(chen.post("/api/counters/5/transfer", json={"counter": 9, "note": "联合会审"}))
    assert sent["ticket"]["target_counter"] == 9
    # 周强's terminal dies (the PC is unplugged): after the heartbeat limit his window is
    # unstaffed, and B002 goes back to the civil-affairs line, ahead of those issued after it.
    at(8, 53)
    assert "window 9 unstaffed (terminal silent)" in tick((chen, 5))
    assert windows(sup)[9]["state"] == "unstaffed"
    again = ok(chen.post("/api/counters/5/call-next"))["ticket"]
    assert again["id"] == second["id"] and again["target_counter"] is None

    # B003 never comes; at the desk, she is put back in line (过号顺延).
    ok(chen.post("/api/counters/5/start"))
    ok(chen.post("/api/counters/5/finish", json={"outcome": "consultation"}))
    third = ok(chen.post("/api/counters/5/call-next"))["ticket"]
    clock.advance(timedelta(seconds=61))
    ok(chen.post("/api/counters/5/no-show"))
    requeued = ok(desk.post(f"/api/desk/tickets/{third['number']}/requeue",
                            json={"reason": "群众回到咨询台"}))["ticket"]
    assert requeued["state"] == "waiting" and requeued["number"] == "B003"
    assert requeued["people_ahead"] == 3  # [corrections] requeue_places

    # The day: 陈静 serves everyone else through the afternoon, her terminal alive all along
    # (its heartbeat keeps her session from going idle too; the supervisor looks in at noon).
    for hour in (10, 12, 14, 16):
        at(hour, 0)
        tick((chen, 5))
        windows(sup)
    served = 0
    while (called := chen.post("/api/counters/5/call-next")).status_code == 200:
        ok(chen.post("/api/counters/5/start"))
        clock.advance(timedelta(minutes=4))
        ok(chen.post("/api/counters/5/finish", json={"outcome": "on_the_spot"}))
        served += 1
    assert called.status_code == 204 and served == 4  # B003 (requeued), B004, B005, B006
    at(17, 0)
    assert "closed 2026-11-25" in tick((chen, 5))
    day = ok(sup.get("/api/day"))
    assert day["phase"] == "closed"
    report = ok(sup.get("/api/reports/day?date=2026-11-25"))
    assert report["served"] == 6 and report["waiting_left"] == 0

    # Who did what: B002's history names the kiosk, 陈静, and the scheduler's fallback.
    history = ok(sup.get(f"/api/tickets/{second['id']}/history"))
    steps = [(e["type"], e["actor"]["kind"], e["actor"]["name"]) for e in history["events"]]
    assert steps[0] == ("ticket.issued", "device", "kiosk-east")
    assert ("ticket.transferred", "user", "陈静") in steps
    assert ("ticket.redirected", "system", "系统排班") in steps
    assert steps[-1] == ("ticket.finished", "user", "陈静")
    requeue_step = next(e for e in ok(sup.get(f"/api/tickets/{third['id']}/history"))["events"]
                        if e["type"] == "ticket.requeued")
    assert requeue_step["actor"]["id"] == "desk"
    assert requeue_step["staff"] == {"reason": "群众回到咨询台"}
    # Every event of the day has an actor; the public stream never carries one.
    with the_hall.store.read() as conn:
        actors = [a for (a,) in conn.execute(sa.select(events.c.actor))]
        notes = [d for (d,) in conn.execute(sa.select(events.c.data))]
    assert actors and all(a and a.get("kind") in ("user", "device", "system", "public")
                          for a in actors)
    assert not any("联合会审" in str(d) or "群众回到咨询台" in str(d) for d in notes)
    # Per clerk, today: 陈静's counts on her terminal.
    today = ok(chen.get("/api/counters/5/today"))
    assert today["clerk"]["served"]["served"] == 6 and today["clerk"]["name"] == "陈静"
