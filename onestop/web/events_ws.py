"""`/ws/events?since=SEQ`: a snapshot or the missed events, then live events, never a gap.

The subscription is taken *before* the ledger is read, so any event committed after the read
is already queued for this client; events present in both are dropped by seq. Each client gets
its audience's view of every event, live and in replay alike (onestop.web.audiences).

Credentials never travel in the URL, which proxies and the server log: a page offers the
subprotocols `onestop`, `bearer.<device token>` and/or `ticket.<ticket token>` (the browser
sends them in the Sec-WebSocket-Protocol header), a program sends `Authorization: Bearer`, and
a staff page's session cookie comes along by itself. `?token=` and `?ticket=` are still read
for older clients, and redacted from the log (onestop.web.log_redaction).

Bounded: per-address and total caps on open streams ([security]), a backlog bound and a send
timeout per client (onestop.web.hub), and a stream ends at once when its device is revoked,
its user disabled or its session ended (close code 1008).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from onestop.queue.errors import DomainError
from onestop.web.access import Principal, client_address, resolve
from onestop.web.audiences import Audience, audience_of, dumps, message
from onestop.web.deps import hall_of
from onestop.web.hub import Closed, Owner, StreamsFull, Subscription
from onestop.web.ws_transport import abort_connection

if TYPE_CHECKING:
    from onestop.hall import Hall

CATCH_UP_LIMIT = 10_000
SEND_SECONDS = 10.0  # a send that waits longer means the client has stopped reading

router = APIRouter()


PROTOCOL = "onestop"


def _credentials(websocket: WebSocket) -> tuple[str | None, bool]:
    """The ticket token offered (if any) and whether the client speaks our subprotocol; a
    bearer token offered as a subprotocol is left in the scope for access.resolve."""
    offered = list(websocket.scope.get("subprotocols") or [])
    bearer = next((p[7:] for p in offered if p.startswith("bearer.")), None)
    if bearer:
        websocket.scope["onestop.bearer"] = bearer
    ticket = next((p[7:] for p in offered if p.startswith("ticket.")), None)
    return ticket or websocket.query_params.get("ticket"), PROTOCOL in offered


@router.websocket("/ws/events")
async def events(websocket: WebSocket) -> None:
    hall = hall_of(websocket)
    ticket, speaks = _credentials(websocket)
    # Accept first, so a bad request gets a readable close reason.
    await websocket.accept(subprotocol=PROTOCOL if speaks else None)
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
    principal = await _may_watch(websocket, hall, ticket)
    if principal is None:
        await websocket.close(code=1008, reason="sign in, use a device token or a ticket link")
        return
    audience = audience_of(principal)
    try:
        sub = hall.hub.subscribe(audience, owners_of(principal),
                                 client_address(websocket, hall.trusted_proxies))
    except StreamsFull as full:
        await websocket.close(code=1013, reason=str(full))
        return
    reader = asyncio.create_task(_watch_disconnect(websocket, sub))
    try:
        last = await _catch_up(websocket, hall, since, audience)
        await _stream(websocket, sub, last)
    except TimeoutError:
        # The client stopped reading: its socket buffers are full and a send would wait for
        # ever. Drop the connection without a closing handshake (it could not be sent either).
        abort_connection(websocket)
    except (WebSocketDisconnect, RuntimeError, ConnectionError):
        pass
    finally:
        hall.hub.unsubscribe(sub)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader


async def _may_watch(websocket: WebSocket, hall: Hall, ticket: str | None
                     ) -> Principal | None:
    """Who watches, or None when they may not: the public audience sees only public facts
    (numbers, windows, counts), but a hall may keep its screen private: then a device token,
    a staff session or a ticket link is needed. A bad or revoked token is refused."""
    try:
        principal = await resolve(websocket)
    except DomainError:
        return None
    if principal.kind != "public" or hall.config.hall.public_screen:
        return principal
    if not ticket or len(ticket) > 64:
        return None
    try:
        await hall.db(hall.engine.reads.ticket_status, ticket)
    except DomainError:
        return None
    return principal


async def _catch_up(websocket: WebSocket, hall: Hall, since: int | None,
                    audience: Audience) -> int:
    if since is not None:
        missed = await hall.db(hall.engine.replay, since, CATCH_UP_LIMIT)
        if missed is not None:
            tz = hall.engine.time.tz
            for event in missed:  # the same view of each event as live delivery gives
                await asyncio.wait_for(websocket.send_text(dumps(message(event, tz, audience))),
                                       SEND_SECONDS)
            return missed[-1].seq if missed else since
    snap = await hall.db(hall.engine.reads.snapshot)
    await asyncio.wait_for(websocket.send_text(
        dumps(
            {
                "seq": snap["seq"],
                "type": "snapshot",
                "at": hall.engine.time.iso(hall.engine.time.now()),
                "data": snap,
            }
        )
    ), SEND_SECONDS)
    return int(snap["seq"])


def owners_of(principal: Principal) -> frozenset[Owner]:
    """What revoking would end this stream: the device, or the user and their session."""
    if principal.kind == "device" and principal.id is not None:
        return frozenset({("device", principal.id)})
    owners: set[Owner] = set()
    if principal.kind == "user" and principal.id is not None:
        owners.add(("user", principal.id))
    if principal.session_id is not None:
        owners.add(("session", principal.session_id))
    return frozenset(owners)


async def _stream(websocket: WebSocket, sub: Subscription, last: int) -> None:
    """Every send is bounded in time and preceded by the overflow check, so a client that
    stops reading is let go after at most SUBSCRIBER_BACKLOG events or SEND_SECONDS."""
    while True:
        item = await sub.queue.get()
        if item is Closed or sub.closed_for is not None:
            if sub.closed_for is not None:
                code, reason = sub.closed_for
                await asyncio.wait_for(websocket.close(code=code, reason=reason[:120]),
                                       SEND_SECONDS)
            return
        seq, text = item
        if seq <= last:
            continue
        last = seq
        await asyncio.wait_for(websocket.send_text(text), SEND_SECONDS)


async def _watch_disconnect(websocket: WebSocket, sub: Subscription) -> None:
    """Clients send nothing we need; reading is how a closed connection is noticed."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
    finally:
        sub.close()
