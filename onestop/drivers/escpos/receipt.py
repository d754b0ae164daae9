"""A printer-neutral description of one printed slip: styled lines, QR codes, feeds, a cut.

The kiosk builds one of these from a ticket and a template; the encoder turns it into bytes.
Drivers never see tickets, only this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class TextLine:
    text: str
    align: Align = "left"
    bold: bool = False
    width: int = 1  # character width multiplier, 1..8
    height: int = 1  # character height multiplier, 1..8


@dataclass(frozen=True)
class QRCode:
    payload: str
    module_size: int = 6  # dots per module, 1..16
    align: Align = "center"


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Rule:
    """A full-width separator line."""

    char: str = "-"


Element = TextLine | QRCode | Feed | Rule


@dataclass
class Receipt:
    elements: list[Element] = field(default_factory=list)
    cut: bool = True

    def add(self, element: Element) -> Receipt:
        self.elements.append(element)
        return self


PAPER_DOTS = {58: 384, 80: 576}
"""Printable width in dots at 203 dpi; 12-dot-wide ASCII (Font A) → 32 or 48 columns."""


def columns(paper_mm: int, width: int = 1) -> int:
    """How many half-width (ASCII) cells fit on one line at a width multiplier."""
    return PAPER_DOTS[paper_mm] // (12 * width)
