"""预约服务's rules, without the store: the codes and phone numbers residents type, the grid of
slots on a day the hall opens, and when a booking may be checked in.

Kept apart from the booking book (onestop.queue.appointments), which writes; these only read the
calendar and the clock, so they are easy to test and to read.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Row

from onestop.queue.calendar import DayPlan, HallCalendar
from onestop.queue.catalogue import ServiceItem
from onestop.queue.errors import InvalidTransition, NotFound, Rejected

if TYPE_CHECKING:
    from onestop.queue.engine import QueueEngine

# No 0/O, 1/I/L: a code read aloud or typed on a kiosk keypad cannot be mistaken.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
CODE_RE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
MAX_NAME = 50
CODE_ATTEMPTS = 5


class AppointmentState(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    NO_SHOW = "no_show"


STATE_ZH = {
    AppointmentState.BOOKED: "已预约",
    AppointmentState.CANCELLED: "已取消",
    AppointmentState.CHECKED_IN: "已签到",
    AppointmentState.NO_SHOW: "已失约",
}


def normalise_phone(raw: str) -> str:
    """A mainland mobile number without spaces or dashes; Rejected when it is not one."""
    phone = re.sub(r"[\s-]", "", raw or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not PHONE_RE.match(phone):
        raise Rejected("手机号码格式不正确，请输入11位手机号",
                       "the phone number is not valid: enter an 11-digit mainland mobile number")
    return phone


def mask_phone(phone: str) -> str:
    """138****1234: enough for the resident to recognise, useless to anyone else."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def normalise_code(raw: str) -> str:
    """Codes are typed by hand: ignore case, spaces and dashes."""
    return re.sub(r"[\s-]", "", raw or "").upper()


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime




class SlotRules:
    """Days, slots and check-in windows of one hall's appointments."""

    def __init__(self, engine: QueueEngine, calendar: HallCalendar) -> None:
        self.engine = engine
        self.calendar = calendar
        self.defs = engine.config.appointments
        self.tz = calendar.tz

    # -- helpers ----------------------------------------------------------------------------

    def _service(self, service_id: str) -> ServiceItem:
        service = self.engine.config.service(service_id)
        if service is None:
            raise NotFound(f"没有这个事项：{service_id}", f"unknown service item {service_id!r}")
        return service

    def capacity(self, service_id: str) -> int:
        return self.defs.capacity_by_service.get(service_id, self.defs.capacity)

    def _bookable_service(self, service_id: str) -> ServiceItem:
        service = self._service(service_id)
        if self.capacity(service.id) <= 0:
            raise Rejected(f"“{service.name}”暂不提供预约", f"{service.name_en} takes no bookings")
        return service

    def _local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.tz)

    def _hm(self, instant: datetime) -> str:
        return self._local(instant).strftime("%H:%M")

    def _span(self, start: datetime, end: datetime) -> str:
        return f"{self._hm(start)}-{self._hm(end)}"

    def _grid(self, plan: DayPlan) -> list[Slot]:
        if plan.kind == "closed" or plan.opens_at is None or plan.closes_at is None:
            return []
        step = timedelta(minutes=self.defs.slot_minutes)
        slots = []
        start = plan.opens_at
        while start + step <= plan.closes_at:
            slots.append(Slot(start, start + step))
            start += step
        return slots

    def _open_plan(self, day: date, now: datetime) -> DayPlan:
        """The day's plan if residents may book on it now; Rejected with the reason if not."""
        today = self.engine.time.service_day(now)
        if day < today:
            raise Rejected(f"{day.isoformat()} 已过，请选择今天或以后的日期",
                           f"{day.isoformat()} is in the past; choose today or a later day")
        last = today + timedelta(days=self.defs.book_days_ahead)
        if day > last:
            raise Rejected(
                f"只能预约 {self.defs.book_days_ahead} 天内的时段（至 {last.isoformat()}）",
                f"bookings open {self.defs.book_days_ahead} days ahead (until {last.isoformat()})")
        plan = self.calendar.plan(day)
        if plan.kind == "closed":
            raise Rejected(f"{day.isoformat()} {plan.label}，不办理业务，请选择其他日期",
                           f"{day.isoformat()}: {plan.label_en}; choose another day")
        return plan

    def _slot_on(self, plan: DayPlan, slot_start: datetime | time, now: datetime) -> Slot:
        """The grid slot starting at `slot_start`, not yet begun; Rejected otherwise."""
        if isinstance(slot_start, time):
            if slot_start.tzinfo is not None:
                slot_start = slot_start.replace(tzinfo=None)
            instant = datetime.combine(plan.day, slot_start, tzinfo=self.tz)
        elif slot_start.tzinfo is None:
            raise Rejected("时段须带时区，例如 2026-11-26T10:00:00+08:00",
                           "give the slot with its UTC offset, e.g. 2026-11-26T10:00:00+08:00")
        else:
            instant = slot_start
        for slot in self._grid(plan):
            if slot.start == instant:
                if slot.start <= now:
                    raise Rejected(f"{self._span(slot.start, slot.end)} 时段已开始，请选择以后的时段",
                                   "this slot has already started; choose a later one")
                return slot
        raise Rejected(
            f"{plan.day.isoformat()} 没有从 {self._hm(instant)} 开始的预约时段",
            f"there is no slot starting at {self._hm(instant)} on {plan.day.isoformat()}")

    def _check_window(self, row: Row[Any], now: datetime) -> None:
        opens = row.slot_start - timedelta(minutes=self.defs.early_minutes)
        closes = row.slot_start + timedelta(minutes=self.defs.late_minutes)
        span = self._span(row.slot_start, row.slot_end)
        today = self.engine.time.service_day(now)
        when = "" if row.service_day == today else f"{row.service_day.isoformat()} "
        details = {"offer_normal_ticket": True, "service": row.service_id,
                   "checkin_from": self._local(opens).isoformat(),
                   "checkin_until": self._local(closes).isoformat()}
        if now < opens:
            raise InvalidTransition(
                f"预约时段 {when}{span}，请于 {when}{self._hm(opens)} 后签到",
                f"your appointment is {when}{span}; check-in opens at {when}{self._hm(opens)}",
                reason="too_early", **details)
        if now > closes:
            raise InvalidTransition(
                f"预约时段 {when}{span} 已过签到时间（{self._hm(closes)}），预约已失效，"
                "可取普通号排队",
                f"your appointment {when}{span} lapsed at {self._hm(closes)}; "
                "you can take a normal ticket instead",
                reason="too_late", **details)

