"""Tickets, windows and numbering survive a server killed hard (SIGKILL) and started again."""

from __future__ import annotations

import httpx
from auth_support import seat_clerks, sign_in
from live_server import LiveServer


def test_state_survives_sigkill(server: LiveServer) -> None:
    clerks = seat_clerks(server.db_url, server.base, 5, 6, 9, 10)  # 10 covers 9 when it pauses
    with httpx.Client(base_url=server.base, timeout=10) as http:
        sign_in(http, "sup")
        tickets = [
            http.post("/api/tickets", json={"service": "elderly-card"}).json() for _ in range(3)
        ]
        assert [t["number"] for t in tickets] == ["B001", "B002", "B003"]
        assert http.post("/api/tickets", json={"service": "gas-payment"}).json()["number"] == (
            "E001"
        )
        assert http.post("/api/counters/5/call-next").status_code == 200
        assert http.post("/api/counters/5/start").status_code == 200
        assert http.post("/api/counters/6/call-next").status_code == 200
        assert http.post("/api/counters/9/pause", json={"reason": "会议"}).status_code == 200
        head = http.get("/healthz").json()["seq"]

    server.kill()
    server.start()

    with httpx.Client(base_url=server.base, timeout=10) as http:
        sign_in(http, "sup")
        # Nothing of the ledger is lost (printers starting up may add device events on top).
        assert http.get("/healthz").json()["seq"] >= head
        states = [http.get(f"/api/tickets/{t['token']}").json()["state"] for t in tickets]
        assert states == ["serving", "called", "waiting"]
        windows = {c["number"]: c for c in http.get("/api/counters").json()}
        assert {windows[n]["clerk_id"] for n in (5, 6, 9)} == {"clerk5", "clerk6", "clerk9"}
        assert windows[5]["ticket"]["number"] == "B001"
        assert windows[6]["ticket"]["number"] == "B002"
        assert windows[9]["state"] == "paused" and windows[9]["pause_reason"] == "会议"
        # Numbering continues where it was; it does not start again at 001.
        assert http.post("/api/tickets", json={"service": "elderly-card"}).json()["number"] == (
            "B004"
        )
        # The windows carry on from their state: 5 can finish, 6 must deal with B002 first.
        assert (
            http.post("/api/counters/5/finish", json={"outcome": "on_the_spot"}).status_code == 200
        )
        assert http.post("/api/counters/6/call-next").status_code == 409
        queues = {q["id"]: q for q in http.get("/api/queues").json()}
        assert queues["civil-affairs"]["waiting"] == 2
    for clerk in clerks:
        clerk.close()
