"""The hall's voice hears calls and recalls from the engine and speaks each once, in order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from onestop.queue.catalogue import VoiceDef
from onestop.queue.engine import QueueEngine
from onestop.signage.voice.espeak import EspeakMissingError, find_engine
from onestop.signage.voice_calls import HallVoice

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _need_espeak() -> None:
    try:
        find_engine()
    except EspeakMissingError as exc:
        if IN_CI:
            pytest.fail(f"espeak-ng needed under CI: {exc}")
        pytest.skip(str(exc))


def test_calls_and_recalls_are_spoken_to_wav_files(engine: QueueEngine, tmp_path: Path) -> None:
    _need_espeak()
    voice = HallVoice(VoiceDef(output="wav"), engine, tmp_path)
    voice.start()
    try:
        assert voice.ready.wait(60) and voice.problem is None
        engine.issue("elderly-card")
        called = engine.call_next(6)
        assert called is not None
        engine.recall(6)
        engine.issue("gas-payment")
        assert engine.call_next(11) is not None
        assert voice.announcer is not None and voice.announcer.wait_idle(60)
        spoken = [(e.number, str(e.window)) for e in voice.announcer.log]
        number = called["ticket"]["number"]
        assert spoken[:2] == [(number, "6"), (number, "6")]
        assert spoken[2][1] == "11" and len(spoken) == 3
        files = sorted(p.name for p in (tmp_path / "voice" / "calls").glob("*.wav"))
        assert len(files) == 3 and all(p.endswith(".wav") for p in files)
    finally:
        voice.stop()


def test_a_quiet_hall_builds_nothing(engine: QueueEngine, tmp_path: Path) -> None:
    voice = HallVoice(VoiceDef(output="none"), engine, tmp_path)
    voice.start()
    assert voice.ready.is_set() and voice.announcer is None
    voice.stop()
    assert not (tmp_path / "voice").exists()
