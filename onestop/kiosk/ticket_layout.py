"""The printed ticket: a ticket's facts and the hall's template → a printer-neutral Receipt.

The hall changes what it prints in config/devices.toml ([ticket]: paper width, language, footer,
QR on/off) without touching this code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onestop.drivers.escpos.receipt import Feed, QRCode, Receipt, Rule, TextLine
from onestop.queue.catalogue import TicketTemplate


def wait_text(seconds: int | None, english: bool) -> str:
    if seconds is None:
        return "暂无法估计" if not english else "not available"
    minutes = max(1, round(seconds / 60)) if seconds > 0 else 0
    if english:
        return "no wait" if minutes == 0 else f"about {minutes} min"
    return "无需等候" if minutes == 0 else f"约 {minutes} 分钟"


def build_ticket_receipt(
    ticket: dict[str, Any], hall_name: str, hall_name_en: str, template: TicketTemplate,
    status_url: str,
) -> Receipt:
    langs = {"zh": ["zh"], "en": ["en"], "both": ["zh", "en"]}[template.language]
    big = 3 if template.paper_mm == 80 else 2
    issued = datetime.fromisoformat(ticket["issued_at"]).strftime("%Y-%m-%d %H:%M")
    receipt = Receipt()
    if "zh" in langs:
        receipt.add(TextLine(hall_name, align="center", bold=True))
    if "en" in langs:
        receipt.add(TextLine(hall_name_en, align="center", bold="zh" not in langs))
    receipt.add(Rule())
    receipt.add(TextLine(ticket["number"], align="center", bold=True, width=big, height=big))
    if "zh" in langs:
        receipt.add(TextLine(ticket["service_name"], align="center", bold=True, height=2))
    if "en" in langs:
        receipt.add(TextLine(ticket["service_name_en"], align="center"))
    receipt.add(Feed(1))
    ahead = ticket.get("people_ahead", 0)
    wait = ticket.get("estimated_wait_seconds")
    if "zh" in langs:
        receipt.add(TextLine(f"前面等候：{ahead} 人"))
        receipt.add(TextLine(f"预计等候：{wait_text(wait, False)}"))
        receipt.add(TextLine(f"取号时间：{issued}"))
        if ticket.get("priority") == "green":
            receipt.add(TextLine("绿色通道", bold=True))
    if "en" in langs:
        receipt.add(TextLine(f"People ahead: {ahead}"))
        receipt.add(TextLine(f"Estimated wait: {wait_text(wait, True)}"))
        receipt.add(TextLine(f"Issued: {issued}"))
    if template.show_qr:
        receipt.add(Feed(1))
        receipt.add(QRCode(status_url, module_size=6 if template.paper_mm == 80 else 5))
        if "zh" in langs:
            receipt.add(TextLine("扫码查看排队进度", align="center"))
        if "en" in langs:
            receipt.add(TextLine("Scan to follow your place in the queue", align="center"))
    receipt.add(Rule())
    if "zh" in langs:
        receipt.add(TextLine(template.footer, align="center"))
    if "en" in langs:
        receipt.add(TextLine(template.footer_en, align="center"))
    return receipt
