"""What an LED screen should show, apart from any controller's protocol.

A screen shows a few lines of text, each in one colour, standing still or scrolling. Every
protocol encodes a `ScreenContent` to bytes for one addressed screen, and every emulator decodes
bytes back to a `DecodedScreen`, so a test can compare what was wanted with what arrived.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Colour(StrEnum):
    """The colours common LED modules have; single-colour boards show every colour as theirs."""

    RED = "red"
    GREEN = "green"
    YELLOW = "yellow"
    BLUE = "blue"
    CYAN = "cyan"
    MAGENTA = "magenta"
    WHITE = "white"

    @property
    def rgb(self) -> tuple[int, int, int]:
        return _RGB[self]


_RGB: dict[Colour, tuple[int, int, int]] = {
    Colour.RED: (255, 0, 0),
    Colour.GREEN: (0, 255, 0),
    Colour.YELLOW: (255, 255, 0),
    Colour.BLUE: (0, 0, 255),
    Colour.CYAN: (0, 255, 255),
    Colour.MAGENTA: (255, 0, 255),
    Colour.WHITE: (255, 255, 255),
}


class Effect(StrEnum):
    """How a line moves: calls stand still (readable at once), notices scroll."""

    STATIC = "static"
    SCROLL = "scroll"


@dataclass(frozen=True)
class TextLine:
    text: str
    colour: Colour = Colour.RED
    effect: Effect = Effect.STATIC


@dataclass(frozen=True)
class ScreenContent:
    """The whole of what one screen shows; equal contents need not be sent twice."""

    lines: tuple[TextLine, ...]

    @staticmethod
    def of(*lines: str | TextLine) -> ScreenContent:
        return ScreenContent(tuple(x if isinstance(x, TextLine) else TextLine(x) for x in lines))

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass(frozen=True)
class Geometry:
    """A screen's size in LED pixels (a 2-line window screen is typically 64 × 32 or 128 × 32)."""

    width: int = 128
    height: int = 32


@dataclass(frozen=True)
class DecodedScreen:
    """One frame as an emulator understood it: who it was for and what it asked to show.

    `bitmap` carries the pixels of graphic controllers (rows of RGB tuples), where no text travels.
    """

    address: int
    content: ScreenContent | None
    checksum_ok: bool = True
    bitmap: tuple[tuple[tuple[int, int, int], ...], ...] | None = None
    raw: bytes = field(default=b"", repr=False)


class LedEncoder(Protocol):
    """A protocol's encoder for one board: content in, one or more complete frames out."""

    name: str

    def encode(self, address: int, content: ScreenContent) -> bytes: ...


class LedDecoder(Protocol):
    """An emulator's decoder: bytes in (any chunking), complete frames out; bad frames are
    reported in `errors` and skipped, as a real controller would ignore them."""

    errors: list[str]

    def feed(self, data: bytes) -> list[DecodedScreen]: ...
