"""The pygame hall screen draws a known state: readable Chinese, the call, the lists, bounded memory.

The frame is saved as test-artifacts/hallscreen/screen.png for people to look at.
"""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pygame
import pygame.freetype
import pytest

from onestop.signage.hallscreen import draw
from onestop.signage.hallscreen.draw import Renderer
from onestop.signage.hallscreen.model import ScreenModel
from onestop.signage.hallscreen.text import CACHE_SIZE, MEASURE_CACHE_SIZE, find_font

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "hallscreen"
IN_CI = os.environ.get("CI", "").lower() == "true"
HALL_TZ = timezone(timedelta(hours=8))
WALL = datetime(2026, 11, 25, 9, 31, 2, tzinfo=HALL_TZ).timestamp()
QUEUES = [("social-security", "A", "社会保障"), ("civil-affairs", "B", "民政优抚"),
          ("residency", "C", "户籍证照"), ("business", "D", "企业代办"),
          ("payments", "E", "缴费咨询")]


@pytest.fixture
def video(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """pygame on SDL's dummy video driver (set before pygame initialises): no window needed."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    pygame.display.init()
    pygame.freetype.init()
    try:
        yield
    finally:
        pygame.quit()


def cjk_font() -> tuple[str, int] | None:
    found = find_font()
    if found is None and IN_CI:
        pytest.fail("no CJK font installed (fonts-noto-cjk): the hall screen cannot draw Chinese")
    return found


class Clocks:
    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = WALL


def iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, HALL_TZ).isoformat()


def ticket(tid: int, number: str, counter: int, name: str | None = None) -> dict[str, Any]:
    return {"id": tid, "number": number, "counter": counter, "counter_name": f"{counter}号窗口",
            "service_name": "城乡居民基本医疗保险参保", "service_name_en": "Resident medical insurance",
            "priority": "normal", "service_day": "2026-11-25", "resident_name": name}


def known_state(clocks: Clocks) -> ScreenModel:
    model = ScreenModel(monotonic=lambda: clocks.mono, wall=lambda: clocks.wall)
    recent = [ticket(i, f"{'ABCDE'[i % 5]}{i:03d}", 1 + i % 12) for i in range(11, 4, -1)]
    model.apply({"seq": 100, "type": "snapshot", "at": iso(clocks.wall), "data": {
        "seq": 100,
        "hall": {"name": "青枫街道政务服务中心", "name_en": "Qingfeng Centre"},
        "queues": [{"id": q, "prefix": p, "name": n, "name_en": q, "waiting": 3 * i + 1}
                   for i, (q, p, n) in enumerate(QUEUES)],
        "counters": [{"number": n, "name": f"{n}号窗口", "name_en": f"Window {n}"}
                     for n in range(1, 13)],
        "recent_calls": recent,
    }})
    model.apply({"seq": 101, "type": "ticket.called", "at": iso(clocks.wall), "data": {
        "ticket": ticket(12, "A012", 3, "张三"), "counter": {"number": 3, "name": "3号窗口"},
        "queues": {"social-security": 6}}})
    model.set_notices([{"id": 1, "title": "办事指南", "body": "社保卡补换可在自助机办理，无需排队。"},
                       {"id": 2, "title": "温馨提示", "body": "请保管好您的号票，过号请重新取号。"}])
    model.set_connected(True)
    model.tick()
    return model


def colour_count(surface: pygame.Surface, rect: pygame.Rect, colour: tuple[int, int, int]
                 ) -> int:
    sub = surface.subsurface(rect)
    return sum(1 for x in range(0, rect.width, 2) for y in range(0, rect.height, 2)
               if tuple(sub.get_at((x, y)))[:3] == colour)


def test_known_state_renders_readably_at_1080p(video: None) -> None:
    font = cjk_font()
    clocks = Clocks()
    model = known_state(clocks)
    assert len(model.calls) == 8 and model.flashing()
    renderer = Renderer((1920, 1080), "zh", font)
    surface = pygame.Surface((1920, 1080))
    renderer.draw(surface, model)  # the marquee starts at the right edge
    clocks.mono += draw.FLASH_PERIOD * 9.5  # an "off" phase: the number in gold on the panel
    renderer.draw(surface, model)  # ... and the notices have scrolled in by about 700 px
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / "screen.png"
    pygame.image.save(surface, str(out))
    assert pygame.image.load(str(out)).get_size() == (1920, 1080)

    call_area = pygame.Rect(60, 300, 1160, 300)
    assert colour_count(surface, call_area, draw.GOLD) > 2000, "the big number is drawn"
    assert colour_count(surface, pygame.Rect(1300, 240, 570, 540), draw.GOLD) > 1000
    assert colour_count(surface, pygame.Rect(30, 830, 1860, 140), draw.WHITE) > 500
    assert colour_count(surface, pygame.Rect(1100, 990, 800, 90), draw.GOLD) > 100, \
        "a notice title has scrolled into the marquee"
    if font is not None:
        face = renderer.text.fonts.regular
        assert face.get_metrics("正在叫号中文", size=40).count(None) == 0, \
            "the font in use has the Chinese glyphs"


def test_the_call_panel_flashes_then_settles(video: None) -> None:
    clocks = Clocks()
    model = known_state(clocks)
    renderer = Renderer((960, 540), "zh", cjk_font())
    surface = pygame.Surface((960, 540))
    corner = (renderer.px(40), renderer.px(300))
    renderer.draw(surface, model)
    assert tuple(surface.get_at(corner))[:3] == draw.PANEL_FLASH
    clocks.mono += 7
    renderer.draw(surface, model)
    assert tuple(surface.get_at(corner))[:3] == draw.PANEL


def test_english_screen_and_offline_banner(video: None) -> None:
    clocks = Clocks()
    model = known_state(clocks)
    model.set_connected(False)
    clocks.mono += 3.5
    renderer = Renderer((1920, 1080), "en", cjk_font())
    surface = pygame.Surface((1920, 1080))
    renderer.draw(surface, model)
    pygame.image.save(surface, str(ARTIFACTS / "screen-en-offline.png"))
    assert tuple(surface.get_at((5, 150)))[:3] == draw.BANNER


def test_without_a_cjk_font_it_still_draws(video: None) -> None:
    clocks = Clocks()
    renderer = Renderer((640, 360), "zh", None)
    surface = pygame.Surface((640, 360))
    renderer.draw(surface, known_state(clocks))
    assert renderer.text.fonts.font_file is None and len(renderer.text) > 0


def test_memory_stays_flat_over_ten_thousand_events_and_frames(video: None) -> None:
    clocks = Clocks()
    model = known_state(clocks)
    renderer = Renderer((320, 180), "zh", cjk_font())
    surface = pygame.Surface((320, 180))

    def step(i: int) -> None:
        clocks.mono += 1 / 60
        clocks.wall += 1.0  # a new clock string every frame
        model.apply({"seq": 102 + i, "type": "ticket.called", "at": iso(clocks.wall), "data": {
            "ticket": ticket(1000 + i, f"A{i % 1000:03d}", 1 + i % 12),
            "queues": {"social-security": i % 97, "payments": i % 53}}})
        if i % 50 == 0:
            model.set_notices([{"id": 1, "title": f"公告{i}", "body": "请保管好您的号票"}])
        model.tick()
        renderer.draw(surface, model)

    tracemalloc.start()  # before the warm-up: what it allocates and later frees is traced too
    try:
        for i in range(2_500):  # long enough for every bounded cache to fill up
            step(i)
        before = tracemalloc.get_traced_memory()[0]
        for i in range(2_500, 10_000):
            step(i)
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(model.calls) == 8
    assert len(renderer.text) <= CACHE_SIZE
    assert len(renderer.text._widths) <= MEASURE_CACHE_SIZE
    assert renderer.text.renders > CACHE_SIZE, "the test really churned the cache"
    assert growth < 256 * 1024, f"memory grew by {growth} bytes"


def test_the_app_runs_frames_offline_and_saves_a_screenshot(video: None, tmp_path: Path) -> None:
    from onestop.signage.hallscreen.app import run

    shot = tmp_path / "app.png"
    # Port 9 (discard) has no hall server: the client keeps retrying while frames are drawn.
    assert run("http://127.0.0.1:9", None, "zh", False, (640, 360), 1000, max_frames=5,
               screenshot=shot) == 0
    assert pygame.image.load(str(shot)).get_size() == (640, 360)


def test_onestop_screen_command_line() -> None:
    from onestop.cli import build_parser

    args = build_parser().parse_args(["screen", "--server", "http://10.0.0.5:8000", "--lang",
                                      "en", "--windowed", "--size", "1280x720", "--fps", "30"])
    assert (args.server, args.lang, args.windowed, args.size, args.fps, args.token) == (
        "http://10.0.0.5:8000", "en", True, (1280, 720), 30, None)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["screen", "--server", "x", "--size", "big"])


def test_paused_windows_lead_the_scrolling_line(video: None) -> None:
    clocks = Clocks()
    model = known_state(clocks)
    model.set_day({"phase": "lunch", "windows": [
        {"number": 5, "name": "5号窗口", "name_en": "Window 5", "state": "paused",
         "alternative_name": "6号窗口", "alternative_name_en": "Window 6"}]})
    renderer = Renderer((1920, 1080), "zh", cjk_font())
    surface = pygame.Surface((1920, 1080))
    renderer.draw(surface, model)
    texts = "".join(piece.text for piece in renderer._pieces)
    assert texts.startswith("5号窗口 暂停服务，请到6号窗口")
    assert renderer._pieces[0].colour == draw.NOTE
    clocks.mono += 6  # let the line scroll in, for the picture
    renderer.draw(surface, model)
    pygame.image.save(surface, str(ARTIFACTS / "screen-paused-window.png"))
