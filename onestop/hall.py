"""One running hall server: its configuration, store, engine, day, devices and event hub.

Routes reach it as `hall_of(request)` (onestop.web.deps), typed, so a reader, an IDE or mypy can
follow `await hall.db(hall.engine.tickets.issue, ...)` from a route into the engine.

Database work runs in a dedicated thread pool so the event loop never blocks on I/O. On SQLite
the pool has one thread: SQLite admits one writer at a time anyway, and a single writer thread
turns lock contention into a plain queue. PostgreSQL gets several threads and its own row locks.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from onestop.kiosk.printing import KioskPrinters
from onestop.queue.appointments import AppointmentBook
from onestop.queue.bus import EventBus
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import Clock
from onestop.queue.day import HallDay
from onestop.queue.engine import QueueEngine
from onestop.queue.store import Store
from onestop.settings import RuntimeSettings
from onestop.signage.led import LedSignage
from onestop.signage.voice_calls import HallVoice
from onestop.web.access import LoginThrottle
from onestop.web.accounts import Accounts
from onestop.web.hub import EventHub
from onestop.web.passwords import PasswordWorkers
from onestop.web.rate_limits import RateLimits
from onestop.web.sessions import Sessions

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
SCHEDULE_SECONDS = 5.0


class Hall:
    """Everything one running hall server owns, opened at startup and closed at shutdown."""

    def __init__(self, settings: RuntimeSettings, config: HallConfig, clock: Clock) -> None:
        self.settings = settings
        self.config = config
        self.base_url = settings.base_url()
        self.store = Store(settings.db_url())
        self.bus = EventBus()
        self.engine = QueueEngine(self.store, config, clock, self.bus)
        self.appointments = AppointmentBook(self.engine, self.engine.calendar)  # appointments
        self.day = HallDay(self.engine, self.appointments)
        self._schedule_stop = threading.Event()
        self._scheduler: threading.Thread | None = None
        workers = 1 if self.store.is_sqlite else 8
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="db")
        self.hub = EventHub(
            tz=self.engine.time.tz,
            head=self.engine.head(),
            fetch_between=lambda since, upto: self.db(self.engine.events_between, since, upto),
            fetch_head=lambda: self.db(self.engine.head),
            per_address=config.security.websockets_per_address,
            total=config.security.websockets_total,
        )
        self._unsubscribe = self.bus.subscribe(self.hub.publish_threadsafe)
        # Accounts, sessions and sign-in: changes are ledger events by the engine's units;
        # argon2 runs in its own small pool, never on the database threads.
        self.accounts = Accounts(self.store, clock, self.engine.unit)
        self.sessions = Sessions(self.store, clock, config.security, self.engine.unit)
        self.login_throttle = LoginThrottle()
        limits = config.rate_limits
        self.rate_limits = RateLimits({"booking": limits.booking, "lookup": limits.lookup,
                                       "cancel": limits.cancel}, enabled=limits.enabled)
        self.passwords = PasswordWorkers()
        self.trusted_proxies = config.security.proxy_networks()
        self.kiosks = KioskPrinters(config, self.engine, settings.data_dir.resolve(),
                                    poll_interval=settings.printer_poll_seconds)
        self.led = LedSignage(config, self.engine, settings.data_dir.resolve())
        self.voice = HallVoice(config.voice, self.engine, settings.data_dir.resolve())

    async def db(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking store work (an engine command, a read) on the database threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    def start_schedule(self) -> None:
        """Run the hall's day from the clock in its own thread (see onestop.queue.day)."""
        self._scheduler = threading.Thread(target=self._run_schedule, name="hall-day",
                                           daemon=True)
        self._scheduler.start()

    def _run_schedule(self) -> None:
        while not self._schedule_stop.is_set():
            try:
                for step in self.day.tick():
                    log.info("hall day: %s", step)
            except Exception:
                log.exception("the hall's schedule failed; retrying")
            self._schedule_stop.wait(SCHEDULE_SECONDS)

    async def close(self) -> None:
        self._schedule_stop.set()
        if self._scheduler is not None:
            await asyncio.to_thread(self._scheduler.join, 10)
        await asyncio.to_thread(self.kiosks.stop)
        await asyncio.to_thread(self.led.stop)
        await asyncio.to_thread(self.voice.stop)
        self._unsubscribe()
        await self.hub.stop()
        await asyncio.to_thread(self.passwords.close)
        self.executor.shutdown(wait=True)
        self.store.dispose()
