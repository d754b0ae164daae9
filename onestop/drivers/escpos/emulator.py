"""ESC/POS printer emulator: decode what a driver sends, answer status, record printed tickets.

Written from Epson's ESC/POS command reference (and vendor manuals that follow it), never from our
own encoder, so that an encoder bug shows up as a failing test instead of being mirrored here.
It knows bytes and paper only: it never imports the queue, the kiosk or the signage code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import selectors
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)

NUL, HT, LF, FF, CR, CAN = 0x00, 0x09, 0x0A, 0x0C, 0x0D, 0x18
DLE, ESC, FS, GS = 0x10, 0x1B, 0x1C, 0x1D
EOT, ENQ, DC4 = 0x04, 0x05, 0x14

#: Printable width in dots (8 dots/mm): 58 mm paper prints 48 mm, 80 mm paper prints 72 mm.
PAPER_DOTS: dict[int, int] = {58: 384, 80: 576}
#: Font A is 12 x 24 dots, font B 9 x 17; a Chinese (Kanji) character is 24 x 24.
ANK_DOTS = {False: 12, True: 9}
KANJI_DOTS = 24

PaperState = Literal["ok", "near_end", "out"]
#: ("DLE EOT", n) for n = 1..4, ("GS r", 1 | 2) or ("ESC v", 0).
StatusRequest = tuple[str, int]

#: ESC t n code tables that Python can decode; others fall back to PC437 with a warning.
CODE_PAGES: dict[int, str] = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865",
                              16: "cp1252", 17: "cp866", 18: "cp852", 19: "cp858"}
ALIGN = {0: "left", 48: "left", 1: "center", 49: "center", 2: "right", 50: "right"}
QR_EC = {48: "L", 49: "M", 50: "Q", 51: "H"}


@dataclass(frozen=True)
class PrintedLine:
    """One printed line with the print mode of its first character, as a person would see it."""

    text: str
    bold: bool = False
    underline: bool = False
    width: int = 1
    height: int = 1
    align: str = "left"


@dataclass(frozen=True)
class PrintedQr:
    """A printed QR code, kept in order with the lines so the PNG shows the real layout."""

    payload: str
    module_size: int = 3
    error_correction: str = "L"
    align: str = "left"


Block = PrintedLine | PrintedQr


@dataclass
class PrintedTicket:
    """What came out of the printer between two cuts (or before the stream ended).

    lines holds the lines that printed text; blocks holds every line (blank feeds too) and every
    QR code in paper order, which is what the PNG is drawn from.
    """

    lines: list[PrintedLine]
    qr_codes: list[str]
    cut: bool
    raw: bytes
    warnings: list[str]
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class PrinterCondition:
    """The emulated printer's mechanical state; frozen so one status answer reads one snapshot."""

    online: bool = True
    paper: PaperState = "ok"
    cover_open: bool = False

    def __post_init__(self) -> None:
        if self.paper not in ("ok", "near_end", "out"):
            raise ValueError(f"paper must be 'ok', 'near_end' or 'out', not {self.paper!r}")

    @property
    def can_print(self) -> bool:
        """A printer stops (goes offline) when the paper ends or the cover opens."""
        return self.online and not self.cover_open and self.paper != "out"


def status_reply(request: StatusRequest, condition: PrinterCondition) -> bytes:
    """The one status byte the reference defines for a request, fixed bits included.

    DLE EOT n: bits 1 and 4 are fixed on, 0 and 7 fixed off. n=1 bit 3 offline; n=2 bit 2 cover
    open, bit 5 stopped by paper end; n=3 no error bits (the emulator has no errors); n=4 bits 2,3
    near end, bits 5,6 paper end (an empty roll also trips the near-end sensor). GS r 1 (and the
    older ESC v): bits 0,1 near end, bits 2,3 paper end, bit 4 fixed off. GS r 2: drawer pin low.
    """
    kind, n = request
    out = condition.paper == "out"
    near = condition.paper == "near_end" or out
    if kind == "DLE EOT":
        if n == 1:
            return bytes([0x12 | (0x08 if not condition.can_print else 0)])
        if n == 2:
            return bytes([0x12 | (0x04 if condition.cover_open else 0) | (0x20 if out else 0)])
        if n == 3:
            return b"\x12"
        if n == 4:
            return bytes([0x12 | (0x0C if near else 0) | (0x60 if out else 0)])
    if (kind == "GS r" and n == 1) or kind == "ESC v":
        return bytes([(0x03 if near else 0) | (0x0C if out else 0)])
    if kind == "GS r" and n == 2:
        return b"\x00"
    raise ValueError(f"no status defined for {request!r}")


@dataclass(frozen=True)
class _Style:
    bold: bool = False
    underline: bool = False
    width: int = 1
    height: int = 1


# Commands that only take fixed parameters: ESC/GS/FS letter -> number of parameter bytes.
_ESC_FIXED = {0x0C: 0, 0x20: 1, 0x21: 1, 0x24: 2, 0x25: 1, 0x2D: 1, 0x32: 0, 0x33: 1, 0x3C: 0,
              0x3D: 1, 0x3F: 1, 0x40: 0, 0x42: 2, 0x45: 1, 0x47: 1, 0x4A: 1, 0x4C: 0, 0x4D: 1,
              0x52: 1, 0x53: 0, 0x54: 1, 0x55: 1, 0x56: 1, 0x57: 8, 0x5C: 2, 0x61: 1, 0x63: 2,
              0x64: 1, 0x65: 1, 0x69: 0, 0x6D: 0, 0x70: 3, 0x72: 1, 0x74: 1, 0x75: 1, 0x76: 0,
              0x7B: 1}
_GS_FIXED = {0x21: 1, 0x24: 2, 0x2F: 1, 0x3A: 0, 0x42: 1, 0x45: 1, 0x48: 1, 0x49: 1, 0x4C: 2,
             0x50: 2, 0x54: 1, 0x57: 2, 0x5C: 2, 0x5E: 3, 0x61: 1, 0x62: 1, 0x63: 0, 0x66: 1,
             0x68: 1, 0x72: 1, 0x77: 1}
_FS_FIXED = {0x21: 1, 0x26: 0, 0x2D: 1, 0x2E: 0, 0x32: 74, 0x3F: 2, 0x43: 1, 0x53: 2, 0x57: 1,
             0x70: 2}
# Accepted and deliberately without effect here: spacing, margins, feeds, barcode settings, etc.
_SILENT = {(ESC, c) for c in b" $23<=?GRSTUW\\cepr"} | {(GS, c) for c in b"$EHLPTW\\bcfhw"} | {
    (FS, c) for c in b"?CS"}
_NOT_RENDERED = {
    (ESC, 0x0C): "ESC FF (page mode print)", (ESC, 0x4C): "ESC L (page mode)",
    (ESC, 0x42): "ESC B (vendor buzzer)", (ESC, 0x75): "ESC u (peripheral status, not answered)",
    (GS, 0x2F): "GS / (downloaded bit image)", (GS, 0x3A): "GS : (macro definition)",
    (GS, 0x5E): "GS ^ (macro execution)", (GS, 0x49): "GS I (printer ID, not answered)",
    (FS, 0x32): "FS 2 (user-defined Kanji)", (FS, 0x70): "FS p (NV bit image)",
}


class EscPosDecoder:
    """Incremental: feed() may receive any split of the stream (even mid-command or mid-GB18030
    character), and the result is the same as feeding it whole.

    Real-time DLE EOT n (n = 1..4) is recognised on the raw byte stream as the reference says a
    printer does, even inside another command's data, so it is answered while print data waits.
    Status requests are collected in stream order; pending_status_requests() hands them out.
    """

    def __init__(self, paper_mm: int = 80, *, chinese_mode_default: bool = False) -> None:
        if paper_mm not in PAPER_DOTS:
            raise ValueError(f"paper_mm must be one of {sorted(PAPER_DOTS)}, not {paper_mm}")
        self.paper_mm = paper_mm
        self._max_dots = PAPER_DOTS[paper_mm]
        self._chinese_default = chinese_mode_default
        self._buf = bytearray()
        self._pos = 0
        self._base = 0  # absolute stream offset of _buf[0]
        self._received = 0
        self._rt_tail = b""
        self._rt_offsets: deque[tuple[int, int]] = deque()
        self._requests: list[tuple[int, StatusRequest]] = []
        self._unprintable: list[tuple[int, int]] = []
        self._done: list[PrintedTicket] = []
        self._discarded: list[PrintedTicket] = []
        self._cmd_off = 0
        self._cmd_unprintable = False
        self._reset_modes()
        self._new_ticket(0)
        self._new_line()

    # ----------------------------------------------------------------- public API
    def feed(self, data: bytes, printable: bool = True) -> list[PrintedTicket]:
        """Decode a chunk; return the tickets a cut completed in it.

        printable=False means the printer could not print while this chunk arrived (paper out,
        cover open, offline): a ticket with anything printed from such bytes is discarded (see
        take_discarded()), and GS r is not answered, as the reference says for an offline printer.
        """
        start = self._received
        self._received += len(data)
        if not printable and data:
            if self._unprintable and self._unprintable[-1][1] == start:
                self._unprintable[-1] = (self._unprintable[-1][0], self._received)
            else:
                self._unprintable.append((start, self._received))
        self._scan_realtime(bytes(data), start)
        self._buf += data
        while self._pos < len(self._buf) and self._parse_one():
            pass
        del self._buf[: self._pos]
        self._base += self._pos
        self._pos = 0
        while self._unprintable and self._unprintable[0][1] <= self._base:
            self._unprintable.pop(0)
        done, self._done = self._done, []
        return done

    def pending_status_requests(self) -> list[StatusRequest]:
        """Drain the status requests seen so far, in the order they are to be answered."""
        self._requests.sort(key=lambda item: item[0])
        requests = [request for _, request in self._requests]
        self._requests.clear()
        return requests

    def take_discarded(self) -> list[PrintedTicket]:
        """Drain the tickets thrown away because they arrived while the printer could not print."""
        discarded, self._discarded = self._discarded, []
        return discarded

    def finish(self) -> PrintedTicket | None:
        """End of stream: return what was printed without a cut, so a missing cut is visible."""
        if self._pos < len(self._buf):
            rest = len(self._buf) - self._pos
            self._cmd_off = self._base + self._pos - self._t_start
            self._t_raw += self._buf[self._pos:]
            self._warn(f"incomplete command at end of stream ({rest} bytes) ignored")
            self._base += len(self._buf)
            self._buf.clear()
            self._pos = 0
        if self._chars:
            self._warn(f"{len(self._chars)} characters never printed: no LF before end of stream")
        if not (self._t_printed or self._t_warnings):
            return None
        self._finish_ticket(cut=False)
        done, self._done = self._done, []
        return done[0] if done else None

    # ----------------------------------------------------------------- state
    def _reset_modes(self) -> None:
        """ESC @ and power-on: every print mode back to its default, symbol storage cleared."""
        self._bold = False
        self._ank_underline = False
        self._ank_w = self._ank_h = 1
        self._kanji_underline = False
        self._kanji_w = self._kanji_h = 1
        self._font_b = False
        self._align = "left"
        self._chinese = self._chinese_default
        self._codepage = "cp437"
        self._tabs: list[int] | None = None  # None = every 8 columns
        self._qr_data: bytes | None = None
        self._qr_module = 3
        self._qr_ec = "L"

    def _new_ticket(self, start: int) -> None:
        self._t_start = start
        self._t_raw = bytearray()
        self._t_lines: list[PrintedLine] = []
        self._t_qrs: list[str] = []
        self._t_blocks: list[Block] = []
        self._t_warnings: list[str] = []
        self._t_printed = False
        self._t_spoiled = False

    def _new_line(self) -> None:
        self._chars: list[tuple[str, _Style]] = []
        self._line_dots = 0
        self._line_style: _Style | None = None
        self._line_mixed = self._line_wide = self._line_highbyte = False

    def _warn(self, message: str) -> None:
        self._t_warnings.append(f"offset {self._cmd_off}: {message}")

    def _printing(self) -> None:
        """Paper moves for this command: if it arrived while the printer was stopped, spoil."""
        self._t_printed = True
        if self._cmd_unprintable:
            self._t_spoiled = True

    def _finish_ticket(self, cut: bool) -> None:
        ticket = PrintedTicket(self._t_lines, self._t_qrs, cut, bytes(self._t_raw),
                               self._t_warnings, self._t_blocks)
        if self._t_spoiled:
            ticket.warnings.append("discarded: printed while the printer could not print "
                                   "(paper out, cover open or offline)")
            self._discarded.append(ticket)
        else:
            self._done.append(ticket)
        self._new_ticket(self._base + self._pos)

    # ----------------------------------------------------------------- real-time commands
    def _scan_realtime(self, data: bytes, start: int) -> None:
        """DLE EOT n is executed on receipt wherever 10 04 n appears, even inside data."""
        window = self._rt_tail + data
        base = start - len(self._rt_tail)
        i = window.find(b"\x10\x04")
        while i != -1 and i + 2 < len(window):
            n = window[i + 2]
            if 1 <= n <= 4:
                self._requests.append((base + i, ("DLE EOT", n)))
                self._rt_offsets.append((base + i, n))
            i = window.find(b"\x10\x04", i + 1)
        self._rt_tail = window[-2:]

    # ----------------------------------------------------------------- parsing
    def _avail(self) -> int:
        return len(self._buf) - self._pos

    def _at(self, k: int) -> int:
        return self._buf[self._pos + k]

    def _take(self, n: int, name: str) -> bytes:
        """Consume one complete command: add it to the ticket and note where it stood."""
        start = self._base + self._pos
        end = start + n
        cmd = bytes(self._buf[self._pos : self._pos + n])
        self._pos += n
        self._cmd_off = start - self._t_start
        self._t_raw += cmd
        self._cmd_unprintable = any(a <= end - 1 < b for a, b in self._unprintable)
        while self._rt_offsets and self._rt_offsets[0][0] < end:
            offset, n = self._rt_offsets.popleft()
            if not (offset == start and cmd[:2] == b"\x10\x04"):
                self._warn(f"DLE EOT {n} inside the data of {name} at offset "
                           f"{offset - self._t_start} was answered (as a real printer does)")
        return cmd

    def _parse_one(self) -> bool:
        """Decode one token at _pos; False when it is incomplete and more bytes are needed."""
        b = self._at(0)
        if b >= 0x20:
            return self._parse_text()
        if b == ESC:
            return self._parse_prefixed(ESC, "ESC", _ESC_FIXED, self._esc_length, self._esc)
        if b == GS:
            return self._parse_prefixed(GS, "GS", _GS_FIXED, self._gs_length, self._gs)
        if b == FS:
            return self._parse_prefixed(FS, "FS", _FS_FIXED, self._fs_length, self._fs)
        if b == DLE:
            return self._parse_dle()
        self._take(1, f"0x{b:02X}")
        if b == LF:
            self._end_line()
        elif b == HT:
            self._tab()
        elif b == FF:
            self._warn("FF (page mode / label feed) treated as a line feed")
            if self._chars:
                self._end_line()
        elif b == CAN:
            self._warn("CAN (page mode) ignored")
        elif b not in (NUL, CR):
            self._warn(f"unknown control byte 0x{b:02X} ignored")
        return True

    def _parse_prefixed(self, prefix: int, name: str, fixed: dict[int, int],
                        length: Callable[[int], int | None],
                        effect: Callable[[int, bytes], None]) -> bool:
        if self._avail() < 2:
            return False
        x = self._at(1)
        label = f"{name} {_show(x)}"
        n: int | None = 2 + fixed[x] if x in fixed else length(x)
        if n is None or self._avail() < n:
            return False
        if n == 0:  # not a command we know: skip the two bytes and say so
            self._take(2, label)
            self._warn(f"unknown command {label} ignored")
            return True
        cmd = self._take(n, label)
        if (prefix, x) in _NOT_RENDERED:
            self._warn(f"{_NOT_RENDERED[(prefix, x)]} not emulated")
        elif (prefix, x) not in _SILENT:
            effect(x, cmd)
        return True

    def _block_length(self, head: int, size_bytes: int) -> int | None:
        """Commands like GS ( k pL pH ...: the parameter length follows the command letters."""
        if self._avail() < head + size_bytes:
            return None
        size = sum(self._at(head + i) << (8 * i) for i in range(size_bytes))
        return head + size_bytes + size

    def _nul_terminated(self, first: int, limit: int) -> int | None:
        end = self._buf.find(0, self._pos + first, self._pos + first + limit)
        if end != -1:
            return end - self._pos + 1
        return first + limit if self._avail() >= first + limit else None

    def _esc_length(self, x: int) -> int | None:
        if x == 0x2A:  # ESC * m nL nH d1...dk: k = n (8-dot) or 3n (24-dot)
            if self._avail() < 5:
                return None
            n = self._at(3) + 256 * self._at(4)
            return 5 + (3 * n if self._at(2) in (32, 33) else n)
        if x == 0x44:  # ESC D n1...nk NUL, k <= 32
            return self._nul_terminated(2, 33)
        if x == 0x28:
            return self._block_length(3, 2)
        if x == 0x26:  # ESC & y c1 c2 [x d1...d(y*x)]...
            if self._avail() < 5:
                return None
            y, c1, c2 = self._at(2), self._at(3), self._at(4)
            k = 5
            for _ in range(max(0, c2 - c1 + 1)):
                if self._avail() <= k:
                    return None
                k += 1 + y * self._at(k)
            return k
        return 0

    def _gs_length(self, x: int) -> int | None:
        if x == 0x28:
            return self._block_length(3, 2)
        if x == 0x38:  # GS 8 L p1 p2 p3 p4 ...
            return self._block_length(3, 4)
        if x == 0x56:  # GS V m | GS V m n
            if self._avail() < 3:
                return None
            return 4 if self._at(2) in (65, 66, 97, 98, 103, 104) else 3
        if x == 0x2A:  # GS * x y d1...d(x*y*8)
            return 4 + 8 * self._at(2) * self._at(3) if self._avail() >= 4 else None
        if x == 0x6B:  # GS k m d1...dk NUL | GS k m n d1...dn
            if self._avail() < 3:
                return None
            if self._at(2) <= 6:
                return self._nul_terminated(3, 256)
            return 4 + self._at(3) if self._avail() >= 4 else None
        if x == 0x76:  # GS v 0 m xL xH yL yH d1...dk
            if self._avail() < 8:
                return None
            if self._at(2) != 0x30:
                return 0
            return 8 + (self._at(4) + 256 * self._at(5)) * (self._at(6) + 256 * self._at(7))
        if x == 0x67:  # GS g 0 m nL nH | GS g 2 m nL nH
            return 6
        return 0

    def _fs_length(self, x: int) -> int | None:
        if x == 0x28:
            return self._block_length(3, 2)
        if x == 0x71:  # FS q n [xL xH yL yH d1...dk]1...n
            if self._avail() < 3:
                return None
            k = 3
            for _ in range(self._at(2)):
                if self._avail() < k + 4:
                    return None
                k += 4 + 8 * (self._at(k) + 256 * self._at(k + 1)) * (
                    self._at(k + 2) + 256 * self._at(k + 3))
            return k
        return 0

    def _parse_dle(self) -> bool:
        if self._avail() < 3:
            if self._avail() == 2 and self._at(1) not in (EOT, ENQ, DC4):
                self._take(1, "DLE")
                self._warn("unknown DLE sequence ignored")
                return True
            return False
        x, n = self._at(1), self._at(2)
        if x == EOT:
            size = 4 if n in (7, 8, 18) else 3
            if self._avail() < size:
                return False
            self._take(size, f"DLE EOT {n}")
            if not 1 <= n <= 4:
                self._warn(f"DLE EOT {n} not answered (only n = 1..4 are emulated)")
        elif x == ENQ:
            self._take(3, "DLE ENQ")
        elif x == DC4:
            size = {1: 5, 2: 5, 3: 5, 7: 6, 8: 10}.get(n, 3)
            if self._avail() < size:
                return False
            self._take(size, "DLE DC4")
            self._warn(f"DLE DC4 {n} (real-time pulse / power-off / buffer clear) not emulated")
        else:
            self._take(1, "DLE")
            self._warn("unknown DLE sequence ignored")
        return True

    # ----------------------------------------------------------------- text
    def _parse_text(self) -> bool:
        b = self._at(0)
        if self._chinese and b >= 0x80:
            return self._parse_gb18030()
        end = self._pos
        while end < len(self._buf) and self._buf[end] >= 0x20 and not (
                self._chinese and self._buf[end] >= 0x80):
            end += 1
        run = self._take(end - self._pos, "text")
        offset = self._cmd_off
        for i, byte in enumerate(run):
            self._cmd_off = offset + i
            if byte >= 0x80 and not self._line_highbyte:
                self._line_highbyte = True
                self._warn(f"byte 0x{byte:02X} printed outside Chinese mode (FS &): decoded "
                           f"with code page {self._codepage}")
            self._add_char(bytes([byte]).decode(self._codepage, "replace"), kanji=False)
        return True

    def _parse_gb18030(self) -> bool:
        """Chinese mode: 2-byte GB2312/GBK or 4-byte GB18030 codes; ASCII stays single-byte."""
        b = self._at(0)
        if not 0x81 <= b <= 0xFE:
            self._take(1, "text")
            self._warn(f"byte 0x{b:02X} is not a GB18030 lead byte")
            self._add_char("\ufffd", kanji=True)
            return True
        if self._avail() < 2:
            return False
        b2 = self._at(1)
        size = 2 if (0x40 <= b2 <= 0x7E or 0x80 <= b2 <= 0xFE) else 4 if 0x30 <= b2 <= 0x39 else 1
        if size == 4:
            if self._avail() < 4:
                return False
            if not (0x81 <= self._at(2) <= 0xFE and 0x30 <= self._at(3) <= 0x39):
                size = 1
        code = self._take(size, "text")
        try:
            char = code.decode("gb18030") if size > 1 else "\ufffd"
        except UnicodeDecodeError:
            char = "\ufffd"
        if char == "\ufffd":
            self._warn(f"invalid GB18030 sequence {code.hex(' ')}")
        self._add_char(char, kanji=True)
        return True

    def _style(self, kanji: bool) -> _Style:
        if kanji:
            return _Style(self._bold, self._kanji_underline, self._kanji_w, self._kanji_h)
        return _Style(self._bold, self._ank_underline, self._ank_w, self._ank_h)

    def _add_char(self, char: str, kanji: bool) -> None:
        style = self._style(kanji)
        self._chars.append((char, style))
        self._line_dots += (KANJI_DOTS if kanji else ANK_DOTS[self._font_b]) * style.width
        if self._line_dots > self._max_dots and not self._line_wide:
            self._line_wide = True
            self._warn(f"line wider than the {self.paper_mm} mm paper ({self._line_dots} > "
                       f"{self._max_dots} dots): the printer wraps it")
        if char.isspace():
            return
        if self._line_style is None:
            self._line_style = style
        elif style != self._line_style and not self._line_mixed:
            self._line_mixed = True
            self._warn("print mode changes within a line; the line records its first "
                       "character's mode")

    def _end_line(self) -> None:
        style = self._line_style or (self._chars[0][1] if self._chars else self._style(False))
        line = PrintedLine("".join(c for c, _ in self._chars), style.bold, style.underline,
                           style.width, style.height, self._align)
        self._printing()
        if line.text:  # blank feeds matter for the picture (blocks), not for what was printed
            self._t_lines.append(line)
        self._t_blocks.append(line)
        self._new_line()

    def _tab(self) -> None:
        column = self._line_dots // ANK_DOTS[self._font_b]
        stops = self._tabs if self._tabs is not None else range(8, 256, 8)
        target = next((s for s in stops if s > column), None)
        for _ in range(column, target or column):
            self._add_char(" ", kanji=False)

    # ----------------------------------------------------------------- command effects
    def _esc(self, x: int, cmd: bytes) -> None:
        n = cmd[2] if len(cmd) > 2 else 0
        if x == 0x21:  # ESC ! n: font B, emphasized, double height, double width, underline
            self._font_b, self._bold = bool(n & 0x01), bool(n & 0x08)
            self._ank_h, self._ank_w = 2 if n & 0x10 else 1, 2 if n & 0x20 else 1
            self._ank_underline = bool(n & 0x80)
        elif x == 0x2D:
            self._ank_underline = n in (1, 2, 49, 50)
        elif x == 0x40:
            if self._chars:
                self._warn(f"ESC @ cleared {len(self._chars)} unprinted characters")
                self._new_line()
            self._reset_modes()
        elif x == 0x45:
            self._bold = bool(n & 1)
        elif x == 0x4A:  # ESC J n: print and feed n dots
            if self._chars:
                self._end_line()
        elif x == 0x4D:
            self._font_b = n in (1, 49)
        elif x == 0x56 and n in (1, 2, 49, 50):
            self._warn("90° rotated characters (ESC V) not represented")
        elif x == 0x61:
            self._set_align(n, "ESC a")
        elif x == 0x64:  # ESC d n: print and feed n lines
            for _ in range(max(n, 1) if self._chars else n):
                self._end_line()
        elif x in (0x69, 0x6D):
            self._cut(f"ESC {chr(x)}")
        elif x == 0x74:
            if n in CODE_PAGES:
                self._codepage = CODE_PAGES[n]
            else:
                self._codepage = "cp437"
                self._warn(f"code page ESC t {n} not emulated; decoding as cp437")
        elif x == 0x76:
            self._request(("ESC v", 0), "ESC v")
        elif x == 0x7B and n & 1:
            self._warn("upside-down printing (ESC {) not represented")
        elif x == 0x25 and n & 1:
            self._warn("user-defined character set (ESC %) printed as standard characters")
        elif x == 0x2A:
            self._printing()
            self._warn("bit image (ESC *) not rendered")
        elif x == 0x26:
            self._warn("user-defined characters (ESC &) not emulated")
        elif x == 0x44:
            self._tabs = sorted(set(cmd[2:-1])) if cmd[-1:] == b"\x00" else sorted(set(cmd[2:]))
        elif x == 0x28:
            self._warn(f"ESC ( {_show(cmd[2])} not emulated")

    def _gs(self, x: int, cmd: bytes) -> None:
        n = cmd[2] if len(cmd) > 2 else 0
        if x == 0x21:  # GS ! n: width (bits 4-7) and height (bits 0-3) multipliers 1..8
            width, height = (n >> 4) + 1, (n & 0x0F) + 1
            if width > 8 or height > 8:
                self._warn(f"GS ! 0x{n:02X} out of range ignored")
            else:
                self._ank_w = self._kanji_w = width
                self._ank_h = self._kanji_h = height
        elif x == 0x56:
            self._cut("GS V")
        elif x == 0x28:
            self._gs_paren(cmd)
        elif x == 0x72:
            if n in (1, 49, 2, 50):
                self._request(("GS r", 1 if n in (1, 49) else 2), f"GS r {n}")
            else:
                self._warn(f"GS r {n} not answered")
        elif x == 0x42 and n & 1:
            self._warn("white/black reverse printing (GS B) not represented")
        elif x == 0x61 and n:
            self._warn(f"automatic status back (GS a {n}) not emulated")
        elif x == 0x6B:
            self._printing()
            data = cmd[4:] if n > 6 else cmd[3:-1]
            self._warn(f"barcode GS k {n} {data.decode('latin-1')!r} not rendered")
        elif x == 0x76:
            self._printing()
            width, height = (cmd[4] + 256 * cmd[5]) * 8, cmd[6] + 256 * cmd[7]
            self._warn(f"raster image GS v 0 ({width}x{height} dots) not rendered")
        elif x in (0x38, 0x2A):
            self._warn(f"graphics command GS {_show(x)} {_show(cmd[2])} not rendered")
        elif x == 0x67:
            self._warn("maintenance counter (GS g) not emulated")

    def _gs_paren(self, cmd: bytes) -> None:
        """GS ( k: 2D symbols; only QR (cn = 49) is decoded, the others are reported."""
        kind, params = cmd[2], cmd[5:]
        if kind != 0x6B or len(params) < 2:
            self._warn(f"GS ( {_show(kind)} not emulated")
            return
        cn, fn, args = params[0], params[1], params[2:]
        if cn != 49:
            if fn == 81:
                self._printing()
                self._warn(f"2D symbol GS ( k cn={cn} not rendered (only QR, cn=49)")
            return
        if fn == 65:  # <Function 165> select the model
            return
        if fn == 67 and args:  # <Function 167> module size in dots
            self._qr_module = args[0]
        elif fn == 69 and args:  # <Function 169> error correction level 48..51 = L M Q H
            self._qr_ec = QR_EC.get(args[0], self._qr_ec)
        elif fn == 80 and args:  # <Function 180> store: m d1...dk
            self._qr_data = bytes(args[1:])
        elif fn == 81:  # <Function 181> print the stored symbol
            self._print_qr()
        elif fn == 82:
            self._warn("QR size information (GS ( k fn 82) not answered")
        else:
            self._warn(f"QR function GS ( k fn {fn} not emulated")

    def _print_qr(self) -> None:
        if self._qr_data is None:
            self._warn("QR print (GS ( k fn 81) with no stored data: nothing printed")
            return
        if self._chars:
            self._warn("QR printed with text in the print buffer; the reference asks for the "
                       "beginning of a line, the text is printed first")
            self._end_line()
        try:
            payload = self._qr_data.decode("utf-8")
        except UnicodeDecodeError:
            payload = self._qr_data.decode("utf-8", "replace")
            self._warn("QR payload is not valid UTF-8")
        self._printing()
        self._t_qrs.append(payload)
        self._t_blocks.append(PrintedQr(payload, self._qr_module, self._qr_ec, self._align))

    def _fs(self, x: int, cmd: bytes) -> None:
        n = cmd[2] if len(cmd) > 2 else 0
        if x == 0x21:  # FS ! n: Kanji double width (bit 2), double height (bit 3), underline
            self._kanji_w, self._kanji_h = 2 if n & 0x04 else 1, 2 if n & 0x08 else 1
            self._kanji_underline = bool(n & 0x80)
        elif x == 0x26:
            self._chinese = True
        elif x == 0x2E:
            self._chinese = False
        elif x == 0x2D:
            self._kanji_underline = n in (1, 2, 49, 50)
        elif x == 0x57:
            self._kanji_w = self._kanji_h = 2 if n & 1 else 1
        elif x == 0x71:
            self._warn("NV bit image definition (FS q) not emulated")
        elif x == 0x28:
            self._warn(f"FS ( {_show(cmd[2])} not emulated")

    def _set_align(self, n: int, name: str) -> None:
        if self._chars:
            self._warn(f"{name} ignored: only valid at the beginning of a line")
        elif n in ALIGN:
            self._align = ALIGN[n]

    def _cut(self, name: str) -> None:
        if self._chars:
            self._warn(f"{name} ignored: a cut is only valid at the beginning of a line (send LF)")
            return
        self._printing()
        self._finish_ticket(cut=True)

    def _request(self, request: StatusRequest, name: str) -> None:
        if self._cmd_unprintable:
            self._warn(f"{name} not answered: the printer is offline (processed in order)")
        else:
            self._requests.append((self._base + self._pos - 1, request))


def _show(byte: int) -> str:
    return chr(byte) if 0x21 <= byte <= 0x7E else f"0x{byte:02X}"


class EscPosEmulator:
    """A network (port 9100 style) ESC/POS printer on 127.0.0.1, optionally also on a serial URL.

    Each connection has its own decoder; what a connection printed without a cut is recorded with
    cut=False when it closes. Status requests are answered on the connection that asked.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, png_dir: Path | None = None,
                 paper_mm: int = 80, *, chinese_mode_default: bool = False) -> None:
        if paper_mm not in PAPER_DOTS:
            raise ValueError(f"paper_mm must be one of {sorted(PAPER_DOTS)}, not {paper_mm}")
        self.host = host
        self.port = port
        self.png_dir = Path(png_dir) if png_dir is not None else None
        self.paper_mm = paper_mm
        self.chinese_mode_default = chinese_mode_default
        self._cv = threading.Condition()
        self._condition = PrinterCondition()
        self._tickets: list[PrintedTicket] = []
        self._discarded: list[PrintedTicket] = []
        self._png_count = 0
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept_thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()

    # ----------------------------------------------------------------- condition
    @property
    def condition(self) -> PrinterCondition:
        with self._cv:
            return self._condition

    @condition.setter
    def condition(self, value: PrinterCondition) -> None:
        with self._cv:
            self._condition = value

    def _change(self, **changes: Any) -> None:
        with self._cv:
            self._condition = dataclasses.replace(self._condition, **changes)

    def set_paper(self, state: PaperState) -> None:
        """Paper "ok", "near_end" (still prints) or "out" (stops printing)."""
        self._change(paper=state)

    def set_cover_open(self, is_open: bool) -> None:
        """An open cover stops printing, as on the real printer."""
        self._change(cover_open=is_open)

    def set_online(self, online: bool) -> None:
        """Offline for any other reason: prints nothing, still answers DLE EOT."""
        self._change(online=online)

    # ----------------------------------------------------------------- results
    @property
    def tickets(self) -> list[PrintedTicket]:
        """A copy, so callers can iterate while connections keep printing."""
        with self._cv:
            return list(self._tickets)

    @property
    def discarded_tickets(self) -> list[PrintedTicket]:
        """Tickets received while the printer could not print (nothing came out)."""
        with self._cv:
            return list(self._discarded)

    def clear(self) -> None:
        """Forget recorded tickets, e.g. between two steps of a test."""
        with self._cv:
            self._tickets.clear()
            self._discarded.clear()

    def wait_for_tickets(self, count: int, timeout: float) -> list[PrintedTicket]:
        """Block until at least `count` tickets were printed; TimeoutError otherwise."""
        with self._cv:
            if not self._cv.wait_for(lambda: len(self._tickets) >= count, timeout):
                raise TimeoutError(f"{len(self._tickets)} of {count} tickets printed "
                                   f"after {timeout} s")
            return list(self._tickets)

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Listen on host:port (0 = a free port, then read .port) and serve in a thread."""
        if self._listener is not None:
            raise RuntimeError("emulator already started")
        self._stopping.clear()
        self._listener = socket.create_server((self.host, self.port))
        self.port = self._listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._accept_thread = self._spawn(self._accept_loop, f"escpos-emulator-{self.port}")

    def stop(self) -> None:
        """Close the listener and every connection and serial port, and join the threads."""
        self._stopping.set()
        if self._wake_w is not None:
            self._wake_w.send(b"x")
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=5)  # no new connections after this
            self._accept_thread = None
        with self._cv:
            conns, threads = list(self._conns), list(self._threads)
            self._threads.clear()
        for conn in conns:
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)
        for sock in (self._listener, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._listener = self._wake_r = self._wake_w = None

    def __enter__(self) -> EscPosEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._cv:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return thread

    def _accept_loop(self) -> None:
        assert self._listener is not None and self._wake_r is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                    try:
                        conn, peer = self._listener.accept()
                    except OSError:
                        continue
                    with self._cv:
                        self._conns.add(conn)
                    self._spawn(self._serve_connection, f"escpos-conn-{peer[1]}", conn)

    def _new_decoder(self) -> EscPosDecoder:
        return EscPosDecoder(self.paper_mm, chinese_mode_default=self.chinese_mode_default)

    def _serve_connection(self, conn: socket.socket) -> None:
        decoder = self._new_decoder()
        try:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                reply = self._process(decoder, data)
                if reply:
                    try:
                        conn.sendall(reply)
                    except OSError:
                        break
        finally:
            self._close_stream(decoder)
            with self._cv:
                self._conns.discard(conn)
            conn.close()

    def serve_serial(self, url: str, baudrate: int = 9600) -> None:
        """Decode from a pyserial URL or pty path and answer status on it, in a thread.

        The port is opened before this returns: pyserial empties the input buffer on open, so the
        emulator's end must be open before a driver writes.
        """
        import serial

        port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.05)
        self._stopping.clear()
        self._spawn(self._serial_loop, f"escpos-serial-{url}", port)

    def _serial_loop(self, port: Any) -> None:
        decoder = self._new_decoder()
        try:
            while not self._stopping.is_set():
                data = bytes(port.read(1))
                if not data:
                    continue
                waiting = int(port.in_waiting)
                if waiting:
                    data += bytes(port.read(waiting))
                reply = self._process(decoder, data)
                if reply:
                    port.write(reply)
                    port.flush()
        except Exception:  # a vanished pty or USB adapter ends this port, not the emulator
            log.exception("serial port %s failed", getattr(port, "port", port))
        finally:
            self._close_stream(decoder)
            port.close()

    # ----------------------------------------------------------------- decoding glue
    def _process(self, decoder: EscPosDecoder, data: bytes) -> bytes:
        """Decode a chunk under one condition snapshot; return the status bytes to send back."""
        condition = self.condition
        printed = decoder.feed(data, printable=condition.can_print)
        self._record(printed, decoder.take_discarded())
        return b"".join(status_reply(r, condition) for r in decoder.pending_status_requests())

    def _close_stream(self, decoder: EscPosDecoder) -> None:
        last = decoder.finish()
        self._record([last] if last else [], decoder.take_discarded())

    def _record(self, printed: list[PrintedTicket], discarded: list[PrintedTicket]) -> None:
        for ticket in printed:
            self._write_png(ticket)
        if printed or discarded:
            with self._cv:
                self._tickets.extend(printed)
                self._discarded.extend(discarded)
                self._cv.notify_all()

    def _write_png(self, ticket: PrintedTicket) -> None:
        """Written before the ticket is announced, so a waiter finds the file in place."""
        if self.png_dir is None:
            return
        from onestop.drivers.escpos.render import render_ticket_png

        with self._cv:
            self._png_count += 1
            path = self.png_dir / f"ticket-{self._png_count:04d}.png"
            while path.exists():
                self._png_count += 1
                path = self.png_dir / f"ticket-{self._png_count:04d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        try:
            render_ticket_png(ticket, path, self.paper_mm)
        except Exception:  # a rendering bug must not stop the emulated printer
            log.exception("could not render %s", path)
