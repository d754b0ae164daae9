"""Finding a font that can draw Chinese, for everything that turns text into pixels.

The ESC/POS emulator's PNGs, LED bitmaps for graphic controllers and the pygame hall screen all
need one; a hall PC may have Noto CJK (Debian `fonts-noto-cjk`), WenQuanYi or Droid. With none,
callers fall back to Pillow's or pygame's default font and the log says Chinese is unreadable.
`ONESTOP_CJK_FONT` names a font file to use instead of searching.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
from pathlib import Path

from PIL import ImageFont

log = logging.getLogger(__name__)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

#: Faces tried in order inside a font collection: Simplified Chinese first.
PREFERRED_FACES = ("Noto Sans Mono CJK SC", "Noto Sans CJK SC", "WenQuanYi Zen Hei Mono",
                   "WenQuanYi Micro Hei Mono", "Droid Sans Fallback")
KNOWN_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
               "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
               "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
               "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
FONT_GLOBS = ("NotoSansCJK*.tt[cf]", "NotoSansSC*.[ot]tf", "SourceHanSans*.tt[cf]",
              "wqy-*.tt[cf]", "DroidSansFallback*.ttf")


@functools.cache
def cjk_font_file(faces: tuple[str, ...] = PREFERRED_FACES) -> tuple[str, int] | None:
    """(path, face index) of the first installed font that draws Chinese, or None."""
    for path in _font_files():
        index = _face_index(path, faces)
        if index is not None:
            return path, index
    return None


@functools.cache
def cjk_font(size: int, faces: tuple[str, ...] = PREFERRED_FACES) -> Font:
    """A Pillow font of `size` px that draws Chinese; Pillow's default (with a warning) if none."""
    found = cjk_font_file(faces)
    if found is None:
        log.warning("no CJK font found (install fonts-noto-cjk or set ONESTOP_CJK_FONT): "
                    "Chinese will not be readable in rendered pictures")
        return ImageFont.load_default(size)
    path, index = found
    return ImageFont.truetype(path, size, index=index)


def _font_files() -> list[str]:
    override = os.environ.get("ONESTOP_CJK_FONT", "")
    files = [override] if override and Path(override).exists() else []
    files += [p for p in KNOWN_FONTS if Path(p).exists()]
    if shutil.which("fc-list"):
        try:
            listing = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True,
                                     text=True, timeout=10, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            listing = ""
        files += sorted(line.split(":")[0].strip() for line in listing.splitlines() if line)
    root = Path("/usr/share/fonts")
    for pattern in FONT_GLOBS:
        files += sorted(str(p) for p in root.rglob(pattern)) if root.exists() else []
    return list(dict.fromkeys(files))


def _face_index(path: str, faces: tuple[str, ...]) -> int | None:
    names: list[str] = []
    for index in range(16):  # a .ttc holds several faces; a .ttf has only index 0
        try:
            names.append(ImageFont.truetype(path, 12, index=index).getname()[0] or "")
        except OSError:
            break
    for name in faces:
        if name in names:
            return names.index(name)
    return 0 if names else None
