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
           "need_reason": "请填写原因（将记入台账）",
           # 工作人员 and 设备: accounts, sessions, device tokens (admin_accounts.js)
           "role_admin": "管理员", "role_supervisor": "值班主管", "role_clerk": "窗口人员",
           "role_desk": "首问服务台", "role_kiosk": "取号机", "role_screen": "大厅屏",
           "account_active": "启用", "account_disabled": "已停用", "account_self": "当前账号",
           "disable": "停用", "enable": "启用", "reset_password": "重置密码",
           "confirm_disable": "停用 {name}？其登录将立即退出",
           "confirm_reset": "为 {name} 生成新密码？其登录将立即退出",
           "confirm_end": "结束 {name} 的这次登录？", "confirm_revoke": "停用 {name} 的令牌？设备将立即无法使用",
           "confirm_rotate": "为 {name} 更换令牌？旧令牌将立即失效", "yes": "确定", "no": "取消",
           "disabled_ok": "已停用 {name}，{n} 个登录已退出", "enabled_ok": "已启用 {name}",
           "reset_ok": "{name} 的新密码（只显示这一次）：{password}　其 {n} 个登录已退出",
           "added_ok": "账号 {name} 的初始密码（只显示这一次）：{password}",
           "session_current": "当前登录", "end_session": "结束登录", "ended_ok": "已结束 {name} 的登录",
           "no_sessions": "没有在线的登录", "sessions_count": "{n} 个",
           "device_active": "可用", "device_revoked": "已停用", "revoke": "停用令牌",
           "rotate": "更换令牌", "revoked_ok": "{name} 的令牌已停用",
           "rotated_ok": "{name} 的新令牌：请在设备上打开一次（只显示这一次）：{url}",
           "device_added_ok": "请在设备上打开一次（只显示这一次）：{url}",
           "audit_account.added": "添加账号", "audit_account.disabled": "停用账号",
           "audit_account.enabled": "启用账号", "audit_account.password_reset": "重置密码",
           "audit_account.password_changed": "本人修改密码",
           "audit_account.session_ended": "结束登录", "audit_device.added": "添加设备",
           "audit_device.revoked": "停用令牌", "audit_device.rotated": "更换令牌",
           "audit_sessions": "（{n} 个登录退出）", "no_audit": "暂无记录"},
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
        "security": hall.config.security,
    }, cache="no-store")
