"""The residents' HTML pages: the kiosk, a ticket's status page (the QR code's target), the desk.

The pages are thin: plain JavaScript in `onestop/kiosk/static/` talks to the JSON API and the
event stream, exactly as any other client does. Every text a page shows, in both languages,
lives in TEXTS below and reaches the browser inside the page as JSON, so the server-rendered
first view and the live updates say the same words. Data from the config or the API is escaped
(Jinja autoescape here, textContent in the scripts); nothing is ever inserted as HTML.

Templates render in the one environment of onestop.web.templating (base.html and not_found.html
are shared there); the kiosk's own static files are served at /static/kiosk/ (see STATIC_DIR),
the shared scripts (common.js, day.js) at /static/web/. Security headers come from the
application's middleware (onestop.web.security).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError

from onestop.drivers.escpos.printer import MESSAGES as PRINTER_MESSAGES
from onestop.queue.appointments import CODE_ALPHABET, CODE_LENGTH
from onestop.queue.errors import NotFound
from onestop.web import templating, ticket_lookup
from onestop.web.access import MATRIX, Forbidden, csrf_token, resolve
from onestop.web.deps import hall_of
from onestop.web.page_texts import LANGS, SHARED_TEXTS, page_lang

if TYPE_CHECKING:
    from onestop.hall import Hall

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
STATIC_URL = "/static/kiosk"

router = APIRouter(tags=["pages"], include_in_schema=False)

pages = templating.room("kiosk", TEMPLATES_DIR, STATIC_DIR, STATIC_URL)

# One place for every word the pages say (on top of the words the residents' pages share,
# onestop.web.page_texts). {name} placeholders are filled by fmt() / Onestop.t().
_OWN_TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "lang_zh": "中文",
        "lang_en": "English",
        "retry": "重试",
        "wait_unknown": "暂无法估算",
        "wait_none": "无需等候",
        "wait_soon": "即将叫号",
        "wait_minutes": "约 {m} 分钟",
        "wait_hours": "约 {h} 小时 {m} 分钟",
        "persons": "{n} 人",
        "state_waiting": "等候中",
        "state_called": "已叫号",
        "state_serving": "办理中",
        "state_done": "已办结",
        "state_no_show": "过号",
        "state_cancelled": "已取消",
        "green_channel": "绿色通道",
        # kiosk
        "kiosk_title": "自助取号",
        "kiosk_label": "{name}",
        "home_prompt": "请选择办理事项类别",
        "items_count": "{n} 个事项",
        "home": "首页",
        "category_prompt": "请选择要办理的事项",
        "waiting_n": "等候 {n} 人",
        "materials_note": "一次性告知",
        "people_waiting": "正在等候",
        "estimated_wait": "预计等候",
        "time_limit": "承诺时限",
        "time_limit_days": "{n} 个工作日",
        "time_limit_now": "即办",
        "take_number": "取号",
        "taking": "正在取号…",
        "your_number": "您的号码",
        "people_ahead": "前面还有",
        "printing": "正在打印，请取票",
        "printed": "请取走号票",
        "print_failed": "号票未能打印，请拍照保存或到咨询台",
        "scan_hint": "微信扫码，在手机上查看排队进度",
        "done": "完成",
        "return_in": "{n} 秒后返回首页",
        "printer_banner": "打印机暂停出票，号票将显示在屏幕上，请扫码或拍照保存",
        "printer_banner_disabled": "本机号票显示在屏幕上，请扫码或拍照保存",
        "no_services": "暂无可取号的事项，请到咨询台",
        "kiosk_not_found": "没有这台取号机",
        "kiosk_not_found_hint": "请检查地址中的取号机编号。已配置的取号机：",
        "no_kiosks": "尚未配置取号机（config/devices.toml）",
        # status page
        "status_title": "排队进度",
        "go_to_window": "请到 {counter}办理",
        "serving_at": "正在 {counter}办理",
        "done_msg": "已办结，感谢您的耐心等候",
        "no_show_msg": "您已过号，如需办理请到咨询台",
        "cancelled_msg": "此号票已取消",
        "live": "实时更新",
        "reconnecting": "连接中断，正在重新连接…",
        "updated_at": "更新于 {time}",
        "ticket_not_found": "没有找到这张号票",
        "ticket_not_found_hint": "链接可能有误或号票已过期，请到咨询台询问。",
        "unavailable": "系统繁忙，请稍后刷新页面",
        "listen_hint": "请留意大厅叫号，过号请到咨询台",
        # desk
        "desk_title": "首问责任岗 · 绿色通道",
        "step_service": "选择事项",
        "step_reason": "绿色通道原因",
        "step_print": "打印号票（可选）",
        "reason_elderly": "老年人",
        "reason_disabled": "残疾人",
        "reason_pregnant": "孕妇",
        "reason_military": "军人及优抚对象",
        "reason_other": "其他",
        "reason_detail": "补充说明（选“其他”时必填）",
        "print_none": "不打印，仅在屏幕显示",
        "printer_ok": "可打印",
        "printer_down": "暂不能打印",
        "issue": "出号",
        "issuing": "正在出号…",
        "issue_again": "再出一张",
        "need_service": "请先选择事项",
        "need_reason": "请选择或填写绿色通道原因",
        "selected": "已选",
        # appointment check-in (预约签到)
        "checkin": "预约签到",
        "checkin_sub": "已预约群众请点此签到取号",
        "checkin_prompt": "请输入 8 位预约码",
        "checkin_submit": "签到取号",
        "checking_in": "正在签到…",
        "key_delete": "删除",
        "key_clear": "清空",
        "take_normal": "取普通号",
        "appointments_day": "今天为非工作日预约服务，仅限已预约群众签到取号",
        "closed_today": "今天不办公，暂停取号",
    },
    "en": {
        "lang_zh": "中文",
        "lang_en": "English",
        "retry": "Try again",
        "wait_unknown": "Not available",
        "wait_none": "No wait",
        "wait_soon": "Any moment now",
        "wait_minutes": "About {m} min",
        "wait_hours": "About {h} h {m} min",
        "persons": "{n}",
        "state_waiting": "Waiting",
        "state_called": "Called",
        "state_serving": "Being served",
        "state_done": "Completed",
        "state_no_show": "Missed",
        "state_cancelled": "Cancelled",
        "green_channel": "Green channel",
        "kiosk_title": "Take a number",
        "kiosk_label": "Kiosk {id}",
        "home_prompt": "Choose a category",
        "items_count": "{n} services",
        "home": "Home",
        "category_prompt": "Choose the service you need",
        "waiting_n": "{n} waiting",
        "materials_note": "Everything you need, listed once",
        "people_waiting": "People waiting",
        "estimated_wait": "Estimated wait",
        "time_limit": "Committed time",
        "time_limit_days": "{n} working days",
        "time_limit_now": "Same day",
        "take_number": "Take a number",
        "taking": "Taking a number…",
        "your_number": "Your number",
        "people_ahead": "People ahead",
        "printing": "Printing: please take your ticket",
        "printed": "Please take your ticket",
        "print_failed": "The ticket could not be printed: please take a photo of this screen "
                        "or go to the front desk",
        "scan_hint": "Scan to follow the queue on your phone",
        "done": "Done",
        "return_in": "Back to the start in {n} s",
        "printer_banner": "The printer is paused: your ticket will be shown on this screen. "
                          "Scan the code or take a photo",
        "printer_banner_disabled": "This kiosk shows tickets on screen: "
                                   "scan the code or take a photo",
        "no_services": "No services are open for tickets: please go to the front desk",
        "kiosk_not_found": "There is no such kiosk",
        "kiosk_not_found_hint": "Check the kiosk id in the address. Configured kiosks:",
        "no_kiosks": "No kiosk is configured (config/devices.toml)",
        "status_title": "Queue status",
        "go_to_window": "Please go to {counter}",
        "serving_at": "Being served at {counter}",
        "done_msg": "Completed. Thank you for your patience",
        "no_show_msg": "Your number was missed: please ask at the front desk",
        "cancelled_msg": "This ticket has been cancelled",
        "live": "Live",
        "reconnecting": "Connection lost, reconnecting…",
        "updated_at": "Updated {time}",
        "ticket_not_found": "Ticket not found",
        "ticket_not_found_hint": "The link may be wrong or the ticket has expired. "
                                 "Please ask at the front desk.",
        "unavailable": "The system is busy: please reload the page in a moment",
        "listen_hint": "Listen for your number; if you miss it, ask at the front desk",
        "desk_title": "First-inquiry desk · Green channel",
        "step_service": "Service",
        "step_reason": "Reason for the green channel",
        "step_print": "Print the ticket (optional)",
        "reason_elderly": "Elderly",
        "reason_disabled": "Disabled",
        "reason_pregnant": "Pregnant",
        "reason_military": "Military & entitled groups",
        "reason_other": "Other",
        "reason_detail": "Details (required for “Other”)",
        "print_none": "Do not print, show on screen",
        "printer_ok": "ready",
        "printer_down": "cannot print",
        "issue": "Issue ticket",
        "issuing": "Issuing…",
        "issue_again": "Issue another",
        "need_service": "Choose a service first",
        "need_reason": "Choose or type the reason",
        "selected": "selected",
        "checkin": "Check in",
        "checkin_sub": "Booked an appointment? Check in here",
        "checkin_prompt": "Type your 8-character booking code",
        "checkin_submit": "Check in",
        "checking_in": "Checking in…",
        "key_delete": "Delete",
        "key_clear": "Clear",
        "take_normal": "Take a normal ticket",
        "appointments_day": "Today the hall serves booked appointments only: "
                            "please check in with your code",
        "closed_today": "The hall is closed today",
    },
}

TEXTS: dict[str, dict[str, str]] = {lang: {**SHARED_TEXTS[lang], **_OWN_TEXTS[lang]}
                                    for lang in LANGS}

# Green-channel reasons offered as quick buttons at the desk; the zh-CN label is what is recorded.
DESK_REASONS = ("reason_elderly", "reason_disabled", "reason_pregnant", "reason_military",
                "reason_other")

# The desk also finds a ticket by its number and puts a missed one back in line (号票查询,
# with the lookup the admin page shows: onestop.web.ticket_lookup).
DESK_TEXTS: dict[str, dict[str, str]] = {lang: {**TEXTS[lang], **ticket_lookup.TEXTS[lang]}
                                         for lang in LANGS}

def fmt(lang: str, key: str, **values: Any) -> str:
    text = TEXTS[lang].get(key) or TEXTS["zh"][key]
    return text.format(**values) if values else text


def format_wait(lang: str, seconds: float | None, zero_key: str = "wait_soon") -> str:
    """Same rules as Onestop.fmtWait in common.js."""
    if seconds is None:
        return fmt(lang, "wait_unknown")
    if seconds <= 0:
        return fmt(lang, zero_key)
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 60:
        return fmt(lang, "wait_minutes", m=minutes)
    return fmt(lang, "wait_hours", h=minutes // 60, m=minutes % 60)


def _hall(request: Request) -> Hall:
    return hall_of(request)


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200,
          cache: str = "no-cache") -> HTMLResponse:
    lang = context.get("lang", "zh")
    context = {"t": TEXTS[lang], "texts": TEXTS, **context}
    return pages.render(request, name, context, status_code=status_code, cache=cache)


def _boot(hall: Hall, lang: str, **extra: Any) -> dict[str, Any]:
    """What every page's script starts from (embedded as JSON, escaped by |tojson)."""
    config = hall.config
    return {
        "lang": lang,
        "texts": TEXTS,
        "hall": {"name": config.hall.name, "name_en": config.hall.name_en,
                 "timezone": config.hall.timezone},
        "printer_messages": {state: list(texts) for state, texts in PRINTER_MESSAGES.items()},
        **extra,
    }


def _not_found(request: Request, lang: str, title_key: str, hint_key: str,
               links: list[dict[str, str]] | None = None, detail: str | None = None
               ) -> HTMLResponse:
    hall = _hall(request)
    return _page(request, "not_found.html", {
        "lang": lang, "hall": hall.config.hall, "title_key": title_key, "hint_key": hint_key,
        "links": links or [], "detail": detail,
    }, status_code=404, cache="no-store")


@router.get("/kiosk", response_class=HTMLResponse)
async def kiosk_page(request: Request, k: str | None = None) -> HTMLResponse:
    """The touchscreen kiosk: /kiosk?k=<kiosk id>, the first configured kiosk by default."""
    hall = _hall(request)
    kiosks = hall.config.kiosks
    links = [{"href": f"/kiosk?k={x.id}", "label": f"{x.id} · {x.name}"} for x in kiosks]
    if not kiosks:
        return _not_found(request, "zh", "kiosk_not_found", "no_kiosks")
    kiosk = kiosks[0] if k is None else hall.config.kiosk(k)
    if kiosk is None:
        return _not_found(request, "zh", "kiosk_not_found", "kiosk_not_found_hint", links,
                          detail=k)
    today = hall.engine.time.service_day()
    boot = _boot(hall, "zh", kiosk={"id": kiosk.id, "name": kiosk.name},
                 day=hall.engine.calendar.plan(today).to_json(),
                 code={"alphabet": CODE_ALPHABET, "length": CODE_LENGTH})
    return _page(request, "kiosk/kiosk.html", {
        "lang": "zh", "hall": hall.config.hall, "kiosk": kiosk, "boot": boot,
    })


@router.get("/t/{token}", response_class=HTMLResponse)
async def ticket_page(token: str, request: Request, lang: str | None = None) -> HTMLResponse:
    """A ticket's live status on the resident's phone; the QR code on the ticket points here."""
    hall = _hall(request)
    lang = page_lang(lang)
    if len(token) > 64:
        return _not_found(request, lang, "ticket_not_found", "ticket_not_found_hint")
    try:
        ticket = await hall.db(hall.engine.reads.ticket_status, token)
    except NotFound:
        return _not_found(request, lang, "ticket_not_found", "ticket_not_found_hint")
    except OperationalError:
        return _page(request, "not_found.html", {
            "lang": lang, "hall": hall.config.hall, "title_key": "unavailable",
            "hint_key": "listen_hint", "links": [], "detail": None,
        }, status_code=503, cache="no-store")
    counters = {str(c.number): {"name": c.name, "name_en": c.name_en}
                for c in hall.config.counters}
    service = hall.config.service(ticket["service"])
    view = {
        "number": ticket["number"],
        "service_name": ticket["service_name"] if lang == "zh" else ticket["service_name_en"],
        "state": ticket["state"],
        "state_text": fmt(lang, f"state_{ticket['state']}"),
        "ahead_text": fmt(lang, "persons", n=ticket.get("people_ahead") or 0),
        "wait_text": format_wait(lang, ticket.get("estimated_wait_seconds")),
        "counter_text": _counter_text(lang, ticket, counters),
    }
    boot = _boot(hall, lang, token=token, ticket=ticket, counters=counters,
                 service={"name": service.name, "name_en": service.name_en} if service else None)
    return _page(request, "kiosk/status.html", {
        "lang": lang, "hall": hall.config.hall, "view": view, "boot": boot, "token": token,
    }, cache="no-store")


def _counter_text(lang: str, ticket: dict[str, Any], counters: dict[str, dict[str, str]]
                  ) -> str:
    """Same rules as counterText() in status.js."""
    if ticket["state"] not in ("called", "serving") or ticket.get("counter") is None:
        return ""
    names = counters.get(str(ticket["counter"]))
    if names:
        name = names["name_en"] if lang == "en" else names["name"]
    else:
        name = ticket.get("counter_name") or str(ticket["counter"])
    key = "go_to_window" if ticket["state"] == "called" else "serving_at"
    return fmt(lang, key, counter=name)


@router.get("/desk", response_class=HTMLResponse)
async def desk_page(request: Request) -> Response:
    """首问责任岗: green-channel tickets issued on a resident's behalf, and 号票查询 (find a
    ticket by its number; put a missed one back in line or cancel it).

    Only desk staff (and supervisors, admins) may open it; others are sent to sign in.
    """
    hall = _hall(request)
    principal = await resolve(request)
    if principal.kind == "public":
        return RedirectResponse("/login?next=/desk", status_code=303)
    if principal.role not in MATRIX["desk.issue"]:
        raise Forbidden("您的账号无权使用首问服务台", "your account may not use the desk")
    boot = _boot(hall, "zh", reasons=list(DESK_REASONS), texts=DESK_TEXTS)
    return _page(request, "kiosk/desk.html", {
        "lang": "zh", "hall": hall.config.hall, "boot": boot, "csrf_token": csrf_token(request),
        "t": DESK_TEXTS["zh"], "texts": DESK_TEXTS, "lookup_script": ticket_lookup.script_url(),
    })
