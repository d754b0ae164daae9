"""Benchmark (not a test): frame time of the pygame hall screen at 1920×1080.

    .venv/bin/python bench/bench_hallscreen.py [--frames 600]

SDL's dummy video driver (no window, software surfaces, as a headless run allows); a full state
(8 recent calls, 5 queues, 2 notices scrolling) and a new live call every second, so the call
panel flashes and new numbers are rendered during the run. Prints mean/p50/p99 frame times and
the frame rate they allow, and replaces the "pygame hall screen" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame
import pygame.freetype

from onestop.signage.hallscreen.draw import Renderer
from onestop.signage.hallscreen.model import ScreenModel
from onestop.signage.hallscreen.text import find_font

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1920, 1080)
HALL_TZ = timezone(timedelta(hours=8))
TARGET_FPS = 60
QUEUES = [("social-security", "A", "社会保障"), ("civil-affairs", "B", "民政优抚"),
          ("residency", "C", "户籍证照"), ("business", "D", "企业代办"),
          ("payments", "E", "缴费咨询")]


def ticket(tid: int, number: str, counter: int) -> dict[str, Any]:
    return {"id": tid, "number": number, "counter": counter, "counter_name": f"{counter}号窗口",
            "service_name": "城乡居民基本医疗保险参保", "priority": "normal",
            "service_day": datetime.now(HALL_TZ).strftime("%Y-%m-%d"), "resident_name": "张三"}


def full_state() -> ScreenModel:
    model = ScreenModel()
    now = datetime.now(HALL_TZ).isoformat()
    model.apply({"seq": 100, "type": "snapshot", "at": now, "data": {
        "seq": 100, "hall": {"name": "青枫街道政务服务中心", "name_en": "Qingfeng Centre"},
        "queues": [{"id": q, "prefix": p, "name": n, "name_en": q, "waiting": 12 + i}
                   for i, (q, p, n) in enumerate(QUEUES)],
        "counters": [{"number": n, "name": f"{n}号窗口", "name_en": f"Window {n}"}
                     for n in range(1, 13)],
        "recent_calls": [ticket(i, f"{'ABCDE'[i % 5]}{i:03d}", 1 + i % 12)
                         for i in range(20, 12, -1)],
    }})
    model.set_notices([
        {"id": 1, "title": "办事指南", "body": "社保卡补换、医保参保登记可在大厅自助机办理，无需排队。"
                                          "如需帮助请到导办台咨询。"},
        {"id": 2, "title": "温馨提示", "body": "请保管好您的号票，过号请重新取号；绿色通道为老年人、"
                                          "残疾人、孕妇及现役军人提供优先服务。"},
    ])
    model.set_connected(True)
    model.tick()
    return model


def call(model: ScreenModel, i: int) -> None:
    model.apply({"seq": 100 + i, "type": "ticket.called",
                 "at": datetime.now(HALL_TZ).isoformat(),
                 "data": {"ticket": ticket(100 + i, f"A{i % 1000:03d}", 1 + i % 12),
                          "queues": {"social-security": 30 - i % 30}}})


def measure(frames: int) -> dict[str, Any]:
    pygame.display.init()
    pygame.freetype.init()
    screen = pygame.display.set_mode(SIZE)
    font = find_font()
    model = full_state()
    renderer = Renderer(SIZE, "zh", font)
    for i in range(60):  # warm-up: fonts loaded, the first strings rendered
        renderer.draw(screen, model)
        pygame.display.flip()
        if i == 0:
            call(model, 0)
    renders_before = renderer.text.renders
    times = []
    calls = 0
    started = time.perf_counter()
    for i in range(frames):
        t0 = time.perf_counter()
        if i % TARGET_FPS == 0:  # a new live call every second of 60 fps frames
            calls += 1
            call(model, calls)
        model.tick()
        renderer.draw(screen, model)
        pygame.display.flip()
        pygame.event.pump()
        times.append((time.perf_counter() - t0) * 1000)
    wall = time.perf_counter() - started
    renders = renderer.text.renders - renders_before
    pygame.quit()
    ordered = sorted(times)
    return {
        "mean": statistics.fmean(times),
        "p50": statistics.median(times),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max": ordered[-1],
        "fps": frames / wall,
        "renders": renders,
        "calls": calls,
        "font": font[0] if font else "pygame default (no CJK font)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    r = measure(args.frames)
    line = (f"frame p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, mean {r['mean']:.2f} ms, "
            f"max {r['max']:.2f} ms; {r['fps']:.0f} fps unthrottled")
    print(line)
    met = r["p99"] < 1000 / TARGET_FPS
    section = "\n".join([
        "## pygame hall screen",
        "",
        "Command: `.venv/bin/python bench/bench_hallscreen.py`  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}; "
        f"pygame {pygame.version.ver} (SDL {'.'.join(map(str, pygame.get_sdl_version()))}); "
        f"nproc {os.cpu_count()}, load average {load_before:.2f} before the run  ",
        f"Font: `{r['font']}`",
        "",
        f"{args.frames} frames of the full 1920×1080 screen drawn by "
        "`onestop.signage.hallscreen.draw.Renderer` onto the display surface of SDL's dummy video "
        "driver (software, no window), unthrottled (no `clock.tick`): header with the clock, the "
        "call panel, 8 recent calls, 5 queues and two notices scrolling in the marquee, with a "
        f"new live call every 60 frames ({r['calls']} calls: the panel flashes, new numbers and "
        f"counts are rendered; {r['renders']} text surfaces rendered during the run, every other "
        "piece of text came from the cache). Time per frame = model.tick + draw + display.flip.",
        "",
        "| measure | result |",
        "|---|---|",
        f"| frame time | p50 **{r['p50']:.2f} ms**, p99 **{r['p99']:.2f} ms**, mean "
        f"{r['mean']:.2f} ms, max {r['max']:.2f} ms |",
        f"| frame rate, unthrottled | {r['fps']:.0f} fps |",
        "",
        f"Target 60 fps (p99 < 16.7 ms per frame): **{'met' if met else 'not met'}**. A real "
        "display adds the cost of presenting the frame (GPU upload or scaling with "
        "`FULLSCREEN | SCALED`), which the dummy driver does not have.",
        "",
    ])
    bench = ROOT / "BENCHMARKS.md"
    text = bench.read_text(encoding="utf-8") if bench.exists() else "# Benchmarks\n\n"
    pattern = re.compile(r"## pygame hall screen\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    bench.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
