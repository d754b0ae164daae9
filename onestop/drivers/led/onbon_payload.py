"""What an Onbon controller would make of a packet's data: text areas (A3 06) and bitmaps (A7 00).

Written from the vendor documents for the emulator, independently of onbon.py's encoders:
- A3 06 (font cards): Response, ProcessMode, Reserved, DeleteAreaNum, AreaNum, then per area
  AreaDataLen(2) and the area fields of onbonlab/BX-K `bx.k.cplus/doc/SdkWord/appendix.md`
  ("区域数据格式设置"), text with inline codes (\\F…, \\C…);
- A7 00 (graphic, 5th manual `bx.dual.Aux.Data/5th动态区域用户手册.md` §5.4.1 and 附录2).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from onestop.drivers.led.content import Colour, Effect, TextLine

Pixel = tuple[int, int, int]

#: "\Cn" colour codes as font-card integrations use them (see onbon.py for the caveat on 4-7).
CODE_COLOURS = {"1": Colour.RED, "2": Colour.GREEN, "3": Colour.YELLOW, "4": Colour.BLUE,
                "5": Colour.CYAN, "6": Colour.MAGENTA, "7": Colour.WHITE}
#: Inline codes and how many characters follow the code letter.
CODE_ARGS = {"F": 4, "C": 1, "B": 1}
#: Font-card display modes that move sideways (appendix: 0x03 left, 0x04 right).
TEXT_SCROLL_MODES = {0x03, 0x04}
AREA_FIXED = struct.Struct("<BHHHHBBBH3xBBBBBBI")  # 27 bytes, up to and including DataLen


class PayloadError(ValueError):
    """The packet's data is not what the documents describe."""


@dataclass(frozen=True)
class TextArea:
    area_id: int
    y: int
    lines: tuple[TextLine, ...]


@dataclass(frozen=True)
class PictureArea:
    area_id: int
    x: int
    y: int
    width: int
    height: int
    display_mode: int
    pixels: tuple[tuple[Pixel, ...], ...]


def parse_text_command(data: bytes) -> list[TextArea]:
    """A3 06 data → its areas, in the order the card would stack them (by AreaY)."""
    if len(data) < 7 or data[0] != 0xA3 or data[1] != 0x06:
        raise PayloadError(f"not a font-card dynamic-area command: {data[:2].hex(' ')}")
    delete_count = data[5]
    # DeleteAreaNum > 0 is assumed to be followed by that many area ids (undocumented here).
    pos = 6 + (delete_count if delete_count not in (0, 0xFF) else 0)
    if pos >= len(data):
        raise PayloadError("A3 06 command ends before AreaNum")
    count, pos = data[pos], pos + 1
    areas = []
    for _ in range(count):
        if pos + 2 > len(data):
            raise PayloadError("A3 06 command ends inside an area")
        (length,), pos = struct.unpack_from("<H", data, pos), pos + 2
        body, pos = data[pos:pos + length], pos + length
        if len(body) != length or length < AREA_FIXED.size:
            raise PayloadError(f"area of {len(body)} bytes, expected {length} (min 27)")
        areas.append(_text_area(body))
    return sorted(areas, key=lambda a: (a.y, a.area_id))


def _text_area(body: bytes) -> TextArea:
    (_type, _x, y, _w, _h, area_id, _spacing, _run, _timeout, _single, _newline, mode,
     _exit, _speed, _stay, text_len) = AREA_FIXED.unpack_from(body)
    text = body[AREA_FIXED.size:AREA_FIXED.size + text_len]
    if len(text) != text_len:
        raise PayloadError(f"area text of {len(text)} bytes, DataLen says {text_len}")
    effect = Effect.SCROLL if mode in TEXT_SCROLL_MODES else Effect.STATIC
    return TextArea(area_id, y, tuple(TextLine(t, c, effect) for c, t in decode_text(text)))


def decode_text(raw: bytes) -> list[tuple[Colour, str]]:
    """GB2312/GBK text with inline codes → (colour, text) per line; codes stripped.

    Walks characters, not bytes: a GBK trail byte may be 0x5C, which is not a backslash there.
    The \\F code's encoding digit picks the codec ('0' GB2312, '1' GBK): Python's two codecs map
    a few symbols differently (A1AA is U+2015 in GB2312, U+2014 in GBK)."""
    lines: list[tuple[Colour, str]] = []
    colour, first_colour, chars = Colour.RED, None, []  # red: the cards' default colour
    codec = "gbk"
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte >= 0x81 and i + 1 < len(raw):
            chars.append(_double(raw[i:i + 2], codec))
            first_colour = first_colour or colour
            i += 2
            continue
        char = chr(byte)
        code = chr(raw[i + 1]) if byte == 0x5C and i + 1 < len(raw) else ""
        if code in CODE_ARGS and i + 2 + CODE_ARGS[code] <= len(raw):
            if code == "C":
                colour = CODE_COLOURS.get(chr(raw[i + 2]), colour)
            elif code == "F":
                codec = "gb2312" if raw[i + 3:i + 4] == b"0" else "gbk"
            i += 2 + CODE_ARGS[code]
            continue
        if char in "\r\n":
            lines.append((first_colour or colour, "".join(chars)))
            first_colour, chars = None, []
            i += 2 if raw[i:i + 2] == b"\r\n" else 1
            continue
        chars.append(char if byte < 0x80 else "\ufffd")
        first_colour = first_colour or colour
        i += 1
    lines.append((first_colour or colour, "".join(chars)))
    return lines


def _double(pair: bytes, codec: str) -> str:
    try:
        return pair.decode(codec)
    except UnicodeDecodeError:
        return pair.decode("gbk", errors="replace")


def parse_picture_command(data: bytes) -> PictureArea:
    """A7 00 data (5th generation) → the area and the pixels of its first page."""
    if len(data) < 9 or data[1] != 0xA7 or data[2] != 0x00:
        raise PayloadError(f"not a graphic dynamic-area update: {data[:3].hex(' ')}")
    (area_len,) = struct.unpack_from("<I", data, 5)
    area = data[9:]
    if len(area) != area_len:
        raise PayloadError(f"AreaDataLen says {area_len}, {len(area)} bytes follow")
    area_id = area[0]
    (relate_count,) = struct.unpack_from("<H", area, 5)
    pos = 7 + 2 * relate_count + 1 + 4  # relate serials, ImmePlay, Reserved(4)
    _type, x, y, width, height, border = struct.unpack_from("<BHHHHB", area, pos)
    pos += 10
    if border:
        pos += 6 + area[pos + 3]  # DispStyle, Speed, MoveStep, Width, Backup(2), UnitData(Width)
    (pages,), pos = struct.unpack_from("<H", area, pos), pos + 2
    if pages < 1:
        raise PayloadError("PageNum is 0")
    (page_len,), pos = struct.unpack_from("<I", area, pos), pos + 4
    mode = area[pos + 1]
    pixels = area[pos + 13:]
    # PageDataLen counts either the whole page record or only its pixel bytes.
    pixels = pixels[:page_len - 13] if page_len - 13 in _sizes(x, width, height) else \
        pixels[:page_len]
    return PictureArea(area_id, x, y, width, height, mode, unpack_pixels(pixels, x, width, height))


def _sizes(x: int, width: int, height: int) -> dict[int, str]:
    row_bytes = (x + width + 7) // 8 - x // 8
    return {row_bytes * height: "mono", 2 * row_bytes * height: "dual",
            2 * width * height: "rgb565"}


def unpack_pixels(raw: bytes, x: int, width: int, height: int) -> tuple[tuple[Pixel, ...], ...]:
    """附录2: BX-5E bit planes (0 = lit, red byte then green byte) or BX-5Q RGB565."""
    kind = _sizes(x, width, height).get(len(raw))
    if kind is None:
        raise PayloadError(f"{len(raw)} pixel bytes fit no colour mode for {width}×{height}")
    if kind == "rgb565":
        values = struct.unpack(f"<{width * height}H", raw)
        flat = [((v >> 11) * 255 // 31, ((v >> 5) & 63) * 255 // 63, (v & 31) * 255 // 31)
                for v in values]
        return tuple(tuple(flat[r * width:(r + 1) * width]) for r in range(height))
    planes = 2 if kind == "dual" else 1
    row_bytes = (x + width + 7) // 8 - x // 8
    rows = []
    for r in range(height):
        row = raw[r * row_bytes * planes:(r + 1) * row_bytes * planes]
        red = _bits(row[0::planes], x % 8, width)
        green = _bits(row[1::planes], x % 8, width) if planes == 2 else [False] * width
        rows.append(tuple((255 if rd else 0, 255 if gr else 0, 0)
                          for rd, gr in zip(red, green, strict=True)))
    return tuple(rows)


def _bits(plane: bytes, skip: int, width: int) -> list[bool]:
    """Lit flags of one row's plane, bit 7 first, skipping the left padding bits."""
    bits = [not (byte >> (7 - b)) & 1 for byte in plane for b in range(8)]
    return bits[skip:skip + width]
