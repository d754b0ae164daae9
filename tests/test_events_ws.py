"""The live event stream over a real websocket to a real server process.

A client that disconnects and reconnects with its last seq gets every event it missed, in
order, with no duplicates, then the live ones.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from auth_support import seat_clerks, sign_in_async
from live_server import LiveServer

WAIT = 15.0


async def receive(ws: Any, n: int) -> list[dict[str, Any]]:
    return [json.loads(await asyncio.wait_for(ws.recv(), WAIT)) for _ in range(n)]


async def issue(http: httpx.AsyncClient, n: int, service: str = "elderly-card") -> None:
    for _ in range(n):
        assert (await http.post("/api/tickets", json={"service": service})).status_code == 201


async def serve_one(http: httpx.AsyncClient, window: int) -> None:
    for path, body in (
        ("call-next", None),
        ("start", None),
        ("finish", {"outcome": "consultation"}),
    ):
        response = await http.post(f"/api/counters/{window}/{path}", json=body)
        assert response.status_code == 200, response.text


async def reconnect_scenario(server: LiveServer) -> None:
    clerks = await asyncio.to_thread(seat_clerks, server.db_url, server.base, 5, 6)
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        await sign_in_async(http, "sup")
        async with websockets.connect(server.ws) as ws:
            snapshot = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert snapshot["type"] == "snapshot"
            assert {"queues", "counters", "recent_calls"} <= set(snapshot["data"])
            start = snapshot["seq"]
            await issue(http, 4)
            live = await receive(ws, 4)
            assert [e["seq"] for e in live] == list(range(start + 1, start + 5))
            assert all(e["type"] == "ticket.issued" for e in live)
            assert set(live[0]) == {"seq", "type", "at", "data"}
            last_seen = live[-1]["seq"]

        # Offline: the hall goes on without this client.
        await issue(http, 3)
        await serve_one(http, 5)
        await serve_one(http, 6)
        missed_count = 3 + 3 + 3

        async with websockets.connect(f"{server.ws}?since={last_seen}") as ws:
            missed = await receive(ws, missed_count)
            assert [e["seq"] for e in missed] == list(
                range(last_seen + 1, last_seen + 1 + missed_count)
            )
            assert [e["type"] for e in missed[3:6]] == [
                "ticket.called",
                "ticket.serving",
                "ticket.finished",
            ]
            assert missed[3]["data"]["ticket"]["number"] == "B001"
            assert missed[3]["data"]["counter"]["number"] == 5
            # Then live again, continuing exactly after the catch-up.
            await issue(http, 1, "gas-payment")
            (new,) = await receive(ws, 1)
            assert new["seq"] == missed[-1]["seq"] + 1
            assert new["data"]["ticket"]["number"] == "E001"
            assert "token" not in new["data"]["ticket"], "public events must not leak tokens"
            # Nothing else is pending: no duplicate of anything already delivered.
            await issue(http, 1, "gas-payment")
            (after,) = await receive(ws, 1)
            assert after["seq"] == new["seq"] + 1
    for clerk in clerks:
        clerk.close()


def test_reconnect_with_last_seq_misses_nothing(server: LiveServer) -> None:
    asyncio.run(reconnect_scenario(server))


async def odd_since_scenario(server: LiveServer) -> None:
    async with websockets.connect(f"{server.ws}?since=999999") as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert first["type"] == "snapshot", "a seq from another database gets a fresh snapshot"
    async with websockets.connect(f"{server.ws}?since=abc") as ws:
        with pytest.raises(websockets.ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), WAIT)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1008


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_since_ahead_of_the_ledger_or_malformed(server: LiveServer) -> None:
    asyncio.run(odd_since_scenario(server))
