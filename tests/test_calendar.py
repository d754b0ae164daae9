"""The hall's calendar: ordinary days, statutory holidays, make-up working days, appointment
sessions and a hall's own dated exceptions, all in the hall's time zone."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from conftest import SHANGHAI
from pydantic import ValidationError

from onestop.queue.calendar import HallCalendar
from onestop.queue.catalogue import HallConfig
from onestop.queue.day_config import DateRule, HoursDef, LunchDef


def test_an_ordinary_weekday_opens_thirty_minutes_early(config: HallConfig) -> None:
    plan = HallCalendar(config).plan(date(2026, 11, 30))  # a Monday
    assert plan.kind == "working" and plan.label == "工作日"
    assert plan.opens_at == datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
    assert plan.early_open_at == datetime(2026, 11, 30, 8, 30, tzinfo=SHANGHAI)
    assert plan.closes_at == datetime(2026, 11, 30, 17, 0, tzinfo=SHANGHAI)
    queue = config.queues[0]
    assert HallCalendar(config).issue_cutoff(plan, queue) == datetime(2026, 11, 30, 16, 30,
                                                                      tzinfo=SHANGHAI)


def test_a_queue_may_stop_issuing_earlier(config: HallConfig) -> None:
    queue = config.queues[3].model_copy(update={"issue_cutoff_minutes": 60})
    calendar = HallCalendar(config)
    plan = calendar.plan(date(2026, 11, 30))
    assert calendar.issue_cutoff(plan, queue) == datetime(2026, 11, 30, 16, 0, tzinfo=SHANGHAI)


def test_statutory_holidays_close_the_hall(config: HallConfig) -> None:
    calendar = HallCalendar(config)
    national_day = calendar.plan(date(2026, 10, 1))
    assert national_day.kind == "closed"
    assert national_day.label == "国庆节（法定节假日）"
    assert "National Day" in national_day.label_en
    # A weekday given off in exchange for a weekend (调休) is closed too.
    assert calendar.plan(date(2026, 1, 2)).kind == "closed"
    # A Saturday inside the holiday has no appointment session either.
    assert calendar.plan(date(2026, 10, 3)).kind == "closed"


def test_make_up_working_weekends_open_the_hall(config: HallConfig) -> None:
    calendar = HallCalendar(config)
    for day in (date(2026, 1, 4), date(2026, 2, 14), date(2026, 10, 10)):
        plan = calendar.plan(day)
        assert day.weekday() >= 5
        assert (plan.kind, plan.label) == ("working", "调休上班"), day
        assert plan.opens_at == datetime(day.year, day.month, day.day, 9, 0, tzinfo=SHANGHAI)


def test_a_saturday_session_is_for_appointments_only_and_sunday_is_closed(
        config: HallConfig) -> None:
    calendar = HallCalendar(config)
    saturday = calendar.plan(date(2026, 12, 5))
    assert saturday.kind == "appointments" and saturday.label == "非工作日预约服务"
    assert saturday.opens_at == datetime(2026, 12, 5, 9, 0, tzinfo=SHANGHAI)
    assert saturday.closes_at == datetime(2026, 12, 5, 12, 0, tzinfo=SHANGHAI)
    assert calendar.issue_cutoff(saturday, config.queues[0]) is None  # no walk-in tickets
    sunday = calendar.plan(date(2026, 12, 6))
    assert sunday.kind == "closed" and sunday.label == "休息日（星期日）"
    assert calendar.next_open(date(2026, 12, 5)) == calendar.plan(date(2026, 12, 7))


def test_dated_exceptions_override_everything(config: HallConfig) -> None:
    hours = config.hours.model_copy(update={"dates": [
        DateRule(date=date(2026, 10, 1), hours="09:00-12:00", note="国庆值班"),
        DateRule(date=date(2026, 12, 1), closed=True, note="停电检修"),
        DateRule(date=date(2026, 12, 6), appointments="14:00-17:00"),
    ]})
    calendar = HallCalendar(config.model_copy(update={"hours": hours}))
    duty = calendar.plan(date(2026, 10, 1))
    assert (duty.kind, duty.label) == ("working", "国庆值班")
    assert duty.closes_at == datetime(2026, 10, 1, 12, 0, tzinfo=SHANGHAI)
    assert (calendar.plan(date(2026, 12, 1)).kind, calendar.plan(date(2026, 12, 1)).label) == (
        "closed", "停电检修")
    assert calendar.plan(date(2026, 12, 6)).kind == "appointments"
    # The sample hall closes early on New Year's Eve.
    eve = HallCalendar(config).plan(date(2026, 12, 31))
    assert eve.closes_at == datetime(2026, 12, 31, 15, 0, tzinfo=SHANGHAI)


def test_bad_hours_are_config_errors() -> None:
    with pytest.raises(ValidationError, match="is not a time span"):
        HoursDef(monday="9:00 to 17:00")
    with pytest.raises(ValidationError, match="the end must be after the start"):
        HoursDef(tuesday="17:00-09:00")
    with pytest.raises(ValidationError, match="exactly one of"):
        DateRule(date=date(2026, 12, 1))
    with pytest.raises(ValidationError, match="listed twice"):
        HoursDef(dates=[DateRule(date=date(2026, 12, 1), closed=True)] * 2)
    with pytest.raises(ValidationError, match="must not overlap"):
        LunchDef(slots=["11:30-12:30", "12:00-13:00"])
