"""Each kiosk's ticket printer: chosen from config, started with the server, never in the way.

Issuing a ticket never waits for paper: the job goes to the printer's worker thread and the
kiosk answers at once with what it knows of the printer. The outcome lands in the ledger
(ticket.printed / ticket.print_failed), which is how the kiosk screen learns to say "take your
ticket" or "please photograph this screen"; health changes land there too (device.status).
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from onestop.drivers.escpos.encoder import encode_receipt
from onestop.drivers.escpos.printer import PrinterHealth, PrintResult, ThermalPrinter
from onestop.drivers.escpos.transports import (
    FileTransport,
    SerialTransport,
    TcpTransport,
    Transport,
    UsbTransport,
)
from onestop.kiosk.ticket_layout import build_ticket_receipt
from onestop.queue.actors import DEVICE_WATCH
from onestop.queue.catalogue import HallConfig, KioskDef, PrinterDef
from onestop.queue.engine import QueueEngine

log = logging.getLogger(__name__)

STARTUP_CHECK_SECONDS = 5.0


def make_transport(printer: PrinterDef, emulator_port: int | None = None) -> Transport | None:
    """The transport for a configured printer type; None for type "none"."""
    if printer.type == "none":
        return None
    if printer.type == "emulator":
        assert emulator_port is not None
        return TcpTransport("127.0.0.1", emulator_port, printer.timeout)
    if printer.type == "network":
        return TcpTransport(printer.host, printer.port, printer.timeout)
    if printer.type == "serial":
        return SerialTransport(printer.device, printer.baudrate, printer.timeout)
    if printer.type == "usb":
        return UsbTransport(printer.vendor_id, printer.product_id, printer.timeout)
    return FileTransport(printer.path)


class KioskPrinters:
    def __init__(
        self, config: HallConfig, engine: QueueEngine, data_dir: Path, poll_interval: float = 5.0
    ) -> None:
        self.config = config
        self.engine = engine
        self.data_dir = data_dir
        self.poll_interval = poll_interval
        self.printers: dict[str, ThermalPrinter] = {}
        self.emulators: dict[str, Any] = {}

    def start(self) -> None:
        for kiosk in self.config.kiosks:
            port = None
            if kiosk.printer.type == "emulator":
                port = self._start_emulator(kiosk)
            transport = make_transport(kiosk.printer, port)
            if transport is None:
                continue
            printer = ThermalPrinter(
                kiosk.id, transport, status_timeout=min(kiosk.printer.timeout, 2.0),
                poll_interval=self.poll_interval,
                on_health=functools.partial(self._health_changed, kiosk),
            )
            printer.start()
            printer.check_now()
            self.printers[kiosk.id] = printer
        # Know every printer's health before the first resident taps (checks run in parallel).
        deadline = time.monotonic() + STARTUP_CHECK_SECONDS
        for printer in self.printers.values():
            printer.checked.wait(max(0.0, deadline - time.monotonic()))

    def _start_emulator(self, kiosk: KioskDef) -> int:
        from onestop.drivers.escpos.emulator import EscPosEmulator

        emulator = EscPosEmulator(
            port=kiosk.printer.port, png_dir=self.data_dir / "printed" / kiosk.id,
            paper_mm=self.config.ticket.paper_mm,
        )
        emulator.start()
        self.emulators[kiosk.id] = emulator
        log.info("kiosk %s prints to the built-in emulator on 127.0.0.1:%d (PNGs in %s)",
                 kiosk.id, emulator.port, self.data_dir / "printed" / kiosk.id)
        return int(emulator.port)

    def stop(self) -> None:
        for printer in self.printers.values():
            printer.stop()
        for emulator in self.emulators.values():
            emulator.stop()

    def health(self, kiosk_id: str) -> dict[str, Any]:
        kiosk = self.config.kiosk(kiosk_id)
        assert kiosk is not None
        printer = self.printers.get(kiosk_id)
        health = printer.health() if printer else PrinterHealth.of("disabled", False)
        return {"kiosk": kiosk.id, "name": kiosk.name, "type": kiosk.printer.type,
                **asdict(health)}

    def all_health(self) -> list[dict[str, Any]]:
        return [self.health(k.id) for k in self.config.kiosks]

    def print_ticket(self, kiosk_id: str, ticket: dict[str, Any], status_url: str
                     ) -> dict[str, Any]:
        """Queue the ticket for printing; answer at once with what the kiosk should say."""
        printer = self.printers.get(kiosk_id)
        if printer is None:
            health = PrinterHealth.of("disabled", False)
            return {"state": "disabled", "message": health.message,
                    "message_en": health.message_en}
        template = self.config.ticket
        receipt = build_ticket_receipt(ticket, self.config.hall.name, self.config.hall.name_en,
                                       template, status_url)
        kiosk = self.config.kiosk(kiosk_id)
        assert kiosk is not None
        data = encode_receipt(receipt, template.paper_mm, kiosk.printer.encoding)
        ticket_id = int(ticket["id"])
        if not printer.submit(data, lambda result: self._printed(ticket_id, result)):
            self._printed(ticket_id, PrintResult(False, "busy", "打印机忙，请拍照保存或到咨询台",
                                                 "The printer is busy: please take a photo"))
            return {"state": "unavailable", "message": "打印机忙，请拍照保存或到咨询台",
                    "message_en": "The printer is busy: please take a photo of this screen"}
        health = printer.health()
        if not health.can_print:
            # Last known state is bad: say so now; the job still tries, in case it is back.
            return {"state": "unavailable", "printer_state": health.state,
                    "message": health.message, "message_en": health.message_en}
        return {"state": "queued", "printer_state": health.state,
                "message": "正在打印，请取票", "message_en": "Printing: please take your ticket"}

    def _printed(self, ticket_id: int, result: PrintResult) -> None:
        try:
            self.engine.tickets.record_print(ticket_id, result.printed, result.state,
                                             result.message, actor=DEVICE_WATCH)
        except Exception:
            log.exception("could not record the print outcome of ticket %s", ticket_id)

    def _health_changed(self, kiosk: KioskDef, health: PrinterHealth) -> None:
        try:
            self.engine.record_device(f"{kiosk.id}.printer", "printer", health.state,
                                      health.can_print, health.message)
        except Exception:
            log.exception("could not record printer health of %s", kiosk.id)
