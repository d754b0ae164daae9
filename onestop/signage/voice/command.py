"""`onestop voice build` and `onestop voice say`: the voice pack and a test call from a terminal.

The pack lives in `<data dir>/voice/cmn`; a hall's own recordings go in `<data dir>/voice/custom`
(same clip names, see `phrases`) and are used in place of the generated clips.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from onestop.signage.voice.announcer import Announcer
from onestop.signage.voice.compose import render, render_wav
from onestop.signage.voice.espeak import EspeakMissingError, find_engine
from onestop.signage.voice.outputs import PygameOutput
from onestop.signage.voice.pack import MANIFEST, MissingClipsError, build_default_pack, load_pack

log = logging.getLogger(__name__)


def default_pack_dir(data_dir: Path) -> Path:
    """Where the generated Mandarin pack is cached."""
    return data_dir / "voice" / "cmn"


def default_custom_dir(data_dir: Path) -> Path:
    """Where a hall puts its own recorded clips."""
    return data_dir / "voice" / "custom"


def cmd_build(pack_dir: Path, engine: str = "auto") -> int:
    """Generate (or confirm the cached) default pack and say where it is."""
    began = time.monotonic()
    try:
        pack = build_default_pack(pack_dir, find_engine(engine))
    except EspeakMissingError as exc:
        print(f"onestop: {exc}", file=sys.stderr)
        return 2
    print(f"voice pack ready: {pack.folder} ({len(pack.clips)} clips, {pack.sample_rate} Hz, "
          f"{pack.source}) in {time.monotonic() - began:.1f} s")
    return 0


def cmd_say(number: str, window: str, pack_dir: Path, custom_dir: Path | None,
            wav: Path | None) -> int:
    """Say one call on the speakers, or write it to a WAV file."""
    try:
        try:
            pack = load_pack(pack_dir, custom_dir)
        except MissingClipsError:
            if (pack_dir / MANIFEST).exists():
                raise  # a generated pack that lost clips: say which, do not paper over it
            build_default_pack(pack_dir)  # first use: generate the default pack
            pack = load_pack(pack_dir, custom_dir)
        announcement = render(pack, number, window)
    except (MissingClipsError, EspeakMissingError, ValueError) as exc:
        print(f"onestop: {exc}", file=sys.stderr)
        return 2
    if wav is not None:
        render_wav(announcement, wav)
        print(f"wrote {wav} ({announcement.audio.duration:.2f} s)")
        return 0
    announcer = Announcer(pack, PygameOutput())
    announcer.start()
    try:
        announcer.announce(number, window)
        done = announcer.wait_idle(timeout=announcement.audio.duration + 10)
    finally:
        announcer.stop()
    entry = announcer.log[-1] if announcer.log else None
    if not done or entry is None or entry.error:
        print(f"onestop: playback failed: {entry.error if entry else 'timed out'}",
              file=sys.stderr)
        return 3
    print(f"said {' '.join(announcement.clips)} ({announcement.audio.duration:.2f} s)")
    return 0
