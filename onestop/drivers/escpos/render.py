"""Draw a decoded ticket as a PNG, so a person can check the layout and the Chinese by eye.

The picture follows the printer's geometry (8 dots/mm, 12 x 24 dot Latin cells, 24 x 24 dot
Chinese cells, size multipliers as dot doubling) rather than trying to look typeset.
"""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from onestop.drivers import fonts
from onestop.drivers.escpos.emulator import (
    PAPER_DOTS,
    Block,
    PrintedLine,
    PrintedQr,
    PrintedTicket,
)
from onestop.drivers.fonts import Font

log = logging.getLogger(__name__)

CELL = 24  # font A / Chinese cell height in dots; Latin cells are half as wide
LINE_GAP = 6  # the default line spacing is about 30 dots
MARGIN = 16


QR_EC = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
         "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}


def render_ticket_png(ticket: PrintedTicket, path: Path, paper_mm: int = 80) -> None:
    """Write the ticket as a PNG as wide as the paper's printable dots (384 or 576)."""
    if paper_mm not in PAPER_DOTS:
        raise ValueError(f"paper_mm must be one of {sorted(PAPER_DOTS)}, not {paper_mm}")
    width = PAPER_DOTS[paper_mm]
    blocks: list[Block] = list(ticket.blocks) or [
        *ticket.lines, *(PrintedQr(payload, align="center") for payload in ticket.qr_codes)]
    pieces = [_render_line(b, width) if isinstance(b, PrintedLine) else _render_qr(b, width)
              for b in blocks]
    height = MARGIN + sum(p.height for p in pieces) + MARGIN + (CELL if ticket.cut else 0)
    image = Image.new("L", (width, height), 255)
    y = MARGIN
    for piece in pieces:
        image.paste(piece, (0, y))
        y += piece.height
    if ticket.cut:
        y += MARGIN + CELL // 2
        draw = ImageDraw.Draw(image)
        for x in range(0, width, 16):
            draw.line([(x, y), (x + 8, y)], fill=0, width=2)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG")


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _render_line(line: PrintedLine, width: int) -> Image.Image:
    """Draw at 1x in printer cells, then scale by the multipliers as a printer doubles dots."""
    wmul, hmul = max(1, min(8, line.width)), max(1, min(8, line.height))
    rows: list[list[tuple[str, int]]] = [[]]
    used = 0
    for char in line.text:
        cell = CELL if _wide(char) else CELL // 2
        if used + cell * wmul > width and rows[-1]:  # the printer wraps a too-long line
            rows.append([])
            used = 0
        rows[-1].append((char, cell))
        used += cell * wmul
    row_height = CELL * hmul + LINE_GAP
    image = Image.new("L", (width, row_height * len(rows)), 255)
    font = cjk_font(CELL)
    for index, row in enumerate(rows):
        base_width = sum(cell for _, cell in row)
        if not base_width:
            continue
        strip = Image.new("L", (base_width, CELL), 255)
        draw = ImageDraw.Draw(strip)
        x = 0
        for char, cell in row:
            if not char.isspace():
                _draw_char(draw, (x + cell / 2, CELL / 2), char, font, line.bold)
            x += cell
        if line.underline:
            draw.line([(0, CELL - 1), (base_width, CELL - 1)], fill=0, width=1)
        strip = strip.resize((base_width * wmul, CELL * hmul), Image.Resampling.NEAREST)
        image.paste(strip, (_x_for(line.align, strip.width, width), index * row_height))
    return image


def _draw_char(draw: ImageDraw.ImageDraw, centre: tuple[float, float], char: str, font: Font,
               bold: bool) -> None:
    stroke = 1 if bold else 0
    if isinstance(font, ImageFont.FreeTypeFont):
        draw.text(centre, char, font=font, fill=0, anchor="mm", stroke_width=stroke,
                  stroke_fill=0)
    else:  # Pillow's bitmap fallback font knows no anchors
        draw.text((centre[0] - CELL / 4, 0), char, font=font, fill=0)


def _x_for(align: str, item_width: int, width: int) -> int:
    if align == "center":
        return max(0, (width - item_width) // 2)
    if align == "right":
        return max(0, width - item_width)
    return 0


def _render_qr(code: PrintedQr, width: int) -> Image.Image:
    """Draw the QR from its payload with the module size the driver asked for."""
    qr = qrcode.QRCode(error_correction=QR_EC.get(code.error_correction, QR_EC["L"]),
                       box_size=1, border=0)
    qr.add_data(code.payload.encode("utf-8"))
    qr.make(fit=True)
    matrix: list[list[bool]] = qr.get_matrix()
    modules = len(matrix)
    small = Image.new("L", (modules, modules), 255)
    small.putdata([0 if dark else 255 for row in matrix for dark in row])
    module = max(1, min(code.module_size, width // modules))
    symbol = small.resize((modules * module, modules * module), Image.Resampling.NEAREST)
    image = Image.new("L", (width, symbol.height + LINE_GAP), 255)
    image.paste(symbol, (_x_for(code.align, symbol.width, width), 0))
    return image


def cjk_font(size: int = CELL) -> Font:
    """The first installed font that can draw Chinese; Pillow's default (with a warning) if none."""
    return fonts.cjk_font(size)
