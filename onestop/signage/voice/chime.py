"""The ding-dong before each call, synthesised in code so every hall has one without a file."""

from __future__ import annotations

import math
from array import array

from onestop.signage.voice.pcm import FULL_SCALE, Pcm

DING_DONG = (659.25, 523.25)  # E5 then C5: the familiar two-tone hall chime
DING_DONG_DING = (523.25, 659.25, 783.99)  # C5 E5 G5 rising: a three-tone variant


def chime(rate: int, notes: tuple[float, ...] = DING_DONG, note_seconds: float = 0.45,
          level: float = 0.5) -> Pcm:
    """Bell-like notes (a fundamental with two soft partials, quick attack, exponential decay),
    each starting `note_seconds` after the last and ringing over the next a little."""
    ring = note_seconds * 1.6
    total = round((note_seconds * (len(notes) - 1) + ring) * rate)
    mix = [0.0] * total
    for k, freq in enumerate(notes):
        start = round(k * note_seconds * rate)
        length = min(round(ring * rate), total - start)
        attack, release = 0.005 * rate, 0.08 * rate
        for i in range(length):
            t = i / rate
            tail = min(1.0, (length - i) / release)  # taper the last 80 ms: no click at the end
            env = min(1.0, i / attack) * tail * math.exp(-t / (ring / 3))
            tone = (math.sin(2 * math.pi * freq * t)
                    + 0.3 * math.sin(2 * math.pi * 2 * freq * t)
                    + 0.1 * math.sin(2 * math.pi * 3 * freq * t))
            mix[start + i] += env * tone
    top = max(abs(x) for x in mix) or 1.0
    scale = level * FULL_SCALE / top
    return Pcm(array("h", (round(x * scale) for x in mix)), rate)
