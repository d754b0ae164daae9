"""Wiring: one Hall (config, store, engine, bus, hub) behind one FastAPI application.

Database work runs in a dedicated thread pool so the event loop never blocks on I/O. On SQLite
the pool has one thread: SQLite admits one writer at a time anyway, and a single writer thread
turns lock contention into a plain queue. PostgreSQL gets several threads and its own row locks.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path  # signage wiring
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from onestop import __version__
from onestop.admin import api as admin_api
from onestop.admin import pages as admin_pages
from onestop.appointments import api as appointments_api  # appointments wiring
from onestop.appointments import pages as appointments_pages  # appointments wiring
from onestop.counter import api as counter_api  # counter wiring
from onestop.counter import pages as counter_pages  # counter wiring
from onestop.kiosk import api as kiosk_api
from onestop.kiosk import pages as kiosk_pages
from onestop.kiosk.printing import KioskPrinters
from onestop.queue.appointments import AppointmentBook  # appointments wiring
from onestop.queue.bus import EventBus
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import Clock, SystemClock
from onestop.queue.day import HallDay
from onestop.queue.engine import QueueEngine
from onestop.queue.store import Store, migrate
from onestop.settings import RuntimeSettings
from onestop.signage import notices as signage_notices  # signage wiring
from onestop.signage import screen as signage_screen  # signage wiring
from onestop.signage.led import LedSignage
from onestop.signage.voice_calls import HallVoice
from onestop.web import api, auth_routes, day_api, errors, events_ws
from onestop.web.access import LoginThrottle
from onestop.web.accounts import Accounts
from onestop.web.hub import EventHub
from onestop.web.security import SecurityHeaders
from onestop.web.static_files import SHARED_DIR, SHARED_URL

log = logging.getLogger(__name__)
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
        )
        self._unsubscribe = self.bus.subscribe(self.hub.publish_threadsafe)
        self.accounts = Accounts(self.store, clock)
        self.login_throttle = LoginThrottle()
        self.kiosks = KioskPrinters(config, self.engine, settings.data_dir.resolve(),
                                    poll_interval=settings.printer_poll_seconds)
        self.led = LedSignage(config, self.engine, settings.data_dir.resolve())
        self.voice = HallVoice(config.voice, self.engine, settings.data_dir.resolve())

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args))

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
        self.executor.shutdown(wait=True)
        self.store.dispose()


def create_app(
    settings: RuntimeSettings, config: HallConfig, clock: Clock | None = None
) -> FastAPI:
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(migrate, settings.db_url())
        hall = Hall(settings, config, clock)
        await hall.db(hall.engine.sync_counters)
        hall.hub.start()
        await asyncio.to_thread(hall.kiosks.start)
        await asyncio.to_thread(hall.led.start)
        hall.voice.start()
        hall.start_schedule()
        app.state.hall = hall
        log.info("hall %s ready on %s", config.hall.name, settings.db_url().split("@")[-1])
        try:
            yield
        finally:
            await hall.close()

    app = FastAPI(
        title="onestop",
        version=__version__,
        description="Queueing and signage for a one-stop government service hall (政务服务中心).",
        lifespan=lifespan,
    )
    errors.install(app)
    # Every HTML page gets the security headers here, once; the OpenAPI pages load Swagger UI
    # from a CDN and keep FastAPI's own headers.
    app.add_middleware(SecurityHeaders, exempt=(app.docs_url, app.redoc_url,
                                                app.swagger_ui_oauth2_redirect_url))
    app.add_middleware(
        SessionMiddleware, secret_key=settings.session_secret(), session_cookie="onestop_session",
        max_age=12 * 3600, same_site="lax", https_only=settings.secure_cookies,
    )
    app.include_router(auth_routes.router)
    app.include_router(api.catalogue)
    app.include_router(api.kiosk)
    app.include_router(api.windows)
    app.include_router(events_ws.router)
    app.include_router(day_api.router)
    app.include_router(appointments_api.router)  # appointments wiring (before kiosk routes)
    app.include_router(kiosk_api.router)
    app.mount(SHARED_URL, StaticFiles(directory=SHARED_DIR), name="web-static")
    app.mount("/static/kiosk", StaticFiles(directory=kiosk_pages.STATIC_DIR), name="kiosk-static")
    app.include_router(kiosk_pages.router)
    app.mount("/static/signage",  # signage wiring
              StaticFiles(directory=Path(signage_screen.__file__).parent / "static"),
              name="signage-static")
    app.include_router(signage_notices.router)  # signage wiring
    app.include_router(signage_screen.router)  # signage wiring
    app.include_router(admin_api.router)
    app.include_router(admin_pages.router)
    app.mount("/static/admin", StaticFiles(directory=admin_pages.STATIC_DIR), name="admin-static")
    app.include_router(counter_pages.router)  # counter wiring
    app.include_router(counter_api.router)  # counter wiring
    app.mount("/static/counter", StaticFiles(directory=counter_pages.STATIC_DIR),  # counter wiring
              name="counter-static")  # counter wiring

    app.include_router(appointments_pages.router)  # appointments wiring
    app.mount("/static/appointments", StaticFiles(directory=appointments_pages.STATIC_DIR),
              name="appointments-static")  # appointments wiring

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, Any]:
        hall: Hall = app.state.hall
        return {"ok": True, "seq": hall.hub.last_seq, "websocket_clients": hall.hub.connected}

    return app
