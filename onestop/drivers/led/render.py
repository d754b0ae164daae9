"""Text to LED pixels: for graphic controllers (which take bitmaps, not text) and for the
emulators' PNGs, so a person can look at what a board shows.

Each line gets an equal band of the screen's height; the font is the largest that fits the band
(and the width, for standing text). Pixels are on or off per colour, as on a real module.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from onestop.drivers.fonts import cjk_font
from onestop.drivers.led.content import Effect, Geometry, ScreenContent, TextLine

BLACK = (0, 0, 0)


def render_content(content: ScreenContent, geometry: Geometry) -> Image.Image:
    """The screen as an RGB image of exactly geometry.width × geometry.height LED pixels.

    A scrolling line is drawn from its start (its first screenful), as a photo would catch it."""
    image = Image.new("RGB", (geometry.width, geometry.height), BLACK)
    lines = content.lines or (TextLine(""),)
    band = geometry.height // len(lines)
    for i, line in enumerate(lines):
        _draw_line(image, line, 0, i * band, geometry.width, band)
    return image


def _draw_line(image: Image.Image, line: TextLine, x0: int, y0: int, width: int,
               height: int) -> None:
    if not line.text or height <= 0:
        return
    size = max(8, height)
    font = cjk_font(size)
    draw = ImageDraw.Draw(image)
    # Shrink until the text fits its band (and the width, unless it scrolls anyway).
    while size > 8:
        left, top, right, bottom = draw.textbbox((0, 0), line.text, font=font)
        fits_width = line.effect is Effect.SCROLL or right - left <= width
        if bottom - top <= height and fits_width:
            break
        size -= 1
        font = cjk_font(size)
    left, top, right, bottom = draw.textbbox((0, 0), line.text, font=font)
    x = x0 + max(0, (width - (right - left)) // 2) - left if line.effect is Effect.STATIC else x0
    y = y0 + (height - (bottom - top)) // 2 - top
    layer = Image.new("L", image.size, 0)
    ImageDraw.Draw(layer).text((x, y), line.text, font=font, fill=255)
    # LEDs are on or off: threshold the anti-aliased glyphs.
    mask = layer.point(lambda v: 255 if v >= 96 else 0)
    image.paste(line.colour.rgb, (0, 0), mask)


def save_png(content: ScreenContent, geometry: Geometry, path: Path, scale: int = 6) -> Path:
    """Write the screen enlarged with visible LED dots, readable by a person."""
    small = render_content(content, geometry)
    return save_pixels_png(small, path, scale)


def save_pixels_png(pixels: Image.Image, path: Path, scale: int = 6) -> Path:
    big = Image.new("RGB", (pixels.width * scale, pixels.height * scale), (16, 16, 16))
    draw = ImageDraw.Draw(big)
    data = pixels.convert("RGB").load()
    assert data is not None
    for y in range(pixels.height):
        for x in range(pixels.width):
            colour = data[x, y]
            if colour != BLACK:
                draw.ellipse((x * scale + 1, y * scale + 1, (x + 1) * scale - 2,
                              (y + 1) * scale - 2), fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    big.save(path)
    return path
