"""The hall TV program: a window (full screen by default), the network thread and the frame loop.

Esc, Q or closing the window quits. `max_frames` and `screenshot` let tests and the benchmark
run a bounded number of frames and keep the last one as a PNG.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import pygame
import pygame.freetype

from onestop.signage.hallscreen.client import HallClient
from onestop.signage.hallscreen.draw import Renderer
from onestop.signage.hallscreen.model import ScreenModel
from onestop.signage.hallscreen.options import add_arguments
from onestop.signage.hallscreen.speaker import DEFAULT_VOICE_DIR, open_speaker
from onestop.signage.hallscreen.text import find_font

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5  # how often the model checks for a new service day


def run(server: str, token: str | None, lang: str, fullscreen: bool, size: tuple[int, int],
        fps: int, max_frames: int | None = None, screenshot: Path | None = None,
        voice_dir: Path | None = None) -> int:
    """Show the hall screen until Esc/Q/close (or `max_frames`); returns the exit status.
    With `voice_dir`, calls are also spoken on this PC's speakers."""
    pygame.display.init()  # not pygame.init(): audio opens only when the screen speaks
    pygame.freetype.init()
    flags = pygame.FULLSCREEN | pygame.SCALED if fullscreen else 0
    try:
        screen = pygame.display.set_mode(size, flags)
    except pygame.error as exc:
        log.error("cannot open the display: %s", exc)
        pygame.quit()
        return 1
    pygame.display.set_caption("onestop hall screen")
    if fullscreen:
        pygame.mouse.set_visible(False)
    renderer = Renderer(screen.get_size(), lang, find_font())
    model = ScreenModel()
    speaker = open_speaker(voice_dir) if voice_dir is not None else None
    client = HallClient(server, token)
    client.start()
    clock = pygame.time.Clock()
    frames = 0
    last_tick = -TICK_SECONDS
    try:
        while max_frames is None or frames < max_frames:
            if _quit_requested():
                break
            client.pump(model)
            if speaker is not None:
                speaker.follow(model)
            now = time.monotonic()
            if now - last_tick >= TICK_SECONDS:
                model.tick()
                last_tick = now
            renderer.draw(screen, model)
            pygame.display.flip()
            frames += 1
            clock.tick(fps)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            pygame.image.save(screen, str(screenshot))
    finally:
        client.stop()
        if speaker is not None:
            speaker.announcer.stop(timeout=10)
        pygame.quit()
    return 0


def _quit_requested() -> bool:
    for event in pygame.event.get():
        if event.type == pygame.QUIT:
            return True
        if event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_q):
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m onestop.signage.hallscreen`."""
    parser = argparse.ArgumentParser(prog="python -m onestop.signage.hallscreen",
                                     description="The hall screen on a TV, without a browser.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run_args(args)


def run_args(args: argparse.Namespace) -> int:
    """`run` with parsed options (shared by `onestop screen`)."""
    voice_dir = (args.voice_dir or DEFAULT_VOICE_DIR) if args.voice else None
    return run(args.server, args.token, args.lang, not args.windowed, args.size, args.fps,
               voice_dir=voice_dir)
