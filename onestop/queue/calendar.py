"""Which days the hall opens, when, and for whom: the calendar every schedule reads.

China's statutory holidays close the hall and the make-up working weekends (调休) open it; both
come from the `holidays` package (kept current each year by its maintainers), and `[hours]
dates` overrides anything for local changes or a year the package does not know yet. A weekend
day with an appointment session opens for booked residents only (非工作日预约服务).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import holidays

from onestop.queue.catalogue import HallConfig, QueueDef
from onestop.queue.day_config import WEEKDAYS, parse_span

DayKind = Literal["working", "appointments", "closed"]

WEEKDAY_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


@dataclass(frozen=True)
class DayPlan:
    """One day of the hall: its kind, its official hours and when windows open (早到)."""

    day: date
    kind: DayKind
    label: str
    label_en: str
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    early_open_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.kind != "closed"

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {"day": self.day.isoformat(), "kind": self.kind, "label": self.label,
                "label_en": self.label_en, "early_open_at": iso(self.early_open_at),
                "opens_at": iso(self.opens_at), "closes_at": iso(self.closes_at)}


class HallCalendar:
    def __init__(self, config: HallConfig) -> None:
        self.config = config
        self.hours = config.hours
        self.tz = ZoneInfo(config.hall.timezone)
        self._rules = {rule.date: rule for rule in config.hours.dates}

    # -- one day ----------------------------------------------------------------------------

    def plan(self, day: date) -> DayPlan:
        rule = self._rules.get(day)
        if rule is not None:
            note = rule.note
            if rule.closed:
                return DayPlan(day, "closed", note or "闭厅", note or "closed")
            if rule.appointments:
                return self._open(day, "appointments", rule.appointments,
                                  note or "非工作日预约服务", note or "appointments only")
            return self._open(day, "working", rule.hours, note or "工作日", note or "working day")
        statutory = _china(day.year, "zh_CN").get(day) if self.hours.statutory_holidays else None
        if statutory:
            english = _china(day.year, "en_US").get(day) or "public holiday"
            return DayPlan(day, "closed", f"{statutory}（法定节假日）", f"{english} (public holiday)")
        if self.hours.statutory_holidays and day in _china(day.year, "zh_CN").weekend_workdays:
            return self._open(day, "working", self.hours.make_up_day, "调休上班",
                              "make-up working day")
        span = self.hours.weekday(day.weekday())
        if span:
            return self._open(day, "working", span, "工作日", "working day")
        weekday = WEEKDAYS[day.weekday()]
        for session in self.config.appointments.sessions:
            if weekday in session.weekdays:
                return self._open(day, "appointments", session.hours, "非工作日预约服务",
                                  "appointments only")
        return DayPlan(day, "closed", f"休息日（{WEEKDAY_ZH[day.weekday()]}）",
                       f"closed ({WEEKDAYS[day.weekday()].capitalize()})")

    def _open(self, day: date, kind: DayKind, span: str, label: str, label_en: str) -> DayPlan:
        start, end = parse_span(span)
        opens = self.at(day, start)
        return DayPlan(day, kind, label, label_en, opens_at=opens, closes_at=self.at(day, end),
                       early_open_at=opens - timedelta(minutes=self.hours.early_open_minutes))

    def at(self, day: date, clock_time: time) -> datetime:
        """A wall-clock time of a hall day as an aware instant (the hall's zone)."""
        return datetime.combine(day, clock_time, tzinfo=self.tz)

    # -- derived ----------------------------------------------------------------------------

    def issue_cutoff(self, plan: DayPlan, queue: QueueDef) -> datetime | None:
        """When kiosks stop issuing this queue's tickets (None on a day it never issues)."""
        if plan.kind != "working" or plan.closes_at is None:
            return None
        minutes = (queue.issue_cutoff_minutes if queue.issue_cutoff_minutes is not None
                   else self.hours.issue_cutoff_minutes)
        return plan.closes_at - timedelta(minutes=minutes)

    def next_open(self, after: date, limit_days: int = 60) -> DayPlan | None:
        """The next day after `after` the hall opens to everyone (for "please come back on…")."""
        for offset in range(1, limit_days + 1):
            plan = self.plan(after + timedelta(days=offset))
            if plan.kind == "working":
                return plan
        return None


@functools.cache
def _china(year: int, language: str) -> holidays.HolidayBase:
    return holidays.country_holidays("CN", years=year, language=language)
