"""The websocket hub: committed events, in strict seq order, to every connected client.

Events reach the hub from the in-process bus (any thread, right after commit) and, as a fallback,
from a light poll of the ledger head (events another process committed). Either way the hub
releases them only in gapless seq order, so a client can trust "I have everything up to my last
seq". Each event is serialised once per audience (onestop.web.audiences: public, kiosk, staff)
and the same text is queued to every subscriber of that audience; a client
too slow to keep up is disconnected rather than allowed to grow an unbounded backlog, and it
catches up from the ledger when it reconnects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import tzinfo

from onestop.queue.ledger import Event
from onestop.web.audiences import Audience, dumps, message

log = logging.getLogger(__name__)

SUBSCRIBER_BACKLOG = 4096
POLL_SECONDS = 0.5

Closed = None


class Subscription:
    def __init__(self, audience: Audience = Audience.PUBLIC) -> None:
        self.audience = audience
        self.queue: asyncio.Queue[tuple[int, str] | None] = asyncio.Queue()
        self.overflowed = False

    def offer(self, seq: int, text: str) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= SUBSCRIBER_BACKLOG:
            self.overflowed = True
            self.queue.put_nowait(Closed)
            return
        self.queue.put_nowait((seq, text))

    def close(self) -> None:
        self.queue.put_nowait(Closed)


class EventHub:
    def __init__(
        self,
        tz: tzinfo,
        head: int,
        fetch_between: Callable[[int, int], Awaitable[Sequence[Event]]],
        fetch_head: Callable[[], Awaitable[int]],
    ) -> None:
        self.tz = tz
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

    def subscribe(self, audience: Audience = Audience.PUBLIC) -> Subscription:
        sub = Subscription(audience)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    @property
    def connected(self) -> int:
        return len(self._subscribers)
