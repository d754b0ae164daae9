"""The hall's LED screens, kept in step with the ledger: one worker thread, one bus per line.

The worker follows the ledger by seq (events from this process arrive through the bus at once;
a gap, or events another instance committed, are read back from the ledger), folds each event
into `LedHallState`, encodes the screens it changed with their bus's protocol and hands the
frames to the bus, which keeps only the latest per screen and sends calls first. Nothing here
waits for a serial port: a pulled cable only turns the bus "reconnecting" (a device.status event).
"""

from __future__ import annotations

import functools
import importlib
import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from onestop.drivers.led.bus import BusHealth, LedBus
from onestop.drivers.led.content import DecodedScreen, Geometry, LedDecoder, LedEncoder
from onestop.drivers.led.emulated import DecodingTransport
from onestop.drivers.led.render import save_pixels_png, save_png
from onestop.drivers.transports import SerialTransport, TcpTransport, Transport
from onestop.queue.catalogue import HallConfig, LedBoardDef, LedBusDef
from onestop.queue.engine import QueueEngine
from onestop.queue.ledger import Event
from onestop.signage.led_content import HALL_BOARD, LedHallState

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
CATCH_UP_LIMIT = 10_000

#: protocol name → (encoder "module:Class", decoder "module:Class"); imported when first used.
PROTOCOLS: dict[str, tuple[str, str]] = {
    "line": ("onestop.drivers.led.linescreen:LineScreenEncoder",
             "onestop.drivers.led.linescreen_emulator:LineScreenDecoder"),
    "alpha": ("onestop.drivers.led.alpha:AlphaEncoder",
              "onestop.drivers.led.alpha_emulator:AlphaDecoder"),
    "onbon-text": ("onestop.drivers.led.onbon:OnbonTextEncoder",
                   "onestop.drivers.led.onbon_emulator:OnbonDecoder"),
    "onbon-graphic": ("onestop.drivers.led.onbon:OnbonGraphicEncoder",
                      "onestop.drivers.led.onbon_emulator:OnbonDecoder"),
}


def _load(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def make_encoder(bus: LedBusDef, board: LedBoardDef) -> LedEncoder:
    cls = _load(PROTOCOLS[bus.protocol][0])
    geometry = Geometry(board.width, board.height)
    if bus.protocol in ("line", "onbon-text"):
        return cls(geometry=geometry, encoding=bus.encoding)  # type: ignore[no-any-return]
    return cls(geometry=geometry)  # type: ignore[no-any-return]


def make_decoder(protocol: str) -> LedDecoder:
    return _load(PROTOCOLS[protocol][1])()  # type: ignore[no-any-return]


class _Board:
    def __init__(self, definition: LedBoardDef, bus: LedBus, encoder: LedEncoder) -> None:
        self.definition = definition
        self.bus = bus
        self.encoder = encoder
        self.key = HALL_BOARD if definition.role == "hall" else str(definition.counter)
        self.text = ""


class LedSignage:
    def __init__(self, config: HallConfig, engine: QueueEngine, data_dir: Path) -> None:
        self.config = config
        self.engine = engine
        self.png_dir = data_dir / "led"
        self.state = LedHallState(config)
        self.buses: dict[str, LedBus] = {}
        self.boards: list[_Board] = []
        self.emulated: dict[str, dict[int, DecodedScreen]] = {}
        self._inbox: queue.Queue[Sequence[Event] | None] = queue.Queue()
        self._last_seq = 0
        self._thread: threading.Thread | None = None
        self._unsubscribe: Any = None
        self._emulator_lock = threading.Lock()
        self._caught_up = threading.Condition()

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        if not self.config.led_boards:
            return
        for definition in self.config.led_buses:
            transport = self._transport(definition)
            if transport is None:
                continue
            self.buses[definition.id] = LedBus(
                f"led.{definition.id}", transport, definition.baudrate,
                on_health=functools.partial(self._health_changed, definition))
        bus_defs = {b.id: b for b in self.config.led_buses}
        for board in self.config.led_boards:
            line = self.buses.get(board.bus)
            if line is not None:
                self.boards.append(_Board(board, line, make_encoder(bus_defs[board.bus], board)))
        self._unsubscribe = self.engine.bus.subscribe(self._inbox.put)
        snapshot = self.engine.reads.snapshot()
        from onestop.signage.notices import NoticeBoard

        self.state.load(snapshot, NoticeBoard(self.engine).showing())
        self._last_seq = int(snapshot["seq"])
        for bus in self.buses.values():
            bus.start()
        self._show({b.key for b in self.boards}, urgent=False)
        self._thread = threading.Thread(target=self._run, name="led-signage", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self._inbox.put(None)
        if self._thread:
            self._thread.join(timeout=10)
        for bus in self.buses.values():
            bus.stop()

    def _transport(self, bus: LedBusDef) -> Transport | None:
        if bus.type == "none":
            return None
        if bus.type == "serial":
            return SerialTransport(bus.device, bus.baudrate, timeout=2.0)
        if bus.type == "tcp":
            return TcpTransport(bus.host, bus.port, timeout=2.0)
        self.emulated[bus.id] = {}
        return DecodingTransport(bus.id, make_decoder(bus.protocol),
                                 functools.partial(self._emulated_screen, bus.id))

    # -- following the ledger ---------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                batch = self._inbox.get(timeout=POLL_SECONDS)
            except queue.Empty:
                batch = ()
            if batch is None:
                return
            try:
                self._follow(batch)
            except Exception:
                log.exception("LED screens could not follow the ledger; retrying")

    def _follow(self, batch: Sequence[Event]) -> None:
        events = [e for e in batch if e.seq > self._last_seq]
        if not events or events[0].seq != self._last_seq + 1:
            # A gap, or a quiet second: read what the ledger has (other instances' events too).
            head = self.engine.head()
            if head <= self._last_seq:
                return
            events = self.engine.events_between(self._last_seq,
                                                min(head, self._last_seq + CATCH_UP_LIMIT))
        changed: set[str] = set()
        urgent: set[str] = set()
        for event in events:
            screens, is_call = self.state.apply(event.type, event.data)
            changed |= screens
            if is_call:
                urgent |= screens
        self._show(urgent, urgent=True)
        self._show(changed - urgent, urgent=False)
        with self._caught_up:
            self._last_seq = events[-1].seq
            self._caught_up.notify_all()

    def wait_for_seq(self, seq: int, timeout: float) -> bool:
        """True once the screens have been given everything up to ledger position `seq`."""
        with self._caught_up:
            return self._caught_up.wait_for(lambda: self._last_seq >= seq, timeout)

    def _show(self, keys: set[str], urgent: bool) -> None:
        for board in self.boards:
            if board.key not in keys:
                continue
            if board.definition.role == "hall":
                content = self.state.hall_content()
            else:
                assert board.definition.counter is not None
                content = self.state.window_content(board.definition.counter)
            board.text = content.text
            try:
                frame = board.encoder.encode(board.definition.address, content)
            except ValueError:
                log.exception("LED board %s: content could not be encoded", board.definition.id)
                continue
            board.bus.show(board.definition.address, frame, urgent=urgent)

    # -- health and the emulator ------------------------------------------------------------

    def _health_changed(self, bus: LedBusDef, health: BusHealth) -> None:
        message = "LED屏连接正常" if health.ok else f"LED屏连接中断，正在重试（{health.detail or ''}）"
        try:
            self.engine.record_device(f"led.{bus.id}", "led", health.state, health.ok, message)
        except Exception:
            log.exception("could not record the health of LED bus %s", bus.id)

    def _emulated_screen(self, bus_id: str, screen: DecodedScreen) -> None:
        with self._emulator_lock:
            self.emulated[bus_id][screen.address] = screen
        board = next((b.definition for b in self.boards
                      if b.definition.bus == bus_id and b.definition.address == screen.address),
                     None)
        if board is None:
            return
        geometry = Geometry(board.width, board.height)
        path = self.png_dir / f"{board.id}.png"
        try:
            if screen.content is not None:
                save_png(screen.content, geometry, path)
            elif screen.bitmap is not None:
                from PIL import Image

                image = Image.new("RGB", (len(screen.bitmap[0]), len(screen.bitmap)))
                image.putdata([px for row in screen.bitmap for px in row])
                save_pixels_png(image, path)
        except OSError:
            log.exception("could not save the emulated LED screen %s", board.id)

    def emulated_text(self, board_id: str) -> str | None:
        """What the emulated screen of a board shows now (for tests and the admin page)."""
        board = next((b.definition for b in self.boards if b.definition.id == board_id), None)
        if board is None:
            return None
        with self._emulator_lock:
            screen = self.emulated.get(board.bus, {}).get(board.address)
        return screen.content.text if screen and screen.content else None

    def health(self) -> list[dict[str, Any]]:
        definitions = {b.id: b for b in self.config.led_buses}
        result = []
        for bus_id, bus in self.buses.items():
            d = definitions[bus_id]
            boards = [{"id": b.definition.id, "address": b.definition.address,
                       "role": b.definition.role, "counter": b.definition.counter,
                       "showing": b.text} for b in self.boards if b.definition.bus == bus_id]
            result.append({"bus": bus_id, "type": d.type, "protocol": d.protocol,
                           **asdict(bus.health()), "boards": boards})
        return result

    def wait_idle(self, timeout: float) -> bool:
        """True once every bus has sent everything wanted (tests, shutdown)."""
        return all(bus.wait_idle(timeout) for bus in self.buses.values())
