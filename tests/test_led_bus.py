"""The LED bus: latest frame per screen, calls before notices, pacing, unplug and resend.

The socat tests run 40 window screens on a real pty pair with the line-protocol emulator on the
far end; the others use an in-memory transport to pin down single behaviours.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from onestop.drivers.led.bus import BusHealth, LedBus
from onestop.drivers.led.content import Colour, Effect, ScreenContent, TextLine
from onestop.drivers.led.linescreen import LineScreenEncoder
from onestop.drivers.led.linescreen_emulator import SerialScreenEmulator
from onestop.drivers.transports import SerialTransport, TransportError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from socat_support import SocatPair, require_socat

ENCODER = LineScreenEncoder()
SCREENS = range(1, 41)
WAIT = 60.0  # bounded waits: generous for a loaded 2-core machine, never a fixed sleep


def call(ticket: str, window: int) -> ScreenContent:
    return ScreenContent((TextLine(ticket, Colour.RED),
                          TextLine(f"请到{window}号窗口", Colour.GREEN)))


def notice(text: str) -> ScreenContent:
    return ScreenContent((TextLine(text, Colour.YELLOW, Effect.SCROLL),))


class HealthLog:
    """on_health calls, with a condition to wait for a state."""

    def __init__(self) -> None:
        self.calls: list[BusHealth] = []
        self.threads: set[str] = set()
        self._cond = threading.Condition()

    def __call__(self, health: BusHealth) -> None:
        with self._cond:
            self.calls.append(health)
            self.threads.add(threading.current_thread().name)
            self._cond.notify_all()

    def wait_state(self, state: str, timeout: float = WAIT) -> bool:
        with self._cond:
            return self._cond.wait_for(
                lambda: bool(self.calls) and self.calls[-1].state == state, timeout)

    @property
    def states(self) -> list[str]:
        return [h.state for h in self.calls]


@pytest.fixture
def line(tmp_path: Path) -> Iterator[SocatPair]:
    pair = SocatPair(tmp_path, require_socat())
    pair.start()
    yield pair
    pair.kill()


def open_screens(pair: SocatPair) -> SerialScreenEmulator:
    """A fresh row of screens on the line (opened before the bus can open its end)."""
    emulator = SerialScreenEmulator(str(pair.screens_link), 9600)
    emulator.start()
    assert emulator.wait_for(lambda e: e.is_open, WAIT)
    pair.wait_bus_end()
    return emulator


def shows_all(emulator: SerialScreenEmulator, wanted: dict[int, ScreenContent]) -> bool:
    return emulator.wait_for(
        lambda e: all(e.content(a) == c for a, c in wanted.items()), WAIT)


def test_burst_of_200_calls_on_40_screens_at_9600_baud(line: SocatPair) -> None:
    emulator = open_screens(line)
    bus = LedBus("hall", SerialTransport(str(line.bus_link), 9600), 9600)
    rng = random.Random(20261125)
    wanted: dict[int, ScreenContent] = {}
    addresses = list(SCREENS)
    rng.shuffle(addresses)
    addresses += [rng.choice(SCREENS) for _ in range(160)]
    burst: list[tuple[int, bytes, bool]] = []  # encoded first, so the burst is a burst
    for n, address in enumerate(addresses):
        wanted[address] = call(f"A{n + 100:03d}", address)
        burst.append((address, ENCODER.encode(address, wanted[address]), True))
        if n % 20 == 7:
            target = rng.choice(SCREENS)
            wanted[target] = notice(f"{target}号窗口暂停服务，请到其他窗口办理")
            burst.append((target, ENCODER.encode(target, wanted[target]), False))
    bus.start()
    try:
        for address, frame, urgent in burst:
            bus.show(address, frame, urgent=urgent)
        assert bus.wait_idle(WAIT)
        assert shows_all(emulator, wanted)
        minimum = sum(len(ENCODER.encode(a, c)) for a, c in wanted.items())
        health = bus.health()
        assert health.bytes_sent <= 1.2 * minimum, (health, minimum)
        assert health.bytes_sent == emulator.bytes_received
        assert (health.state, health.ok, health.pending) == ("online", True, 0)
        assert 0 < health.utilisation <= 1
        assert emulator.errors == []
    finally:
        bus.stop()
        emulator.stop()
    assert bus.health().state == "stopped"


def test_calls_go_before_notices_first_wanted_first(line: SocatPair) -> None:
    emulator = open_screens(line)
    bus = LedBus("hall", SerialTransport(str(line.bus_link), 9600), 9600)
    for address in (1, 2, 3, 4, 5):
        bus.show(address, ENCODER.encode(address, notice("午休时间 12:00-13:30")))
    for address in (6, 7, 8, 9, 10):
        bus.show(address, ENCODER.encode(address, call("B001", address)), urgent=True)
    bus.show(11, ENCODER.encode(11, notice("暂停服务")))
    # Screen 1's unsent notice becomes a call: it keeps its place (first wanted of all).
    bus.show(1, ENCODER.encode(1, call("B002", 1)), urgent=True)
    bus.start()
    try:
        assert bus.wait_idle(WAIT)
        assert emulator.wait_for(lambda e: len(e.received) == 11, WAIT)
        assert [s.address for s in emulator.received] == [1, 6, 7, 8, 9, 10, 2, 3, 4, 5, 11]
        assert emulator.content(1) == call("B002", 1)
    finally:
        bus.stop()
        emulator.stop()


def test_unplugged_line_comes_back_and_every_screen_is_resent(line: SocatPair) -> None:
    baud = 115200
    health = HealthLog()
    emulator = open_screens(line)
    bus = LedBus("hall", SerialTransport(str(line.bus_link), baud, timeout=1.0), baud,
                 max_backoff=1.0, on_health=health)
    wanted = {a: call(f"C{a:03d}", a) for a in SCREENS}
    bus.start()
    try:
        for address, content in wanted.items():
            bus.show(address, ENCODER.encode(address, content), urgent=True)
        assert bus.wait_idle(WAIT) and shows_all(emulator, wanted)
        assert health.wait_state("online")

        line.kill()  # the adapter is unplugged and the screens lose power
        assert emulator.wait_for(lambda e: not e.is_open, WAIT)
        emulator.stop()
        for address in (3, 4, 5):
            wanted[address] = call(f"D{address:03d}", address)
            bus.show(address, ENCODER.encode(address, wanted[address]), urgent=True)
        assert health.wait_state("reconnecting")
        assert bus.health().state == "reconnecting" and not bus.health().ok
        wanted[6] = notice("系统维护中")
        bus.show(6, ENCODER.encode(6, wanted[6]))
        assert bus.health().pending == len(SCREENS)  # every screen is owed its frame again
        assert not bus.wait_idle(0.05)

        line.start()  # plugged back in, same device name
        fresh = open_screens(line)
        try:
            assert health.wait_state("online")
            assert bus.wait_idle(WAIT)
            assert shows_all(fresh, wanted)
            assert fresh.errors == []
            first = fresh.received[:len(SCREENS) - 1]
            assert all(s.address != 6 for s in first), "calls are resent before notices"
        finally:
            fresh.stop()
        final = bus.health()
        assert (final.state, final.ok, final.pending) == ("online", True, 0)
        assert health.states == ["online", "reconnecting", "online"]
        assert health.threads == {"led-bus hall"}
    finally:
        bus.stop()
    assert health.states[-1] == "stopped"


def test_emulator_reopens_its_port_when_it_comes_back(line: SocatPair) -> None:
    emulator = open_screens(line)
    try:
        line.kill()
        assert emulator.wait_for(lambda e: not e.is_open, WAIT)
        line.start()
        assert emulator.wait_for(lambda e: e.is_open and e.opens == 2, WAIT)
        line.wait_bus_end()
        writer = SerialTransport(str(line.bus_link), 9600)
        writer.open()
        writer.write(ENCODER.encode(9, call("E009", 9)))
        writer.close()
        assert emulator.wait_for(lambda e: e.content(9) == call("E009", 9), WAIT)
    finally:
        emulator.stop()


class MemoryTransport:
    """Records writes; can be made to fail, like an unplugged adapter."""

    name = "memory"
    can_read = False

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.broken = False
        self.opens = 0
        self.is_open = False

    def open(self) -> None:
        if self.broken:
            raise TransportError("unplugged")
        self.opens += 1
        self.is_open = True

    def write(self, data: bytes) -> None:
        if self.broken or not self.is_open:
            raise TransportError("unplugged")
        self.writes.append(data)

    def read(self, size: int, timeout: float) -> bytes:
        return b""

    def close(self) -> None:
        self.is_open = False


def test_a_frame_the_screen_already_has_is_not_sent_again() -> None:
    transport = MemoryTransport()
    bus = LedBus("t", transport, 1_000_000)
    bus.start()
    try:
        bus.show(1, b"frame-1")
        assert bus.wait_idle(WAIT)
        bus.show(1, b"frame-1")
        bus.show(2, b"frame-2")
        assert bus.wait_idle(WAIT)
        assert transport.writes == [b"frame-1", b"frame-2"]
        assert bus.health().frames_sent == 2 and bus.health().bytes_sent == 14
    finally:
        bus.stop()


def test_bad_address_and_empty_frame_are_refused() -> None:
    bus = LedBus("t", MemoryTransport())
    for address in (-1, 255, True):
        with pytest.raises(ValueError, match="address"):
            bus.show(address, b"x")
    with pytest.raises(ValueError, match="empty"):
        bus.show(1, b"")
    assert bus.health() == BusHealth("stopped", False, "not started", 0, 0, 0.0, 0)


def test_a_port_that_cannot_open_never_blocks_the_caller_and_is_retried() -> None:
    transport = MemoryTransport()
    transport.broken = True
    health = HealthLog()
    bus = LedBus("t", transport, 1_000_000, max_backoff=0.4, on_health=health)
    bus.start()
    try:
        bus.show(7, b"seven", urgent=True)
        assert health.wait_state("reconnecting")
        assert bus.health().pending == 1
        transport.broken = False
        assert health.wait_state("online")
        assert bus.wait_idle(WAIT)
        assert transport.writes == [b"seven"]
    finally:
        bus.stop()
