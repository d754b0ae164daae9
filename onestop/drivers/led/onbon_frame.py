"""Onbon (仰邦) BX-5/BX-6 framing shared by both controller families: CRC, escapes, headers.

Source: onbonlab/BX-V-VI `bx.dual.Aux.Data/5th动态区域用户手册.md` (and the identical sections of
`6th动态区域用户手册.md`), §2 标准通讯, §2.3 字符转义, §4 包头数据格式, 附录1 CRC16:

    8 × A5 | header | data | CRC-16 (header + data, low byte first) | 5A

PHY0 escapes every PHY1 byte (header, data *and* the CRC): A5→A6 02, A6→A6 01, 5A→5B 02,
5B→5B 01; lengths and CRC are computed before escaping. The CRC is the table-driven
CRC-16 with polynomial x^16+x^15+x^2+1, reflected (0xA001), init 0: CRC-16/ARC. Checked against
the ping example in §5.5.1, whose CRC bytes are `C6 86`.

Font-card controllers (BX-5K/5MK/6K) use a 14-byte header: DstAddr(2) SrcAddr(2) Reserved(6)
DeviceType(1) ProtocolVersion(1) DataLen(2). The vendor's font-card protocol document is not in
the public repositories (onbonlab/BX-K only ships the SDK manual); this layout comes from
public integrations of those cards and agrees with a captured BX-5K frame whose CRC checks
(see tests/test_led_onbon.py). Graphic controllers (BX-5E/5Q/6E/6Q) use the documented
16-byte header: DstAddr(2) SrcAddr(2) ProtocolVer(1)=F0 Reserved(1) DeviceType(2)
Reserved(4) DataLen(4).
"""

from __future__ import annotations

import struct

FRAME_START = 0xA5
FRAME_END = 0x5A
START_RUN = bytes([FRAME_START]) * 8
#: The PC's own address (§4: "源地址PC 客户端软件默认为0x8000").
SOURCE_ADDRESS = 0x8000
#: Screen addresses are 2 bytes; 0xFFFE is the documented wildcard (the ping example in §5.5.1).
#: 0xFFFF is kept out: integrations use it as a time-broadcast address, not a screen.
MIN_ADDRESS, MAX_ADDRESS = 1, 0xFFFE
GRAPHIC_PROTOCOL_VERSION = 0xF0
FONT_CARD_PROTOCOL_VERSION = 0x02
#: Device-type wildcards: any controller of the family answers.
FONT_CARD_ANY_DEVICE = 0xFE
GRAPHIC_ANY_DEVICE = 0xFFFE

_ESCAPES = {0xA5: b"\xa6\x02", 0xA6: b"\xa6\x01", 0x5A: b"\x5b\x02", 0x5B: b"\x5b\x01"}
_UNESCAPES = {(0xA6, 0x02): 0xA5, (0xA6, 0x01): 0xA6, (0x5B, 0x02): 0x5A, (0x5B, 0x01): 0x5B}


def crc16(data: bytes) -> int:
    """CRC-16/ARC as the manuals' 附录1 defines it, so the controller accepts the packet."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def escape(data: bytes) -> bytes:
    """PHY0 escaping: no A5 or 5A may appear between the frame's start run and its end."""
    out = bytearray()
    for byte in data:
        out += _ESCAPES.get(byte, bytes((byte,)))
    return bytes(out)


def unescape(data: bytes) -> bytes:
    """Undo `escape`; a lone A6/5B not followed by 01/02 is kept as it is."""
    out = bytearray()
    i = 0
    while i < len(data):
        pair = (data[i], data[i + 1] if i + 1 < len(data) else -1)
        if pair in _UNESCAPES:
            out.append(_UNESCAPES[pair])
            i += 2
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


def check_address(address: int) -> int:
    """The screen number, or ValueError: a wrong address would silently talk to nobody."""
    if not isinstance(address, int) or not MIN_ADDRESS <= address <= MAX_ADDRESS:
        raise ValueError(f"Onbon screen address must be {MIN_ADDRESS}..0x{MAX_ADDRESS:04X} "
                         f"(0xFFFE = any screen), got {address!r}")
    return address


def frame(packet: bytes) -> bytes:
    """PHY1 packet (header + data) → PHY0 frame: CRC appended, everything escaped, delimited."""
    checked = packet + struct.pack("<H", crc16(packet))
    return START_RUN + escape(checked) + bytes((FRAME_END,))


def font_card_packet(address: int, data: bytes, device_type: int = FONT_CARD_ANY_DEVICE) -> bytes:
    """14-byte font-card header + data (DataLen is 2 bytes there)."""
    if len(data) > 0xFFFF:
        raise ValueError(f"font-card packet data too long: {len(data)} bytes (max 65535)")
    header = struct.pack("<HH6xBBH", check_address(address), SOURCE_ADDRESS, device_type,
                         FONT_CARD_PROTOCOL_VERSION, len(data))
    return header + data


def graphic_packet(address: int, data: bytes, device_type: int = GRAPHIC_ANY_DEVICE) -> bytes:
    """16-byte graphic-controller header (§4) + data."""
    header = struct.pack("<HHBxH4xI", check_address(address), SOURCE_ADDRESS,
                         GRAPHIC_PROTOCOL_VERSION, device_type, len(data))
    return header + data
