"""The printer worker against the emulator over real TCP: faults degrade, recovery is automatic."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import free_port

from onestop.drivers.escpos.emulator import EscPosEmulator
from onestop.drivers.escpos.encoder import encode_receipt
from onestop.drivers.escpos.printer import PrinterHealth, PrintResult, ThermalPrinter
from onestop.drivers.escpos.receipt import Receipt, TextLine
from onestop.drivers.escpos.transports import FileTransport, TcpTransport

JOB = encode_receipt(Receipt([TextLine("A001", width=2, height=2), TextLine("社保参保登记")]))


class Outcomes:
    """Collects print results; `next()` waits for the next one without sleeping."""

    def __init__(self) -> None:
        self.results: list[PrintResult] = []
        self.cond = threading.Condition()

    def __call__(self, result: PrintResult) -> None:
        with self.cond:
            self.results.append(result)
            self.cond.notify_all()

    def wait(self, count: int) -> PrintResult:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.results) >= count, timeout=15)
            return self.results[count - 1]


@pytest.fixture
def emulator() -> Iterator[EscPosEmulator]:
    emu = EscPosEmulator(port=0)
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


def make_printer(port: int, healths: list[PrinterHealth] | None = None) -> ThermalPrinter:
    printer = ThermalPrinter("k1", TcpTransport("127.0.0.1", port, timeout=1.0),
                             status_timeout=1.0, poll_interval=60,
                             on_health=healths.append if healths is not None else None)
    printer.start()
    return printer


def test_prints_and_counts(emulator: EscPosEmulator) -> None:
    printer = make_printer(emulator.port)
    outcomes = Outcomes()
    try:
        assert printer.submit(JOB, outcomes)
        result = outcomes.wait(1)
        assert result.printed and result.state == "online"
        (printed,) = emulator.wait_for_tickets(1, timeout=10)
        assert [line.text for line in printed.lines] == ["A001", "社保参保登记"]
        assert printer.health().printed == 1
    finally:
        printer.stop()


def test_paper_out_refuses_then_recovers_without_restart(emulator: EscPosEmulator) -> None:
    healths: list[PrinterHealth] = []
    printer = make_printer(emulator.port, healths)
    outcomes = Outcomes()
    try:
        emulator.set_paper("out")
        printer.submit(JOB, outcomes)
        refused = outcomes.wait(1)
        assert not refused.printed and refused.state == "paper_out"
        assert "缺纸" in refused.message
        assert printer.health().state == "paper_out" and not printer.health().can_print
        assert emulator.tickets == [], "nothing may count as printed that was not"
        emulator.set_paper("ok")
        printer.submit(JOB, outcomes)
        assert outcomes.wait(2).printed
        emulator.wait_for_tickets(1, timeout=10)
        assert [h.state for h in healths][-2:] == ["paper_out", "online"]
        emulator.set_cover_open(True)
        printer.submit(JOB, outcomes)
        assert outcomes.wait(3).state == "cover_open"
    finally:
        printer.stop()


def test_unreachable_printer_then_it_comes_back() -> None:
    port = free_port()
    printer = make_printer(port)
    outcomes = Outcomes()
    try:
        printer.submit(JOB, outcomes)
        result = outcomes.wait(1)
        assert not result.printed and result.state == "unreachable"
        assert printer.health().state == "unreachable"
        emu = EscPosEmulator(port=port)
        emu.start()
        try:
            printer.submit(JOB, outcomes)
            assert outcomes.wait(2).printed
            emu.wait_for_tickets(1, timeout=10)
            # The emulator goes away mid-day (cable pulled): the next job fails cleanly...
        finally:
            emu.stop()
        printer.submit(JOB, outcomes)
        assert not outcomes.wait(3).printed
    finally:
        printer.stop()


def test_file_transport_writes_bytes_it_cannot_confirm(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    printer = ThermalPrinter("file", FileTransport(str(target)), poll_interval=60)
    printer.start()
    outcomes = Outcomes()
    try:
        printer.submit(JOB, outcomes)
        result = outcomes.wait(1)
        assert result.printed and result.state == "unknown"
        assert target.read_bytes() == JOB
    finally:
        printer.stop()
