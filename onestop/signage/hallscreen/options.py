"""The command-line options of the hall screen, apart from pygame so `onestop --help` stays light."""

from __future__ import annotations

import argparse
from pathlib import Path


def parse_size(text: str) -> tuple[int, int]:
    """'1920x1080' → (1920, 1080); argparse reports a bad value."""
    try:
        w, h = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1920x1080, not {text!r}") from None
    if w < 160 or h < 90:
        raise argparse.ArgumentTypeError("size must be at least 160x90")
    return w, h


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `onestop screen` and `python -m onestop.signage.hallscreen`."""
    parser.add_argument("--server", required=True, metavar="URL",
                        help="the hall server, e.g. http://192.168.1.10:8000")
    parser.add_argument("--token", help="a screen device token (halls without public_screen)")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="screen language")
    parser.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    parser.add_argument("--size", type=parse_size, default=(1920, 1080), metavar="WxH",
                        help="drawing size (default 1920x1080; full screen scales it)")
    parser.add_argument("--fps", type=int, default=60, help="frames per second (default 60)")
    parser.add_argument("--voice", action="store_true",
                        help="also speak each call on this PC's speakers")
    parser.add_argument("--voice-dir", type=Path, metavar="DIR",
                        help="voice pack folder (default ~/.local/share/onestop/voice; the "
                             "hall's own recordings go in DIR/custom)")
