"""When a walk-in may take a ticket: the hall's hours, the cut-off and the allowed extension.

不办完最后一个业务不下班: windows serve until the last resident is done, so the kiosk must stop
handing out numbers early enough that the day can end. It stops at the queue's cut-off before
closing, and earlier when the estimated wait would run past closing by more than the allowed
extension. Booked residents checking in (channel "appointment") are not walk-ins; the first-inquiry
desk may still help a resident after the cut-off, but not on a closed day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from onestop.queue.calendar import DayPlan, HallCalendar
from onestop.queue.catalogue import QueueDef
from onestop.queue.errors import HallClosed

EXEMPT_CHANNELS = ("appointment",)
STAFF_CHANNELS = ("desk",)


def _hm(instant: datetime | None, calendar: HallCalendar) -> str:
    return instant.astimezone(calendar.tz).strftime("%H:%M") if instant else ""


def _come_back(calendar: HallCalendar, plan: DayPlan) -> tuple[str, str]:
    later = calendar.next_open(plan.day)
    if later is None:
        return "", ""
    return (f"，请于{later.day.month}月{later.day.day}日再来",
            f"; please come back on {later.day:%d %b}")


def check_walk_in(calendar: HallCalendar, plan: DayPlan, queue: QueueDef, now: datetime,
                  channel: str) -> None:
    """Raise HallClosed, with a message a resident understands, when the hall's hours do not
    allow this ticket now; return quietly when they do. Reads only the clock."""
    if channel in EXEMPT_CHANNELS:
        return
    back_zh, back_en = _come_back(calendar, plan)
    if plan.kind == "closed":
        raise HallClosed(f"今天（{plan.label}）大厅休息{back_zh}",
                         f"The hall is closed today ({plan.label_en}){back_en}")
    if plan.kind == "appointments":
        raise HallClosed("今天为非工作日预约服务，仅限已预约群众签到取号",
                         "Today the hall is open for booked appointments only: please check in "
                         "with your booking code")
    assert plan.early_open_at is not None and plan.closes_at is not None
    if now < plan.early_open_at:
        raise HallClosed(
            f"大厅{_hm(plan.early_open_at, calendar)}开始取号，{_hm(plan.opens_at, calendar)}"
            "开始办理，请稍候",
            f"Tickets are issued from {_hm(plan.early_open_at, calendar)} (windows open at "
            f"{_hm(plan.opens_at, calendar)})")
    if channel in STAFF_CHANNELS:
        return
    cutoff = calendar.issue_cutoff(plan, queue)
    if cutoff is not None and now >= cutoff:
        raise HallClosed(
            f"“{queue.name}”今日取号已于{_hm(cutoff, calendar)}截止{back_zh}，或预约办理",
            f"Tickets for {queue.name_en} stopped at {_hm(cutoff, calendar)} today{back_en}, "
            "or book an appointment")


def check_extension(calendar: HallCalendar, plan: DayPlan, queue: QueueDef, now: datetime,
                    channel: str, wait_seconds: int | None) -> None:
    """Raise HallClosed when the queue's estimated wait would end more than the allowed
    extension after closing (the day could not end); quiet for check-ins and the desk."""
    if channel in EXEMPT_CHANNELS or channel in STAFF_CHANNELS or wait_seconds is None:
        return
    if plan.kind != "working" or plan.closes_at is None:
        return
    back_zh, back_en = _come_back(calendar, plan)
    allowed_end = plan.closes_at + timedelta(minutes=calendar.hours.max_extension_minutes)
    if now + timedelta(seconds=wait_seconds) > allowed_end:
        raise HallClosed(
            f"“{queue.name}”当前等候人数较多，预计无法在今日办结，今日已停止取号{back_zh}，或预约办理",
            f"The wait for {queue.name_en} would run past today's closing: no more tickets "
            f"today{back_en}, or book an appointment")
