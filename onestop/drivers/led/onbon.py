"""Onbon (仰邦) BX-5/BX-6 encoders: screen content → the bytes a controller shows.

Two families (framing in onbon_frame):
- font-card controllers (BX-5K/5MK/6K) draw text from their own GB2312/GBK fonts: command
  A3 06 ("send dynamic area") with one area per line, so each line has its own colour code and
  its own display mode (a scrolling notice beside a standing call);
- graphic controllers (BX-5E/5Q) take pixels: command A7 00 ("更新动态区域信息", 5th manual
  §5.4.1) with one bitmap page per line band, rendered by onestop.drivers.led.render.

Pure byte builders: no I/O. Every fact used is cited next to it; where the public documents are
silent or disagree, the comment says so.
"""

from __future__ import annotations

import struct
from typing import Literal

from PIL import Image

from onestop.drivers.led.content import Colour, Effect, Geometry, ScreenContent, TextLine
from onestop.drivers.led.onbon_frame import (
    crc16,
    escape,
    font_card_packet,
    frame,
    graphic_packet,
    unescape,
)
from onestop.drivers.led.render import render_content

__all__ = ["ColourMode", "OnbonGraphicEncoder", "OnbonTextEncoder", "crc16", "escape", "line_bands",
           "unescape"]

# --- font-card inline codes -------------------------------------------------------------
# "\FO000": \F + language ('O' Chinese) + encoding ('0' GB2312/ASCII, '1' GBK) + font family
# ('0' 宋体) + size ('0' 16 px, '1' 24 px, '2' 32 px). "\Cn": text colour. The vendor's
# font-card protocol is not in onbonlab/BX-K; these codes are as public integrations of BX-5K
# cards use them (and "\FO000" appears in captured BX-5K frames). Colours 1-3 (red, green,
# yellow) are the ones single/dual-colour font cards have; 4-7 follow a BX-Y integration's
# table (4 blue, 5 cyan, 6 magenta, 7 white). NOTE: the graphic manuals' colour byte is a bit
# mask (bit0 R, bit1 G, bit2 B), which would make 5 magenta and 6 cyan: unverified for 5/6.
COLOUR_CODES: dict[Colour, int] = {
    Colour.RED: 1, Colour.GREEN: 2, Colour.YELLOW: 3, Colour.BLUE: 4,
    Colour.CYAN: 5, Colour.MAGENTA: 6, Colour.WHITE: 7,
}
ENCODING_CODES = {"gb2312": "0", "gbk": "1"}
#: Font-card DisplayMode (BX-K appendix "区域数据格式设置"): 0x01 static, 0x03 move left.
TEXT_STATIC, TEXT_MOVE_LEFT = 0x01, 0x03
#: Graphic DisplayMode (5th manual §5.4.1): 0x01 静止显示, 0x03 向左移动.
PIC_STATIC, PIC_MOVE_LEFT = 0x01, 0x03
SUBSTITUTE = "□"  # in GB2312 (A1F5): a visible stand-in for what the font card cannot draw

DEFAULT_GEOMETRY = Geometry()  # 128 × 32, a two-line window screen
ColourMode = Literal["mono", "dual", "rgb565"]


def line_bands(height: int, count: int) -> list[tuple[int, int]]:
    """(y, height) of each line's band: equal bands as render.py draws them, the last one
    reaching the bottom so the areas cover the whole screen."""
    count = max(count, 1)
    band = height // count
    return [(i * band, band if i < count - 1 else height - i * band) for i in range(count)]


def _lines(content: ScreenContent) -> tuple[TextLine, ...]:
    return content.lines or (TextLine(""),)


def _check_area_ids(area_id: int, count: int) -> None:
    if area_id < 0 or area_id + count - 1 > 0xFE:
        raise ValueError(f"area ids {area_id}..{area_id + count - 1} out of range 0..254")


class OnbonTextEncoder:
    """Font-card controllers (BX-5K/5MK/6K): text in GB2312/GBK, drawn by the card's fonts."""

    name = "onbon-text"

    def __init__(self, geometry: Geometry = DEFAULT_GEOMETRY, encoding: str = "gb2312",
                 area_id: int = 0) -> None:
        if encoding.lower() not in ENCODING_CODES:
            raise ValueError(f"encoding must be one of {sorted(ENCODING_CODES)}, got {encoding!r}")
        # AreaX/AreaWidth travel in units of 8 pixels (BX-K appendix; AreaY/AreaHeight are in
        # pixels in every captured frame, although the appendix says 8-pixel units for all four).
        if geometry.width % 8 or not 8 <= geometry.width <= 8 * 0xFFFF or geometry.height < 1:
            raise ValueError(f"font-card screen width must be a multiple of 8, got {geometry}")
        _check_area_ids(area_id, 1)
        self.geometry, self.encoding, self.area_id = geometry, encoding.lower(), area_id

    def encode(self, address: int, content: ScreenContent) -> bytes:
        """One A3 06 frame carrying one dynamic area per line."""
        lines = _lines(content)
        _check_area_ids(self.area_id, len(lines))
        areas = b"".join(self._area(self.area_id + i, line, y, h)
                         for i, (line, (y, h)) in enumerate(
                             zip(lines, line_bands(self.geometry.height, len(lines)),
                                 strict=True)))
        # CmdGroup A3, Cmd 06, Response 02 (no reply wanted), ProcessMode 0, Reserved 0,
        # DeleteAreaNum 0, AreaNum; then per area AreaDataLen(2) + area data.
        data = bytes((0xA3, 0x06, 0x02, 0x00, 0x00, 0x00, len(lines))) + areas
        return frame(font_card_packet(address, data))

    def _area(self, area_id: int, line: TextLine, y: int, height: int) -> bytes:
        text = self.text_bytes(line, height)
        scrolls = line.effect is Effect.SCROLL
        body = struct.pack(
            "<BHHHHBBBH3xBBBBBBI",
            0x00,                      # AreaType
            0, y, self.geometry.width // 8, height,  # AreaX, AreaY, AreaWidth, AreaHeight
            area_id,                   # DynamicAreaLoc
            0,                         # Lines_sizes (line spacing)
            0,                         # RunMode 0: cycle the area's data
            0,                         # Timeout (s), unused in mode 0
            0x01,                      # SingleLine: one line
            0x01,                      # NewLine: no automatic wrapping
            TEXT_MOVE_LEFT if scrolls else TEXT_STATIC,
            0x00,                      # ExitMode
            0x04 if scrolls else 0x00,  # Speed: 0x00 fastest .. 0x18 slowest
            10,                        # StayTime in 0.5 s
            len(text),
        ) + text
        return struct.pack("<H", len(body)) + body

    def text_bytes(self, line: TextLine, height: int) -> bytes:
        """Inline font and colour codes, then the text; never raises on odd characters."""
        size = "2" if height >= 32 else "1" if height >= 24 else "0"
        codes = f"\\FO{ENCODING_CODES[self.encoding]}0{size}\\C{COLOUR_CODES[line.colour]}"
        out = bytearray(codes.encode("ascii"))
        for char in line.text:
            if char == "\\":
                char = "＼"  # a backslash would start an inline code on the card
            elif char < " ":
                char = " "
            try:
                out += char.encode(self.encoding)
            except UnicodeEncodeError:
                out += SUBSTITUTE.encode(self.encoding)
        return bytes(out)


class OnbonGraphicEncoder:
    """Graphic controllers (BX-5E single/dual colour, BX-5Q full colour): bitmaps per line."""

    name = "onbon-graphic"

    def __init__(self, geometry: Geometry = DEFAULT_GEOMETRY, area_id: int = 0,
                 colour_mode: ColourMode = "rgb565") -> None:
        if colour_mode not in ("mono", "dual", "rgb565"):
            raise ValueError(f"colour_mode must be mono, dual or rgb565, got {colour_mode!r}")
        if not 1 <= geometry.width <= 0xFFFF or not 1 <= geometry.height <= 0xFFFF:
            raise ValueError(f"bad screen size {geometry}")
        _check_area_ids(area_id, 1)
        self.geometry, self.area_id, self.colour_mode = geometry, area_id, colour_mode

    def encode(self, address: int, content: ScreenContent) -> bytes:
        """One A7 00 frame per line band (the 5th protocol updates one area per command)."""
        lines = _lines(content)
        _check_area_ids(self.area_id, len(lines))
        image = render_content(content, self.geometry)
        frames = []
        bands = line_bands(self.geometry.height, len(lines))
        for i, (line, (y, h)) in enumerate(zip(lines, bands, strict=True)):
            band = image.crop((0, y, self.geometry.width, y + h))
            mode = PIC_MOVE_LEFT if line.effect is Effect.SCROLL else PIC_STATIC
            data = self._command(self.area_id + i, y, h, mode, pack_pixels(band, self.colour_mode))
            frames.append(frame(graphic_packet(address, data)))
        return b"".join(frames)

    def _command(self, area_id: int, y: int, height: int, mode: int, pixels: bytes) -> bytes:
        width = self.geometry.width
        page = struct.pack(
            "<BBBBHBH4x",
            0x00,        # PageStyle
            mode,        # DisplayMode
            0x00,        # ClearMode
            0x04,        # Speed
            500,         # StayTime in 10 ms
            1,           # RepeatTime
            width,       # ValidLen: only used by left/right moves, defaults to the area width
        ) + pixels
        # PageDataLen: the manual says only "每页的数据长度"; we count the page from PageStyle
        # to the end of its pixels (the emulator also accepts a count of the pixels alone).
        area = struct.pack(
            "<BBHBH"     # AreaId, RunMode 0 (cycle), Timeout, RelateAllPro 0, RelateProNum 0
            "B4x"        # ImmePlay 1: show only this dynamic area (a window screen has no programs)
            "BHHHH"      # AreaType 0x10, AreaX, AreaY, AreaWidth, AreaHeight (pixels)
            "B"          # AreaFFlag 0: no border, so no border fields follow
            "H",         # PageNum
            area_id, 0, 0, 0, 0, 1, 0x10, 0, y, width, height, 0x00, 1,
        ) + struct.pack("<I", len(page)) + page
        # RtnReq 01, CmdGroup A7, Cmd 00, Reserved(2), AreaDataLen(4) = everything after it.
        return struct.pack("<BBB2xI", 0x01, 0xA7, 0x00, len(area)) + area


def pack_pixels(image: Image.Image, colour_mode: ColourMode) -> bytes:
    """Pixels as the 5th manual's 附录2 encodes them (area assumed to start at x = 0).

    BX-5E: rows top to bottom, 8 pixels a byte, leftmost in bit 7, 0 = lit, 1 = dark; a dual-colour
    board sends each red byte followed by the green byte of the same 8 pixels (the manual's "first
    green pixel → second byte"); the row's last byte is padded with 1s. BX-5Q: RGB565 per pixel,
    left to right, top to bottom, 2 bytes low byte first (the manual's general byte order; its
    RGB565 figure is an image we could not read)."""
    rgb = image.convert("RGB")
    width, height = rgb.size
    raw = rgb.tobytes()
    data = list(zip(raw[0::3], raw[1::3], raw[2::3], strict=True))
    out = bytearray()
    if colour_mode == "rgb565":
        for r, g, b in data:
            out += struct.pack("<H", (r >> 3) << 11 | (g >> 2) << 5 | b >> 3)
        return bytes(out)
    for y in range(height):
        row = data[y * width:(y + 1) * width]
        for x0 in range(0, width, 8):
            chunk = row[x0:x0 + 8]
            out.append(_plane_byte([p[0] >= 128 for p in chunk]))
            if colour_mode == "dual":
                out.append(_plane_byte([p[1] >= 128 for p in chunk]))
    return bytes(out)


def _plane_byte(lit: list[bool]) -> int:
    value = 0xFF
    for i, on in enumerate(lit):
        if on:
            value &= ~(0x80 >> i)
    return value & 0xFF
