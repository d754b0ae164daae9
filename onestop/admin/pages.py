"""GET /admin: the supervisors' and admins' page (overview, notices, windows, staff, devices)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from onestop.web import templating
from onestop.web.access import MATRIX, Forbidden, csrf_token, resolve

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static/admin"
router = APIRouter(include_in_schema=False)
pages = templating.room("admin", Path(__file__).parent / "templates", STATIC_DIR, STATIC_URL)

TEXTS: dict[str, dict[str, str]] = {
    "zh": {"html_lang": "zh-CN", "server_error": "操作失败，请稍后重试",
           "network_error": "网络异常，请稍后重试", "wait_unknown": "—", "wait_soon": "即将叫号",
           "wait_minutes": "约 {m} 分钟", "wait_hours": "约 {h} 小时 {m} 分钟"},
    "en": {"html_lang": "en", "server_error": "Something went wrong; try again",
           "network_error": "Network problem; try again", "wait_unknown": "—",
           "wait_soon": "any moment", "wait_minutes": "about {m} min",
           "wait_hours": "about {h} h {m} min"},
}


@router.get("/admin")
async def admin_page(request: Request) -> Response:
    principal = await resolve(request)
    if principal.kind == "public":
        return RedirectResponse("/login?next=/admin", status_code=303)
    if principal.role not in MATRIX["overview.read"]:
        raise Forbidden("管理页面仅限管理员和值班主管", "the admin pages are for admins and supervisors")
    hall = request.app.state.hall
    boot: dict[str, Any] = {
        "lang": "zh", "texts": TEXTS, "role": principal.role, "name": principal.name,
        "hall": {"name": hall.config.hall.name, "name_en": hall.config.hall.name_en},
    }
    return pages.render(request, "admin/admin.html", {
        "hall": hall.config.hall, "boot": boot, "csrf_token": csrf_token(request),
        "is_admin": principal.role == "admin", "name": principal.name,
    }, cache="no-store")
