"""Accounts and sign-in for tests: real users and devices in the real database, real sign-in.

    add_user(db_url, "sup", "supervisor")              # password defaults to PASSWORD
    add_device(db_url, "kiosk-k1", "kiosk", "k1")      # returns the bearer token
    sign_in(client, "sup")                             # TestClient or httpx.Client
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

from onestop.queue.clock import SystemClock
from onestop.queue.store import Store, migrate
from onestop.web.accounts import Accounts

PASSWORD = "Correct-Horse-Battery-9"  # meets the password policy (onestop.web.passwords)


def _accounts(db_url: str) -> tuple[Accounts, Store]:
    migrate(db_url)
    store = Store(db_url)
    return Accounts(store, SystemClock()), store


def add_user(db_url: str, username: str, role: str, counters: list[int] | None = None,
             password: str = PASSWORD, name: str | None = None) -> None:
    accounts, store = _accounts(db_url)
    try:
        accounts.add_user(username, name or username, role, password, counters or [])
    finally:
        store.dispose()


def add_device(db_url: str, name: str, role: str, kiosk: str | None = None) -> str:
    accounts, store = _accounts(db_url)
    try:
        return accounts.add_device(name, role, kiosk)[1]
    finally:
        store.dispose()


def sign_in(client: Any, username: str, password: str = PASSWORD, window: int | None = None
            ) -> dict[str, Any]:
    """Sign in through the real endpoints; afterwards the client sends the CSRF header."""
    csrf = client.get("/auth/me").json()["csrf_token"]
    response = client.post("/auth/login", json={"username": username, "password": password},
                           headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200, response.text
    me: dict[str, Any] = response.json()
    client.headers["X-CSRF-Token"] = me["csrf_token"]
    if window is not None:
        chosen = client.post("/auth/window", json={"counter": window})
        assert chosen.status_code == 200, chosen.text
        me = chosen.json()
    return me


async def sign_in_async(client: Any, username: str, password: str = PASSWORD) -> dict[str, Any]:
    """sign_in for httpx.AsyncClient."""
    csrf = (await client.get("/auth/me")).json()["csrf_token"]
    response = await client.post("/auth/login", json={"username": username, "password": password},
                                 headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200, response.text
    me: dict[str, Any] = response.json()
    client.headers["X-CSRF-Token"] = me["csrf_token"]
    return me


def staff_windows(client: Any, *numbers: int) -> None:
    """Clerks sit down at these windows (every configured one if none are given) in the hall
    behind a TestClient: the set-up of a day already under way, so a supervisor's requests
    act at windows somebody staffs (an unstaffed window calls nobody)."""
    from engine_support import clerk_at

    engine = client.app.state.hall.engine
    for n in numbers or [c.number for c in engine.config.counters]:
        engine.windows.sign_in(n, actor=clerk_at(n))


def seat_clerks(db_url: str, base_url: str, *numbers: int) -> list[Any]:
    """Clerks clerk<N> (accounts made here, each bound to window N) sign in over HTTP, so each
    of these windows of a live server is staffed. Returns their signed-in httpx clients; close
    them when done. A clerk bound to one window sits down there at sign-in."""
    import httpx

    clients = []
    for n in numbers:
        name = f"clerk{n}"
        with contextlib.suppress(Exception):  # already made by an earlier call in this test
            add_user(db_url, name, "clerk", [n], name=f"{n}号窗口员")
        client = httpx.Client(base_url=base_url, timeout=15)
        me = sign_in(client, name)
        assert me["window"] == n, me
        clients.append(client)
    return clients


class OpenTerminals:
    """Clerks signed in at windows of a live server whose terminals stay open: a background
    thread sends each one's heartbeat every few seconds, as the counter page does, so the
    windows stay staffed however long the test takes. `close()` stops it and signs nobody out
    (the server's own sweep would unstaff the windows a minute later)."""

    def __init__(self, db_url: str, base_url: str, *numbers: int, every: float = 10.0) -> None:
        import threading

        self.windows = list(numbers)
        self.clients = seat_clerks(db_url, base_url, *numbers)
        self._stop = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._beat, name="terminals", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self._every):
            for client, number in zip(self.clients, self.windows, strict=True):
                with contextlib.suppress(Exception):  # a server restarting: next beat
                    client.post(f"/api/counters/{number}/heartbeat")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        for client in self.clients:
            client.close()


SAMPLE_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
TWO_KIOSKS_NO_PRINTERS = """
[[kiosks]]
id = "k1"
name = "一号机"
printer = { type = "none" }

[[kiosks]]
id = "k2"
name = "二号机"
printer = { type = "none" }
"""


def sample_hall_without_printers(config_dir: Path) -> Path:
    """The sample hall's files in `config_dir`, with two kiosks that have no printer (tests
    that exercise roles and routes, not printing)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    for name in ("hall.toml", "services.toml"):
        shutil.copy(SAMPLE_CONFIG_DIR / name, config_dir / name)
    (config_dir / "devices.toml").write_text(TWO_KIOSKS_NO_PRINTERS, encoding="utf-8")
    return config_dir
