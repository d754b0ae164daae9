"""Where announcements go: the hall's speakers (pygame), a folder of WAV files, or a recorder.

Every output has the same three calls: `open(sample_rate)` at start-up, `play(announcement)` which
returns only once the whole announcement has been heard, and `close()` at shutdown.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from onestop.signage.voice.compose import Announcement, render_wav
from onestop.signage.voice.pcm import resample

log = logging.getLogger(__name__)


class AudioOutput(Protocol):
    """Plays announcements one at a time; `play` blocks until the announcement has finished."""

    def open(self, sample_rate: int) -> None:
        """Acquire the device for audio at this rate."""
        ...

    def play(self, announcement: Announcement) -> None:
        """Play it completely, then return."""
        ...

    def close(self) -> None:
        """Release the device."""
        ...


class PygameOutput:
    """The hall's speakers through pygame.mixer (SDL_AUDIODRIVER from the environment applies;
    `dummy` plays in real time into nothing, for tests and silent PCs)."""

    TAIL_SLACK = 2.0
    """How long past the sound's length to wait for the channel before giving up on it."""

    def __init__(self) -> None:
        self._mixer: Any = None
        self._format: tuple[int, int, int] = (0, 0, 0)

    def open(self, sample_rate: int) -> None:
        """Initialise the mixer at the pack's rate, 16-bit mono."""
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        pygame.mixer.init(frequency=sample_rate, size=-16, channels=1, buffer=1024)
        got = pygame.mixer.get_init()
        if not got:
            raise RuntimeError("pygame.mixer did not initialise (no audio device?)")
        self._mixer, self._format = pygame.mixer, (int(got[0]), int(got[1]), int(got[2]))
        log.info("pygame mixer open: %s Hz, %s-bit, %s channel(s), driver %s", got[0],
                 abs(got[1]), got[2], os.environ.get("SDL_AUDIODRIVER", "default"))

    def play(self, announcement: Announcement) -> None:
        """Play the sound and wait for its channel: sleep its length, then check in 10 ms steps."""
        if self._mixer is None:
            raise RuntimeError("PygameOutput.play before open()")
        rate, size, channels = self._format
        if abs(size) != 16:
            raise RuntimeError(f"pygame mixer opened with {size}-bit samples, not 16-bit")
        samples = resample(announcement.audio, rate).samples
        if channels > 1:
            wide = array("h", bytes(2 * len(samples) * channels))
            for c in range(channels):
                wide[c::channels] = samples
            samples = wide
        sound = self._mixer.Sound(buffer=samples.tobytes())
        length = float(sound.get_length())
        channel = sound.play()
        if channel is None:
            raise RuntimeError("pygame mixer has no free channel")
        deadline = time.monotonic() + length + self.TAIL_SLACK
        time.sleep(length)
        while channel.get_busy():
            if time.monotonic() > deadline:
                log.warning("audio channel still busy %.1f s after a %.1f s announcement; "
                            "moving on", self.TAIL_SLACK, length)
                break
            time.sleep(0.01)

    def close(self) -> None:
        """Shut the mixer down."""
        if self._mixer is not None:
            self._mixer.quit()
            self._mixer = None


@dataclass(frozen=True)
class Played:
    """One announcement an output handled, with when it started and finished (time.time())."""

    announcement: Announcement
    started: float
    finished: float


class RecordingOutput:
    """Keeps every announcement with its timestamps. With `speed` it takes as long as real
    playback would (divided by `speed`), so ordering and overlap can be checked quickly."""

    def __init__(self, speed: float | None = None) -> None:
        self.speed = speed
        self.played: list[Played] = []
        self.sample_rate = 0
        self._lock = threading.Lock()

    def open(self, sample_rate: int) -> None:
        """Remember the rate it was opened with."""
        self.sample_rate = sample_rate

    def play(self, announcement: Announcement) -> None:
        """Record it, taking its (scaled) playing time."""
        started = time.time()
        if self.speed:
            time.sleep(announcement.audio.duration / self.speed)
        with self._lock:
            self.played.append(Played(announcement, started, time.time()))

    def close(self) -> None:
        """Nothing to release."""


class WavDirOutput(RecordingOutput):
    """Writes each announcement to `folder` as `0001-A012-w3.wav`: a hall PC without speakers,
    or a record of what was said."""

    def __init__(self, folder: Path, speed: float | None = None) -> None:
        super().__init__(speed)
        self.folder = Path(folder)

    def open(self, sample_rate: int) -> None:
        """Create the folder."""
        super().open(sample_rate)
        self.folder.mkdir(parents=True, exist_ok=True)

    def play(self, announcement: Announcement) -> None:
        """Write the WAV, then record it."""
        seq = len(self.played) + 1
        render_wav(announcement, self.folder /
                   f"{seq:04d}-{announcement.number}-w{announcement.window}.wav")
        super().play(announcement)
