"""An emulated Onbon (仰邦) BX-5/BX-6 controller: bytes off the wire → what the screen shows.

Written from the vendor manuals (onbonlab/BX-V-VI `bx.dual.Aux.Data/5th动态区域用户手册.md`
§2-§4 and 附录1-2, onbonlab/BX-K `bx.k.cplus/doc/SdkWord/appendix.md`), not from our
encoders, so a test that round-trips through both can catch a misreading on either side.

Stream rules (§2): a frame starts at any A5 (the sender sends eight; a receiver waits for the
first byte that is not A5) and ends at 5A; escaping guarantees neither occurs inside. A frame
whose CRC fails is reported in `errors` and skipped, as a controller ignores it (no
DecodedScreen with checksum_ok=False is produced). Bytes outside frames are reported as noise.
"""

from __future__ import annotations

import struct
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import serial
from PIL import Image

from onestop.drivers.led.content import DecodedScreen, Geometry, ScreenContent
from onestop.drivers.led.onbon_payload import (
    PayloadError,
    PictureArea,
    parse_picture_command,
    parse_text_command,
)
from onestop.drivers.led.render import save_pixels_png, save_png

MAX_FRAME = 2 * 1024 * 1024  # a dynamic area holds at most 300 KB (§1.3); more is garbage


def _crc_table() -> list[int]:
    """The 256-entry table of 附录1, generated from its polynomial (reflected 0xA001)."""
    table = []
    for n in range(256):
        value = n
        for _ in range(8):
            value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
        table.append(value)
    return table


_TABLE = _crc_table()


def doc_crc(data: bytes) -> int:
    """附录1's `CRC(crc, byte) = (crc >> 8) ^ tabel[(crc ^ byte) & 0xFF]`, from crc = 0."""
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc


def strict_unescape(body: bytes) -> bytes:
    """§2.3 解帧: A6 02→A5, A6 01→A6, 5B 02→5A, 5B 01→5B; any other A6/5B pair is an error."""
    out = bytearray()
    it = iter(body)
    for byte in it:
        if byte in (0xA6, 0x5B):
            follow = next(it, None)
            if follow not in (0x01, 0x02):
                raise PayloadError(f"bad escape {byte:02X} {follow if follow is None else hex(follow)}")
            out.append(byte if follow == 0x01 else byte - 1)
        else:
            out.append(byte)
    return bytes(out)


MAX_FRAMES_KEPT = 1000


@dataclass(frozen=True)
class FrameInfo:
    """The header of one good frame, including those that carry no screen (ping, brightness)."""

    address: int
    source: int
    protocol_version: int
    device_type: int
    command: tuple[int, int]


class OnbonDecoder:
    """Incremental decoder for one serial line; keeps each graphic screen's canvas between frames
    (graphic controllers get one frame per area)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        # The last frames seen (bounded: a listener may run for days).
        self.frames: deque[FrameInfo] = deque(maxlen=MAX_FRAMES_KEPT)
        self._buf = bytearray()
        self._canvas: dict[int, Image.Image] = {}

    def feed(self, data: bytes) -> list[DecodedScreen]:
        """Screens completed by these bytes; partial frames wait for the next call."""
        self._buf += data
        screens: list[DecodedScreen] = []
        while True:
            start = self._buf.find(0xA5)
            if start < 0:
                self._noise(len(self._buf))
                break
            self._noise(start)  # the frame's first A5 is now at index 0
            body_at = 0
            while body_at < len(self._buf) and self._buf[body_at] == 0xA5:
                body_at += 1
            end = self._buf.find(0x5A, body_at)
            again = self._buf.find(0xA5, body_at)
            if again >= 0 and (end < 0 or again < end):
                self.errors.append(f"frame cut short after {again - body_at} bytes: "
                                   "a new frame started before its 5A")
                del self._buf[:again]
                continue
            if end < 0:
                if len(self._buf) > MAX_FRAME:
                    self.errors.append(f"no frame end in {len(self._buf)} bytes: dropped")
                    self._buf.clear()
                break
            body = bytes(self._buf[body_at:end])
            del self._buf[:end + 1]
            screen = self._frame(body)
            if screen is not None:
                screens.append(screen)
        return screens

    def _noise(self, count: int) -> None:
        if count:
            self.errors.append(f"skipped {count} bytes outside any frame")
            del self._buf[:count]

    def _frame(self, body: bytes) -> DecodedScreen | None:
        raw = b"\xa5" * 8 + body + b"\x5a"
        try:
            packet = strict_unescape(body)
            if len(packet) < 14 + 2:
                raise PayloadError(f"frame of {len(packet)} bytes is shorter than any packet")
            payload, (crc,) = packet[:-2], struct.unpack("<H", packet[-2:])
            if crc != doc_crc(payload):
                raise PayloadError(f"CRC mismatch: frame says {crc:04X}, "
                                   f"computed {doc_crc(payload):04X}")
            if payload[4] == 0xF0 and len(payload) >= 16:
                return self._graphic(payload, raw)
            return self._font_card(payload, raw)
        except (PayloadError, struct.error, IndexError) as exc:
            self.errors.append(f"bad frame ({len(body)} bytes): {exc}")
            return None

    def _font_card(self, payload: bytes, raw: bytes) -> DecodedScreen | None:
        dst, src, device, version, length = struct.unpack_from("<HH6xBBH", payload)
        data = payload[14:]
        if length != len(data):
            raise PayloadError(f"font-card DataLen {length}, {len(data)} bytes follow")
        self.frames.append(FrameInfo(dst, src, version, device, (data[0], data[1])))
        if data[:2] != b"\xa3\x06":
            return None
        areas = parse_text_command(data)
        content = ScreenContent(tuple(line for area in areas for line in area.lines))
        return DecodedScreen(address=dst, content=content, raw=raw)

    def _graphic(self, payload: bytes, raw: bytes) -> DecodedScreen | None:
        dst, src, version, device, length = struct.unpack_from("<HHBxH4xI", payload)
        data = payload[16:]
        if length != len(data):
            raise PayloadError(f"graphic DataLen {length}, {len(data)} bytes follow")
        self.frames.append(FrameInfo(dst, src, version, device, (data[1], data[2])))
        if data[1:3] != b"\xa7\x00":
            return None
        bitmap = self._paint(dst, parse_picture_command(data))
        return DecodedScreen(address=dst, content=None, bitmap=bitmap, raw=raw)

    def _paint(self, address: int, area: PictureArea) -> tuple[tuple[tuple[int, int, int], ...],
                                                                 ...]:
        old = self._canvas.get(address)
        width = max(area.x + area.width, old.width if old else 0)
        height = max(area.y + area.height, old.height if old else 0)
        canvas = Image.new("RGB", (width, height))
        if old is not None:
            canvas.paste(old, (0, 0))
        patch = Image.new("RGB", (area.width, area.height))
        patch.putdata([p for row in area.pixels for p in row])
        canvas.paste(patch, (area.x, area.y))
        self._canvas[address] = canvas
        raw = canvas.tobytes()
        flat = list(zip(raw[0::3], raw[1::3], raw[2::3], strict=True))
        return tuple(tuple(flat[r * width:(r + 1) * width]) for r in range(height))


def render_png(screen: DecodedScreen, geometry: Geometry, path: Path) -> Path:
    """A picture of the screen for a person: its pixels, or its text drawn at the board's size."""
    if screen.bitmap is not None:
        height, width = len(screen.bitmap), len(screen.bitmap[0]) if screen.bitmap else 0
        image = Image.new("RGB", (width, height))
        image.putdata([p for row in screen.bitmap for p in row])
        return save_pixels_png(image, path)
    return save_png(screen.content or ScreenContent(()), geometry, path)


class OnbonBusListener:
    """Emulated controllers on one serial line (pyserial URL or pty path): a reader thread
    decodes what arrives and keeps the latest screen per address, for bus tests."""

    def __init__(self, url: str, baudrate: int = 9600) -> None:
        self.url, self.baudrate = url, baudrate
        self.decoder = OnbonDecoder()
        self.screens: dict[int, DecodedScreen] = {}
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._port: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Open the port (before the sender opens its end: pyserial flushes input on open)."""
        self._port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0.05)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"onbon-listener {self.url}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self._port is not None:
            self._port.close()
            self._port = None

    def latest(self, address: int) -> DecodedScreen | None:
        with self._cond:
            return self.screens.get(address)

    def wait_for(self, address: int, predicate: Callable[[DecodedScreen], bool] | None = None,
                 timeout: float = 5.0) -> DecodedScreen | None:
        """The latest screen for `address` once it satisfies `predicate`, or None at timeout."""
        def ready() -> bool:
            screen = self.screens.get(address)
            return screen is not None and (predicate is None or predicate(screen))

        with self._cond:
            return self.screens.get(address) if self._cond.wait_for(ready, timeout) else None

    def _run(self) -> None:
        port = self._port
        while not self._stop.is_set():
            try:
                data = port.read(max(1, port.in_waiting))
            except (serial.SerialException, OSError, TypeError) as exc:
                with self._cond:
                    self.decoder.errors.append(f"serial read failed: {exc}")
                    self._cond.notify_all()
                return
            if data:
                with self._cond:
                    for screen in self.decoder.feed(data):
                        self.screens[screen.address] = screen
                    self._cond.notify_all()
