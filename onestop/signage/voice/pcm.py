"""Mono 16-bit PCM buffers and the few sample operations the voice pack needs, in plain Python.

Clips are short (under a second each), so stdlib `array` and `wave` are fast enough and spare the
hall PC a numeric library.
"""

from __future__ import annotations

import math
import sys
import wave
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

FULL_SCALE = 32767


@dataclass(frozen=True)
class Pcm:
    """Mono signed 16-bit samples at a sample rate: the one audio shape used everywhere here."""

    samples: array[int]
    rate: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.rate

    def to_bytes(self) -> bytes:
        """Little-endian bytes, as WAV files and pygame's mixer expect."""
        data = array("h", self.samples)
        if data.itemsize != 2:  # pragma: no cover - every platform we run on has 2-byte shorts
            raise RuntimeError("array('h') is not 16-bit on this platform")
        if sys.byteorder == "big":  # pragma: no cover
            data.byteswap()
        return data.tobytes()


def from_bytes(data: bytes, rate: int) -> Pcm:
    """Little-endian 16-bit bytes back into a Pcm."""
    samples = array("h")
    samples.frombytes(data[: len(data) - len(data) % 2])
    if sys.byteorder == "big":  # pragma: no cover
        samples.byteswap()
    return Pcm(samples, rate)


def silence(seconds: float, rate: int) -> Pcm:
    """A stretch of digital silence, for the gaps between clips."""
    return Pcm(array("h", bytes(2 * round(seconds * rate))), rate)


def concat(parts: Iterable[Pcm], rate: int) -> Pcm:
    """Join buffers that share one sample rate."""
    out = array("h")
    for part in parts:
        if part.rate != rate:
            raise ValueError(f"cannot join {part.rate} Hz audio into a {rate} Hz buffer")
        out.extend(part.samples)
    return Pcm(out, rate)


def read_wav(path: Path) -> Pcm:
    """Read a 16-bit PCM WAV (mono, or stereo mixed down), the format halls record clips in."""
    with wave.open(str(path), "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        data = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError(f"{path}: {8 * width}-bit samples; voice clips must be 16-bit PCM")
    pcm = from_bytes(data, rate)
    if channels == 1:
        return pcm
    s = pcm.samples
    mono = array("h", (sum(s[i : i + channels]) // channels for i in range(0, len(s), channels)))
    return Pcm(mono, rate)


def write_wav(path: Path, pcm: Pcm) -> None:
    """Write a mono 16-bit WAV file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(pcm.rate)
        w.writeframes(pcm.to_bytes())


def resample(pcm: Pcm, rate: int) -> Pcm:
    """Linear-interpolation resampling: enough for speech clips recorded at another rate."""
    if pcm.rate == rate or not pcm.samples:
        return Pcm(pcm.samples, rate)
    s = pcm.samples
    n_out = max(1, round(len(s) * rate / pcm.rate))
    step = pcm.rate / rate
    last = len(s) - 1
    out = array("h", bytes(2 * n_out))
    for i in range(n_out):
        pos = i * step
        j = int(pos)
        if j >= last:
            out[i] = s[last]
            continue
        frac = pos - j
        out[i] = round(s[j] + (s[j + 1] - s[j]) * frac)
    return Pcm(out, rate)


def rms(samples: array[int] | list[int]) -> float:
    """Root mean square level, 0..32767."""
    if not samples:
        return 0.0
    return math.sqrt(sum(x * x for x in samples) / len(samples))


def trim_silence(pcm: Pcm, threshold: float = 0.02, window: float = 0.01,
                 margin: float = 0.015) -> Pcm:
    """Cut leading and trailing quiet (windows below `threshold` of full scale), keeping a small
    margin so consonants are not clipped; the gaps between clips are then ours to choose."""
    s = pcm.samples
    size = max(1, round(window * pcm.rate))
    level = threshold * FULL_SCALE
    loud = [i for i in range(0, len(s), size) if rms(s[i : i + size]) >= level]
    if not loud:
        return Pcm(array("h"), pcm.rate)
    keep = round(margin * pcm.rate)
    start = max(0, loud[0] - keep)
    end = min(len(s), loud[-1] + size + keep)
    return Pcm(s[start:end], pcm.rate)


def normalise(pcm: Pcm, target_rms: float = 0.12, peak: float = 0.89) -> Pcm:
    """Bring a clip to a common loudness (RMS of its loud part), never above `peak` full scale,
    so clips generated or recorded at different levels sound alike when joined."""
    s = pcm.samples
    if not s:
        return pcm
    size = max(1, pcm.rate // 100)
    chunks = [s[i : i + size] for i in range(0, len(s), size)]
    levels = [rms(c) for c in chunks]
    loudest = max(levels)
    voiced = [c for c, lv in zip(chunks, levels, strict=True) if lv >= 0.1 * loudest]
    level = rms([x for c in voiced for x in c])
    top = max(abs(x) for x in s)
    if level == 0 or top == 0:
        return pcm
    gain = min(target_rms * FULL_SCALE / level, peak * FULL_SCALE / top)
    return Pcm(array("h", (round(x * gain) for x in s)), pcm.rate)


def fade(pcm: Pcm, seconds: float = 0.005) -> Pcm:
    """Short linear fade in and out, so joins do not click."""
    s = array("h", pcm.samples)
    n = min(len(s) // 2, round(seconds * pcm.rate))
    for i in range(n):
        g = i / n
        s[i] = round(s[i] * g)
        s[-1 - i] = round(s[-1 - i] * g)
    return Pcm(s, pcm.rate)
