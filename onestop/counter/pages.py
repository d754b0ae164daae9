"""The clerk's counter terminal (窗口叫号终端) at GET /counter.

A thin page: its scripts talk to the window routes (/api/counters/{n}/...), the reads in
onestop.counter.api and the event stream, like any other client. It extends the shared base
template and loads the shared common.css, common.js (API calls with the CSRF header, the
reconnecting event stream) and day.js from onestop.web, then its own scripts from static/, in
this order: counter_day.js (this window's lunch break), counter.js (the core: state, re-reads,
actions, events, keyboard; it creates window.OnestopCounter), counter_view.js (drawing the
window), counter_presence.js (heartbeat, window picker, sitting down and leaving),
counter_corrections.js (the guarded 过号 and 撤销) and counter_dialogs.js (承诺件, 转办, 暂停).
Each is linked with `pages.static_url`, so its URL carries a hash of its content and a terminal
left open picks up a new version. Every word the scripts say lives in TEXTS and reaches the page
as JSON; data is only ever put into the page as text.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onestop.web import templating
from onestop.web.access import MATRIX, csrf_token, resolve
from onestop.web.deps import hall_of

if TYPE_CHECKING:
    from onestop.hall import Hall

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
STATIC_URL = "/static/counter"

router = APIRouter(tags=["pages"], include_in_schema=False)

# counter.html extends the shared base.html (common.css, common.js, boot JSON).
pages = templating.room("counter", TEMPLATES_DIR, STATIC_DIR, STATIC_URL)

PAUSE_REASONS = ("午餐", "会议", "后台办理")
ROLE_NAMES = {"admin": "管理员", "supervisor": "值班主任", "clerk": "窗口工作人员",
              "desk": "首问责任岗", "kiosk": "取号机", "screen": "叫号大屏"}

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "network_error": "网络异常，请检查网络后重试",
        "server_error": "系统暂时无法处理，请稍后重试",
        "title": "窗口叫号终端",
        "live": "实时",
        "reconnecting": "连接中断，正在重连…",
        "idle": "空闲，请叫号",
        "paused": "暂停服务：{reason}",
        "counter_open": "服务中",
        "counter_paused": "暂停：{reason}",
        "state_called": "已叫号",
        "state_serving": "办理中",
        "priority_green": "绿色通道",
        "priority_appointment": "预约",
        "priority_normal": "普通",
        "transferred_here": "转入本窗口",
        "transfers": "已转办 {n} 次",
        "recalls": "已重呼 {n} 次",
        "nobody_waiting": "当前没有等候本窗口的群众",
        "none_waiting": "暂无等候",
        "called_ok": "已叫号 {number}",
        "recalled_ok": "已重呼 {number}",
        "started_ok": "{number} 开始办理",
        "finished_ok": "{number} 已办结（{outcome}）",
        "no_show_ok": "{number} 已标记过号",
        "transferred_ok": "{number} 已转至{target}",
        "paused_ok": "已暂停服务（{reason}）",
        "resumed_ok": "已恢复服务",
        "conflict": "操作未执行：{message}。页面已更新为最新状态。",
        "refused": "操作未执行：{message}",
        "signed_out": "登录已失效，请重新登录",
        "window_changed": "本浏览器已改为在{window}登录，页面已切换",
        "outcome_on_the_spot": "即办件",
        "outcome_committed": "承诺件",
        "outcome_consultation": "咨询件",
        "need_date": "请选择承诺办结日期",
        "need_reason": "请填写暂停原因",
        "need_target": "请选择转办目标",
        "committed_limit": "本事项承诺时限：{n} 个工作日",
        "committed_now": "本事项为即办事项",
        "waited_since_issue": "已等 {t}",
        "call_this": "呼叫",
        "persons": "{n} 人",
        "more_waiting": "另有 {n} 人未列出",
        "no_window": "您尚未被安排到任何窗口，请联系管理员",
        "window_choice_state_paused": "暂停",
        "window_choice_state_busy": "有号票",
        "queue_option": "{prefix} · {name}",
        "select_placeholder": "请选择…",
        # Presence: a window is staffed while its clerk is signed in and the terminal is alive.
        "counter_unstaffed": "暂无人员",
        "clerk_on_duty": "在岗",
        "clerk_signed_in": "已登录",
        "unstaffed_here": "本窗口暂无人员在岗",
        "staff_here": "在本窗口上岗",
        "staffed_ok": "已在{window}上岗",
        "unstaffed_by": "{window}已无人员在岗：{message}",
        "window_left": "本浏览器已退出{window}，请重新选择窗口",
        "presence_refused": "未能在岗：{message}",
        "taken_over": "{window}现由{name}在岗，请重新选择窗口",
        "window_choice_state_free": "暂无人员",
        "window_choice_state_staffed": "{name}在岗",
        "window_choice_state_mine": "您已在岗",
        "window_choice_paused": "暂停：{reason}",
        "transfer_unstaffed": "（暂无人员）",
        # 过号 only after a fair chance; a confirmation that a second tap cannot answer.
        "no_show_label": "过号",
        "no_show_wait": "过号（{s}秒）",
        "no_show_too_early": "{number} 刚叫号，请给群众到窗口的时间：叫号满{wait}秒（还需{left}秒）"
                             "或重呼一次后，才能标记过号",
        "noshow_title": "确认过号",
        "noshow_question": "确认 {number} 过号？",
        "noshow_facts": "已叫 {since} · 重呼 {recalls} 次",
        "noshow_hint": "请确认群众确实未到窗口。过号后{undo}秒内可撤销。",
        "noshow_ok": "确认过号",
        "cancel": "取消",
        # Undo: the window's last finish or no-show, for a short while.
        "undo_finish": "撤销办结{number}（{s}秒）",
        "undo_no_show": "撤销过号{number}（{s}秒）",
        "undone_ok": "已撤销，{number} 回到本窗口",
        # The clerk's own count today (they may have served at other windows too).
        "mine_label": "本人今日",
        "mine_none": "—",
        "mine_counts": "已办 {served}：即办 {on_the_spot} · 承诺 {committed} · 咨询 {consultation}"
                       " · 过号 {no_show}",
    },
    "en": {
        "html_lang": "en",
        "network_error": "Network problem: check the connection and try again",
        "server_error": "The system cannot do this right now: try again in a moment",
        # The English twins the page shows beside the Chinese labels (lang="en" spans).
        "staff_here": "Sit down here",
        "noshow_title": "Confirm no-show",
        "noshow_ok": "Mark no-show",
        "cancel": "Cancel",
        "mine_label": "Mine today",
    },
}


def _render(request: Request, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    context = {"t": TEXTS["zh"], "t_en": TEXTS["en"], "lang": "zh", **context}
    return pages.render(request, "counter/counter.html", context, status_code=status_code,
                        cache="no-store")


def _boot(hall: Hall, principal: Any) -> dict[str, Any]:
    config = hall.config
    return {
        "lang": "zh",
        "texts": TEXTS,
        "hall": {"name": config.hall.name, "name_en": config.hall.name_en,
                 "timezone": config.hall.timezone},
        "me": {"name": principal.name, "username": principal.username, "role": principal.role,
               "counters": list(principal.counters), "window": principal.window,
               "any_window": principal.role in ("admin", "supervisor")},
        # Presence and corrections, as the hall configured them (the server enforces them;
        # the page uses them to say so before a clerk presses).
        "heartbeat_seconds": config.presence.heartbeat_seconds,
        "no_show_after_seconds": config.corrections.no_show_after_seconds,
        "undo_seconds": config.corrections.undo_seconds,
        "queues": [{"id": q.id, "prefix": q.prefix, "name": q.name, "name_en": q.name_en,
                    "services": config.queue_services(q.id)} for q in config.queues],
        "services": {s.id: {"name": s.name, "name_en": s.name_en, "queue": s.queue,
                            "committed_days": s.committed_days} for s in config.services},
        "pause_reasons": list(PAUSE_REASONS),
    }


@router.get("/counter", response_class=HTMLResponse)
async def counter_page(request: Request) -> Response:
    """The terminal; a window picker first when the signed-in clerk has not chosen a window."""
    hall = hall_of(request)
    principal = await resolve(request)
    if principal.kind == "public":
        return RedirectResponse("/login?next=/counter", status_code=303)
    if principal.kind != "user" or principal.role not in MATRIX["window.act"]:
        return _render(request, {"hall": hall.config.hall, "forbidden": True,
                                 "who": principal.name,
                                 "role_name": ROLE_NAMES.get(principal.role, principal.role)},
                       status_code=403)
    return _render(request, {"hall": hall.config.hall, "forbidden": False,
                             "boot": _boot(hall, principal),
                             "csrf_token": csrf_token(request)})
