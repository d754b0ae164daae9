"""The announcer: calls are queued and each is played completely before the next starts.

A clerk may press "call" and "recall" in quick succession, and two windows may call at once; in a
hall a call cut off halfway is a call nobody heard, so nothing here interrupts playback. The queue
is bounded: when it overflows the oldest waiting call is dropped (and logged) rather than letting
the hall hear minutes-old calls.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from onestop.signage.voice.compose import render
from onestop.signage.voice.outputs import AudioOutput
from onestop.signage.voice.pack import VoicePack
from onestop.signage.voice.phrases import announcement_clips

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogEntry:
    """One call as the hall heard it: times are time.time(); `error` is set if playback failed."""

    number: str
    window: str
    started: float
    finished: float
    error: str | None = None


class Announcer:
    """Plays queued calls one after another on a worker thread."""

    def __init__(self, pack: VoicePack, output: AudioOutput, max_queue: int = 50,
                 log_size: int = 1000) -> None:
        self.pack = pack
        self.output = output
        self.max_queue = max_queue
        self._queue: deque[tuple[str, str]] = deque()
        self._log: deque[LogEntry] = deque(maxlen=log_size)
        self._cond = threading.Condition()
        self._busy = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Open the output at the pack's rate and start the worker."""
        if self._thread is not None:
            raise RuntimeError("Announcer already started")
        self.output.open(self.pack.sample_rate)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="voice-announcer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the announcement playing now, drop those still waiting, close the output."""
        thread = self._thread
        if thread is None:
            return
        with self._cond:
            self._stopping = True
            if self._queue:
                log.info("voice: stopping, %d queued call(s) not announced", len(self._queue))
            self._queue.clear()
            self._cond.notify_all()
        thread.join(timeout)
        if thread.is_alive():
            log.warning("voice: worker still playing after %.0f s; leaving it", timeout)
        self._thread = None
        self.output.close()

    def announce(self, number: str, window: int | str) -> None:
        """Queue a call and return at once (ValueError here if the number or window is malformed)."""
        announcement_clips(number, window)
        with self._cond:
            if len(self._queue) >= self.max_queue:
                old = self._queue.popleft()
                log.warning("voice: queue full (%d); dropped the oldest call %s → window %s",
                            self.max_queue, *old)
            self._queue.append((number, str(window)))
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is queued or playing; False if `timeout` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    @property
    def pending(self) -> int:
        """Calls waiting (not counting the one playing)."""
        with self._cond:
            return len(self._queue)

    @property
    def log(self) -> list[LogEntry]:
        """Calls played so far, oldest first (the last `log_size`)."""
        with self._cond:
            return list(self._log)

    def _run(self) -> None:
        """Worker: take the oldest call, play it to the end, record it, repeat."""
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._stopping)
                if self._stopping:
                    return
                number, window = self._queue.popleft()
                self._busy = True
            started = time.time()
            error = None
            try:
                self.output.play(render(self.pack, number, window))
            except Exception as exc:  # a failing speaker must not stop later calls
                error = f"{type(exc).__name__}: {exc}"
                log.exception("voice: could not announce %s → window %s", number, window)
            with self._cond:
                self._log.append(LogEntry(number.strip().upper(), window, started, time.time(),
                                          error))
                self._busy = False
                self._cond.notify_all()
