"""The hall's day as configured: opening hours, the lunch rotation, appointments.

Times are written the way a hall manager says them ("09:00-17:00"); they are checked when the
config loads, so a typo ("9:00-1700", a closing time before the opening) is reported with its key
instead of surfacing at noon.
"""

from __future__ import annotations

import itertools
from datetime import date, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_span(text: str) -> tuple[time, time]:
    """'09:00-17:00' → (09:00, 17:00); ValueError with a message a hall manager understands."""
    try:
        start_text, end_text = (part.strip() for part in text.split("-"))
        start = time.fromisoformat(start_text)
        end = time.fromisoformat(end_text)
    except ValueError:
        raise ValueError(f"{text!r} is not a time span like \"09:00-17:00\"") from None
    if end <= start:
        raise ValueError(f"{text!r}: the end must be after the start")
    return start, end


def _span_or_empty(value: str) -> str:
    value = value.strip()
    if value:
        parse_span(value)
    return value


Span = Annotated[str, Field(description='"HH:MM-HH:MM", or "" for none')]


class DateRule(_Strict):
    """One date's exception: closed, other hours, an appointments-only session, or a local working
    day (a local holiday or a make-up day the library does not know yet)."""

    date: date
    closed: bool = False
    hours: Span = ""
    appointments: Span = Field("", description="Open for booked residents only, these hours")
    note: str = Field("", max_length=100)

    _check_hours = field_validator("hours", "appointments")(_span_or_empty)

    @model_validator(mode="after")
    def _one_kind(self) -> DateRule:
        kinds = sum((self.closed, bool(self.hours), bool(self.appointments)))
        if kinds != 1:
            raise ValueError("give exactly one of closed = true, hours or appointments")
        return self


class HoursDef(_Strict):
    """Per-weekday opening hours; statutory holidays and make-up working days (调休) come from
    the `holidays` package, `dates` overrides both."""

    enforce: bool = Field(
        True, description="Kiosks issue only in hours; false leaves issuing to the staff")
    early_open_minutes: int = Field(30, ge=0, le=180, description="早到: open this much earlier")
    issue_cutoff_minutes: int = Field(
        30, ge=0, le=240, description="Kiosks stop issuing this long before closing")
    max_extension_minutes: int = Field(
        60, ge=0, le=480,
        description="Also stop issuing when the estimated wait ends this far past closing")
    monday: Span = "09:00-17:00"
    tuesday: Span = "09:00-17:00"
    wednesday: Span = "09:00-17:00"
    thursday: Span = "09:00-17:00"
    friday: Span = "09:00-17:00"
    saturday: Span = ""
    sunday: Span = ""
    make_up_day: Span = Field("09:00-17:00", description="Hours on a make-up working weekend day")
    statutory_holidays: bool = Field(True, description="Close on China's statutory holidays")
    dates: list[DateRule] = Field(default_factory=list)

    _check_hours = field_validator(*WEEKDAYS, "make_up_day")(_span_or_empty)

    @model_validator(mode="after")
    def _distinct_dates(self) -> HoursDef:
        seen: set[date] = set()
        for rule in self.dates:
            if rule.date in seen:
                raise ValueError(f"dates: {rule.date} is listed twice")
            seen.add(rule.date)
        return self

    def weekday(self, index: int) -> str:
        value: str = getattr(self, WEEKDAYS[index])
        return value


class LunchDef(_Strict):
    """中午不关门、轮流就餐: clerks break in turns within `slots`; every item keeps at least
    `min_open` open windows (per-item exceptions in `min_open_by_service`)."""

    slots: list[Span] = Field(default_factory=lambda: ["11:30-12:10", "12:10-12:50",
                                                        "12:50-13:30"])
    min_open: int = Field(1, ge=1, le=50)
    min_open_by_service: dict[str, int] = Field(default_factory=dict)
    countdown_minutes: int = Field(5, ge=0, le=60, description="Warn the clerk this long before")
    reason: str = Field("午餐", min_length=1, max_length=20)

    @field_validator("slots")
    @classmethod
    def _ordered_slots(cls, slots: list[str]) -> list[str]:
        spans = [parse_span(s) for s in slots]
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start < end:
                raise ValueError("lunch slots must not overlap and must be in order")
        return slots


class SessionDef(_Strict):
    """非工作日预约服务: a weekend day (or a date) the hall opens for booked residents only."""

    weekdays: list[Weekday] = Field(default_factory=list)
    hours: Span

    _check_hours = field_validator("hours")(_span_or_empty)


class AppointmentsDef(_Strict):
    slot_minutes: int = Field(30, ge=5, le=240)
    capacity: int = Field(4, ge=0, le=1000, description="Bookings per slot and item")
    capacity_by_service: dict[str, int] = Field(default_factory=dict)
    book_days_ahead: int = Field(14, ge=1, le=90)
    early_minutes: int = Field(30, ge=0, le=240, description="Check-in allowed this early")
    late_minutes: int = Field(15, ge=0, le=240,
                              description="Check-in allowed this long after the slot starts")
    sessions: list[SessionDef] = Field(default_factory=list)
    # 防号贩子: one phone number cannot hoard the places of a day.
    per_phone_active: int = Field(
        3, ge=1, le=50, description="Bookings one phone may hold at once (all items and days)")
    verify_phone: bool = Field(
        False, description="Send a code by SMS before a booking counts (see sms_sender)")
    sms_sender: str = Field(
        "console", pattern=r"^(console|none)$",
        description="Who sends the verification SMS: console (logs it, for trials), none")
    keep_personal_days: int = Field(
        90, ge=1, le=3650,
        description="Days a booking's phone and name are kept after its day, then masked")
