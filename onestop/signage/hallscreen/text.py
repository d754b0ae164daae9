"""Fonts and pre-rendered text for the hall TV: render a string once, blit it every frame.

Rasterising Chinese at 200 px is the slow part of a frame; blitting a ready surface is cheap. So
every piece of text is rendered once and kept in a bounded LRU keyed by (text, size, colour,
weight): the clock adds a new entry each second and old ones fall out, so memory stays flat.
The font comes from onestop.drivers.fonts (Noto CJK, WenQuanYi, …); without one, pygame's own
font draws Latin text and the log says Chinese will not be readable.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path

import pygame
import pygame.freetype

from onestop.drivers.fonts import PREFERRED_FACES, cjk_font_file

log = logging.getLogger(__name__)

Colour = tuple[int, int, int]
#: Proportional faces read better across a hall than the monospaced one the printer prefers.
SCREEN_FACES = ("Noto Sans CJK SC", "Source Han Sans SC", *PREFERRED_FACES)
CACHE_SIZE = 400  # rendered strings kept; one screen needs about 80
MEASURE_CACHE_SIZE = 1000  # widths kept (a frame measures about 60 strings)


def find_font() -> tuple[str, int] | None:
    """The CJK font file and face index to draw with, or None (a warning is logged)."""
    found = cjk_font_file(SCREEN_FACES)
    if found is None:
        log.warning("no CJK font found (install fonts-noto-cjk or set ONESTOP_CJK_FONT): "
                    "the hall screen falls back to pygame's default font and Chinese will not "
                    "be readable")
    return found


def _bold_file(path: str) -> str | None:
    """NotoSansCJK-Regular.ttc → NotoSansCJK-Bold.ttc when installed beside it."""
    candidate = Path(path.replace("Regular", "Bold"))
    return str(candidate) if "Regular" in path and candidate.exists() else None


class Fonts:
    """A regular and a bold face of the same family, at any pixel size."""

    def __init__(self, font_file: tuple[str, int] | None) -> None:
        if not pygame.freetype.get_init():
            pygame.freetype.init()
        self.font_file = font_file
        if font_file is None:
            self.regular = pygame.freetype.Font(None, 0)
            self.bold = pygame.freetype.Font(None, 0)
            self.bold.strong = True
            return
        path, index = font_file
        self.regular = pygame.freetype.Font(path, 0, font_index=index)
        bold_path = _bold_file(path)
        if bold_path is not None:
            self.bold = pygame.freetype.Font(bold_path, 0, font_index=index)
        else:
            self.bold = pygame.freetype.Font(path, 0, font_index=index)
            self.bold.strong = True
        for font in (self.regular, self.bold):
            font.antialiased = True
            font.pad = True  # consistent line boxes, so baselines line up

    def face(self, bold: bool) -> pygame.freetype.Font:
        """The face for a weight."""
        return self.bold if bold else self.regular


class TextCache:
    """Rendered strings and their measures, each in a bounded least-recently-used map."""

    def __init__(self, fonts: Fonts, size: int = CACHE_SIZE,
                 measure_size: int = MEASURE_CACHE_SIZE) -> None:
        self.fonts = fonts
        self.size = size
        self.measure_size = measure_size
        self._surfaces: OrderedDict[tuple[str, int, Colour, bool], pygame.Surface] = OrderedDict()
        self._widths: OrderedDict[tuple[str, int, bool], int] = OrderedDict()
        self.renders = 0  # cache misses, for the benchmark

    def __len__(self) -> int:
        return len(self._surfaces)

    def render(self, text: str, size: int, colour: Colour, bold: bool = False) -> pygame.Surface:
        """`text` at `size` px in `colour`, from the cache when it was drawn before."""
        key = (text, size, colour, bold)
        surface = self._surfaces.get(key)
        if surface is not None:
            self._surfaces.move_to_end(key)
            return surface
        surface, _ = self.fonts.face(bold).render(text, colour, size=max(1, size))
        if pygame.display.get_surface() is not None:
            surface = surface.convert_alpha()  # the display's pixel format blits fastest
        self.renders += 1
        self._surfaces[key] = surface
        if len(self._surfaces) > self.size:
            self._surfaces.popitem(last=False)
        return surface

    def width(self, text: str, size: int, bold: bool = False) -> int:
        """How wide `text` renders, without rendering it."""
        key = (text, size, bold)
        width = self._widths.get(key)
        if width is None:
            width = int(self.fonts.face(bold).get_rect(text, size=max(1, size)).width) if text else 0
            self._widths[key] = width
            if len(self._widths) > self.measure_size:
                self._widths.popitem(last=False)
        else:
            self._widths.move_to_end(key)
        return width

    def fit(self, text: str, size: int, max_width: int, bold: bool = False) -> int:
        """The largest size ≤ `size` at which `text` fits in `max_width` (long names, English)."""
        width = self.width(text, size, bold)
        if width <= max_width or width == 0:
            return size
        fitted = max(8, int(size * max_width / width))
        while fitted > 8 and self.width(text, fitted, bold) > max_width:
            fitted -= max(1, fitted // 20)
        return fitted
