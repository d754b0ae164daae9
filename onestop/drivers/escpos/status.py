"""Real-time status (DLE EOT n) requests and what the answers mean.

Each answer is one byte with fixed bits 1 and 4 set and bit 7 clear; anything else is not a
status byte. Paper "near end" still prints; "end", cover open and offline do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DLE_EOT = b"\x10\x04"
PRINTER_STATUS = DLE_EOT + b"\x01"
OFFLINE_CAUSE = DLE_EOT + b"\x02"
PAPER_SENSOR = DLE_EOT + b"\x04"

Paper = Literal["ok", "near_end", "out", "unknown"]


def is_status_byte(value: int) -> bool:
    return (value & 0b1001_0010) == 0b0001_0010


@dataclass(frozen=True)
class PrinterStatus:
    online: bool | None  # None: the transport cannot ask (file, some USB)
    paper: Paper
    cover_open: bool

    @property
    def can_print(self) -> bool:
        return self.online is not False and self.paper != "out" and not self.cover_open

    @property
    def state(self) -> str:
        """One word for screens and logs, worst condition first."""
        if self.cover_open:
            return "cover_open"
        if self.paper == "out":
            return "paper_out"
        if self.online is False:
            return "offline"
        if self.paper == "near_end":
            return "paper_near_end"
        if self.online is None:
            return "unknown"
        return "online"


UNKNOWN = PrinterStatus(online=None, paper="unknown", cover_open=False)


def parse_status(printer: int, offline_cause: int, paper: int) -> PrinterStatus:
    """Decode the answers to DLE EOT 1, 2 and 4."""
    for value in (printer, offline_cause, paper):
        if not is_status_byte(value):
            raise ValueError(f"not an ESC/POS status byte: 0x{value:02x}")
    if paper & 0b0110_0000:
        paper_state: Paper = "out"
    elif paper & 0b0000_1100:
        paper_state = "near_end"
    else:
        paper_state = "ok"
    return PrinterStatus(
        online=not bool(printer & 0b0000_1000),
        paper=paper_state,
        cover_open=bool(offline_cause & 0b0000_0100),
    )
