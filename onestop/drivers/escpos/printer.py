"""A ticket printer as the hall sees it: a worker thread, a bounded job queue, live health.

The worker owns the transport, so nothing else ever touches the port. Before every job it asks
the printer (DLE EOT 1, 2, 4) whether it can print; after writing it asks again, and only a
printer that answers and still has paper counts the job as printed. Any transport error closes
the port; the next job or health poll reconnects, so a printer that comes back is used again
without a restart. Status queries never share the byte stream with a job half-sent.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from onestop.drivers.escpos.status import (
    OFFLINE_CAUSE,
    PAPER_SENSOR,
    PRINTER_STATUS,
    UNKNOWN,
    PrinterStatus,
    parse_status,
)
from onestop.drivers.escpos.transports import Transport, TransportError

log = logging.getLogger(__name__)

MAX_PENDING_JOBS = 32

MESSAGES: dict[str, tuple[str, str]] = {
    "online": ("打印机正常", "printer ready"),
    "paper_near_end": ("打印纸即将用完，请及时更换", "paper is running low"),
    "paper_out": ("打印机缺纸，请拍照保存或到咨询台",
                  "The printer is out of paper: please take a photo of this screen "
                  "or go to the front desk"),
    "cover_open": ("打印机盖未关好，请拍照保存或到咨询台",
                   "The printer cover is open: please take a photo of this screen "
                   "or go to the front desk"),
    "offline": ("打印机暂时无法使用，请拍照保存或到咨询台",
                "The printer is not available: please take a photo of this screen "
                "or go to the front desk"),
    "unreachable": ("打印机暂时无法使用，请拍照保存或到咨询台",
                    "The printer is not available: please take a photo of this screen "
                    "or go to the front desk"),
    "unknown": ("打印机状态未知", "printer status unknown"),
    "disabled": ("本机不打印号票，请拍照保存", "This kiosk does not print: please take a photo"),
}


@dataclass(frozen=True)
class PrinterHealth:
    state: str
    can_print: bool
    message: str
    message_en: str
    checked_at: float | None = None
    detail: str | None = None
    printed: int = 0
    failed: int = 0

    @staticmethod
    def of(state: str, can_print: bool, detail: str | None = None, **counts: int) -> PrinterHealth:
        zh, en = MESSAGES.get(state, MESSAGES["unknown"])
        return PrinterHealth(state=state, can_print=can_print, message=zh, message_en=en,
                             checked_at=time.time(), detail=detail, **counts)


@dataclass(frozen=True)
class PrintResult:
    printed: bool
    state: str
    message: str
    message_en: str


@dataclass
class _Job:
    data: bytes
    on_done: Callable[[PrintResult], None]


class ThermalPrinter:
    def __init__(
        self,
        name: str,
        transport: Transport,
        status_timeout: float = 1.0,
        poll_interval: float = 5.0,
        on_health: Callable[[PrinterHealth], None] | None = None,
    ) -> None:
        self.name = name
        self.transport = transport
        self.status_timeout = status_timeout
        self.poll_interval = poll_interval
        self.on_health = on_health
        self._jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=MAX_PENDING_JOBS)
        self._health = PrinterHealth.of("unknown", True)
        self._health_lock = threading.Lock()
        self._open = False
        self._stopping = threading.Event()
        self.checked = threading.Event()  # set once the first health check has finished
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"printer-{self.name}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(queue.Full):
            self._jobs.put_nowait(None)
        if self._thread:
            self._thread.join(timeout=10)
        self._close()

    # -- API --------------------------------------------------------------------------------

    def health(self) -> PrinterHealth:
        with self._health_lock:
            return self._health

    def submit(self, data: bytes, on_done: Callable[[PrintResult], None]) -> bool:
        """Queue a job; False when the queue is full (the printer has been stuck for a while)."""
        try:
            self._jobs.put_nowait(_Job(data, on_done))
            return True
        except queue.Full:
            return False

    def check_now(self) -> None:
        """Ask the worker for a health poll as soon as it is idle."""
        with contextlib.suppress(queue.Full):
            self._jobs.put_nowait(None)

    # -- worker -----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                job = self._jobs.get(timeout=self.poll_interval)
            except queue.Empty:
                job = None
            if self._stopping.is_set():
                break
            if job is None:
                self._poll()
            else:
                self._print(job)

    def _poll(self) -> None:
        try:
            self._ensure_open()
            self._set_status(self._query())
        except (OSError, ValueError) as exc:
            self._fault("unreachable", str(exc))
        finally:
            self.checked.set()

    def _print(self, job: _Job) -> None:
        result: PrintResult
        try:
            self._ensure_open()
            before = self._query()
            self._set_status(before)
            if not before.can_print:
                result = self._refused(before.state)
            else:
                self.transport.write(job.data)
                after = self._query()
                self._set_status(after)
                # Printed only if the printer still answers and did not run out mid-ticket.
                result = self._done(after.state) if after.can_print else self._refused(after.state)
        except (OSError, ValueError) as exc:
            self._fault("unreachable", str(exc))
            result = self._refused("unreachable")
        self._count(result.printed)
        try:
            job.on_done(result)
        except Exception:
            log.exception("print callback failed for %s", self.name)

    def _query(self) -> PrinterStatus:
        if not self.transport.can_read:
            return UNKNOWN
        answers = []
        for request in (PRINTER_STATUS, OFFLINE_CAUSE, PAPER_SENSOR):
            self.transport.write(request)
            reply = self.transport.read(1, self.status_timeout)
            if not reply:
                # No answer is not "ok" (python-escpos's paper_status() would say so).
                raise TransportError(f"{self.transport.name} did not answer a status request")
            answers.append(reply[0])
        return parse_status(*answers)

    def _ensure_open(self) -> None:
        if not self._open:
            self.transport.open()
            self._open = True

    def _close(self) -> None:
        self._open = False
        with contextlib.suppress(OSError):
            self.transport.close()

    # -- health bookkeeping -----------------------------------------------------------------

    def _set_status(self, status: PrinterStatus) -> None:
        self._update(status.state, status.can_print, None)

    def _fault(self, state: str, detail: str) -> None:
        self._close()
        self._update(state, False, detail)

    def _update(self, state: str, can_print: bool, detail: str | None) -> None:
        with self._health_lock:
            old = self._health
            new = PrinterHealth.of(state, can_print, detail, printed=old.printed,
                                   failed=old.failed)
            self._health = new
        if (old.state, old.can_print) != (new.state, new.can_print):
            log.log(logging.INFO if can_print else logging.WARNING,
                    "printer %s: %s (%s)", self.name, state, detail or new.message_en)
            if self.on_health:
                try:
                    self.on_health(new)
                except Exception:
                    log.exception("health callback failed for %s", self.name)

    def _count(self, printed: bool) -> None:
        with self._health_lock:
            h = self._health
            self._health = replace(h, printed=h.printed + printed, failed=h.failed + (not printed))

    @staticmethod
    def _done(state: str) -> PrintResult:
        return PrintResult(True, state, "请取走号票", "Please take your ticket")

    @staticmethod
    def _refused(state: str) -> PrintResult:
        zh, en = MESSAGES.get(state, MESSAGES["unreachable"])
        return PrintResult(False, state, zh, en)
