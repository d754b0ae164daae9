"""`/ws/events?since=SEQ`: a snapshot or the missed events, then live events, never a gap.

The subscription is taken *before* the ledger is read, so any event committed after the read
is already queued for this client; events present in both are dropped by seq.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from onestop.queue.errors import DomainError
from onestop.web.access import resolve
from onestop.web.deps import hall_of
from onestop.web.hub import Closed, Subscription

if TYPE_CHECKING:
    from onestop.hall import Hall

CATCH_UP_LIMIT = 10_000

router = APIRouter()


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


@router.websocket("/ws/events")
async def events(websocket: WebSocket) -> None:
    hall = hall_of(websocket)
    await websocket.accept()  # accept first, so a bad request gets a readable close reason
    raw_since = websocket.query_params.get("since")
    since: int | None = None
    if raw_since not in (None, ""):
        try:
            since = int(raw_since)
        except ValueError:
            since = -1
        if since < 0:
            await websocket.close(code=1008, reason="since must be a non-negative integer")
            return
    if not await _may_watch(websocket, hall):
        await websocket.close(code=1008, reason="sign in, use a device token or a ticket link")
        return
    sub = hall.hub.subscribe()
    reader = asyncio.create_task(_watch_disconnect(websocket, sub))
    try:
        last = await _catch_up(websocket, hall, since)
        await _stream(websocket, sub, last)
    except (WebSocketDisconnect, RuntimeError, ConnectionError):
        pass
    finally:
        hall.hub.unsubscribe(sub)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader


async def _may_watch(websocket: WebSocket, hall: Hall) -> bool:
    """Events carry only public facts (numbers, windows, counts), but a hall may keep its screen
    private: then a device token, a staff session or a ticket link is needed."""
    try:
        principal = await resolve(websocket)
    except DomainError:
        return False
    if principal.kind != "public" or hall.config.hall.public_screen:
        return True
    ticket = websocket.query_params.get("ticket")
    if not ticket or len(ticket) > 64:
        return False
    try:
        await hall.db(hall.engine.reads.ticket_status, ticket)
    except DomainError:
        return False
    return True


async def _catch_up(websocket: WebSocket, hall: Hall, since: int | None) -> int:
    if since is not None:
        missed = await hall.db(hall.engine.replay, since, CATCH_UP_LIMIT)
        if missed is not None:
            for event in missed:
                await websocket.send_text(_dumps(event.wire(hall.engine.time.tz)))
            return missed[-1].seq if missed else since
    snap = await hall.db(hall.engine.reads.snapshot)
    await websocket.send_text(
        _dumps(
            {
                "seq": snap["seq"],
                "type": "snapshot",
                "at": hall.engine.time.iso(hall.engine.time.now()),
                "data": snap,
            }
        )
    )
    return int(snap["seq"])


async def _stream(websocket: WebSocket, sub: Subscription, last: int) -> None:
    while True:
        item = await sub.queue.get()
        if item is Closed:
            if sub.overflowed:
                await websocket.close(code=1013, reason="too far behind; reconnect with since")
            return
        seq, text = item
        if seq <= last:
            continue
        last = seq
        await websocket.send_text(text)


async def _watch_disconnect(websocket: WebSocket, sub: Subscription) -> None:
    """Clients send nothing we need; reading is how a closed connection is noticed."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
    finally:
        sub.close()
