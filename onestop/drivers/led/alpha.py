"""Encoder for LED boards speaking the Alpha Sign Communications Protocol (Adaptive Micro
Systems, document 9708-8061, revision F).

A screen goes out as one TEXT file (command "A") holding every line: each line opens its own
mode field (ESC, display position, mode code) and a colour code (1CH + colour character). Lines
the sign's font cannot draw (Chinese) travel as SMALL DOTS PICTUREs the TEXT file calls; see
`alpha_dots`. Every packet carries the optional checksum so a board drops a garbled one.
Serial settings per the spec: 9600 baud, 7 data bits, even parity, 1 stop bit.
"""

from __future__ import annotations

from onestop.drivers.led.alpha_dots import (
    PICTURE_LABELS,
    TEXT_COLOUR_CODE,
    DotsPicture,
    is_sign_text,
    picture_geometry,
    render_picture,
)
from onestop.drivers.led.content import Effect, Geometry, ScreenContent

NUL, SOH, STX, ETX, EOT, ESC = b"\x00", b"\x01", b"\x02", b"\x03", b"\x04", b"\x1b"
#: Five NULs let the sign lock onto the baud rate (section 5.1).
WAKE_UP = NUL * 5
SELECT_COLOUR = b"\x1c"
CALL_DOTS_PICTURE = b"\x14"

#: Display positions (Write TEXT file mode field): fill the sign, top line, middle, bottom line.
POSITION_FILL, POSITION_TOP, POSITION_MIDDLE, POSITION_BOTTOM = b"0", b'"', b" ", b"&"
#: Mode codes: "b" hold (stands still), "a" rotate (travels right to left).
MODE_CODE = {Effect.STATIC: b"b", Effect.SCROLL: b"a"}

#: TEXT files other than "A" (the default) and "0" (priority) need a memory configuration.
DEFAULT_TEXT_LABEL = "A"
#: QQQQ of a TEXT file entry: start time FF (always), stop time 00 (ignored when start is FF).
TEXT_ALWAYS = b"FF00"
DEFAULT_GEOMETRY = Geometry()
#: The spec asks a sender to wait 100 ms after a DOTS picture's width before its rows.
DOTS_PAUSE_S = 0.1


def checksum(data: bytes) -> bytes:
    """The 16-bit sum of `data` (STX through ETX inclusive) as four upper-case hex digits."""
    return f"{sum(data) & 0xFFFF:04X}".encode("ascii")


def frame(type_code: str, address: int, command: bytes) -> bytes:
    """One standard packet: wake-up NULs, SOH, type code, address, STX, command (code and
    data), ETX, checksum, EOT."""
    body = STX + command + ETX
    return WAKE_UP + SOH + type_code.encode("ascii") + address_field(address) + body + \
        checksum(body) + EOT


def address_field(address: int) -> bytes:
    """A sign address as the two hex digits of the packet header; 0 is "00", every sign."""
    if not isinstance(address, int) or not 0 <= address <= 0xFF:
        raise ValueError(f"Alpha sign address must be 0..255 (0 = broadcast), got {address!r}")
    return f"{address:02X}".encode("ascii")


def line_positions(count: int) -> list[bytes]:
    """Display position for each of `count` lines: one line fills the sign; two or more run
    from the top line through middle lines to the bottom line."""
    if count <= 1:
        return [POSITION_FILL] * count
    return [POSITION_TOP] + [POSITION_MIDDLE] * (count - 2) + [POSITION_BOTTOM]


class AlphaEncoder:
    """Encodes a screen for one Alpha board: memory configuration when needed, pictures for
    Chinese lines, then the TEXT file that shows them."""

    name = "alpha"

    def __init__(self, geometry: Geometry = DEFAULT_GEOMETRY, type_code: str = "Z",
                 file_label: str = "A") -> None:
        if len(type_code) != 1 or not " " < type_code <= "~":
            raise ValueError(f"type code must be one printable character, got {type_code!r}")
        if len(file_label) != 1 or not " " <= file_label <= "~" or file_label == "?":
            raise ValueError(f"file label must be one printable character except '?', "
                             f"got {file_label!r}")
        self.geometry = geometry
        self.type_code = type_code
        self.file_label = file_label

    def encode(self, address: int, content: ScreenContent) -> bytes:
        """All packets for `content`, back to back."""
        return b"".join(self.encode_parts(address, content))

    def encode_parts(self, address: int, content: ScreenContent) -> list[bytes]:
        """The same bytes split where a sender should pause `DOTS_PAUSE_S` (after a picture's
        size, as the spec asks); joined, they are exactly `encode`."""
        address_field(address)
        pictures, text = self._text_file(content)
        parts = [b""]
        if pictures or self.file_label not in (DEFAULT_TEXT_LABEL, "0"):
            entries = b"".join(p.memory_entry() for p in pictures)
            if self.file_label != "0":
                size = max(256, len(text))
                entries = f"{self.file_label}AU{size:04X}".encode() + TEXT_ALWAYS + entries
            parts[-1] += frame(self.type_code, address, b"E$" + entries)
        for picture in pictures:
            packet = frame(self.type_code, address, picture.write_data())
            cut = packet.index(STX) + 7  # STX, "I", label, height (2 digits), width (2 digits)
            parts[-1] += packet[:cut]
            parts.append(packet[cut:])
        parts[-1] += frame(self.type_code, address, text)
        return parts

    def _text_file(self, content: ScreenContent) -> tuple[list[DotsPicture], bytes]:
        labels = iter(ch for ch in PICTURE_LABELS if ch != self.file_label)
        size = picture_geometry(self.geometry, len(content.lines))
        pictures: list[DotsPicture] = []
        data = b"A" + self.file_label.encode("ascii")
        for line, position in zip(content.lines, line_positions(len(content.lines)),
                                  strict=True):
            data += ESC + position + MODE_CODE[line.effect]
            data += SELECT_COLOUR + TEXT_COLOUR_CODE[line.colour].encode("ascii")
            if is_sign_text(line.text):
                data += line.text.encode("ascii")
            else:
                picture = render_picture(line, next(labels), size)
                pictures.append(picture)
                data += CALL_DOTS_PICTURE + picture.label.encode("ascii")
        return pictures, data

