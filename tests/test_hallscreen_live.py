"""The pygame hall screen's client against a real server process, through a server restart.

The client follows /ws/events in its own thread; the test applies what it delivers to a model
and waits (bounded) for the call to show. After the server stops and starts again on the same
port and database, the client reconnects by itself with ?since (no second snapshot) and shows
the next call as news.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any

import httpx
from auth_support import seat_clerks, sign_in
from live_server import LiveServer

from onestop.signage.hallscreen.client import HallClient, apply_update
from onestop.signage.hallscreen.model import ScreenModel

WAIT = 60.0  # the server restarts and the client's backoff reaches several seconds


def pump_until(client: HallClient, model: ScreenModel, done: Callable[[], bool], what: str,
               timeout: float = WAIT) -> None:
    """Apply the client's updates as they arrive until `done()`; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not done():
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out waiting for {what}"
        try:
            update = client.updates.get(timeout=min(remaining, 1.0))
        except queue.Empty:  # check the deadline again
            continue
        apply_update(model, update)


def call_one(base: str, window: int, service: str) -> dict[str, Any]:
    """Issue a ticket and call it at `window` as the supervisor; returns the called ticket."""
    with httpx.Client(base_url=base, timeout=30) as http:
        sign_in(http, "sup")
        issued = http.post("/api/tickets", json={"service": service})
        assert issued.status_code == 201, issued.text
        called = http.post(f"/api/counters/{window}/call-next")
        assert called.status_code == 200, called.text
        ticket: dict[str, Any] = called.json()["ticket"]
        return ticket


def finish(base: str, window: int) -> None:
    with httpx.Client(base_url=base, timeout=30) as http:
        sign_in(http, "sup")
        for path, body in (("start", None), ("finish", {"outcome": "consultation"})):
            response = http.post(f"/api/counters/{window}/{path}", json=body)
            assert response.status_code == 200, response.text


def test_client_shows_calls_and_survives_a_server_restart(server: LiveServer) -> None:
    clerks = seat_clerks(server.db_url, server.base, 3, 7, 8)
    client = HallClient(server.base)
    model = ScreenModel()
    client.start()
    try:
        pump_until(client, model, lambda: model.snapshots == 1 and model.connected, "snapshot")
        assert model.hall_name == "青枫街道政务服务中心"
        assert [q.prefix for q in model.queues] == ["A", "B", "C", "D", "E"]
        notices = httpx.get(f"{server.base}/api/notices", timeout=10).json()
        pump_until(client, model, lambda: [n.id for n in model.notices] == [
            n["id"] for n in notices], "the notices")

        first = call_one(server.base, 3, "social-insurance-enrolment")
        pump_until(client, model, lambda: model.current is not None
                   and model.current.id == first["id"], "the first call")
        assert model.current is not None
        assert (model.current.number, model.current.window) == (first["number"], "3号窗口")
        assert model.flashing() and model.flashes == 1
        finish(server.base, 3)

        server.stop()
        pump_until(client, model, lambda: not model.connected, "the disconnect")
        server.start()
        pump_until(client, model, lambda: model.connected, "the reconnect")
        assert client.connects == 2

        second = call_one(server.base, 3, "social-insurance-enrolment")
        pump_until(client, model, lambda: model.current is not None
                   and model.current.id == second["id"], "the call after the restart")
        assert model.snapshots == 1, "the reconnect resumed with ?since, no new snapshot"
        assert model.gaps == 0
        assert model.flashes == 2, "a call made after the reconnect is news"
        assert [c.number for c in model.calls[:2]] == [second["number"], first["number"]]
        health = httpx.get(f"{server.base}/healthz", timeout=10).json()
        assert model.seq == health["seq"] == client.last_seq

        # A window pauses: the TV says where its residents should go instead.
        with httpx.Client(base_url=server.base, timeout=30) as http:
            sign_in(http, "sup")
            paused = http.post("/api/counters/7/pause", json={"reason": "会议"})
            assert paused.status_code == 200, paused.text
        pump_until(client, model, lambda: ("7号窗口 暂停服务，请到8号窗口", "Window 7 is closed: "
                                           "please go to Window 8") in model.day_notes,
                   "the paused window's note")
    finally:
        client.stop()
        for clerk in clerks:
            clerk.close()
