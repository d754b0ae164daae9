"""One RS-485 line (or TCP link) shared by many LED screens, written by one paced thread.

A screen shows only its latest frame, so the bus keeps only the latest wanted frame per address:
a burst of calls can never build a backlog, and a frame a screen already has is not sent again.
Calls (urgent) overtake notices. The writer paces itself to the line speed, so frames wait here,
where a newer one can still replace them, rather than in the adapter's buffer. On any transport
error it reopens with exponential backoff and resends every screen's current frame, because the
screens may have lost power too. The caller never blocks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from onestop.drivers.transports import Transport

log = logging.getLogger(__name__)

INITIAL_BACKOFF = 0.2
UTILISATION_WINDOW = 10.0
MAX_ADDRESS = 254


@dataclass(frozen=True)
class BusHealth:
    """The bus as a status page or the hall's device list reports it."""

    state: str  # "online" | "reconnecting" | "stopped"
    ok: bool
    detail: str | None
    bytes_sent: int
    frames_sent: int
    utilisation: float  # share of line capacity used over the last ~10 s, 0..1
    pending: int  # screens whose wanted frame is not yet sent


@dataclass
class _Want:
    frame: bytes
    urgent: bool
    since: int  # order of first wanting, kept when a newer frame replaces an unsent one


class LedBus:
    """Latest-frame-per-address writer for many screens on one line; see the module doc."""

    def __init__(self, name: str, transport: Transport, baudrate: int = 9600, *,
                 bits_per_byte: int = 10, max_backoff: float = 30.0,
                 on_health: Callable[[BusHealth], None] | None = None) -> None:
        if baudrate <= 0 or bits_per_byte <= 0:
            raise ValueError("baudrate and bits_per_byte must be positive")
        self.name = name
        self.transport = transport
        self.seconds_per_byte = bits_per_byte / baudrate
        self.max_backoff = max(INITIAL_BACKOFF, max_backoff)
        self.on_health = on_health
        self._cond = threading.Condition()
        self._current: dict[int, tuple[bytes, bool]] = {}  # every address's wanted frame
        self._pending: dict[int, _Want] = {}  # wanted but not yet written
        self._sent: dict[int, bytes] = {}  # what each address last got since the line came up
        self._in_flight: tuple[int, bytes] | None = None  # being written right now
        self._seq = 0
        self._next_write_at = 0.0
        self._busy: deque[tuple[float, float]] = deque()  # line-time intervals of recent writes
        self._bytes_sent = 0
        self._frames_sent = 0
        self._state = "stopped"
        self._detail: str | None = "not started"
        self._started_at = 0.0
        self._reported = ("stopped", False)
        self._stopping = False
        self._thread: threading.Thread | None = None

    # -- the caller's side: all return at once --------------------------------------------

    def start(self) -> None:
        """Start the writer thread; it opens the port itself, so a dead port never blocks."""
        with self._cond:
            if self._thread is not None:
                raise RuntimeError(f"LED bus {self.name} already started")
            self._stopping = False
            self._state, self._detail = "reconnecting", f"opening {self.transport.name}"
            self._started_at = time.monotonic()
            self._thread = threading.Thread(target=self._run, name=f"led-bus {self.name}",
                                            daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop writing (unsent frames are dropped), join the thread and close the port."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("LED bus %s: writer thread did not stop within %.1f s",
                            self.name, timeout)
        self._close()
        with self._cond:
            self._state, self._detail = "stopped", None

    def show(self, address: int, frame: bytes, urgent: bool = False) -> None:
        """Want `frame` on screen `address`; replaces that screen's unsent frame, if any."""
        if isinstance(address, bool) or not isinstance(address, int) or not (
                0 <= address <= MAX_ADDRESS):
            raise ValueError(f"LED bus address must be 0..{MAX_ADDRESS}, got {address!r}")
        frame = bytes(frame)
        if not frame:
            raise ValueError("an empty frame cannot be shown")
        with self._cond:
            self._current[address] = (frame, urgent)
            waiting = self._pending.get(address)
            if self._will_have(address) == frame:
                self._pending.pop(address, None)  # the screen already shows it
            elif waiting is not None:
                waiting.frame, waiting.urgent = frame, urgent
            else:
                self._seq += 1
                self._pending[address] = _Want(frame, urgent, self._seq)
            self._cond.notify_all()

    def health(self) -> BusHealth:
        """A snapshot; cheap enough to call on every status request."""
        with self._cond:
            return self._health()

    def wait_idle(self, timeout: float) -> bool:
        """True once every wanted frame has been written (False on timeout)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and self._in_flight is None,
                                       timeout)

    # -- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        backoff = INITIAL_BACKOFF
        is_open = False
        while not self._stopped():
            if not is_open:
                try:
                    self.transport.open()
                except Exception as exc:
                    self._set_state("reconnecting", f"cannot open {self.transport.name}: {exc}")
                    self._wait_until(time.monotonic() + backoff)
                    backoff = min(backoff * 2, self.max_backoff)
                    continue
                is_open, backoff = True, INITIAL_BACKOFF
                log.info("LED bus %s: %s open", self.name, self.transport.name)
                self._set_state("online", None)
            job = self._next_job()
            if job is None:
                break
            address, frame = job
            started = time.monotonic()
            try:
                self.transport.write(frame)
            except Exception as exc:
                log.warning("LED bus %s: write to %s failed: %s", self.name,
                            self.transport.name, exc)
                self._lost()
                self._close()
                is_open = False
                self._set_state("reconnecting", f"write failed: {exc}")
                self._wait_until(time.monotonic() + backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            self._written(address, frame, started)
        self._close()
        self._set_state("stopped", None)

    def _next_job(self) -> tuple[int, bytes] | None:
        """Wait for work and for the line to be free, then take the most pressing frame.

        It is taken only once the line is free, so anything newer replaces it until then."""
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                if self._pending and now >= self._next_write_at:
                    address = min(self._pending, key=lambda a: (
                        not self._pending[a].urgent, self._pending[a].since))
                    want = self._pending.pop(address)
                    self._in_flight = (address, want.frame)
                    return address, want.frame
                self._cond.wait(self._next_write_at - now if self._pending else None)
            return None

    def _written(self, address: int, frame: bytes, started: float) -> None:
        line_time = len(frame) * self.seconds_per_byte
        with self._cond:
            self._in_flight = None
            if address == 0:  # a broadcast may have changed what every screen shows
                self._sent.clear()
            self._sent[address] = frame
            begin = max(started, self._next_write_at)
            self._next_write_at = begin + line_time
            self._busy.append((begin, self._next_write_at))
            self._bytes_sent += len(frame)
            self._frames_sent += 1
            self._cond.notify_all()

    def _lost(self) -> None:
        """The line went down: every screen is owed its current frame again, calls first."""
        with self._cond:
            self._in_flight = None
            self._sent.clear()
            order = sorted(self._current, key=lambda a: (a != 0, not self._current[a][1]))
            for address in order:
                frame, urgent = self._current[address]
                if address in self._pending:
                    continue
                self._seq += 1
                self._pending[address] = _Want(frame, urgent, self._seq)
            self._cond.notify_all()

    def _will_have(self, address: int) -> bytes | None:
        """What the screen shows once the write in progress (if any) is done."""
        if self._in_flight is not None:
            if self._in_flight[0] == address:
                return self._in_flight[1]
            if self._in_flight[0] == 0:
                return None  # a broadcast is overwriting every screen
        return self._sent.get(address)

    def _close(self) -> None:
        try:
            self.transport.close()
        except Exception as exc:
            log.debug("LED bus %s: close failed: %s", self.name, exc)

    def _stopped(self) -> bool:
        with self._cond:
            return self._stopping

    def _wait_until(self, deadline: float) -> None:
        with self._cond:
            while not self._stopping and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())

    def _set_state(self, state: str, detail: str | None) -> None:
        """Record the state; tell on_health (from this thread) only when state or ok changed."""
        with self._cond:
            self._state, self._detail = state, detail
            snapshot = self._health()
            changed = (snapshot.state, snapshot.ok) != self._reported
            self._reported = (snapshot.state, snapshot.ok)
            self._cond.notify_all()
        if changed:
            if state == "reconnecting":
                log.warning("LED bus %s reconnecting: %s", self.name, detail)
            if self.on_health is not None:
                try:
                    self.on_health(snapshot)
                except Exception:
                    log.exception("LED bus %s: on_health callback failed", self.name)

    def _health(self) -> BusHealth:
        now = time.monotonic()
        window_start = max(now - UTILISATION_WINDOW, self._started_at)
        while self._busy and self._busy[0][1] < now - UTILISATION_WINDOW:
            self._busy.popleft()
        used = sum(max(0.0, min(end, now) - max(begin, window_start))
                   for begin, end in self._busy)
        span = max(now - window_start, 0.1)
        return BusHealth(state=self._state, ok=self._state == "online", detail=self._detail,
                         bytes_sent=self._bytes_sent, frames_sent=self._frames_sent,
                         utilisation=min(1.0, used / span),
                         pending=len(self._pending) + (self._in_flight is not None))
