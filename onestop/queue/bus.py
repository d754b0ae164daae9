"""The in-process event bus: committed ledger events fan out to subscribers.

Publishing happens in whatever thread committed the transaction, so subscribers must be cheap
and thread-safe (the web hub hands events to its event loop with call_soon_threadsafe). A
subscriber that raises is logged and dropped from this delivery only; it never breaks the
operation that produced the event, because that operation has already committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from onestop.queue.ledger import Event

log = logging.getLogger(__name__)

Subscriber = Callable[[Sequence[Event]], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Register; returns the function that unsubscribes."""
        with self._lock:
            self._subscribers = [*self._subscribers, subscriber]

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not subscriber]

        return unsubscribe

    def publish(self, events: Sequence[Event]) -> None:
        if not events:
            return
        for subscriber in self._subscribers:  # copy-on-write list: safe without the lock
            try:
                subscriber(events)
            except Exception:
                log.exception("event subscriber %r failed", subscriber)
