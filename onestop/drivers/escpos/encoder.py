"""Receipt → ESC/POS bytes, with Chinese that prints on Chinese printers.

Commands (initialise, alignment, emphasis, character size, native QR, cut) come from
python-escpos. Text does not go through python-escpos's code-page encoder: for CJK it only emits
GB18030 for U+4E00–U+9FA5, turns full-width punctuation into "?", and never switches the printer
into Chinese mode (python-escpos issues #269, #491). Instead each line is sent inside FS & … FS .
(Chinese mode on/off) as GB18030 (or GBK) bytes, which printers sold in China expect.
"""

from __future__ import annotations

import unicodedata

from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy

from onestop.drivers.escpos.receipt import Feed, QRCode, Receipt, Rule, TextLine, columns

FS_CHINESE_ON = b"\x1c\x26"
FS_CHINESE_OFF = b"\x1c\x2e"
LF = b"\n"


def display_width(text: str) -> int:
    """Cells a string occupies: CJK and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def wrap(text: str, cells: int) -> list[str]:
    """Split a line so that no piece is wider than `cells`, never inside a character."""
    if cells <= 0:
        return [text]
    lines, current, used = [], "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > cells and current:
            lines.append(current)
            current, used = "", 0
        current += ch
        used += w
    lines.append(current)
    return lines


def encode_text(text: str, encoding: str = "gb18030") -> bytes:
    """One line of text for a Chinese-capable printer; characters the code cannot hold become ?."""
    body = text.encode(encoding, errors="replace")
    if body.isascii():
        return body
    return FS_CHINESE_ON + body + FS_CHINESE_OFF


def encode_receipt(receipt: Receipt, paper_mm: int = 80, encoding: str = "gb18030") -> bytes:
    printer = Dummy()
    printer.hw("INIT")
    for element in receipt.elements:
        if isinstance(element, TextLine):
            width = max(1, min(8, element.width))
            height = max(1, min(8, element.height))
            printer.set(align=element.align, bold=element.bold, width=width, height=height,
                        custom_size=True)
            for piece in wrap(element.text, columns(paper_mm, width)):
                printer._raw(encode_text(piece, encoding) + LF)
        elif isinstance(element, Rule):
            printer.set(align="left", bold=False, normal_textsize=True)
            printer._raw(element.char[:1].encode("ascii", "replace") * columns(paper_mm) + LF)
        elif isinstance(element, QRCode):
            printer.set(align=element.align, normal_textsize=True, bold=False)
            # native=True: the printer draws the code from GS ( k (≈150 bytes, not a raster).
            printer.qr(element.payload, ec=QR_ECLEVEL_M, size=element.module_size, native=True)
        elif isinstance(element, Feed):
            printer._raw(LF * max(0, min(element.lines, 20)))
    printer.set(align="left", bold=False, normal_textsize=True)
    if receipt.cut:
        printer.cut()
    output: bytes = printer.output
    return output
