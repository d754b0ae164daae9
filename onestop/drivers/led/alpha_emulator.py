"""An Alpha sign in software, written from the Alpha Sign Communications Protocol (9708-8061
rev. F) rather than from our encoder, so tests catch an encoder that drifts from the spec.

It takes bytes in any chunking, finds packets (SOH type address STX ... EOT, any number of
wake-up NULs before), checks each command's checksum and applies what a sign would: memory
configuration ("E$"), SMALL DOTS PICTURE writes ("I", kept per address and label) and TEXT file
writes ("A"), each of which yields a `DecodedScreen`. A command with a bad checksum is reported
in `errors` and not applied, as a sign drops it; no screen comes out of it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import serial
from PIL import Image

from onestop.drivers.led.content import (
    Colour,
    DecodedScreen,
    Effect,
    Geometry,
    ScreenContent,
    TextLine,
)
from onestop.drivers.led.render import render_content, save_pixels_png

SOH, STX, ETX, EOT, ESC, CR = 0x01, 0x02, 0x03, 0x04, 0x1B, 0x0D
RGB = tuple[int, int, int]
DEFAULT_GEOMETRY = Geometry()

#: Colour control code 1CH + character → our colours (amber shows as YELLOW; dim red/green as
#: red/green; brown, orange and yellow as YELLOW; rainbow, mix and auto as RED).
COLOURS = {"1": Colour.RED, "2": Colour.GREEN, "3": Colour.YELLOW, "4": Colour.RED,
           "5": Colour.GREEN, "6": Colour.YELLOW, "7": Colour.YELLOW, "8": Colour.YELLOW}
#: SMALL DOTS PICTURE pixel characters → LED colours.
DOTS: dict[str, RGB] = {
    "0": (0, 0, 0), "1": Colour.RED.rgb, "2": Colour.GREEN.rgb, "3": Colour.YELLOW.rgb,
    "4": (128, 0, 0), "5": (0, 128, 0), "6": (128, 64, 0), "7": (255, 128, 0),
    "8": Colour.YELLOW.rgb}
#: Mode codes that keep text moving: "a" rotate, "m" scroll, "t" compressed rotate.
MOVING_MODES = frozenset(b"amt")
#: Control codes followed by this many argument bytes (Appendix G).
ARGUMENTS = {0x05: 1, 0x06: 1, 0x07: 1, 0x08: 1, 0x0B: 1, 0x10: 1, 0x1A: 1, 0x1D: 2, 0x1E: 1,
             0x1F: 1}


@dataclass
class _Line:
    effect: Effect
    colour: Colour
    text: str = ""
    pictures: list[str] = field(default_factory=list)


class AlphaDecoder:
    """Alpha packets in, screens out; `geometry` is the emulated board's size in LEDs."""

    def __init__(self, geometry: Geometry = DEFAULT_GEOMETRY) -> None:
        self.geometry = geometry
        self.errors: list[str] = []
        self.type_codes: list[str] = []
        self._buffer = bytearray()
        self._scanned = 0
        self._memory: dict[int, dict[str, tuple[str, str]]] = {}
        self.pictures: dict[tuple[int, str], tuple[tuple[RGB, ...], ...]] = {}

    def feed(self, data: bytes) -> list[DecodedScreen]:
        """Take the next bytes; return the screens of TEXT file writes completed by them."""
        self._buffer += data
        screens: list[DecodedScreen] = []
        while True:
            soh = self._buffer.find(SOH)
            noise = bytes(self._buffer[: soh if soh >= 0 else len(self._buffer)]).strip(b"\0")
            if noise:
                self.errors.append(f"skipped {len(noise)} bytes outside a packet")
            if soh < 0:
                self._buffer.clear()
                self._scanned = 0
                return screens
            del self._buffer[:soh]
            self._scanned = max(self._scanned - soh, 1)
            eot = self._buffer.find(EOT, self._scanned)
            cut = self._buffer.find(SOH, 1, eot if eot >= 0 else len(self._buffer))
            if cut > 0:
                self.errors.append("packet cut short by a new SOH; dropped")
                del self._buffer[:cut]
                self._scanned = 1
                continue
            if eot < 0:
                self._scanned = len(self._buffer)
                return screens
            packet = bytes(self._buffer[: eot + 1])
            del self._buffer[: eot + 1]
            self._scanned = 1
            screens += self._packet(packet)

    def _packet(self, packet: bytes) -> list[DecodedScreen]:
        head = packet[1:4].decode("latin-1")
        if len(packet) < 6 or packet[4] != STX:
            self.errors.append(f"packet header {head!r} not followed by STX; dropped")
            return []
        try:
            address = int(head[1:], 16)
        except ValueError:
            self.errors.append(f"address {head[1:]!r} is not two hex digits; dropped")
            return []
        self.type_codes.append(head[0])
        screens: list[DecodedScreen] = []
        i = 4
        while i < len(packet) - 1:
            if packet[i] != STX:
                self.errors.append(f"expected STX at byte {i}, got {packet[i]:#04x}; rest dropped")
                break
            end = next(j for j in range(i + 1, len(packet)) if packet[j] in (STX, ETX, EOT))
            command, i = packet[i + 1:end], end
            if packet[end] == ETX:
                given, i = packet[end + 1:end + 5], end + 5
                wanted = f"{sum(packet[end - len(command) - 1:end + 1]) & 0xFFFF:04X}".encode()
                if given != wanted:
                    self.errors.append(f"checksum mismatch for address {address:02X}: packet "
                                       f"says {given!r}, bytes sum to {wanted!r}; ignored")
                    continue
            screen = self._command(address, command, packet)
            if screen is not None:
                screens.append(screen)
        return screens

    def _command(self, address: int, command: bytes, raw: bytes) -> DecodedScreen | None:
        code = command[:1]
        if code == b"E" and command[1:2] == b"$":
            self._configure(address, command[2:].decode("latin-1"))
        elif code == b"I":
            self._dots(address, command[1:])
        elif code == b"A" and len(command) >= 2:
            label = chr(command[1])
            if not self._may_write(address, label, "A"):
                self.errors.append(f"TEXT file {label!r} not in memory configuration; ignored")
                return None
            return self._text(address, command[2:], raw)
        return None

    def _configure(self, address: int, entries: str) -> None:
        if len(entries) % 11:
            self.errors.append(f"memory configuration of {len(entries)} characters is not "
                               "a multiple of 11; ignored")
            return
        table = {entries[k]: (entries[k + 1], entries[k + 3:k + 7])
                 for k in range(0, len(entries), 11)}
        self._memory[address] = table  # the previous table, and every file, is gone
        for key in [k for k in self.pictures if k[0] == address]:
            del self.pictures[key]

    def _may_write(self, address: int, label: str, file_type: str) -> bool:
        table = self._memory.get(address, self._memory.get(0))
        if table is None:  # unconfigured: only the priority file and TEXT file "A" exist
            return file_type == "A" and label in "0A"
        return (file_type == "A" and label == "0") or table.get(label, ("",))[0] == file_type

    def _dots(self, address: int, data: bytes) -> None:
        text = data.decode("latin-1")
        label, size = text[:1], text[1:5]
        try:
            height, width = int(size[:2], 16), int(size[2:], 16)
        except ValueError:
            self.errors.append(f"SMALL DOTS PICTURE size {size!r} is not hex; ignored")
            return
        table = self._memory.get(address, self._memory.get(0, {}))
        if not self._may_write(address, label, "D"):
            self.errors.append(f"DOTS file {label!r} not in memory configuration; ignored")
            return
        room = table[label][1]
        if height > int(room[:2], 16) or width > int(room[2:], 16):
            self.errors.append(f"picture {label!r} {height}x{width} exceeds its room {room}")
            return
        rows = text[5:].split("\r")[:height]
        rows += [""] * (height - len(rows))
        self.pictures[(address, label)] = tuple(
            tuple(DOTS.get(ch, DOTS["0"]) for ch in row[:width].ljust(width, "0")) for row in rows)

    def _text(self, address: int, message: bytes, raw: bytes) -> DecodedScreen:
        lines: list[_Line] = []
        colour = Colour.RED
        i = 0
        while i < len(message):
            byte = message[i]
            if byte == ESC:
                mode = message[i + 2:i + 3]
                moving = bool(mode) and mode[0] in MOVING_MODES
                lines.append(_Line(Effect.SCROLL if moving else Effect.STATIC, colour))
                i += 4 if mode == b"n" else 3
                continue
            if not lines or byte in (CR, 0x0C):
                lines.append(_Line(lines[-1].effect if lines else Effect.STATIC, colour))
                if byte in (CR, 0x0C):
                    i += 1
                    continue
            line = lines[-1]
            if byte == 0x1C:
                arg = chr(message[i + 1]) if i + 1 < len(message) else ""
                colour = line.colour = COLOURS.get(arg, Colour.RED)
                i += 8 if arg == "Z" else 2  # "Z" + RRGGBB is Alpha 3.0's RGB colour
            elif byte == 0x14:
                line.pictures.append(chr(message[i + 1]) if i + 1 < len(message) else "")
                i += 2
            elif 0x20 <= byte <= 0x7E:
                line.text += chr(byte)
                i += 1
            else:
                line.text += "?" if byte == 0x08 or byte >= 0x80 else ""
                i += 1 + ARGUMENTS.get(byte, 0)
        content = ScreenContent(tuple(TextLine(x.text, x.colour, x.effect) for x in lines))
        bitmap = self._compose(address, lines) if any(x.pictures for x in lines) else None
        return DecodedScreen(address, content, True, bitmap, raw)

    def _compose(self, address: int, lines: list[_Line]) -> tuple[tuple[RGB, ...], ...]:
        width, band = self.geometry.width, self.geometry.height // len(lines)
        screen = Image.new("RGB", (width, self.geometry.height))
        for n, line in enumerate(lines):
            if not line.pictures:
                text = ScreenContent((TextLine(line.text, line.colour, line.effect),))
                screen.paste(render_content(text, Geometry(width, band)), (0, n * band))
            x = 0
            for label in line.pictures:
                rows = self.pictures.get((address, label)) or self.pictures.get((0, label))
                if rows is None:
                    self.errors.append(f"TEXT file calls missing picture {label!r}")
                    continue
                picture = _image(rows)
                screen.paste(picture.crop((0, 0, picture.width, min(band, picture.height))),
                             (x, n * band))
                x += picture.width
        return pixel_rows(screen)


def pixel_rows(image: Image.Image) -> tuple[tuple[RGB, ...], ...]:
    """An RGB image as rows of (r, g, b) tuples, the form of `DecodedScreen.bitmap`."""
    raw, width = image.convert("RGB").tobytes(), image.width
    pixels = [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]
    return tuple(tuple(pixels[y * width:(y + 1) * width]) for y in range(image.height))


def _image(rows: tuple[tuple[RGB, ...], ...]) -> Image.Image:
    image = Image.new("RGB", (len(rows[0]) if rows else 0, len(rows)))
    image.putdata([pixel for row in rows for pixel in row])
    return image


def render_png(screen: DecodedScreen, geometry: Geometry, path: Path) -> Path:
    """A picture of what the board shows, with visible LED dots, for a person to look at."""
    if screen.bitmap is not None:
        return save_pixels_png(_image(screen.bitmap), path)
    return save_pixels_png(render_content(screen.content or ScreenContent(()), geometry), path)


class AlphaBusMonitor:
    """A decoder on a serial line (pyserial URL or pty path) in a thread, keeping the latest
    screen per address so a bus test can ask what each board shows."""

    def __init__(self, url: str, geometry: Geometry = DEFAULT_GEOMETRY, baudrate: int = 9600,
                 bytesize: int = 7, parity: str = "E") -> None:
        self.url, self.baudrate, self.bytesize, self.parity = url, baudrate, bytesize, parity
        self.decoder = AlphaDecoder(geometry)
        self._latest: dict[int, DecodedScreen] = {}
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: Any = None

    def start(self) -> None:
        """Open the port (before the sender opens its end) and start reading."""
        self._port = serial.serial_for_url(self.url, baudrate=self.baudrate,
                                           bytesize=self.bytesize, parity=self.parity,
                                           timeout=0.05)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="alpha-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop reading and close the port."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._port is not None:
            self._port.close()

    def latest(self) -> dict[int, DecodedScreen]:
        """The last screen each address was sent (address 0 = broadcast)."""
        with self._changed:
            return dict(self._latest)

    def wait_for(self, address: int, timeout: float = 5.0,
                 text: str | None = None) -> DecodedScreen | None:
        """Block until `address` has a screen (showing `text`, if given), or time out."""
        def ready() -> bool:
            screen = self._latest.get(address)
            return screen is not None and (text is None or (
                screen.content is not None and screen.content.text == text))
        with self._changed:
            self._changed.wait_for(ready, timeout)
            return self._latest.get(address) if ready() else None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._port.read(4096)
            except (OSError, serial.SerialException) as exc:
                self.decoder.errors.append(f"serial read failed: {exc}")
                return
            if data:
                screens = self.decoder.feed(data)
                with self._changed:
                    for screen in screens:
                        self._latest[screen.address] = screen
                    self._changed.notify_all()
