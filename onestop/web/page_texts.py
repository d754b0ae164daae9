"""Words more than one room's pages say, and the page languages.

The residents' pages (the kiosk's, its ticket status page and desk, the booking pages) share
these: the page language for base.html, the error words common.js falls back on, and a few
labels both the kiosk and the booking pages show. Each room adds its own words on top
(`{**SHARED_TEXTS[lang], **own[lang]}`), so the same thing is said the same way everywhere.
"""

from __future__ import annotations

LANGS = ("zh", "en")

SHARED_TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "network_error": "网络异常，请稍后重试或到咨询台",
        "server_error": "系统暂时无法处理，请稍后重试或到咨询台",
        "loading": "正在加载…",
        "back": "返回",
        "materials_title": "请携带以下材料",
        "no_materials": "无需携带材料",
    },
    "en": {
        "html_lang": "en",
        "network_error": "Network problem: please try again in a moment or go to the front desk",
        "server_error": "The system cannot do this right now: please try again or go to the front desk",
        "loading": "Loading…",
        "back": "Back",
        "materials_title": "Please bring",
        "no_materials": "Nothing to bring",
    },
}


def page_lang(value: str | None) -> str:
    """The page language asked for (?lang=), Chinese unless it is one we have."""
    return value if value in LANGS else "zh"
