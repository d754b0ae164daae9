"""The queue engine as tests drive it: a clerk signed in at every window, a kiosk that issues.

`EngineForTests` is the real QueueEngine with short spellings of its commands that name the
usual actors (the window's own clerk, kiosk k1), so a test about numbering or the calling order
reads as the hall's day does. Tests about presence, actors or corrections call the aggregates
(`engine.tickets`, `engine.windows`, `engine.corrections`) with the actors they mean.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from onestop.queue.actors import RESIDENT, Actor, device, user
from onestop.queue.appointments import AppointmentBook
from onestop.queue.engine import QueueEngine
from onestop.queue.states import CounterState, Outcome, Priority
from onestop.queue.tables import counters

KIOSK = device("kiosk-k1", "kiosk")
# Who sits where on an ordinary day in the sample hall (config/hall.toml [[clerks]]).
ROTA = {1: "wang-li", 2: "zhang-min", 3: "li-jun", 4: "liu-yang", 5: "chen-jing",
        6: "luo-xiaomei", 7: "zhao-lei", 8: "huang-ting", 9: "zhou-qiang", 10: "deng-wei",
        11: "xu-hui", 12: "he-yun"}
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
        """The given actor, else whoever sits at the window (clerk<N> if nobody does)."""
        if actor is not None:
            return actor
        with self.store.read() as conn:
            row = conn.execute(sa.select(counters.c.clerk_id, counters.c.clerk_name)
                               .where(counters.c.number == number)).first()
        if row is None or row.clerk_id is None:
            return clerk_at(number)
        return user(row.clerk_id, row.clerk_name or row.clerk_id, "clerk")

    def clerk_of(self, number: int) -> Actor:
        """Whoever sits at the window now (as the actor of what they do there)."""
        return self._clerk(number, None)

    def seat(self, number: int, clerk_id: str) -> dict[str, Any]:
        """A configured clerk (hall.toml [[clerks]]) signs in at a window."""
        clerk = self.config.clerk(clerk_id)
        assert clerk is not None, clerk_id
        return self.windows.sign_in(number, actor=user(clerk.id, clerk.name, "clerk"))

    def seat_rota(self, rota: dict[int, str] | None = None) -> None:
        """The sample hall's clerks at their usual windows (two spare clerks stay unseated)."""
        for number, clerk_id in (rota or ROTA).items():
            self.seat(number, clerk_id)

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


class BookForTests(AppointmentBook):
    """The real appointment book; a resident books, cancels and moves, kiosk k1 checks in."""

    def book(self, service_id: str, day: date, slot_start: Any, phone: str,
             name: str | None = None, check: int | None = None, sms_code: str | None = None,
             *, actor: Actor = RESIDENT) -> dict[str, Any]:
        return super().book(service_id, day, slot_start, phone, name, check, sms_code,
                            actor=actor)

    def _last4(self, code: str) -> str:
        """What the resident types: the last four digits of the booking's phone."""
        from onestop.queue.appointments import normalise_code
        from onestop.queue.tables import appointments

        with self.engine.store.read() as conn:
            phone = conn.execute(sa.select(appointments.c.phone).where(
                appointments.c.code == normalise_code(code))).scalar()
        return str(phone or "0000")[-4:]

    def cancel(self, code: str, phone_last4: str | None = None, *, actor: Actor = RESIDENT,
               staff: bool = False) -> dict[str, Any]:
        last4 = phone_last4 if phone_last4 is not None else self._last4(code)
        return super().cancel(code, last4, actor=actor, staff=staff)

    def reschedule(self, code: str, day: date, slot_start: Any, phone_last4: str | None = None,
                   *, actor: Actor = RESIDENT, staff: bool = False) -> dict[str, Any]:
        last4 = phone_last4 if phone_last4 is not None else self._last4(code)
        return super().reschedule(code, day, slot_start, last4, actor=actor, staff=staff)

    def check_in(self, code: str, kiosk: str | None, print_requested: bool, *,
                 actor: Actor = KIOSK) -> dict[str, Any]:
        return super().check_in(code, kiosk, print_requested, actor=actor)
