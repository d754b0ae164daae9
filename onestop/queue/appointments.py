"""预约服务: residents book a slot of an item, then check in at a kiosk for an appointment ticket.

Capacity is enforced by the store, not by reading and then writing: each (item, slot) has one
row in `appointment_slots`, and a booking raises its `booked` count with one conditional UPDATE
(`… WHERE booked < capacity RETURNING booked`), so concurrent bookings can never overfill a slot
on SQLite or PostgreSQL. Every change is one unit of work with one ledger event by its actor
(the resident's phone is "public"); the booking code, which alone can cancel or move a booking,
and the masked phone go to staff only, never onto the public stream.

Check-in issues the appointment ticket and marks the booking in one transaction, so a cancel
cannot slip in between and leave a ticket without its booking. A reschedule touches the two
slot rows in a fixed order (by slot start), so two residents swapping slots never deadlock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from onestop.queue.actors import SCHEDULER, Actor
from onestop.queue.appointment_rules import (
    CODE_ALPHABET,
    CODE_ATTEMPTS,
    CODE_LENGTH,
    CODE_RE,
    MAX_NAME,
    STATE_ZH,
    AppointmentState,
    Slot,
    SlotRules,
    mask_phone,
    new_code,
    normalise_code,
    normalise_phone,
)
from onestop.queue.catalogue import ServiceItem
from onestop.queue.errors import InvalidTransition, NotFound, Rejected
from onestop.queue.phone_checks import PhoneChecks, WrongCode, sender_named
from onestop.queue.states import Priority
from onestop.queue.store import upsert
from onestop.queue.tables import appointment_slots, appointments, tickets
from onestop.queue.views import ticket_view

__all__ = ["CODE_ALPHABET", "CODE_LENGTH", "CODE_RE", "AppointmentBook", "AppointmentState", "mask_phone",
           "normalise_code", "normalise_phone"]


class AppointmentBook(SlotRules):
    """Booking, changing and checking in appointments for one hall (blocking; run in hall.db).

    The rules of days, slots and check-in windows are SlotRules' (appointment_rules.py)."""

    def _take(self, conn: Connection, service_id: str, slot: Slot) -> int:
        """Raise the slot's count by one if below capacity, atomically; 409 when full."""
        insert = upsert(self.engine.store.dialect)
        conn.execute(
            insert(appointment_slots)
            .values(service_id=service_id, slot_start=slot.start, booked=0)
            .on_conflict_do_nothing(index_elements=["service_id", "slot_start"])
        )
        s = appointment_slots.c
        booked = conn.execute(
            sa.update(appointment_slots)
            .where(s.service_id == service_id, s.slot_start == slot.start,
                   s.booked < self.capacity(service_id))
            .values(booked=s.booked + 1)
            .returning(s.booked)
        ).scalar_one_or_none()
        if booked is None:
            raise InvalidTransition("该时段已约满，请选择其他时段",
                                    "this slot is fully booked; choose another one")
        return int(booked)

    @staticmethod
    def _free(conn: Connection, service_id: str, slot_start: datetime) -> None:
        s = appointment_slots.c
        conn.execute(
            sa.update(appointment_slots)
            .where(s.service_id == service_id, s.slot_start == slot_start, s.booked > 0)
            .values(booked=s.booked - 1)
        )

    def _lock(self, conn: Connection, code: str) -> Row[Any]:
        code = normalise_code(code)
        row = None
        if CODE_RE.match(code):
            row = conn.execute(
                sa.select(appointments).where(appointments.c.code == code).with_for_update()
            ).first()
        if row is None:
            raise NotFound("预约码不存在", "there is no appointment with this code")
        return row

    def _require_booked(self, row: Row[Any], action_zh: str, action_en: str) -> None:
        if row.state == AppointmentState.BOOKED.value:
            return
        state = AppointmentState(row.state)
        zh = f"该预约{STATE_ZH[state]}，不能{action_zh}"
        en = f"this appointment is {state.value.replace('_', ' ')} and cannot be {action_en}"
        details: dict[str, Any] = {"state": state.value}
        if state is AppointmentState.CHECKED_IN and row.ticket_id is not None:
            number = self.engine.reads.ticket_by_id(int(row.ticket_id))["number"]
            zh = f"该预约已签到，号码 {number}，不能{action_zh}"
            en = f"this appointment is already checked in as ticket {number}"
            details["ticket"] = number
        raise InvalidTransition(zh, en, **details)

    def view(self, row: Row[Any]) -> dict[str, Any]:
        """The public face of a booking: never the full phone number."""
        service = self.engine.config.service(row.service_id)
        early = timedelta(minutes=self.defs.early_minutes)
        late = timedelta(minutes=self.defs.late_minutes)
        return {
            "code": row.code,
            "service": row.service_id,
            "service_name": service.name if service else row.service_id,
            "service_name_en": service.name_en if service else row.service_id,
            "day": row.service_day.isoformat(),
            "slot_start": self._local(row.slot_start).isoformat(),
            "slot_end": self._local(row.slot_end).isoformat(),
            "checkin_from": self._local(row.slot_start - early).isoformat(),
            "checkin_until": self._local(row.slot_start + late).isoformat(),
            "phone_masked": mask_phone(row.phone),
            "state": row.state,
            "ticket_id": row.ticket_id,
        }

    def _change(self, type_: str, change: Callable[[Connection, datetime], dict[str, Any]],
                actor: Actor) -> dict[str, Any]:
        """One unit of work and its event; the code and phone go to staff only."""
        with self.engine.unit(actor) as work:
            view = change(work.conn, work.now)
            work.event(type_, _public(view), ticket_id=view.get("ticket_id"),
                       staff={"code": view["code"], "phone_masked": view["phone_masked"]})
            return view

    # -- reads ------------------------------------------------------------------------------

    def days(self, service_id: str) -> list[dict[str, Any]]:
        """Days open for booking from today to the horizon (closed days left out)."""
        self._bookable_service(service_id)
        now = self.engine.time.now()
        today = self.engine.time.service_day(now)
        result = []
        for offset in range(self.defs.book_days_ahead + 1):
            plan = self.calendar.plan(today + timedelta(days=offset))
            grid = self._grid(plan)
            if not grid or grid[-1].start <= now:
                continue
            result.append({**plan.to_json(), "weekday": plan.day.weekday()})
        return result

    def slots(self, service_id: str, day: date) -> list[dict[str, Any]]:
        """The day's slots; a slot already begun has `bookable` false and `remaining` 0."""
        service = self._bookable_service(service_id)
        now = self.engine.time.now()
        plan = self._open_plan(day, now)
        grid = self._grid(plan)
        capacity = self.capacity(service.id)
        with self.engine.store.read() as conn:
            s = appointment_slots.c
            booked = {
                start: int(n) for start, n in conn.execute(
                    sa.select(s.slot_start, s.booked).where(
                        s.service_id == service.id, s.slot_start >= grid[0].start,
                        s.slot_start <= grid[-1].start))
            } if grid else {}
        result = []
        for slot in grid:
            taken = booked.get(slot.start, 0)
            started = slot.start <= now
            result.append({
                "start": self._local(slot.start).isoformat(),
                "end": self._local(slot.end).isoformat(),
                "label": self._span(slot.start, slot.end),
                "capacity": capacity,
                "booked": taken,
                "remaining": 0 if started else max(0, capacity - taken),
                "bookable": not started and taken < capacity,
            })
        return result

    def get(self, code: str) -> dict[str, Any]:
        with self.engine.store.read() as conn:
            code = normalise_code(code)
            row = conn.execute(
                sa.select(appointments).where(appointments.c.code == code)
            ).first() if CODE_RE.match(code) else None
            if row is None:
                raise NotFound("预约码不存在", "there is no appointment with this code")
            return self.view(row)

    # -- changes ----------------------------------------------------------------------------

    @property
    def checks(self) -> PhoneChecks:
        """The SMS check of a phone before a booking counts (when verify_phone is on)."""
        if not hasattr(self, "_checks"):
            self._checks = PhoneChecks(self.engine, sender_named(self.defs.sms_sender))
        return self._checks

    def book(self, service_id: str, day: date, slot_start: datetime | time, phone: str,
             name: str | None = None, check: int | None = None, sms_code: str | None = None,
             *, actor: Actor) -> dict[str, Any]:
        """Book one place in a slot; returns the booking with its code (shown once, in full).
        With `verify_phone` on, `check` and `sms_code` prove the phone (onestop.queue.phone_checks)."""
        service = self._bookable_service(service_id)
        number = normalise_phone(phone)
        clean_name = (name or "").strip()[:MAX_NAME] or None
        try:
            return self._book(service, day, slot_start, number, clean_name, check, sms_code,
                              actor)
        except WrongCode as wrong:
            self.checks.count_wrong(wrong.check_id)
            raise

    def _book(self, service: ServiceItem, day: date, slot_start: datetime | time, number: str,
              clean_name: str | None, check: int | None, sms_code: str | None,
              actor: Actor) -> dict[str, Any]:
        def change(conn: Connection, now: datetime) -> dict[str, Any]:
            plan = self._open_plan(day, now)
            slot = self._slot_on(plan, slot_start, now)
            self._hold_phone(conn, number)
            if self.defs.verify_phone:
                self.checks.use(conn, now, number, check, sms_code)
            self._check_hoarding(conn, number, service, day)
            self._take(conn, service.id, slot)
            row = conn.execute(
                sa.insert(appointments).values(
                    code=new_code(), service_id=service.id, service_day=day,
                    slot_start=slot.start, slot_end=slot.end, phone=number, name=clean_name,
                    state=AppointmentState.BOOKED.value, created_at=now, updated_at=now,
                ).returning(appointments)
            ).one()
            return self.view(row)

        for attempt in range(CODE_ATTEMPTS):
            try:
                return self._change("appointment.booked", change, actor)
            except IntegrityError:  # a code collision (1 in 10^11): draw another
                if attempt == CODE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _hold_phone(self, conn: Connection, phone: str) -> None:
        """Serialise bookings by one phone number (first in the unit, before any slot row), so
        two at once cannot both pass the per-phone rules; SQLite's writer lock does it there."""
        if self.engine.store.dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                         {"key": f"phone:{phone}"})

    def _check_hoarding(self, conn: Connection, phone: str, service: ServiceItem,
                        day: date) -> None:
        """防号贩子: one active booking per item and day per phone, and at most
        `per_phone_active` active bookings in all."""
        a = appointments.c
        active = conn.execute(sa.select(a.service_id, a.service_day).where(
            a.phone == phone, a.state == AppointmentState.BOOKED.value)).all()
        if any(s == service.id and d == day for s, d in active):
            raise InvalidTransition(
                f"该手机号已预约 {day.isoformat()} 的“{service.name}”，同一事项每天只能预约一次；"
                "如需改时间，请改约",
                f"this phone already holds a booking for {service.name_en} on {day.isoformat()};"
                " reschedule it instead", reason="one_per_item_day")
        limit = self.defs.per_phone_active
        if len(active) >= limit:
            raise InvalidTransition(
                f"该手机号已有 {len(active)} 个未办理的预约（最多 {limit} 个），请先办理或取消",
                f"this phone already holds {len(active)} bookings (at most {limit}); use or "
                "cancel one first", reason="per_phone_limit")

    def _check_owner(self, row: Row[Any], phone_last4: str | None) -> None:
        """Changing a booking needs its code and the last four digits of its phone: a code
        seen over a shoulder is not enough."""
        given = (phone_last4 or "").strip()
        if len(given) != 4 or not given.isdigit():
            raise Rejected("请输入预约手机号的后四位", "enter the last four digits of the phone")
        if not row.phone.endswith(given):
            raise Rejected("手机号后四位不符，请核对", "the last four digits do not match",
                           reason="phone_mismatch")

    def cancel(self, code: str, phone_last4: str | None = None, *, actor: Actor,
               staff: bool = False) -> dict[str, Any]:
        """The resident gives the place back (with the phone's last four digits; staff need
        not); the slot can be booked again."""
        def change(conn: Connection, now: datetime) -> dict[str, Any]:
            row = self._lock(conn, code)
            if not staff:
                self._check_owner(row, phone_last4)
            self._require_booked(row, "取消", "cancelled")
            self._free(conn, row.service_id, row.slot_start)
            return self.view(self._set(conn, row.id, now, state=AppointmentState.CANCELLED.value))

        return self._change("appointment.cancelled", change, actor)

    def reschedule(self, code: str, day: date, slot_start: datetime | time,
                   phone_last4: str | None = None, *, actor: Actor,
                   staff: bool = False) -> dict[str, Any]:
        """Move a booking: take the new slot and free the old one in the same transaction, the
        earlier slot's row first (lock order), so crossing reschedules never deadlock."""
        def change(conn: Connection, now: datetime) -> dict[str, Any]:
            row = self._lock(conn, code)
            if not staff:
                self._check_owner(row, phone_last4)
            self._require_booked(row, "改约", "rescheduled")
            plan = self._open_plan(day, now)
            slot = self._slot_on(plan, slot_start, now)
            if slot.start == row.slot_start:
                raise Rejected("新时段与原预约相同", "the new slot is the one already booked")
            if day != row.service_day:
                self._hold_phone(conn, row.phone)
                same = conn.execute(sa.select(appointments.c.id).where(
                    appointments.c.phone == row.phone, appointments.c.id != row.id,
                    appointments.c.service_id == row.service_id,
                    appointments.c.service_day == day,
                    appointments.c.state == AppointmentState.BOOKED.value)).first()
                if same is not None:
                    raise InvalidTransition(
                        f"该手机号已预约 {day.isoformat()} 的同一事项，同一事项每天只能预约一次",
                        f"this phone already holds a booking for this item on {day.isoformat()}",
                        reason="one_per_item_day")
            if slot.start < row.slot_start:
                self._take(conn, row.service_id, slot)
                self._free(conn, row.service_id, row.slot_start)
            else:
                self._free(conn, row.service_id, row.slot_start)
                self._take(conn, row.service_id, slot)  # full: the unit rolls back the free
            moved = self._set(conn, row.id, now, service_day=day, slot_start=slot.start,
                              slot_end=slot.end)
            return {**self.view(moved), "from": {
                "day": row.service_day.isoformat(),
                "slot_start": self._local(row.slot_start).isoformat(),
                "slot_end": self._local(row.slot_end).isoformat()}}

        return self._change("appointment.rescheduled", change, actor)

    @staticmethod
    def _set(conn: Connection, appointment_id: int, now: datetime, **values: Any) -> Row[Any]:
        return conn.execute(
            sa.update(appointments).where(appointments.c.id == appointment_id)
            .values(updated_at=now, **values).returning(appointments)
        ).one()

    def check_in(self, code: str, kiosk: str | None, print_requested: bool, *,
                 actor: Actor) -> dict[str, Any]:
        """Turn a booking into an appointment-class ticket, within its check-in window, in one
        transaction: the ticket ranks by its slot's start. The ticket's request key comes from
        the code, so a ticket issued for this booking before (by an older version that wrote
        them apart) is linked, never doubled."""
        booking = self.get(code)
        key = f"appointment:{booking['code']}"
        with self.engine.unit(actor) as work:
            row = self._lock(work.conn, booking["code"])
            self._require_booked(row, "签到", "checked in")
            earlier = work.conn.execute(
                sa.select(tickets).where(tickets.c.request_key == key)).first()
            if earlier is not None:
                ticket = {**ticket_view(earlier, self.engine.config, self.engine.time),
                          **self.engine.reads.position(work.conn, earlier),
                          "token": earlier.token, "replayed": True}
            else:
                self._check_window(row, work.now)
                ticket = self.engine.tickets.issue_in(
                    work, row.service_id, priority=Priority.APPOINTMENT, channel="appointment",
                    kiosk=kiosk, request_key=key, print_requested=print_requested,
                    rank_at=row.slot_start)
            done = self._set(work.conn, row.id, work.now,
                             state=AppointmentState.CHECKED_IN.value, ticket_id=ticket["id"])
            appointment = {**self.view(done), "ticket": ticket["number"]}
            work.event("appointment.checked_in", _public(appointment), ticket_id=ticket["id"],
                       staff={"code": row.code, "phone_masked": appointment["phone_masked"]})
        return {"appointment": appointment, "ticket": ticket}

    def mark_no_shows(self, now: datetime) -> int:
        """Bookings whose check-in window has ended without a check-in become no-shows."""
        cutoff = now - timedelta(minutes=self.defs.late_minutes)
        with self.engine.store.read() as conn:
            codes = [c for (c,) in conn.execute(
                sa.select(appointments.c.code).where(
                    appointments.c.state == AppointmentState.BOOKED.value,
                    appointments.c.slot_start < cutoff))]
        marked = 0
        for code in codes:
            def change(conn: Connection, at: datetime, code: str = code) -> dict[str, Any]:
                row = self._lock(conn, code)
                if row.state != AppointmentState.BOOKED.value:
                    raise _Skip
                return self.view(self._set(conn, row.id, at,
                                           state=AppointmentState.NO_SHOW.value))
            try:
                self._change("appointment.no_show", change, SCHEDULER)
                marked += 1
            except _Skip:
                continue
        return marked


def _public(view: dict[str, Any]) -> dict[str, Any]:
    """A booking as the public stream may carry it: no code (it alone cancels or moves the
    booking), no phone, not even masked."""
    return {k: v for k, v in view.items() if k not in ("code", "phone_masked")}


class _Skip(Exception):
    """Rolls back a no-show change when the booking moved on meanwhile (no event written)."""
