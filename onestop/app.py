"""Wiring: one Hall (onestop.hall) behind one FastAPI application with every room's routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path  # signage wiring
from typing import Any

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
from onestop.hall import Hall
from onestop.kiosk import api as kiosk_api
from onestop.kiosk import pages as kiosk_pages
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import Clock, SystemClock
from onestop.queue.store import migrate
from onestop.settings import RuntimeSettings
from onestop.signage import notices as signage_notices  # signage wiring
from onestop.signage import screen as signage_screen  # signage wiring
from onestop.web import (
    api,
    auth_routes,
    bounds,
    day_api,
    errors,
    events_ws,
    log_redaction,
    openapi_errors,
    privacy_api,
    staff_api,
)
from onestop.web import docs as web_docs
from onestop.web.security import SecurityHeaders
from onestop.web.static_files import SHARED_DIR, SHARED_URL

log = logging.getLogger(__name__)


def create_app(
    settings: RuntimeSettings, config: HallConfig, clock: Clock | None = None
) -> FastAPI:
    clock = clock or SystemClock()
    log_redaction.install()

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
        # Our own /docs (onestop.web.docs: Swagger UI from the installed package, no CDN);
        # FastAPI's CDN-based pages are off.
        docs_url=None, redoc_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
    )
    errors.install(app)
    bounds.install_handlers(app)
    # Input the database cannot hold, and bodies over the limit, are refused before any route.
    app.add_middleware(bounds.InputBounds, max_body_bytes=config.security.max_body_kb * 1024)
    # Every response gets the security headers here, once (onestop.web.security).
    app.add_middleware(SecurityHeaders, docs=(web_docs.DOCS_URL,))
    app.add_middleware(
        SessionMiddleware, secret_key=settings.session_secret(), session_cookie="onestop_session",
        # The cookie only names a server-side session (onestop.web.sessions), which decides.
        max_age=config.security.session_max_hours * 3600, same_site="lax",
        https_only=settings.cookies_secure(),
    )
    if settings.docs:
        app.include_router(web_docs.router)
        app.mount(web_docs.ASSETS_URL, StaticFiles(directory=web_docs.assets_dir()),
                  name="docs-static")
    app.include_router(auth_routes.router)
    app.include_router(api.catalogue)
    app.include_router(api.kiosk)
    app.include_router(api.windows)
    app.include_router(events_ws.router)
    app.include_router(day_api.router)
    app.include_router(staff_api.router)
    app.include_router(privacy_api.router)
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

    openapi_errors.declare_error_responses(app)
    return app
