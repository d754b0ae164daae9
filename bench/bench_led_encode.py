"""LED frame encoding: how long each protocol takes to turn a screen's content into bytes.

Prints the figures and replaces the "LED frame encoding" section of BENCHMARKS.md.
Run: .venv/bin/python bench/bench_led_encode.py
"""

from __future__ import annotations

import platform
import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from onestop.drivers.led.alpha import AlphaEncoder
from onestop.drivers.led.content import Colour, Effect, Geometry, ScreenContent, TextLine
from onestop.drivers.led.linescreen import LineScreenEncoder
from onestop.drivers.led.onbon import OnbonGraphicEncoder, OnbonTextEncoder

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 300

WINDOW = Geometry(128, 32)
BOARD = Geometry(192, 48)


def window_call(i: int) -> ScreenContent:
    return ScreenContent((TextLine(f"A{i % 1000:03d} 请到{i % 12 + 1}号窗口", Colour.RED),
                          TextLine(f"{i % 12 + 1}号窗口", Colour.GREEN)))


def english_call(i: int) -> ScreenContent:
    return ScreenContent((TextLine(f"A{i % 1000:03d} Window {i % 12 + 1}", Colour.RED),))


def hall_board(i: int) -> ScreenContent:
    return ScreenContent((
        TextLine(f"请 A{i % 1000:03d} 号到{i % 12 + 1}号窗口", Colour.RED),
        TextLine("等候：社会保障 3人  民政优抚 0人  户籍证照 5人", Colour.GREEN, Effect.SCROLL),
        TextLine("本周六上午开放预约办理户籍业务", Colour.YELLOW, Effect.SCROLL)))


def measure(encode: Callable[[int, ScreenContent], bytes],
            content: Callable[[int], ScreenContent]) -> tuple[float, float, int]:
    times: list[float] = []
    size = 0
    for i in range(ROUNDS):
        c = content(i)  # built outside the timed part: only encoding is measured
        start = time.perf_counter()
        size = len(encode(1, c))
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)], size


def main() -> None:
    cases: list[tuple[str, Callable[[int, ScreenContent], bytes], Callable[[int], ScreenContent]]] = [
        ("line, window 128×32, 2 lines Chinese", LineScreenEncoder(WINDOW).encode, window_call),
        ("onbon-text, window 128×32", OnbonTextEncoder(WINDOW).encode, window_call),
        ("onbon-text, hall board 192×48, 3 lines", OnbonTextEncoder(BOARD).encode, hall_board),
        ("onbon-graphic rgb565, window 128×32", OnbonGraphicEncoder(WINDOW).encode, window_call),
        ("onbon-graphic dual, window 128×32",
         OnbonGraphicEncoder(WINDOW, colour_mode="dual").encode, window_call),
        ("alpha, window 128×32, ASCII", AlphaEncoder(WINDOW).encode, english_call),
        ("alpha, window 128×32, Chinese as dots", AlphaEncoder(WINDOW).encode, window_call),
    ]
    rows = []
    for name, encode, content in cases:
        p50, p99, size = measure(encode, content)
        rows.append(f"| {name} | {p50:.3f} ms | {p99:.3f} ms | {size} | {size / 960:.2f} s |")
        print(rows[-1])
    section = "\n".join([
        "## LED frame encoding",
        "",
        "Command: `.venv/bin/python bench/bench_led_encode.py`  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}; "
        f"{ROUNDS} rounds each",
        "",
        "One screen's content to the bytes of its frame(s). Text protocols carry GB2312/GBK text; "
        "graphic ones (Onbon BX-5E/5Q, Alpha dots pictures) render the text with the CJK font "
        "first, which is where their time goes. The last column is the time the bytes take on a "
        "9600-baud line: the reason the sample hall puts text controllers on RS-485 and graphic "
        "ones on TCP or 115200 baud.",
        "",
        "| protocol, screen | p50 | p99 | bytes | at 9600 baud |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ])
    bench = ROOT / "BENCHMARKS.md"
    text = bench.read_text(encoding="utf-8")
    pattern = re.compile(r"## LED frame encoding\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    bench.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
