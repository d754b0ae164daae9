"""Joining the chime and the clips of one call into a single buffer, with short even gaps."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from onestop.signage.voice.chime import chime
from onestop.signage.voice.pack import VoicePack
from onestop.signage.voice.pcm import Pcm, concat, silence, write_wav
from onestop.signage.voice.phrases import CHIME, announcement_clips

GAP = 0.08
"""Between clips: long enough to hear syllables apart, short enough to sound like one sentence."""
GAP_AFTER_CHIME = 0.3
"""After the chime, so the first word is not masked by its ring."""
GAP_AROUND_NUMBER = 0.15
"""Before and after the ticket number, the part people listen for."""


@dataclass(frozen=True)
class Announcement:
    """One call, ready to play: what was asked for, the clips chosen and the joined audio."""

    number: str
    window: str
    clips: tuple[str, ...]
    audio: Pcm


def compose(pack: VoicePack, clips: list[str]) -> Pcm:
    """Join clips with the gaps above; "chime" is the pack's chime.wav or the synthesised one."""
    rate = pack.sample_rate
    parts: list[Pcm] = []
    for i, name in enumerate(clips):
        if name == CHIME:
            parts.append(pack.clips.get(CHIME) or _chime(rate))
        else:
            parts.append(pack.clip(name))
        if i + 1 < len(clips):
            if name == CHIME:
                gap = GAP_AFTER_CHIME
            elif name == "qing" or clips[i + 1] == "hao":
                gap = GAP_AROUND_NUMBER
            else:
                gap = GAP
            parts.append(silence(gap, rate))
    return concat(parts, rate)


@lru_cache(maxsize=4)
def _chime(rate: int) -> Pcm:
    """The synthesised chime, made once per sample rate (it takes ~0.1 s in plain Python)."""
    return chime(rate)


def render(pack: VoicePack, number: str, window: int | str) -> Announcement:
    """The announcement for a ticket called to a window (raises ValueError on a bad number)."""
    clips = announcement_clips(number, window)
    return Announcement(number.strip().upper(), str(window).strip(), tuple(clips),
                        compose(pack, clips))


def render_wav(announcement: Announcement, path: Path) -> None:
    """Save an announcement as a mono 16-bit WAV (for a hall PC without speakers, or to check)."""
    write_wav(Path(path), announcement.audio)
