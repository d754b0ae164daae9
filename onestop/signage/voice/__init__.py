"""Offline voice calling: "请 A012 号 到 3号窗口 办理" joined from a pack of short recorded clips.

The pieces, each in its own module: `phrases` (ticket + window → clip names), `pack` (the clip
folder, generated with espeak-ng or recorded by the hall), `chime` (the ding-dong), `compose`
(clips → one PCM buffer or WAV file), `outputs` (pygame speakers, WAV folder, recorder) and
`announcer` (the queue that plays one announcement completely, then the next).
"""

from onestop.signage.voice.announcer import Announcer, LogEntry
from onestop.signage.voice.compose import Announcement, render, render_wav
from onestop.signage.voice.outputs import (
    AudioOutput,
    PygameOutput,
    RecordingOutput,
    WavDirOutput,
)
from onestop.signage.voice.pack import (
    MissingClipsError,
    VoicePack,
    build_default_pack,
    load_pack,
)
from onestop.signage.voice.phrases import announcement_clips

__all__ = [
    "Announcement",
    "Announcer",
    "AudioOutput",
    "LogEntry",
    "MissingClipsError",
    "PygameOutput",
    "RecordingOutput",
    "VoicePack",
    "WavDirOutput",
    "announcement_clips",
    "build_default_pack",
    "load_pack",
    "render",
    "render_wav",
]
