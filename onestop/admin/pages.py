"""GET /admin: the supervisors' and admins' page (overview, who sits where, ticket lookup and
corrections, notices, windows, staff, devices)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from onestop.web import templating, ticket_lookup
from onestop.web.access import MATRIX, Forbidden, csrf_token, resolve
from onestop.web.deps import hall_of

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static/admin"
router = APIRouter(include_in_schema=False)
pages = templating.room("admin", Path(__file__).parent / "templates", STATIC_DIR, STATIC_URL)

_OWN_TEXTS: dict[str, dict[str, str]] = {
    "zh": {"html_lang": "zh-CN", "server_error": "操作失败，请稍后重试",
           "network_error": "网络异常，请稍后重试", "wait_unknown": "—", "wait_soon": "即将叫号",
           "wait_minutes": "约 {m} 分钟", "wait_hours": "约 {h} 小时 {m} 分钟",
           # windows, everywhere on the page
           "window_open": "服务中", "window_paused": "暂停：{reason}", "window_unstaffed": "暂无人员",
           "ticket_waiting": "等候中", "ticket_called": "已叫号", "ticket_serving": "办理中",
           # 在岗: who sits where
           "tab_presence": "在岗", "presence_windows": "窗口在岗情况",
           "presence_roster": "工作人员（今日）",
           "col_window": "窗口", "col_state": "状态", "col_clerk": "工作人员",
           "col_seen": "最后联系", "col_ticket": "当前号票", "col_attendance": "今日出勤",
           "col_seat": "所在窗口", "col_lunch": "午餐轮休", "col_today": "今日办理",
           "present": "在岗", "absent": "今日缺勤", "mark_absent": "标记缺勤",
           "mark_present": "恢复在岗", "marked_by": "{name} 标记",
           "not_signed_in": "未登录窗口", "break_started": "已开始 {time}",
           "break_planned": "{slot}", "break_none": "未安排",
           "served_counts": "办结 {served} · 过号 {no_show}",
           "served_detail": "即办 {on_the_spot} / 承诺 {committed} / 咨询 {consultation}",
           "marked_absent_ok": "已将 {name} 标记为今日缺勤，午餐轮换已按在岗人员重新安排",
           "marked_present_ok": "{name} 已恢复在岗，午餐轮换已重新安排",
           "lunch_problem": "今日没有午餐轮换：{message}",
           # 号票
           "tab_tickets": "号票", "tickets_title": "号票查询与更正",
           "leftovers_title": "日终清理",
           "leftovers_hint": "关闭所有仍在等候的号票（以及无人窗口上已叫号的号票），每张单独记入台账。",
           "leftovers_reason": "原因（记入台账）",
           "leftovers_placeholder": "如：群众已离开，今日闭厅",
           "leftovers_check": "清理剩余号票…",
           "leftovers_question": "当前还有 {n} 张号票在等候，将全部关闭，原因：“{reason}”。确定关闭吗？",
           "leftovers_none": "当前没有等候中的号票，无需清理",
           "leftovers_yes": "确认关闭 {n} 张", "leftovers_no": "不关闭",
           "leftovers_done": "已关闭 {n} 张号票：{numbers}",
           "leftovers_done_none": "没有需要关闭的号票",
           "need_reason": "请填写原因（将记入台账）"},
    "en": {"html_lang": "en", "server_error": "Something went wrong; try again",
           "network_error": "Network problem; try again", "wait_unknown": "—",
           "wait_soon": "any moment", "wait_minutes": "about {m} min",
           "wait_hours": "about {h} h {m} min"},
}

TEXTS: dict[str, dict[str, str]] = {lang: {**ticket_lookup.TEXTS[lang], **own}
                                    for lang, own in _OWN_TEXTS.items()}


@router.get("/admin")
async def admin_page(request: Request) -> Response:
    principal = await resolve(request)
    if principal.kind == "public":
        return RedirectResponse("/login?next=/admin", status_code=303)
    if principal.role not in MATRIX["overview.read"]:
        raise Forbidden("管理页面仅限管理员和值班主管", "the admin pages are for admins and supervisors")
    hall = hall_of(request)
    boot: dict[str, Any] = {
        "lang": "zh", "texts": TEXTS, "role": principal.role, "name": principal.name,
        "hall": {"name": hall.config.hall.name, "name_en": hall.config.hall.name_en},
    }
    return pages.render(request, "admin/admin.html", {
        "hall": hall.config.hall, "boot": boot, "csrf_token": csrf_token(request),
        "is_admin": principal.role == "admin", "name": principal.name, "t": TEXTS["zh"],
    }, cache="no-store")
