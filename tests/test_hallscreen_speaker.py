"""The TV speaks exactly the calls it flashes: live calls and recalls, never catch-up replays."""

from __future__ import annotations

from pathlib import Path

from test_hallscreen_model import FakeTime, called, day, make_model, snapshot, ticket
from test_voice_calls import _need_espeak

from onestop.signage.hallscreen.speaker import open_speaker
from onestop.signage.voice import RecordingOutput


def test_live_calls_and_recalls_are_spoken_replays_are_not(tmp_path: Path) -> None:
    _need_espeak()
    output = RecordingOutput()
    speaker = open_speaker(tmp_path, output)
    assert speaker is not None
    try:
        t = FakeTime()
        m = make_model(t)
        m.apply(snapshot(t, seq=10))
        t.advance(120)
        m.begin_catch_up(head=11, opened_wall=t.wall)
        m.apply(called(t, 11, ticket(1, "A001", 1, day(t.wall)), at=t.wall - 60))  # replayed
        speaker.follow(m)
        t.advance(2)
        m.apply(called(t, 12, ticket(2, "B002", 5, day(t.wall))))
        speaker.follow(m)
        speaker.follow(m)  # every frame asks; the call is spoken once
        t.advance(10)
        m.apply(called(t, 13, ticket(2, "B002", 5, day(t.wall)), kind="ticket.recalled"))
        speaker.follow(m)
        assert speaker.announcer.wait_idle(60)
        assert [(e.number, str(e.window)) for e in speaker.announcer.log] == [
            ("B002", "5"), ("B002", "5")]
        assert len(output.played) == 2
    finally:
        speaker.announcer.stop(timeout=10)


def test_a_pc_that_cannot_speak_still_shows_the_screen(tmp_path: Path) -> None:
    broken = tmp_path / "cmn"
    broken.write_text("not a folder")  # the pack cannot be written: no voice, no crash
    assert open_speaker(tmp_path, RecordingOutput()) is None
