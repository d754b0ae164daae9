"""Speaking calls on the hall TV's own speakers: the mini-PC behind the TV is usually the one
wired to the hall's loudspeakers.

It speaks exactly the calls the screen flashes, so a call replayed while catching up after an
outage is shown quietly and never spoken late.
"""

from __future__ import annotations

import logging
from pathlib import Path

from onestop.signage.hallscreen.model import ScreenModel
from onestop.signage.voice import (
    Announcer,
    AudioOutput,
    PygameOutput,
    build_default_pack,
    load_pack,
)

log = logging.getLogger(__name__)

DEFAULT_VOICE_DIR = Path.home() / ".local" / "share" / "onestop" / "voice"


class CallSpeaker:
    def __init__(self, announcer: Announcer) -> None:
        self.announcer = announcer
        self._spoken = 0

    def follow(self, model: ScreenModel) -> None:
        """Announce the call the model has just started flashing, if any (called every frame)."""
        if model.flashes > self._spoken and model.current is not None:
            self.announcer.announce(model.current.number, model.current.counter)
        self._spoken = model.flashes


def open_speaker(voice_dir: Path, output: AudioOutput | None = None) -> CallSpeaker | None:
    """Build (or reuse) the voice pack under `voice_dir` and start speaking; None, with the
    reason in the log, when this PC cannot speak (no espeak-ng pack, no sound card)."""
    try:
        build_default_pack(voice_dir / "cmn")
        pack = load_pack(voice_dir / "cmn", voice_dir / "custom")
        announcer = Announcer(pack, output or PygameOutput())
        announcer.start()
    except Exception as exc:
        log.warning("the screen will not speak: %s", exc)
        return None
    return CallSpeaker(announcer)
