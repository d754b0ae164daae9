"""Alpha SMALL DOTS PICTUREs: Chinese reaches an Alpha sign only as pixels.

The sign's character set has no Chinese, so a line that is not printable ASCII is drawn with the
project's CJK renderer and sent as a SMALL DOTS PICTURE file (command "I", 9708-8061 rev. F
section 6.4), which the TEXT file then calls with control code 14H + the picture's label. A
picture must have a place in the sign's memory first (Write SPECIAL FUNCTION "E$", Set Memory
Configuration, entries "FTPSIZEQQQQ"; for a DOTS file SIZE is height and width as two hex digits
each and QQQQ the colour status).
"""

from __future__ import annotations

from dataclasses import dataclass

from onestop.drivers.led.content import Colour, Geometry, ScreenContent, TextLine
from onestop.drivers.led.render import render_content

#: SMALL DOTS PICTURE limits (rev. F: up to 31 rows by 255 columns).
MAX_HEIGHT = 31
MAX_WIDTH = 255

#: Colour control code 1CH + this character (Appendix G). An Alpha board has red and green LEDs;
#: their mix is amber, which is what our YELLOW looks like there. Colours an Alpha board cannot
#: show fall back to the nearest one it can (blue/cyan → green, magenta → red, white → amber).
TEXT_COLOUR_CODE: dict[Colour, str] = {
    Colour.RED: "1", Colour.GREEN: "2", Colour.YELLOW: "3", Colour.BLUE: "2",
    Colour.CYAN: "2", Colour.MAGENTA: "1", Colour.WHITE: "3",
}

#: Pixel colour characters of a SMALL DOTS PICTURE row: "0" off, "1" red, "2" green, "3" amber.
DOT_OFF = "0"

#: Colour status of a DOTS entry in the memory configuration: "2000" = tri-colour (red, green,
#: amber), all our pictures need.
TRI_COLOUR_STATUS = "2000"

#: Labels for picture files, in order of use; the TEXT file's own label is skipped.
PICTURE_LABELS = "PQRSTUVWXYZBCDEFGHIJKLMNO"


def is_sign_text(text: str) -> bool:
    """Whether the sign's own font can show `text` (printable ASCII 20H-7EH only)."""
    return all(" " <= ch <= "~" for ch in text)


def picture_geometry(geometry: Geometry, line_count: int) -> Geometry:
    """The size of one line's picture: the line's band of the screen, within the spec's limits."""
    band = geometry.height // max(1, line_count)
    return Geometry(width=min(geometry.width, MAX_WIDTH), height=min(band, MAX_HEIGHT))


@dataclass(frozen=True)
class DotsPicture:
    """One picture file: its label and rows of pixel colour characters."""

    label: str
    rows: tuple[str, ...]

    @property
    def height(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        return len(self.rows[0]) if self.rows else 0

    def write_data(self) -> bytes:
        """Data field of Write SMALL DOTS PICTURE: "I" label, height, width (2 hex digits each),
        then each row of pixel characters ended by a carriage return (0DH)."""
        head = f"I{self.label}{self.height:02X}{self.width:02X}".encode("ascii")
        return head + b"".join(row.encode("ascii") + b"\r" for row in self.rows)

    def memory_entry(self) -> bytes:
        """This file's Set Memory Configuration entry: label, "D" (DOTS), "U" (unlocked),
        SIZE = height and width in hex, QQQQ = colour status."""
        return f"{self.label}DU{self.height:02X}{self.width:02X}{TRI_COLOUR_STATUS}".encode()


def render_picture(line: TextLine, label: str, size: Geometry) -> DotsPicture:
    """Draw `line` with the CJK renderer and turn its pixels into pixel colour characters."""
    image = render_content(ScreenContent((line,)), size).convert("RGB")
    codes = {colour.rgb: TEXT_COLOUR_CODE[colour] for colour in Colour}
    raw = image.tobytes()
    dots = "".join(codes.get((raw[i], raw[i + 1], raw[i + 2]), DOT_OFF)
                   for i in range(0, len(raw), 3))
    rows = tuple(dots[y * size.width:(y + 1) * size.width] for y in range(size.height))
    return DotsPicture(label, rows)
