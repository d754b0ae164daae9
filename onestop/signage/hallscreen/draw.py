"""Draws a ScreenModel onto a pygame Surface: the same hall screen as /screen, for the TV's PC.

Laid out for 1920×1080 and scaled to any size: a header (hall name, date, weekday, clock), the
call being made now in large type (flashing for a few seconds when it is news), the last eight
calls, the waiting count per queue, and public notices scrolling along the bottom at a steady
speed (the offset comes from elapsed time, so a slow frame never makes the text jump back).
Each frame only fills rectangles and blits text surfaces the TextCache already holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import pygame

from onestop.signage.hallscreen.model import Call, ScreenModel
from onestop.signage.hallscreen.text import Colour, Fonts, TextCache
from onestop.signage.screen import TEXTS

BASE_W, BASE_H = 1920, 1080
MARQUEE_PX_PER_S = 150  # about three characters a second at 50 px, as on /screen
MARQUEE_CHUNK = 24  # characters per pre-rendered marquee piece; long bodies are many pieces
MARQUEE_GAP = 120  # base px between notices
FLASH_PERIOD = 0.5  # seconds per on/off phase of the flashing call panel

BG: Colour = (10, 32, 64)
HEADER: Colour = (6, 22, 46)
PANEL: Colour = (20, 58, 104)
PANEL_FLASH: Colour = (178, 34, 34)
ROW_LATEST: Colour = (34, 86, 146)
BANNER: Colour = (190, 30, 30)
MARQUEE_LABEL: Colour = (178, 34, 34)
WHITE: Colour = (255, 255, 255)
SOFT: Colour = (190, 208, 230)
GOLD: Colour = (255, 211, 77)
NOTE: Colour = (255, 120, 110)
GREEN: Colour = (120, 220, 140)

WEEKDAYS_ZH = "一二三四五六日"
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


@dataclass(frozen=True)
class Piece:
    """One pre-measured stretch of the marquee: its text, weight, colour and x offset."""

    text: str
    bold: bool
    colour: Colour
    x: int
    width: int


class Renderer:
    """Draws the hall screen for one language and surface size; keep one for the whole run."""

    def __init__(self, size: tuple[int, int], lang: str, font_file: tuple[str, int] | None
                 ) -> None:
        self.width, self.height = size
        self.lang = lang if lang in TEXTS else "zh"
        self.t = TEXTS[self.lang]
        self.scale = min(self.width / BASE_W, self.height / BASE_H)
        self.text = TextCache(Fonts(font_file))
        self._marquee_key: tuple[object, ...] | None = None
        self._pieces: list[Piece] = []
        self._marquee_len = 0
        self._marquee_still = False
        self._marquee_start = 0.0

    # -- helpers ---------------------------------------------------------------------------

    def px(self, value: float) -> int:
        """A base-1080p length at this surface's scale."""
        return max(1, round(value * self.scale))

    def pick(self, zh: str, en: str) -> str:
        """The English text on an English screen when there is one, else the Chinese."""
        return en if self.lang == "en" and en else zh

    def blit(self, surface: pygame.Surface, text: str, size: float, colour: Colour,
             pos: tuple[int, int], anchor: str = "topleft", bold: bool = False,
             max_width: int | None = None) -> pygame.Rect:
        """Blit cached `text` with its `anchor` point (a pygame.Rect attribute) at `pos`."""
        if not text:
            return pygame.Rect(pos, (0, 0))
        px = self.px(size)
        if max_width is not None:
            px = self.text.fit(text, px, max_width, bold)
        image = self.text.render(text, px, colour, bold)
        rect = image.get_rect(**{anchor: pos})
        surface.blit(image, rect)
        return rect

    def row(self, surface: pygame.Surface, parts: list[tuple[str, float, Colour, bool]],
            centre: tuple[int, int], max_width: int) -> None:
        """Several texts side by side on one baseline-ish line, centred, shrunk to fit."""
        parts = [p for p in parts if p[0]]
        gap = self.px(18)
        widths = [self.text.width(text, self.px(size), bold) for text, size, _, bold in parts]
        total = sum(widths) + gap * (len(parts) - 1)
        shrink = min(1.0, max_width / total) if total else 1.0
        if shrink < 1.0:
            widths = [self.text.width(text, max(8, int(self.px(size) * shrink)), bold)
                      for text, size, _, bold in parts]
            total = sum(widths) + int(gap * shrink) * (len(parts) - 1)
        x = centre[0] - total // 2
        for (text, size, colour, bold), width in zip(parts, widths, strict=True):
            px = max(8, int(self.px(size) * shrink))
            image = self.text.render(text, px, colour, bold)
            surface.blit(image, image.get_rect(midleft=(x, centre[1])))
            x += width + int(gap * shrink)

    # -- the frame -------------------------------------------------------------------------

    def draw(self, surface: pygame.Surface, model: ScreenModel) -> None:
        """One full frame of the hall screen."""
        surface.fill(BG)
        self._header(surface, model)
        self._current(surface, model)
        self._recent(surface, model)
        self._queues(surface, model)
        self._marquee(surface, model)
        if model.offline():
            self._banner(surface)

    def _header(self, surface: pygame.Surface, model: ScreenModel) -> None:
        h = self.px(110)
        surface.fill(HEADER, (0, 0, self.width, h))
        mid = h // 2
        name = self.pick(model.hall_name, model.hall_name_en) or self.t["title"]
        now = model.server_now()
        clock = self.blit(surface, now.strftime("%H:%M:%S"), 64, WHITE,
                          (self.width - self.px(40), mid), "midright", bold=True)
        if self.lang == "en":
            day = f"{now.day} {MONTHS_EN[now.month - 1]} {now.year}  {WEEKDAYS_EN[now.weekday()]}"
        else:
            day = f"{now.year}年{now.month}月{now.day}日  星期{WEEKDAYS_ZH[now.weekday()]}"
        date = self.blit(surface, day, 36, SOFT, (clock.left - self.px(40), mid), "midright")
        self.blit(surface, name, 54, WHITE, (self.px(40), mid), "midleft", bold=True,
                  max_width=max(self.px(200), date.left - self.px(80)))

    def _current(self, surface: pygame.Surface, model: ScreenModel) -> None:
        box = pygame.Rect(self.px(30), self.px(135), self.px(1220), self.px(670))
        flashing = model.flashing() and int(model.flash_elapsed() / FLASH_PERIOD) % 2 == 0
        pygame.draw.rect(surface, PANEL_FLASH if flashing else PANEL, box,
                         border_radius=self.px(18))
        self.blit(surface, self.t["now_calling"], 50, GOLD,
                  (box.left + self.px(40), box.top + self.px(28)), bold=True)
        call = model.current
        inner = box.width - self.px(80)
        if call is None:
            self.blit(surface, self.t["idle"], 58, WHITE, box.center, "center",
                      max_width=inner)
            return
        number_colour = WHITE if flashing else GOLD
        self.row(surface, [
            (self.t["call_before"], 84, WHITE, False),
            (call.number, 230, number_colour, True),
            (self.t["call_after"], 84, WHITE, False),
        ], (box.centerx, box.top + self.px(270)), inner)
        self.row(surface, [
            (self.t["window_before"], 84, WHITE, False),
            (self.pick(call.window, call.window_en), 120, WHITE, True),
            (self.t["window_after"], 84, WHITE, False),
        ], (box.centerx, box.top + self.px(470)), inner)
        detail = self.pick(call.service, call.service_en)
        extra = [(call.name, 46, SOFT, False)] if call.name else []
        if call.priority == "green":
            extra.append((self.t["green_channel"], 46, GREEN, True))
        self.row(surface, [(detail, 46, SOFT, False), *extra],
                 (box.centerx, box.top + self.px(600)), inner)

    def _recent(self, surface: pygame.Surface, model: ScreenModel) -> None:
        box = pygame.Rect(self.px(1280), self.px(135), self.px(610), self.px(670))
        pygame.draw.rect(surface, PANEL, box, border_radius=self.px(18))
        self.blit(surface, self.t["recent"], 46, GOLD,
                  (box.left + self.px(30), box.top + self.px(22)), bold=True)
        if not model.calls:
            self.blit(surface, self.t["recent_empty"], 44, SOFT, box.center, "center")
            return
        top = box.top + self.px(100)
        row_h = self.px(70)
        for i, call in enumerate(model.calls[:8]):
            y = top + i * row_h
            if i == 0:
                surface.fill(ROW_LATEST, (box.left + self.px(12), y, box.width - self.px(24),
                                          row_h - self.px(6)))
            self._recent_row(surface, call, box, y + (row_h - self.px(6)) // 2)

    def _recent_row(self, surface: pygame.Surface, call: Call, box: pygame.Rect, mid: int
                    ) -> None:
        left = box.left + self.px(30)
        number = self.blit(surface, call.number, 50, GOLD, (left, mid), "midleft", bold=True)
        if call.name:
            self.blit(surface, call.name, 36, SOFT, (number.right + self.px(16), mid), "midleft")
        arrow_x = box.left + self.px(330)
        self.blit(surface, "→", 40, SOFT, (arrow_x, mid), "midright")
        self.blit(surface, self.pick(call.window, call.window_en), 44, WHITE,
                  (box.right - self.px(30), mid), "midright",
                  max_width=box.right - self.px(30) - arrow_x - self.px(20))

    def _queues(self, surface: pygame.Surface, model: ScreenModel) -> None:
        queues = model.queues
        top, h = self.px(830), self.px(140)
        if not queues:
            return
        gap = self.px(16)
        left = self.px(30)
        w = (self.width - 2 * left - gap * (len(queues) - 1)) // len(queues)
        for i, q in enumerate(queues):
            box = pygame.Rect(left + i * (w + gap), top, w, h)
            pygame.draw.rect(surface, PANEL, box, border_radius=self.px(14))
            prefix = self.blit(surface, q.prefix, 52, GOLD,
                               (box.left + self.px(20), box.top + self.px(42)), "midleft",
                               bold=True)
            self.blit(surface, self.pick(q.name, q.name_en), 38, WHITE,
                      (prefix.right + self.px(14), box.top + self.px(42)), "midleft",
                      max_width=box.right - prefix.right - self.px(30))
            count = "–" if q.waiting is None else str(q.waiting)
            self.row(surface, [
                (self.t["waiting_label"], 36, SOFT, False),
                (count, 60, WHITE, True),
                (self.t["persons_unit"], 36, SOFT, False),
            ], (box.centerx, box.top + self.px(102)), box.width - self.px(20))

    # -- the notices marquee --------------------------------------------------------------------

    def _marquee(self, surface: pygame.Surface, model: ScreenModel) -> None:
        top = self.px(985)
        h = self.height - top
        label_w = self.px(330)
        surface.fill(HEADER, (0, top, self.width, h))
        surface.fill(MARQUEE_LABEL, (0, top, label_w, h))
        mid = top + h // 2
        self.blit(surface, self.t["notices"], 40, WHITE, (label_w // 2, mid), "center",
                  bold=True, max_width=label_w - self.px(20))
        box = pygame.Rect(label_w + self.px(24), top, self.width - label_w - self.px(48), h)
        self._layout_marquee(model, box.width)
        now = model.monotonic()
        if self._marquee_still:
            offset = 0
            start_x = box.left
        else:
            span = box.width + self._marquee_len
            offset = int((now - self._marquee_start) * MARQUEE_PX_PER_S * self.scale) % span
            start_x = box.right - offset
        previous = surface.get_clip()
        surface.set_clip(box)
        size = self.px(44)
        for piece in self._pieces:
            x = start_x + piece.x
            if x + piece.width < box.left:
                continue
            if x > box.right:
                break
            image = self.text.render(piece.text, size, piece.colour, piece.bold)
            surface.blit(image, image.get_rect(midleft=(x, mid)))
        surface.set_clip(previous)

    def _layout_marquee(self, model: ScreenModel, box_width: int) -> None:
        """Measure the notices into pieces once per change; frames then only blit."""
        notices = model.showing_notices()
        notes = [self.pick(zh, en) for zh, en in model.day_notes]
        items = [(self.pick(n.title, n.title_en), self.pick(n.body, n.body_en)) for n in notices]
        welcome = not items and not notes
        if welcome:
            hall = self.pick(model.hall_name, model.hall_name_en)
            items = [("", self.t["notices_empty"].replace("{hall}", hall))]
        key = (tuple(notes), tuple(items), box_width)
        if key == self._marquee_key:
            return
        self._marquee_key = key
        self._marquee_start = model.monotonic()
        size = self.px(44)
        pieces: list[Piece] = []
        x = 0
        for note in notes:  # paused windows first: a resident walking to one must see it
            for start in range(0, len(note), MARQUEE_CHUNK):
                chunk = note[start:start + MARQUEE_CHUNK]
                width = self.text.width(chunk, size, True)
                pieces.append(Piece(chunk, True, NOTE, x, width))
                x += width
            x += self.px(MARQUEE_GAP)
        for title, body in items:
            for text, bold, colour in ((title, True, GOLD), (body, False, WHITE)):
                for start in range(0, len(text), MARQUEE_CHUNK):
                    chunk = text[start:start + MARQUEE_CHUNK]
                    width = self.text.width(chunk, size, bold)
                    pieces.append(Piece(chunk, bold, colour, x, width))
                    x += width
                if text:
                    x += self.px(30)
            x += self.px(MARQUEE_GAP)
        self._pieces = pieces
        self._marquee_len = x
        self._marquee_still = welcome and x - self.px(MARQUEE_GAP) <= box_width - self.px(48)

    def _banner(self, surface: pygame.Surface) -> None:
        rect = pygame.Rect(0, self.px(110), self.width, self.px(80))
        surface.fill(BANNER, rect)
        self.blit(surface, self.t["offline"], 44, WHITE, rect.center, "center", bold=True)
