"""Encoder for onestop's own line protocol for cheap addressed text screens on RS-485.

The protocol is specified in docs/led-line-protocol.md so a hall can buy or configure a
compatible screen; this module follows that document and nothing else. Frames are pure bytes:
`LedBus` moves them, `linescreen_emulator` decodes them back for tests.
"""

from __future__ import annotations

from onestop.drivers.led.content import Colour, Effect, Geometry, ScreenContent

START = b"\xaa\x55"
END = b"\x0d"
CMD_SHOW = 0x01
CMD_CLEAR = 0x02
BROADCAST = 0
MAX_ADDRESS = 254
MAX_LINES = 8
MAX_LINE_BYTES = 255
MAX_PAYLOAD = 1024
#: Drawn in place of a character the screen's font cannot have (U+25A1, GB2312 A1 F5).
REPLACEMENT = "□"
DEFAULT_GEOMETRY = Geometry()  # frozen, so one shared default is safe

COLOUR_CODES: dict[Colour, int] = {  # bit 0 red, bit 1 green, bit 2 blue
    Colour.RED: 0x01, Colour.GREEN: 0x02, Colour.YELLOW: 0x03, Colour.BLUE: 0x04,
    Colour.MAGENTA: 0x05, Colour.CYAN: 0x06, Colour.WHITE: 0x07,
}
EFFECT_CODES: dict[Effect, int] = {Effect.STATIC: 0x00, Effect.SCROLL: 0x01}


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS (reflected poly 0xA001, init 0xFFFF): what RS-485 firmware already has."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def check_address(address: int) -> int:
    """The address itself, or a ValueError saying what a valid one is."""
    if isinstance(address, bool) or not isinstance(address, int) or not (
            0 <= address <= MAX_ADDRESS):
        raise ValueError(f"LED line-screen address must be an integer 1..{MAX_ADDRESS} "
                         f"(0 = broadcast to every screen), got {address!r}")
    return address


class LineScreenEncoder:
    """ScreenContent → one line-protocol frame for one addressed screen."""

    name = "line"

    def __init__(self, geometry: Geometry = DEFAULT_GEOMETRY, encoding: str = "gbk") -> None:
        self.geometry = geometry
        self.encoding = encoding
        try:  # an unknown codec fails here, at configuration time
            self._replacement = REPLACEMENT.encode(encoding)
        except UnicodeEncodeError:
            self._replacement = b"?"

    def encode(self, address: int, content: ScreenContent) -> bytes:
        """The complete frame (start marker to end marker); no lines means CLEAR."""
        check_address(address)
        if len(content.lines) > MAX_LINES:
            raise ValueError(f"a line-protocol frame carries at most {MAX_LINES} lines, "
                             f"got {len(content.lines)}")
        if not content.lines:
            return self._frame(address, CMD_CLEAR, b"")
        payload = bytearray([len(content.lines)])
        for line in content.lines:
            text = self.text_bytes(line.text)
            payload += bytes([COLOUR_CODES[line.colour], EFFECT_CODES[line.effect], len(text)])
            payload += text
        if len(payload) > MAX_PAYLOAD:
            raise ValueError(f"content needs {len(payload)} payload bytes; a line-protocol "
                             f"frame carries at most {MAX_PAYLOAD}")
        return self._frame(address, CMD_SHOW, bytes(payload))

    def text_bytes(self, text: str) -> bytes:
        """Text in the screen's encoding: unencodable or control characters become □, and the
        line is cut at a character boundary to fit its 255-byte length field."""
        out = bytearray()
        for char in text:
            try:
                encoded = char.encode(self.encoding) if char >= " " else b""
            except UnicodeEncodeError:
                encoded = b""
            if not encoded or char == "\x7f":
                encoded = self._replacement
            if len(out) + len(encoded) > MAX_LINE_BYTES:
                break
            out += encoded
        return bytes(out)

    @staticmethod
    def _frame(address: int, command: int, payload: bytes) -> bytes:
        body = bytes([address, command]) + len(payload).to_bytes(2, "little") + payload
        return START + body + crc16_modbus(body).to_bytes(2, "little") + END
