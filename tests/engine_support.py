"""The queue engine as tests drive it: a clerk signed in at every window, a kiosk that issues.

`EngineForTests` is the real QueueEngine with short spellings of its commands that name the
usual actors (the window's own clerk, kiosk k1), so a test about numbering or the calling order
reads as the hall's day does. Tests about presence, actors or corrections call the aggregates
(`engine.tickets`, `engine.windows`, `engine.corrections`) with the actors they mean.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from onestop.queue.actors import Actor, device, user
from onestop.queue.engine import QueueEngine
from onestop.queue.states import CounterState, Outcome, Priority

KIOSK = device("kiosk-k1", "kiosk")
SUPERVISOR = user("sup", "值班主任", "supervisor")
DESK = user("desk", "咨询台", "desk")


def clerk_at(number: int) -> Actor:
    """The clerk who sits at window `number` in tests: account clerk<N>, named N号窗口员."""
    return user(f"clerk{number}", f"{number}号窗口员", "clerk")


class EngineForTests(QueueEngine):
    def staff(self, *numbers: int) -> None:
        """Sign a clerk in at these windows (every configured window when none are given)."""
        for n in numbers or [c.number for c in self.config.counters]:
            self.windows.sign_in(n, actor=clerk_at(n))

    def keep_alive(self) -> None:
        """Every staffed window's terminal checks in (a test that walks the clock past the
        heartbeat limit calls this before ticking the day, as open terminals would)."""
        for c in self.reads.counters(staff=True):
            if c["state"] != CounterState.UNSTAFFED.value and c["clerk_id"]:
                self.windows.heartbeat(c["number"], actor=user(c["clerk_id"], c["clerk_name"],
                                                               "clerk"))

    def issue(self, service_id: str, priority: Priority = Priority.NORMAL,
              reason: str | None = None, channel: str = "kiosk", kiosk: str | None = None,
              request_key: str | None = None, print_requested: bool = False,
              actor: Actor = KIOSK) -> dict[str, Any]:
        return self.tickets.issue(service_id, priority, reason, channel, kiosk, request_key,
                                  print_requested, actor=actor)

    def _clerk(self, number: int, actor: Actor | None) -> Actor:
        return actor or clerk_at(number)

    def call_next(self, number: int, actor: Actor | None = None) -> dict[str, Any] | None:
        return self.tickets.call_next(number, actor=self._clerk(number, actor))

    def call(self, number: int, ticket_id: int, actor: Actor | None = None) -> dict[str, Any]:
        return self.tickets.call(number, ticket_id, actor=self._clerk(number, actor))

    def recall(self, number: int, actor: Actor | None = None) -> dict[str, Any]:
        return self.tickets.recall(number, actor=self._clerk(number, actor))

    def start(self, number: int, actor: Actor | None = None) -> dict[str, Any]:
        return self.tickets.start(number, actor=self._clerk(number, actor))

    def finish(self, number: int, outcome: Outcome, promised_date: date | None = None,
               note: str | None = None, actor: Actor | None = None) -> dict[str, Any]:
        return self.tickets.finish(number, outcome, promised_date, note,
                                   actor=self._clerk(number, actor))

    def no_show(self, number: int, actor: Actor | None = None) -> dict[str, Any]:
        return self.tickets.no_show(number, actor=self._clerk(number, actor))

    def transfer(self, number: int, to_service: str | None = None, to_queue: str | None = None,
                 to_counter: int | None = None, note: str | None = None,
                 actor: Actor | None = None) -> dict[str, Any]:
        return self.tickets.transfer(number, to_service, to_queue, to_counter, note,
                                     actor=self._clerk(number, actor))

    def pause(self, number: int, reason: str, actor: Actor | None = None) -> dict[str, Any]:
        return self.windows.pause(number, reason, actor=self._clerk(number, actor))

    def resume(self, number: int, actor: Actor | None = None) -> dict[str, Any]:
        return self.windows.resume(number, actor=self._clerk(number, actor))

    def cancel(self, token: str) -> dict[str, Any]:
        from onestop.queue.actors import RESIDENT

        return self.tickets.cancel(token, actor=RESIDENT)

    def queues(self) -> list[dict[str, Any]]:
        return self.reads.queues()

    def counters(self) -> list[dict[str, Any]]:
        return self.reads.counters()

    def ticket_status(self, token: str) -> dict[str, Any]:
        return self.reads.ticket_status(token)

    def ticket_by_id(self, ticket_id: int) -> dict[str, Any]:
        return self.reads.ticket_by_id(ticket_id)

    def snapshot(self) -> dict[str, Any]:
        return self.reads.snapshot()

    def waiting_for(self, number: int, limit: int = 200) -> list[dict[str, Any]]:
        return self.reads.waiting_for(number, limit)
