"""The LED screens follow the hall: the signage service from the ledger to decoded screens.

Runs on SQLite and PostgreSQL; the emulated buses decode every frame with the protocol's own
emulator, and the serial test drives a real pty pair (socat) with a screen emulator at the far end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_support import KIOSK, clerk_at
from socat_support import SocatPair, require_socat

from onestop.drivers.led.linescreen_emulator import SerialScreenEmulator
from onestop.queue.bus import EventBus
from onestop.queue.catalogue import HallConfig, LedBoardDef, LedBusDef
from onestop.queue.clock import ManualClock
from onestop.queue.engine import QueueEngine
from onestop.queue.store import Store
from onestop.signage.led import LedSignage

WAIT = 20.0


def _with_led(config: HallConfig, buses: list[LedBusDef], boards: list[LedBoardDef]
              ) -> HallConfig:
    return config.model_copy(update={"led_buses": buses, "led_boards": boards})


def _window(bus: str, n: int) -> LedBoardDef:
    return LedBoardDef(id=f"window-{n}", bus=bus, address=n, role="window", counter=n)


@pytest.fixture
def signage(engine: QueueEngine, config: HallConfig, tmp_path: Path) -> Iterator[LedSignage]:
    hall = _with_led(
        config,
        [LedBusDef(id="windows", protocol="line", baudrate=115200),
         LedBusDef(id="board", protocol="onbon-text", baudrate=115200)],
        [_window("windows", 3), _window("windows", 7), _window("windows", 8),
         LedBoardDef(id="hall-board", bus="board", address=1, role="hall", width=192, height=48)],
    )
    engine.config = hall
    service = LedSignage(hall, engine, tmp_path)
    service.start()
    try:
        yield service
    finally:
        service.stop()


def _settled(service: LedSignage, engine: QueueEngine) -> None:
    assert service.wait_for_seq(engine.head(), WAIT)
    assert service.wait_idle(WAIT)


def test_a_call_reaches_the_window_screen_and_the_hall_board(
        signage: LedSignage, engine: QueueEngine, tmp_path: Path) -> None:
    _settled(signage, engine)
    assert signage.emulated_text("window-3") == "3号窗口\n欢迎光临"
    engine.issue("social-insurance-enrolment")
    called = engine.call_next(3)
    assert called is not None
    number = called["ticket"]["number"]
    _settled(signage, engine)
    assert signage.emulated_text("window-3") == f"{number} 请到3号窗口\n3号窗口"
    board = signage.emulated_text("hall-board")
    assert board is not None and board.startswith(f"请 {number} 号到3号窗口")
    assert (tmp_path / "led" / "window-3.png").stat().st_size > 0
    assert (tmp_path / "led" / "hall-board.png").stat().st_size > 0

    engine.start(3)
    _settled(signage, engine)
    assert signage.emulated_text("window-3") == f"{number} 正在办理\n3号窗口"
    health = {bus["bus"]: bus for bus in signage.health()}
    assert health["windows"]["ok"] and health["windows"]["state"] == "online"
    showing = {b["id"]: b["showing"] for b in health["windows"]["boards"]}
    assert showing["window-3"] == f"{number} 正在办理\n3号窗口"


def test_a_paused_window_sends_residents_to_an_open_one(
        signage: LedSignage, engine: QueueEngine) -> None:
    engine.pause(7, "午餐")
    _settled(signage, engine)
    assert signage.emulated_text("window-7") == "暂停服务\n请到8号窗口"
    engine.pause(8, "午餐")
    _settled(signage, engine)
    assert signage.emulated_text("window-7") == "暂停服务\n请到1号窗口"
    engine.resume(8)
    _settled(signage, engine)
    assert signage.emulated_text("window-7") == "暂停服务\n请到8号窗口"
    assert signage.emulated_text("window-8") == "8号窗口\n欢迎光临"


def test_events_committed_by_another_instance_reach_the_screens(
        signage: LedSignage, engine: QueueEngine, db_url: str, clock: ManualClock) -> None:
    other_store = Store(db_url)
    other = QueueEngine(other_store, engine.config, clock, EventBus())  # its own bus: not ours
    try:
        other.tickets.issue("residence-permit", actor=KIOSK)
        called = other.tickets.call_next(7, actor=clerk_at(7))
        assert called is not None
        _settled(signage, engine)
        assert signage.emulated_text("window-7") == f"{called['ticket']['number']} 请到7号窗口\n7号窗口"
    finally:
        other_store.dispose()


def test_window_screens_over_a_real_serial_line(
        engine: QueueEngine, config: HallConfig, tmp_path: Path) -> None:
    line = SocatPair(tmp_path, require_socat())
    line.start()
    screens = SerialScreenEmulator(str(line.screens_link), 9600)
    screens.start()
    assert screens.wait_for(lambda s: s.is_open, WAIT)
    line.wait_bus_end()
    hall = _with_led(config, [LedBusDef(id="windows", type="serial", device=str(line.bus_link))],
                     [_window("windows", 11), _window("windows", 12)])
    engine.config = hall
    service = LedSignage(hall, engine, tmp_path)
    service.start()
    try:
        engine.issue("gas-payment")
        called = engine.call_next(11)
        assert called is not None
        wanted = {11: f"{called['ticket']['number']} 请到11号窗口\n11号窗口",
                  12: "12号窗口\n欢迎光临"}

        def shows_wanted(s: SerialScreenEmulator) -> bool:
            return all((c := s.content(n)) is not None and c.text == text
                       for n, text in wanted.items())

        assert screens.wait_for(shows_wanted, WAIT)
        assert screens.errors == []
    finally:
        service.stop()
        screens.stop()
        line.kill()
