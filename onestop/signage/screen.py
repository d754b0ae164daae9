"""The hall screen (/screen): the call in progress, recent calls, queues, public notices.

A 1920×1080 TV read from 15 m away, with no mouse and no keyboard. The page is a static shell;
onestop/signage/static/screen.js draws everything from the event stream (/ws/events: a snapshot,
then ticket and notice events) and GET /api/notices, exactly as any other client would.

Access: when `[hall] public_screen` is true (the default) anyone on the hall network may watch.
Otherwise the page still loads, but its event stream needs a screen device token, enrolled once by
opening /screen#token=<token> (common.js keeps it in localStorage).

For a TV in kiosk mode start Chromium with `--autoplay-policy=no-user-gesture-required`, or the
browser keeps the chime silent until someone touches the screen.

Residents' names are never shown in full: `mask_name` here and maskName() in screen.js apply the
same rule, 张三 → 张*, 欧阳娜娜 → 欧***, Li Lei → L*.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from onestop.web import templating
from onestop.web.deps import hall_of

if TYPE_CHECKING:
    from onestop.hall import Hall

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
STATIC_URL = "/static/signage"

RECENT_CALLS = 8  # calls listed beside the current one
FLASH_SECONDS = 6  # how long a new call flashes
STALE_SECONDS = 30  # a call this much older than the newest event seen is history, not news
NOTICE_REFRESH_SECONDS = 60  # scheduled notices start and end without an event: poll this often

router = APIRouter(tags=["pages"], include_in_schema=False)

pages = templating.room("signage", TEMPLATES_DIR, STATIC_DIR, STATIC_URL)

LANGS = ("zh", "en")

# Every word the screen says; {name} placeholders are filled by Onestop.t() in the browser.
TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "title": "叫号大屏",
        "now_calling": "正在叫号",
        "call_before": "请",
        "call_after": "号",
        "window_before": "到",
        "window_after": "办理",
        "idle": "欢迎光临，请取号等候叫号",
        "recent": "最近叫号",
        "recent_empty": "暂无叫号",
        "queues": "等候人数",
        "waiting_label": "等候",
        "persons_unit": "人",
        "notices": "政务信息公开",
        "notices_empty": "欢迎光临{hall}，请留意叫号信息",
        "offline": "连接中断，正在重新连接…",
        "not_enrolled": "本屏幕尚未登记：请用设备令牌打开 /screen#token=…",
        "green_channel": "绿色通道",
    },
    "en": {
        "html_lang": "en",
        "title": "Hall screen",
        "now_calling": "Now calling",
        "call_before": "Number",
        "call_after": "",
        "window_before": "please go to",
        "window_after": "",
        "idle": "Welcome. Please take a number and wait to be called",
        "recent": "Recent calls",
        "recent_empty": "No calls yet",
        "queues": "Waiting",
        "waiting_label": "",
        "persons_unit": "waiting",
        "notices": "Public notices",
        "notices_empty": "Welcome to {hall}. Please listen for your number",
        "offline": "Connection lost, reconnecting…",
        "not_enrolled": "This screen is not enrolled: open /screen#token=… with its device token",
        "green_channel": "Green channel",
    },
}


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, kana, CJK unified ideographs and extension A
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= code <= 0x3FFFF  # extensions B and later
    )


def mask_name(name: str | None) -> str:
    """A resident's name as the public screen may show it: the first character, the rest hidden.

    Chinese (and other CJK) names keep one star per hidden character, as notices in China do:
    张三 → 张*, 欧阳娜娜 → 欧***. Other names keep only their first letter: Li Lei → L*.
    Mirrored by maskName() in static/screen.js; keep the two in step.
    """
    chars = [ch for ch in (name or "").strip() if not ch.isspace()]
    if not chars:
        return ""
    if any(_is_cjk(ch) for ch in chars):
        return chars[0] + "*" * max(1, len(chars) - 1)
    return chars[0] + "*"


def _boot(hall: Hall, lang: str) -> dict[str, Any]:
    """What screen.js starts from (embedded as JSON, escaped by |tojson)."""
    config = hall.config
    return {
        "lang": lang,
        "texts": TEXTS,
        "hall": {"name": config.hall.name, "name_en": config.hall.name_en,
                 "timezone": config.hall.timezone},
        "public_screen": config.hall.public_screen,
        "counters": {str(c.number): {"name": c.name, "name_en": c.name_en}
                     for c in config.counters},
        "queues": [{"id": q.id, "prefix": q.prefix, "name": q.name, "name_en": q.name_en,
                    "waiting": None} for q in config.queues],
        "recent_calls": RECENT_CALLS,
        "flash_ms": FLASH_SECONDS * 1000,
        "stale_ms": STALE_SECONDS * 1000,
        "notice_refresh_ms": NOTICE_REFRESH_SECONDS * 1000,
    }


@router.get("/screen", response_class=HTMLResponse)
async def screen_page(request: Request, lang: str | None = None) -> HTMLResponse:
    """The hall screen. `?lang=en` for an English screen; Chinese by default."""
    hall = hall_of(request)
    lang = lang if lang in LANGS else "zh"
    context = {
        "lang": lang,
        "t": TEXTS[lang],
        "hall": hall.config.hall,
        "boot": _boot(hall, lang),
    }
    return pages.render(request, "signage/screen.html", context, cache="no-cache")
