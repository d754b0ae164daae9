"""The hall's voice: every call and recall, spoken once, in the order the windows made them.

Started in the background, because the first start builds the voice pack (under a second with
espeak-ng). A hall without espeak-ng or a sound card keeps working: the log says why it is
quiet, and the screens still show every call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from onestop.queue.catalogue import VoiceDef
from onestop.queue.engine import QueueEngine
from onestop.queue.ledger import Event
from onestop.signage.voice import (
    Announcer,
    AudioOutput,
    PygameOutput,
    WavDirOutput,
    build_default_pack,
    load_pack,
)

log = logging.getLogger(__name__)

SPOKEN = ("ticket.called", "ticket.recalled")


class HallVoice:
    def __init__(self, voice: VoiceDef, engine: QueueEngine, data_dir: Path) -> None:
        self.voice = voice
        self.engine = engine
        self.pack_dir = Path(voice.pack_dir) if voice.pack_dir else data_dir / "voice" / "cmn"
        self.clips_dir = Path(voice.clips_dir) if voice.clips_dir else data_dir / "voice" / "custom"
        self.wav_dir = Path(voice.wav_dir) if voice.wav_dir else data_dir / "voice" / "calls"
        self.announcer: Announcer | None = None
        self.problem: str | None = None
        self.ready = threading.Event()
        self._unsubscribe: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        if self.voice.output == "none":
            self.ready.set()
            return
        threading.Thread(target=self._open, name="voice-setup", daemon=True).start()

    def _open(self) -> None:
        try:
            build_default_pack(self.pack_dir)
            pack = load_pack(self.pack_dir, self.clips_dir)
            output: AudioOutput = (PygameOutput() if self.voice.output == "speaker"
                                   else WavDirOutput(self.wav_dir))
            announcer = Announcer(pack, output)
            announcer.start()
        except Exception as exc:  # no espeak-ng, no sound card, a broken recording
            self.problem = str(exc)
            log.warning("voice calling is off: %s", exc)
            self.ready.set()
            return
        with self._lock:
            self.announcer = announcer
            self._unsubscribe = self.engine.bus.subscribe(self._heard)
        log.info("voice calling on (%s, pack %s)", self.voice.output, self.pack_dir)
        self.ready.set()

    def _heard(self, events: Sequence[Event]) -> None:
        announcer = self.announcer
        for event in events:
            if event.type in SPOKEN:
                ticket = event.data.get("ticket") or {}
                if ticket.get("counter") is not None and announcer is not None:
                    announcer.announce(str(ticket["number"]), int(ticket["counter"]))

    def stop(self) -> None:
        self.ready.wait(10)
        with self._lock:
            if self._unsubscribe is not None:
                self._unsubscribe()
            if self.announcer is not None:
                self.announcer.stop(timeout=10)
