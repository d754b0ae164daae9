"""espeak-ng as the offline speech engine that generates the default voice pack.

Two ways to reach it, tried in this order:

1. the `espeakng-loader` wheel (a Python dependency that ships libespeak-ng 1.52 and its data), so a
   fresh machine with only Python can build the pack; called in-process through ctypes;
2. the `espeak-ng` program on PATH (Debian package `espeak-ng`).

Chinese words are given as tone-numbered pinyin to the `cmn-latn-pinyin` voice rather than as
characters to `cmn`: Debian's espeak-ng 1.51 turns characters into pinyin and then reads the tone
digits aloud in English (请 comes out as "king three"), while pinyin input is spoken correctly by
both 1.51 and 1.52. Letters go to the `cmn` voice ("Latin as English"), which reads their names.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any, Protocol

from onestop.signage.voice.pcm import Pcm, from_bytes, read_wav


class EspeakMissingError(RuntimeError):
    """Neither the espeakng-loader library nor the espeak-ng program can be used."""


class SpeechEngine(Protocol):
    """Speaks one short text into PCM."""

    @property
    def name(self) -> str:
        """Engine and version, e.g. "espeak-ng 1.52 (espeakng-loader)", kept in the manifest."""
        ...

    def synth(self, text: str, voice: str, wpm: int) -> Pcm:
        """Speak `text` with `voice` at `wpm` words a minute."""
        ...

    def phonemes(self, text: str, voice: str) -> str:
        """espeak-ng's phoneme mnemonics for `text`: shows what it will say, e.g. "(en)" when it
        switches to English."""
        ...


_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_ESPEAK_RATE = 1
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class LibraryEngine:
    """libespeak-ng from the espeakng-loader wheel, driven through ctypes.

    The library keeps one global state per process, so every call holds one lock."""

    _lock = threading.Lock()
    _lib: ctypes.CDLL | None = None
    _rate = 0
    _version = ""

    def __init__(self) -> None:
        with self._lock:
            if LibraryEngine._lib is None:
                self._load()
        self._chunks: list[bytes] = []

    @classmethod
    def _load(cls) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise EspeakMissingError("the espeakng-loader package is not installed") from exc
        try:
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data = espeakng_loader.get_data_path()
        except (OSError, RuntimeError) as exc:
            raise EspeakMissingError(f"espeakng-loader cannot load libespeak-ng: {exc}") from exc
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int,
        ]
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, data.encode(), _INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise EspeakMissingError(f"libespeak-ng failed to initialise with data at {data}")
        lib.espeak_SetSynthCallback(_callback)
        cls._lib, cls._rate = lib, rate
        cls._version = (lib.espeak_Info(None) or b"?").decode()

    @property
    def name(self) -> str:
        """Library version, as espeak_Info reports it."""
        return f"espeak-ng {self._version} (espeakng-loader)"

    def synth(self, text: str, voice: str, wpm: int) -> Pcm:
        """Synthesise synchronously; the callback collects the samples."""
        lib = LibraryEngine._lib
        assert lib is not None
        with self._lock:
            _collected.clear()
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EspeakMissingError(f"libespeak-ng has no voice {voice!r}")
            lib.espeak_SetParameter(_ESPEAK_RATE, wpm, 0)
            data = text.encode()
            err = lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8,
                                   None, None)
            if err != 0:
                raise RuntimeError(f"libespeak-ng failed on {text!r} (error {err})")
            return from_bytes(b"".join(_collected), self._rate)

    def phonemes(self, text: str, voice: str) -> str:
        """espeak_TextToPhonemes, clause by clause."""
        lib = LibraryEngine._lib
        assert lib is not None
        with self._lock:
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EspeakMissingError(f"libespeak-ng has no voice {voice!r}")
            pointer = ctypes.pointer(ctypes.c_char_p(text.encode()))
            out = []
            while pointer.contents.value:
                out.append((lib.espeak_TextToPhonemes(pointer, _CHARS_UTF8, 0) or b"").decode())
            return " ".join(out)


_collected: list[bytes] = []


def _on_samples(wav: Any, count: int, events: Any) -> int:
    """Called by libespeak-ng with each chunk of samples (under LibraryEngine's lock)."""
    if wav and count > 0:
        _collected.append(ctypes.string_at(wav, 2 * count))
    return 0


_callback = _CALLBACK(_on_samples)  # module-level, so the C side's pointer stays alive


class BinaryEngine:
    """The espeak-ng program: `espeak-ng -v <voice> -s <wpm> -w clip.wav <text>`."""

    def __init__(self, program: str = "espeak-ng") -> None:
        path = shutil.which(program)
        if path is None:
            raise EspeakMissingError(f"{program} is not on PATH (Debian: apt install espeak-ng)")
        self.program = path
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30,
                             check=False).stdout
        # "eSpeak NG text-to-speech: 1.51  Data at: ..."
        self._version = out.split(":", 1)[1].split()[0] if ":" in out else "?"

    @property
    def name(self) -> str:
        """Program version, as `espeak-ng --version` reports it."""
        return f"espeak-ng {self._version} (program)"

    def synth(self, text: str, voice: str, wpm: int) -> Pcm:
        """Run the program once per clip into a temporary WAV."""
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "clip.wav"
            proc = subprocess.run(
                [self.program, "-v", voice, "-s", str(wpm), "-w", str(out), text],
                capture_output=True, text=True, timeout=60, check=False,
            )
            if proc.returncode != 0 or not out.exists():
                raise RuntimeError(f"espeak-ng failed on {text!r}: {proc.stderr.strip()}")
            return read_wav(out)

    def phonemes(self, text: str, voice: str) -> str:
        """`espeak-ng -q -x`."""
        proc = subprocess.run([self.program, "-q", "-x", "-v", voice, text], capture_output=True,
                              text=True, timeout=60, check=True)
        return proc.stdout.strip()


def find_engine(prefer: str = "auto") -> SpeechEngine:
    """The engine to build with: "library", "program", or "auto" (library first, then program)."""
    order = {"auto": ("library", "program"), "library": ("library",),
             "program": ("program",)}.get(prefer)
    if order is None:
        raise ValueError(f"unknown espeak-ng engine {prefer!r}: use auto, library or program")
    problems = []
    for kind in order:
        try:
            return LibraryEngine() if kind == "library" else BinaryEngine()
        except EspeakMissingError as exc:
            problems.append(str(exc))
    raise EspeakMissingError(
        "cannot generate the voice pack, espeak-ng is unavailable: " + "; ".join(problems)
        + ". Install the Python package espeakng-loader or the espeak-ng program, "
        "or record the clips yourself (see onestop.signage.voice.phrases)."
    )
