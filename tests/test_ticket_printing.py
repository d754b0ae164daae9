"""The printed ticket: our layout and encoder, decoded back by the independent emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from onestop.drivers.escpos.emulator import EscPosDecoder
from onestop.drivers.escpos.encoder import encode_receipt, encode_text, wrap
from onestop.kiosk.ticket_layout import build_ticket_receipt
from onestop.queue.catalogue import TicketTemplate

STATUS_URL = "http://192.0.2.10:8000/t/Zk3xQ9pL2mNa7bC1"


def ticket(**overrides: Any) -> dict[str, Any]:
    base = {
        "id": 7, "number": "B012", "service_name": "老年人优待证办理",
        "service_name_en": "Senior citizen preferential card", "people_ahead": 3,
        "estimated_wait_seconds": 720, "issued_at": "2026-11-25T09:31:02+08:00",
        "priority": "normal",
    }
    return {**base, **overrides}


def decode(data: bytes) -> Any:
    printed = EscPosDecoder().feed(data)
    assert len(printed) == 1, "exactly one ticket, ended by a cut"
    return printed[0]


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_ticket_decodes_to_what_the_resident_needs(paper_mm: int) -> None:
    template = TicketTemplate(paper_mm=paper_mm)  # type: ignore[arg-type]
    receipt = build_ticket_receipt(ticket(), "青枫街道政务服务中心", "Qingfeng Centre", template,
                                   STATUS_URL)
    data = encode_receipt(receipt, paper_mm)
    printed = decode(data)
    texts = [line.text.strip() for line in printed.lines]
    assert "青枫街道政务服务中心" in texts
    number = next(line for line in printed.lines if line.text.strip() == "B012")
    assert number.width >= 2 and number.height >= 2 and number.bold
    assert number.align == "center"
    assert "老年人优待证办理" in texts  # GB18030 decoded back to the same string
    assert "前面等候：3 人" in texts  # full-width colon survives (python-escpos would print ?)
    assert "预计等候：约 12 分钟" in texts
    assert "取号时间：2026-11-25 09:31" in texts
    assert printed.qr_codes == [STATUS_URL]
    assert printed.cut
    assert not printed.warnings
    assert b"\x1c\x26" in data and b"\x1c\x2e" in data  # Chinese mode on and off (FS & / FS .)
    assert "老年人优待证办理".encode("gb18030") in data
    assert len(data) < 1200, "a native QR ticket stays small (matters at 9600 baud)"
    for line in printed.lines:
        cells = sum(2 if ord(c) > 0x2E7F else 1 for c in line.text) * line.width
        assert cells <= {58: 32, 80: 48}[paper_mm], f"line too wide for {paper_mm} mm: {line}"


def test_english_and_bilingual_templates() -> None:
    english = build_ticket_receipt(ticket(), "中心", "Qingfeng Centre",
                                   TicketTemplate(language="en"), STATUS_URL)
    texts = [line.text for line in decode(encode_receipt(english)).lines]
    assert "People ahead: 3" in texts and "Senior citizen preferential card" in texts
    assert not any("前面" in t for t in texts)
    both = build_ticket_receipt(ticket(priority="green"), "中心", "Centre",
                                TicketTemplate(language="both", show_qr=False), STATUS_URL)
    printed = decode(encode_receipt(both))
    texts = [line.text for line in printed.lines]
    assert "前面等候：3 人" in texts and "People ahead: 3" in texts and "绿色通道" in texts
    assert printed.qr_codes == []


def test_long_text_wraps_on_character_boundaries() -> None:
    assert wrap("一二三四五六", 5) == ["一二", "三四", "五六"]
    assert wrap("abc一", 4) == ["abc", "一"]
    assert encode_text("A012") == b"A012"
    assert encode_text("请到3号窗口") == b"\x1c\x26" + "请到3号窗口".encode("gb18030") + b"\x1c\x2e"


def test_sample_ticket_png_for_a_person(tmp_path: Path) -> None:
    from onestop.drivers.escpos.render import render_ticket_png

    receipt = build_ticket_receipt(ticket(), "青枫街道政务服务中心", "Qingfeng Centre",
                                   TicketTemplate(), STATUS_URL)
    out = Path(__file__).resolve().parent.parent / "test-artifacts" / "ticket-80mm.png"
    out.parent.mkdir(exist_ok=True)
    render_ticket_png(decode(encode_receipt(receipt)), out, 80)
    assert out.stat().st_size > 1000
