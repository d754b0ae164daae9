"""The residents' booking pages: /book (choose item, day, slot, phone) and /a/{code} (one booking).

They look like the kiosk's pages: they extend the shared base template and not_found.html and
load the shared common.css and common.js (onestop.web). Their own words live in TEXTS below, on
top of the words the residents' pages share (onestop.web.page_texts), and reach the browser
inside the page as JSON, as on the kiosk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from onestop.queue.appointments import CODE_RE, normalise_code
from onestop.queue.errors import NotFound
from onestop.web import templating
from onestop.web.deps import hall_of
from onestop.web.page_texts import LANGS, SHARED_TEXTS, page_lang

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
STATIC_URL = "/static/appointments"

router = APIRouter(tags=["pages"], include_in_schema=False)

pages = templating.room("appointments", TEMPLATES_DIR, STATIC_DIR, STATIC_URL)

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "book_title": "预约服务",
        "book_intro": "预约后请按时到大厅取号机“预约签到”，优先叫号",
        "step_item": "1. 选择事项",
        "choose_item": "请选择事项",
        "step_day": "2. 选择日期",
        "step_slot": "3. 选择时段",
        "step_contact": "4. 填写联系方式",
        "phone": "手机号码",
        "name_optional": "姓名（可选）",
        "submit": "确认预约",
        "submitting": "正在提交…",
        "no_days": "近期没有可预约的日期",
        "no_slots": "当天没有可预约的时段",
        "remaining": "余 {n}",
        "full": "已满",
        "started": "已开始",
        "kind_appointments": "非工作日预约",
        "booked_title": "预约成功",
        "your_code": "预约码",
        "code_hint": "请记下预约码，到大厅取号机点“预约签到”输入",
        "when": "时间",
        "item": "事项",
        "phone_label": "手机",
        "checkin_window": "签到时间 {from}–{until}",
        "scan_to_manage": "扫码查看、取消或改约",
        "manage_link": "查看或修改预约",
        "status_title": "我的预约",
        "state_booked": "已预约",
        "state_cancelled": "已取消",
        "state_checked_in": "已签到",
        "state_no_show": "已失约",
        "cancel": "取消预约",
        "confirm_cancel": "确定取消这个预约吗？",
        "cancelled_ok": "预约已取消",
        "reschedule": "改约",
        "reschedule_title": "选择新的日期和时段",
        "confirm_reschedule": "确认改约",
        "rescheduled_ok": "已改约到 {when}",
        "book_another": "再约一个",
        "appointment_not_found": "没有找到这个预约",
        "appointment_not_found_hint": "预约码可能有误，请核对后重试，或到咨询台询问。",
        "need_item": "请先选择事项",
        "need_slot": "请选择日期和时段",
        "need_phone": "请输入11位手机号",
        "last4": "预约手机号后四位（取消或改约时需要）",
        "sms_code": "短信验证码",
        "sms_send": "获取验证码",
        "sms_wait": "{n} 秒后可重发",
        "need_sms_send": "请先获取短信验证码",
        "need_sms_code": "请输入6位短信验证码",
        "need_last4": "请先输入预约手机号的后四位",
    },
    "en": {
        "book_title": "Book an appointment",
        "book_intro": "Check in at a kiosk in the hall (“Check in”) on time: booked residents "
                      "are called first",
        "step_item": "1. Service",
        "choose_item": "Choose a service",
        "step_day": "2. Day",
        "step_slot": "3. Time",
        "step_contact": "4. Contact",
        "phone": "Mobile number",
        "name_optional": "Name (optional)",
        "submit": "Book",
        "submitting": "Booking…",
        "no_days": "No days open for booking soon",
        "no_slots": "No times left on this day",
        "remaining": "{n} left",
        "full": "Full",
        "started": "Started",
        "kind_appointments": "Appointments only",
        "booked_title": "Booked",
        "your_code": "Booking code",
        "code_hint": "Keep this code: tap “Check in” at a kiosk in the hall and type it",
        "when": "When",
        "item": "Service",
        "phone_label": "Mobile",
        "checkin_window": "Check in {from}–{until}",
        "scan_to_manage": "Scan to see, cancel or change the booking",
        "manage_link": "See or change the booking",
        "status_title": "My booking",
        "state_booked": "Booked",
        "state_cancelled": "Cancelled",
        "state_checked_in": "Checked in",
        "state_no_show": "Missed",
        "cancel": "Cancel booking",
        "confirm_cancel": "Cancel this booking?",
        "cancelled_ok": "The booking is cancelled",
        "reschedule": "Change time",
        "reschedule_title": "Choose a new day and time",
        "confirm_reschedule": "Change",
        "rescheduled_ok": "Moved to {when}",
        "book_another": "Book another",
        "appointment_not_found": "Booking not found",
        "appointment_not_found_hint": "The code may be wrong: check it, or ask at the front "
                                      "desk.",
        "need_item": "Choose a service first",
        "need_slot": "Choose a day and a time",
        "need_phone": "Enter an 11-digit mobile number",
        "last4": "Last four digits of the booking's phone (to cancel or move it)",
        "sms_code": "SMS code",
        "sms_send": "Send code",
        "sms_wait": "Again in {n} s",
        "need_sms_send": "Get the SMS code first",
        "need_sms_code": "Enter the 6-digit SMS code",
        "need_last4": "Enter the last four digits of the booking's phone first",
    },
}


def texts() -> dict[str, dict[str, str]]:
    return {lang: {**SHARED_TEXTS[lang], **TEXTS[lang]} for lang in LANGS}


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200
          ) -> HTMLResponse:
    lang = context.get("lang", "zh")
    all_texts = texts()
    context = {"t": all_texts[lang], "texts": all_texts, **context}
    return pages.render(request, name, context, status_code=status_code, cache="no-store")


def _boot(request: Request, lang: str, **extra: Any) -> dict[str, Any]:
    """What appointments.js starts from (embedded as JSON, escaped by |tojson)."""
    config = hall_of(request).config
    return {
        "lang": lang,
        "texts": texts(),
        "verify_phone": config.appointments.verify_phone,
        "hall": {"name": config.hall.name, "name_en": config.hall.name_en,
                 "timezone": config.hall.timezone},
        **extra,
    }


@router.get("/book", response_class=HTMLResponse)
async def book_page(request: Request, lang: str | None = None) -> HTMLResponse:
    """预约服务 on a resident's phone: item → day → slot → phone → the code and its QR."""
    hall = hall_of(request)
    lang = page_lang(lang)
    return _page(request, "appointments/book.html", {
        "lang": lang, "hall": hall.config.hall, "boot": _boot(request, lang, mode="book")})


@router.get("/a/{code}", response_class=HTMLResponse)
async def appointment_page(code: str, request: Request, lang: str | None = None
                           ) -> HTMLResponse:
    """One booking (the confirmation QR points here): its state, cancel and reschedule."""
    hall = hall_of(request)
    lang = page_lang(lang)
    clean = normalise_code(code[:20])
    try:
        if not CODE_RE.match(clean):
            raise NotFound("预约码不存在", "no such code")
        booking = await hall.db(hall.appointments.get, clean)
    except NotFound:
        return _page(request, "not_found.html", {
            "lang": lang, "hall": hall.config.hall, "title_key": "appointment_not_found",
            "hint_key": "appointment_not_found_hint", "links": [{"href": "/book",
                                                                 "label": TEXTS[lang]["book_title"]}],
            "detail": None}, status_code=404)
    return _page(request, "appointments/appointment.html", {
        "lang": lang, "hall": hall.config.hall,
        "boot": _boot(request, lang, mode="status", appointment=booking)})
