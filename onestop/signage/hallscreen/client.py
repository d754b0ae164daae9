"""The hall TV's link to the server: the event stream and the notices, in a background thread.

The drawing loop must never wait on the network, so a thread runs its own asyncio loop: it
follows `/ws/events` (a snapshot the first time, `?since=<last seq>` after any failure, with a
backoff from 0.5 s to 10 s, forever), asks /healthz for the ledger head after a resumed connect
(so replayed calls do not flash), and fetches GET /api/notices at start, after each reconnect
and every minute. Everything it learns goes into a thread-safe queue that the drawing loop
drains into the ScreenModel with `pump`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import queue
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import connect

from onestop.signage.hallscreen.model import ScreenModel
from onestop.signage.screen import NOTICE_REFRESH_SECONDS

log = logging.getLogger(__name__)

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 10.0
HTTP_TIMEOUT = 5.0
MAX_PENDING = 20_000  # updates waiting for the drawing loop; beyond this, resync by snapshot


@dataclass(frozen=True)
class Message:
    """A wire message from the event stream."""

    message: dict[str, Any]


@dataclass(frozen=True)
class Resumed:
    """A socket reopened with ?since: the replay bounds (see ScreenModel.begin_catch_up)."""

    head: float
    opened_wall: float


@dataclass(frozen=True)
class Notices:
    """GET /api/notices answered, after the client had received up to `as_of_seq`."""

    notices: list[Any]
    as_of_seq: int | None


@dataclass(frozen=True)
class Day:
    """GET /api/day answered: paused windows and where to go instead, the phase of the day."""

    day: Any


@dataclass(frozen=True)
class Status:
    """The stream opened (True) or closed (False)."""

    connected: bool


Update = Message | Resumed | Notices | Day | Status

#: Events after which GET /api/day says something new (a window paused, the day closed).
DAY_EVENTS = ("counter.", "day.", "lunch.")


def ws_url(server: str) -> str:
    """http://host:8000 (or ws://…, with or without a path) → ws://host:8000/ws/events."""
    parts = urlsplit(server if "://" in server else f"http://{server}")
    scheme = {"https": "wss", "wss": "wss"}.get(parts.scheme, "ws")
    return urlunsplit((scheme, parts.netloc, "/ws/events", "", ""))


def http_url(server: str, path: str) -> str:
    """The server's base address with `path`, in http(s)."""
    parts = urlsplit(server if "://" in server else f"http://{server}")
    scheme = "https" if parts.scheme in ("https", "wss") else "http"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


class HallClient:
    """Follows one server for one screen; `start`, then `pump(model)` every frame, `stop`."""

    def __init__(self, server: str, token: str | None = None,
                 notice_refresh: float = NOTICE_REFRESH_SECONDS) -> None:
        self.server = server
        self.token = token or None
        self.notice_refresh = notice_refresh
        self.updates: queue.Queue[Update] = queue.Queue()
        self.last_seq: int | None = None  # the client's resume point (thread-owned)
        self.connects = 0  # sockets opened, for tests and diagnostics
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._notices_now: asyncio.Event | None = None
        self._ready = threading.Event()
        self._resync = False  # the backlog was dropped: reconnect for a snapshot
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # -- lifecycle (any thread) ------------------------------------------------------------

    def start(self) -> None:
        """Start the background thread; returns at once."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="hallscreen-client", daemon=True)
        self._thread.start()
        self._ready.wait(5)

    def stop(self, timeout: float = 10.0) -> None:
        """Close the socket and end the thread."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def pump(self, model: ScreenModel, limit: int = 5_000) -> int:
        """Apply up to `limit` waiting updates to `model` (drawing thread); returns how many."""
        done = 0
        while done < limit:
            try:
                update = self.updates.get_nowait()
            except queue.Empty:
                break
            apply_update(model, update)
            done += 1
        return done

    # -- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:  # never silently: the screen would freeze on stale data
            log.exception("hall screen client stopped")

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._notices_now = asyncio.Event()
        self._ready.set()
        notices = asyncio.create_task(self._notices_loop())
        stop_wait = asyncio.create_task(self._stopping.wait())
        delay = BACKOFF_FIRST
        try:
            while not self._stopping.is_set():
                session = asyncio.create_task(self._session())
                await asyncio.wait({session, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
                if not session.done():
                    session.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await session
                    break
                opened = False
                try:
                    opened = session.result()
                except Exception as exc:
                    log.warning("hall screen: event stream failed: %s", exc)
                self._put(Status(False))
                if opened:
                    delay = BACKOFF_FIRST  # it worked until now: retry soon
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(stop_wait), delay)
                delay = min(delay * 2, BACKOFF_MAX)
        finally:
            for task in (notices, stop_wait):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(notices, stop_wait, return_exceptions=True)
            self._put(Status(False))

    async def _session(self) -> bool:
        """One socket, until it closes; True when it opened (the backoff starts over)."""
        since = self.last_seq
        url = ws_url(self.server) + (f"?since={since}" if since is not None else "")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        async with connect(url, additional_headers=headers, proxy=None, open_timeout=10,
                           max_size=8 * 2**20, ping_interval=20, ping_timeout=20) as ws:
            opened_wall = time.time()
            self.connects += 1
            if since is not None:
                head = await asyncio.to_thread(self._healthz_seq)
                self._put(Resumed(head=head, opened_wall=opened_wall))
            self._put(Status(True))
            if self._notices_now is not None:
                self._notices_now.set()  # notices that started or ended while we were away
            async for raw in ws:
                self._receive(raw)
                if self._resync:
                    self._resync = False
                    break
            if ws.close_code not in (None, 1000, 1001):
                log.warning("hall screen: server closed the stream: %s %s",
                            ws.close_code, ws.close_reason)
        return True

    def _receive(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            log.warning("hall screen: ignored a message that is not JSON")
            return
        if not isinstance(message, dict):
            return
        seq = message.get("seq")
        if isinstance(seq, int):
            if message.get("type") == "snapshot":
                self.last_seq = seq
            elif self.last_seq is not None and seq <= self.last_seq:
                return  # seen already
            else:
                self.last_seq = seq
        self._put(Message(message))
        kind = message.get("type")
        if (isinstance(kind, str) and kind.startswith(DAY_EVENTS)
                and self._notices_now is not None):
            self._notices_now.set()

    def _put(self, update: Update) -> None:
        if self.updates.qsize() >= MAX_PENDING:
            # The drawing loop is not keeping up (or stopped): rather than grow without bound,
            # forget the backlog and start again from a snapshot at the next connect.
            log.warning("hall screen: %d updates pending, dropping them", MAX_PENDING)
            with contextlib.suppress(queue.Empty):
                while True:
                    self.updates.get_nowait()
            self.last_seq = None
            self._resync = True
        self.updates.put(update)

    async def _notices_loop(self) -> None:
        assert self._notices_now is not None
        while True:
            as_of = self.last_seq
            notices = await asyncio.to_thread(self._get_json, "/api/notices")
            if isinstance(notices, list):
                self._put(Notices(notices, as_of))
            day = await asyncio.to_thread(self._get_json, "/api/day")
            if isinstance(day, dict):
                self._put(Day(day))
            self._notices_now.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._notices_now.wait(), self.notice_refresh)

    # -- blocking HTTP (run in worker threads) ------------------------------------------------

    def _get_json(self, path: str) -> Any:
        request = urllib.request.Request(http_url(self.server, path))
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with self._opener.open(request, timeout=HTTP_TIMEOUT) as response:
                return json.loads(response.read().decode("utf-8"))
        except (OSError, ValueError) as exc:
            log.info("hall screen: GET %s failed: %s", path, exc)
            return None

    def _healthz_seq(self) -> float:
        health = self._get_json("/healthz")
        seq = health.get("seq") if isinstance(health, dict) else None
        return float(seq) if isinstance(seq, int) else math.inf


def apply_update(model: ScreenModel, update: Update) -> None:
    """Hand one update from the client thread to the model."""
    if isinstance(update, Message):
        model.apply(update.message)
    elif isinstance(update, Resumed):
        model.begin_catch_up(update.head, update.opened_wall)
    elif isinstance(update, Notices):
        model.set_notices(update.notices, update.as_of_seq)
    elif isinstance(update, Day):
        model.set_day(update.day)
    else:
        model.set_connected(update.connected)
