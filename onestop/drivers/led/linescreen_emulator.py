"""A virtual line-protocol screen: decodes frames as docs/led-line-protocol.md says a screen must.

Written from the protocol document, not from the encoder (it imports nothing of it), so a test
that round-trips through both catches a mistake in either. `SerialScreenEmulator` listens on a
pyserial URL or pty path, like a row of window screens on the RS-485 line, and survives the
port vanishing and coming back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from onestop.drivers.led.content import (
    Colour,
    DecodedScreen,
    Effect,
    Geometry,
    LedDecoder,
    ScreenContent,
    TextLine,
)
from onestop.drivers.led.render import save_png

log = logging.getLogger(__name__)

# Constants as the document's tables give them.
_START = b"\xaa\x55"
_END = 0x0D
_HEADER = 6  # START, ADDRESS, COMMAND, LENGTH
_TRAILER = 3  # CRC, END
_MAX_LENGTH = 1024
_COLOURS = {1: Colour.RED, 2: Colour.GREEN, 3: Colour.YELLOW, 4: Colour.BLUE,
            5: Colour.MAGENTA, 6: Colour.CYAN, 7: Colour.WHITE}
_EFFECTS = {0: Effect.STATIC, 1: Effect.SCROLL}


def _crc(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


class LineScreenDecoder:
    """Bytes in any chunking → good frames out; noise skipped, bad frames listed in `errors`."""

    def __init__(self, encoding: str = "gbk") -> None:
        self.encoding = encoding
        self.errors: list[str] = []
        self._buf = bytearray()
        self._noise = 0

    def feed(self, data: bytes) -> list[DecodedScreen]:
        """Every frame completed by these bytes, in order."""
        self._buf += data
        out: list[DecodedScreen] = []
        while True:
            start = self._buf.find(_START)
            if start < 0:
                keep = 1 if self._buf.endswith(_START[:1]) else 0
                self._noise += len(self._buf) - keep
                del self._buf[:len(self._buf) - keep]
                return out
            if start:
                self._noise += start
                del self._buf[:start]
            if len(self._buf) < _HEADER:
                return out
            length = int.from_bytes(self._buf[4:6], "little")
            if length > _MAX_LENGTH:
                self._false_start(f"length {length} > {_MAX_LENGTH}")
                continue
            total = _HEADER + length + _TRAILER
            if len(self._buf) < total:
                return out
            frame = bytes(self._buf[:total])
            body = frame[2:_HEADER + length]
            crc = int.from_bytes(frame[_HEADER + length:_HEADER + length + 2], "little")
            if crc != _crc(body):
                self._false_start(f"CRC {crc:04X} != {_crc(body):04X} (address {frame[2]})")
                continue
            if frame[-1] != _END:
                self._false_start(f"END byte {frame[-1]:02X} != 0D")
                continue
            del self._buf[:total]
            self._report_noise()
            screen = self._interpret(frame)
            if screen is not None:
                out.append(screen)

    def _false_start(self, why: str) -> None:
        self._report_noise()
        self.errors.append(f"not a frame at AA 55 ({why}): skipped 1 byte and resynchronised")
        del self._buf[:1]

    def _report_noise(self) -> None:
        if self._noise > 0:
            self.errors.append(f"skipped {self._noise} byte(s) of noise between frames")
        self._noise = 0

    def _interpret(self, frame: bytes) -> DecodedScreen | None:
        address, command, payload = frame[2], frame[3], frame[_HEADER:-_TRAILER]
        if address == 0xFF:
            self.errors.append("frame for reserved address 255 ignored")
            return None
        if command == 0x02:
            if payload:
                self.errors.append(f"CLEAR with {len(payload)} payload bytes ignored")
                return None
            return DecodedScreen(address, ScreenContent(()), raw=frame)
        if command != 0x01:
            self.errors.append(f"unknown command {command:02X} ignored (address {address})")
            return None
        try:
            lines = self._lines(payload)
        except ValueError as exc:
            self.errors.append(f"SHOW TEXT for address {address} ignored: {exc}")
            return None
        return DecodedScreen(address, ScreenContent(lines), raw=frame)

    def _lines(self, payload: bytes) -> tuple[TextLine, ...]:
        if not payload or not 1 <= payload[0] <= 8:
            raise ValueError(f"LINES {payload[:1].hex() or 'missing'} not in 1..8")
        lines: list[TextLine] = []
        pos = 1
        for n in range(payload[0]):
            if pos + 3 > len(payload):
                raise ValueError(f"line {n + 1} record cut short")
            colour, effect, size = payload[pos], payload[pos + 1], payload[pos + 2]
            text = payload[pos + 3:pos + 3 + size]
            if len(text) != size:
                raise ValueError(f"line {n + 1} text cut short")
            if colour not in _COLOURS or effect not in _EFFECTS:
                raise ValueError(f"line {n + 1} colour {colour:02X} / effect {effect:02X}")
            try:
                decoded = text.decode(self.encoding)
            except UnicodeDecodeError as exc:
                raise ValueError(f"line {n + 1} text is not {self.encoding}: {exc}") from exc
            lines.append(TextLine(decoded, _COLOURS[colour], _EFFECTS[effect]))
            pos += 3 + size
        if pos != len(payload):
            raise ValueError(f"{len(payload) - pos} stray byte(s) after the last line")
        return tuple(lines)


def render_png(screen: DecodedScreen, geometry: Geometry, path: Path) -> Path:
    """What the screen would look like, enlarged, for a person to check."""
    return save_png(screen.content or ScreenContent(()), geometry, path)


class SerialScreenEmulator:
    """Every screen on one serial line: the latest good frame per address, from a reader thread.

    When the port vanishes (adapter unplugged, socat killed) it keeps trying to reopen the same
    URL or path, with a fresh decoder, like screens that wait for the line to come back.
    """

    def __init__(self, url_or_path: str, baudrate: int = 9600,
                 decoder_factory: Callable[[], LedDecoder] = LineScreenDecoder) -> None:
        self.url = url_or_path
        self.baudrate = baudrate
        self.decoder_factory = decoder_factory
        self.latest: dict[int, DecodedScreen] = {}
        self.received: list[DecodedScreen] = []
        self.errors: list[str] = []
        self.bytes_received = 0
        self.opens = 0
        self.is_open = False
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start listening; returns at once (use wait_for(lambda e: e.is_open, ...) to know)."""
        self._thread = threading.Thread(target=self._run, name=f"led-emulator {self.url}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the reader thread and close the port."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_for(self, predicate: Callable[[SerialScreenEmulator], bool],
                 timeout: float) -> bool:
        """Block until predicate(self) holds (checked whenever bytes arrive) or timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout)

    def content(self, address: int) -> ScreenContent | None:
        """What screen `address` shows now (a broadcast counts for every screen)."""
        with self._cond:
            screen = self.latest.get(address)
            return screen.content if screen is not None else None

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
            port = self._open()
            if port is None:
                with self._cond:
                    self._cond.wait(0.02)  # polling for the path; stop() wakes it
                continue
            try:
                self._listen(port)
            finally:
                port.close()
                with self._cond:
                    self.is_open = False
                    self._cond.notify_all()

    def _open(self) -> Any:
        import serial

        try:
            port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0.05)
        except (serial.SerialException, OSError, ValueError):
            return None
        with self._cond:
            self.is_open = True
            self.opens += 1
            self._cond.notify_all()
        log.info("LED emulator listening on %s", self.url)
        return port

    def _listen(self, port: Any) -> None:
        decoder = self.decoder_factory()
        seen_errors = 0
        while True:
            with self._cond:
                if self._stopping:
                    return
            try:
                data = bytes(port.read(max(1, port.in_waiting)))
            except Exception as exc:  # pyserial raises SerialException or OSError
                log.info("LED emulator port %s lost: %s", self.url, exc)
                return
            if not data:
                continue
            screens = decoder.feed(data)
            with self._cond:
                self.bytes_received += len(data)
                for screen in screens:
                    self.received.append(screen)
                    if screen.address == 0:
                        for address in list(self.latest):
                            self.latest[address] = screen
                    self.latest[screen.address] = screen
                self.errors += decoder.errors[seen_errors:]
                seen_errors = len(decoder.errors)
                self._cond.notify_all()
