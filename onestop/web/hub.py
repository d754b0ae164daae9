"""The websocket hub: committed events, in strict seq order, to every connected client.

Events reach the hub from the in-process bus (any thread, right after commit) and, as a fallback,
from a light poll of the ledger head (events another process committed). Either way the hub
releases them only in gapless seq order, so a client can trust "I have everything up to my last
seq". Each event is serialised once per audience (onestop.web.audiences: public, kiosk, staff)
and the same text is queued to every subscriber of that audience; a client
too slow to keep up is disconnected rather than allowed to grow an unbounded backlog, and it
catches up from the ledger when it reconnects. A committed revocation (a device revoked or
rotated, a user disabled, a session ended) closes the streams it owned at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import tzinfo

from onestop.queue.ledger import Event
from onestop.web.audiences import Audience, dumps, message

log = logging.getLogger(__name__)

# Events queued for one client before it counts as too slow and is dropped (it catches up
# from the ledger when it reconnects). An event is a few hundred bytes to a few KB.
SUBSCRIBER_BACKLOG = 1024
POLL_SECONDS = 0.5

Closed = None

# Who a subscription belongs to, so revoking it ends the stream too: ("device", id),
# ("user", id), ("session", id).
Owner = tuple[str, int]
# Close codes a client sees: 1008 policy (revoked, signed out), 1013 try again (too slow).
REVOKED = 1008
TOO_SLOW = 1013


class StreamsFull(Exception):
    """More websockets than the hall allows, from this address or in all."""


class Subscription:
    def __init__(self, audience: Audience = Audience.PUBLIC, owners: frozenset[Owner] = frozenset(),
                 address: str = "") -> None:
        self.audience = audience
        self.owners = owners
        self.address = address
        self.queue: asyncio.Queue[tuple[int, str] | None] = asyncio.Queue()
        self.overflowed = False
        self.closed_for: tuple[int, str] | None = None  # (close code, reason) when ended here

    def offer(self, seq: int, text: str) -> None:
        if self.overflowed or self.closed_for is not None:
            return
        if self.queue.qsize() >= SUBSCRIBER_BACKLOG:
            self.overflowed = True
            self.closed_for = (TOO_SLOW, "too far behind; reconnect with since")
            self.queue.put_nowait(Closed)
            return
        self.queue.put_nowait((seq, text))

    def end(self, code: int, reason: str) -> None:
        if self.closed_for is None:
            self.closed_for = (code, reason)
        self.queue.put_nowait(Closed)

    def close(self) -> None:
        self.queue.put_nowait(Closed)


def revoked_owners(event: Event) -> tuple[list[Owner], str]:
    """The streams a committed account or device change ends, and why (for the close frame)."""
    staff = event.staff or {}
    owners: list[Owner] = []
    if event.type in ("device.revoked", "device.rotated") and staff.get("device_id") is not None:
        owners.append(("device", int(staff["device_id"])))
    if event.type == "account.disabled" and staff.get("user_id") is not None:
        owners.append(("user", int(staff["user_id"])))
    for sid in staff.get("sessions_ended") or ():
        owners.append(("session", int(sid)))
    if event.type == "account.session_ended" and staff.get("session_id") is not None:
        owners.append(("session", int(staff["session_id"])))
    return owners, event.type


class EventHub:
    def __init__(
        self,
        tz: tzinfo,
        head: int,
        fetch_between: Callable[[int, int], Awaitable[Sequence[Event]]],
        fetch_head: Callable[[], Awaitable[int]],
        per_address: int = 50,
        total: int = 2000,
    ) -> None:
        self.tz = tz
        self.per_address = per_address
        self.total = total
        self.last_seq = head
        self._pending: dict[int, Event] = {}
        self._subscribers: set[Subscription] = set()
        self._fetch_between = fetch_between
        self._fetch_head = fetch_head
        self._loop: asyncio.AbstractEventLoop | None = None
        self._poller: asyncio.Task[None] | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._poller = asyncio.create_task(self._poll(), name="ledger-poll")

    async def stop(self) -> None:
        if self._poller:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        for sub in list(self._subscribers):
            sub.close()

    # -- input ------------------------------------------------------------------------------

    def publish_threadsafe(self, events: Sequence[Event]) -> None:
        """Bus subscriber: called in the committing thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.feed, list(events))

    def feed(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.seq > self.last_seq:
                self._pending[event.seq] = event
        while self.last_seq + 1 in self._pending:
            event = self._pending.pop(self.last_seq + 1)
            self.last_seq = event.seq
            texts: dict[Audience, str] = {}
            for sub in self._subscribers:
                text = texts.get(sub.audience)
                if text is None:
                    text = texts[sub.audience] = dumps(message(event, self.tz, sub.audience))
                sub.offer(event.seq, text)
            owners, why = revoked_owners(event)
            for owner in owners:
                self.end_owner(owner, why)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                head = await self._fetch_head()
                if head > self.last_seq:
                    self.feed(await self._fetch_between(self.last_seq, head))
            except Exception:
                log.exception("ledger poll failed; retrying")

    # -- subscribers ------------------------------------------------------------------------

    def subscribe(self, audience: Audience = Audience.PUBLIC,
                  owners: frozenset[Owner] = frozenset(), address: str = "") -> Subscription:
        """Refused (StreamsFull) beyond the caps, so one client cannot hold the server's memory
        with thousands of idle sockets."""
        if len(self._subscribers) >= self.total:
            raise StreamsFull("the hall's websocket limit is reached")
        if address and sum(1 for s in self._subscribers if s.address == address) >= self.per_address:
            raise StreamsFull(f"too many websockets from {address}")
        sub = Subscription(audience, owners, address)
        self._subscribers.add(sub)
        return sub

    def end_owner(self, owner: Owner, reason: str) -> int:
        """End every stream of a revoked device, a disabled user or an ended session."""
        ended = 0
        for sub in list(self._subscribers):
            if owner in sub.owners:
                sub.end(REVOKED, reason)
                ended += 1
        if ended:
            log.info("closed %d event stream(s) of %s %s: %s", ended, owner[0], owner[1], reason)
        return ended

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    @property
    def connected(self) -> int:
        return len(self._subscribers)
