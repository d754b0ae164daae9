"""Who may do what: every API route × every role against the role matrix, plus CSRF, window
binding, kiosk binding and sign-in throttling. Real app, real database, real sign-in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from auth_support import (
    PASSWORD,
    SAMPLE_CONFIG_DIR,
    add_device,
    add_user,
    sample_hall_without_printers,
    sign_in,
)
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.requests import Request

from onestop.app import create_app
from onestop.queue.catalogue import SecurityDef
from onestop.queue.clock import ManualClock
from onestop.settings import RuntimeSettings, load_hall_config
from onestop.web.access import MATRIX, LoginThrottle, TooManyAttempts, client_address
from onestop.web.passwords import PasswordsBusy, PasswordWorkers

SAMPLE = SAMPLE_CONFIG_DIR
ROLES = ["admin", "supervisor", "clerk", "desk", "kiosk", "screen", "public"]


def action_of(route: APIRoute) -> str | None:
    """The matrix action a route declares through allow(...) (directly or via window_actor)."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        name = getattr(dep.call, "__name__", "")
        if name.startswith("allow_"):
            for action in MATRIX:
                if name == f"allow_{action.replace('.', '_')}":
                    return action
        stack.extend(dep.dependencies)
    return None


@pytest.fixture
def hall(db_url: str, clock: ManualClock, tmp_path: Path) -> Iterator[dict[str, Any]]:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    sample_hall_without_printers(config_dir)
    for role in ("admin", "supervisor", "desk"):
        add_user(db_url, role, role)
    add_user(db_url, "clerk", "clerk", counters=[5, 6])
    tokens = {"kiosk": add_device(db_url, "kiosk-k1", "kiosk", "k1"),
              "screen": add_device(db_url, "screen-1", "screen")}
    # What the walk may disable, reset, revoke and rotate: nobody's credentials in use.
    add_user(db_url, "spare", "clerk", counters=[7])
    add_device(db_url, "spare-screen", "screen")
    settings = RuntimeSettings(db=db_url, data_dir=tmp_path, printer_poll_seconds=60)
    app = create_app(settings, load_hall_config(config_dir), clock)
    clients: dict[str, TestClient] = {}
    with TestClient(app) as first:
        clients["public"] = first
        for role in ROLES[:-1]:
            c = TestClient(app)
            if role in tokens:
                c.headers["Authorization"] = f"Bearer {tokens[role]}"
            else:
                sign_in(c, role, window=5 if role == "clerk" else None)
            clients[role] = c
        ticket = clients["supervisor"].post("/api/tickets", json={"service": "elderly-card"})
        assert ticket.status_code == 201
        hall = app.state.hall
        spare_user = hall.accounts.user_by_name("spare").id
        spare_device = hall.accounts.device_by_name("spare-screen").id
        yield {"app": app, "clients": clients, "token": ticket.json()["token"],
               "ids": {"user_id": spare_user, "device_id": spare_device, "session_id": 999999}}


def all_routes(routes: list[Any]) -> list[Any]:
    """Flatten included routers (FastAPI wraps them since 0.16x)."""
    flat = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        flat.extend(all_routes(inner.routes) if inner is not None else [route])
    return flat


def api_routes(app: Any) -> list[APIRoute]:
    routes = [r for r in all_routes(app.routes)
              if isinstance(r, APIRoute) and r.path.startswith("/api/")]
    assert len(routes) >= 20, "the route walk found too few routes to mean anything"
    return routes


def fill(path: str, token: str, ids: dict[str, int]) -> str:
    path = (path.replace("{counter}", "5").replace("{kiosk}", "k1").replace("{token}", token)
            .replace("{id}", "1").replace("{notice_id}", "1"))
    for name, value in ids.items():
        path = path.replace("{" + name + "}", str(value))
    return path


def test_every_api_route_declares_an_action(hall: dict[str, Any]) -> None:
    undeclared = [f"{sorted(r.methods)} {r.path}" for r in api_routes(hall["app"])
                  if action_of(r) is None]
    assert not undeclared, f"routes outside the role matrix: {undeclared}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_route_by_role_matrix(hall: dict[str, Any]) -> None:
    """Allowed roles never get 401/403; others get 401 (public) or 403; nobody gets a 500."""
    checked = 0
    for route in api_routes(hall["app"]):
        action = action_of(route)
        assert action is not None
        for method in sorted(route.methods - {"HEAD"}):
            path = fill(route.path, hall["token"], hall["ids"])
            for role in ROLES:
                client: TestClient = hall["clients"][role]
                response = client.request(method, path, json={} if method != "GET" else None)
                allowed = role in MATRIX[action]
                where = f"{role} {method} {path} ({action}): {response.status_code} {response.text}"
                assert response.status_code < 500, where
                if allowed:
                    assert response.status_code not in (401, 403), where
                else:
                    assert response.status_code == (401 if role == "public" else 403), where
                checked += 1
    assert checked > 100


def test_clerk_acts_only_at_their_window(hall: dict[str, Any]) -> None:
    clerk: TestClient = hall["clients"]["clerk"]
    assert clerk.post("/api/counters/5/call-next").status_code == 200
    other = clerk.post("/api/counters/6/call-next")
    assert other.status_code == 403 and "5号窗口" in other.json()["message"]
    # Moving to an assigned window works once the resident at window 5 is seen to; an
    # unassigned one is refused.
    assert clerk.post("/auth/window", json={"counter": 7}).status_code == 403
    busy = clerk.post("/auth/window", json={"counter": 6})
    assert busy.status_code == 409 and "请先办结或转出" in busy.json()["message"]
    assert clerk.post("/api/counters/5/start").status_code == 200
    assert clerk.post("/api/counters/5/finish", json={"outcome": "consultation"}).status_code == 200
    assert clerk.post("/auth/window", json={"counter": 6}).status_code == 200
    assert clerk.post("/api/counters/5/recall").status_code == 403
    windows = {c["number"]: c for c in hall["clients"]["supervisor"].get("/api/counters").json()}
    assert windows[5]["state"] == "unstaffed" and windows[6]["state"] == "open"


def test_kiosk_device_issues_only_as_itself(hall: dict[str, Any]) -> None:
    kiosk: TestClient = hall["clients"]["kiosk"]
    assert kiosk.post("/api/kiosks/k1/tickets", json={"service": "gas-payment"}).status_code == 201
    assert kiosk.post("/api/kiosks/k2/tickets", json={"service": "gas-payment"}).status_code == 403
    assert kiosk.post("/api/counters/1/call-next").status_code == 403
    screen: TestClient = hall["clients"]["screen"]
    assert screen.get("/api/counters").status_code == 200
    assert screen.post("/api/tickets", json={"service": "gas-payment"}).status_code == 403


def test_state_changes_without_csrf_are_refused(hall: dict[str, Any]) -> None:
    sup: TestClient = hall["clients"]["supervisor"]
    csrf = sup.headers.pop("X-CSRF-Token")
    refused = sup.post("/api/tickets", json={"service": "gas-payment"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    form = sup.post("/api/tickets", data={"service": "gas-payment"})
    assert form.status_code == 403
    wrong = sup.post("/api/tickets", json={"service": "gas-payment"},
                     headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    ok = sup.post("/api/tickets", json={"service": "gas-payment"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    # The login form itself is protected (login CSRF): a post without the token is refused.
    fresh = TestClient(hall["app"])
    assert fresh.post("/auth/login", data={"username": "admin", "password": "x"}).status_code \
        == 403


def test_bad_device_token_is_401_not_public(hall: dict[str, Any]) -> None:
    stranger = TestClient(hall["app"])
    response = stranger.get("/api/services", headers={"Authorization": "Bearer forged-token"})
    assert response.status_code == 401


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sign_in_with_a_body_that_is_not_json_is_a_401_not_a_500(hall: dict[str, Any]) -> None:
    """Found by the API fuzzing (tests/test_fuzz_api.py): `{`, a NUL byte or bytes that are not
    UTF-8, sent as application/json, used to escape as a 500."""
    c = TestClient(hall["app"], raise_server_exceptions=False)
    csrf = c.get("/auth/me").json()["csrf_token"]
    for body in (b"{", b"\x00", b"\xff\xfe"):
        response = c.post("/auth/login", content=body, headers={
            "X-CSRF-Token": csrf, "Content-Type": "application/json"})
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "unauthorized"
        assert response.json()["message_en"] == "enter a user name and a password"


def test_sign_in_is_throttled(hall: dict[str, Any]) -> None:
    c = TestClient(hall["app"])
    csrf = c.get("/auth/me").json()["csrf_token"]

    def attempt(password: str) -> int:
        return c.post("/auth/login", json={"username": "desk", "password": password},
                      headers={"X-CSRF-Token": csrf}).status_code

    assert [attempt("wrong") for _ in range(5)] == [401] * 5
    assert attempt("wrong") == 429
    blocked = attempt(PASSWORD)
    assert blocked == 429, "even the right password waits out the lock"


def test_pages_send_strangers_to_sign_in(hall: dict[str, Any]) -> None:
    stranger = TestClient(hall["app"], follow_redirects=False)
    desk = stranger.get("/desk")
    assert desk.status_code == 303 and desk.headers["location"].startswith("/login")
    login = stranger.get("/login?next=//evil.example/x")
    assert login.status_code == 200 and 'value="/"' in login.text
    cookie = next(c for c in hall["clients"]["supervisor"].cookies.jar)
    assert cookie.has_nonstandard_attr("HttpOnly") or "httponly" in str(cookie._rest).lower()




# -- sign-in throttling -------------------------------------------------------------------------


def test_throttle_locks_a_name_per_address_and_only_slows_it_elsewhere() -> None:
    throttle = LoginThrottle()
    delays = [throttle.begin("admin", "10.0.0.1").delay for _ in range(5)]
    assert delays == [0.0, 0.25, 0.5, 1.0, 2.0]  # counted before any password is checked
    with pytest.raises(TooManyAttempts) as locked:
        throttle.begin("admin", "10.0.0.1")
    assert "请 5 分钟后再试" in locked.value.message
    # From another address: not locked, only a growing delay, capped at 8 s.
    elsewhere = throttle.begin("ADMIN", "10.0.0.2")
    assert elsewhere.delay == 4.0
    throttle.succeeded(elsewhere)  # the right password from there: that was no failure
    assert [throttle.begin("admin", "10.0.0.3").delay for _ in range(4)] == [4.0, 8.0, 8.0, 8.0]
    # Any name from one address: locked after 20.
    for i in range(20):
        throttle.begin(f"guess{i}", "10.0.0.9")
    with pytest.raises(TooManyAttempts) as flood:
        throttle.begin("someone", "10.0.0.9")
    assert "本机登录失败次数过多" in flood.value.message


def test_throttle_forgets_after_the_window_and_takes_back_unchecked_attempts() -> None:
    throttle = LoginThrottle(window=0.2)
    first = throttle.begin("desk", "a")
    throttle.cancel(first)  # the password workers were busy: never checked, never counted
    assert throttle.begin("desk", "a").delay == 0.0
    for _ in range(4):
        throttle.begin("desk", "a")
    with pytest.raises(TooManyAttempts):
        throttle.begin("desk", "a")
    time.sleep(0.25)
    assert throttle.begin("desk", "a").delay == 0.0


def test_client_address_believes_forwarded_for_only_from_trusted_proxies() -> None:
    def request(peer: str, forwarded: str | None) -> Request:
        headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
        return Request({"type": "http", "client": (peer, 1234), "headers": headers})

    proxies = SecurityDef(trusted_proxies=["10.0.0.2", "10.1.0.0/16"]).proxy_networks()
    assert client_address(request("10.0.0.2", "203.0.113.7"), proxies) == "203.0.113.7"
    # The nearest hop that is not one of our proxies; whatever the client wrote before it is
    # not believed.
    assert client_address(request("10.0.0.2", "6.6.6.6, 203.0.113.7, 10.1.2.3"),
                          proxies) == "203.0.113.7"
    assert client_address(request("10.0.0.2", "garbage, 203.0.113.7"), proxies) == "203.0.113.7"
    assert client_address(request("10.0.0.2", "203.0.113.7, garbage"), proxies) == "10.0.0.2"
    assert client_address(request("10.0.0.2", None), proxies) == "10.0.0.2"
    assert client_address(request("192.0.2.1", "203.0.113.7"), proxies) == "192.0.2.1"
    assert client_address(request("10.0.0.2", "203.0.113.7"), ()) == "10.0.0.2"
    with pytest.raises(ValueError, match="trusted_proxies"):
        SecurityDef(trusted_proxies=["10.0.0.x"])


def test_password_workers_refuse_beyond_their_bound() -> None:
    workers = PasswordWorkers(workers=1, queue=1)
    digest = workers.hasher.hash("Right-Password-1")

    async def burst() -> list[Any]:
        return await asyncio.gather(*(workers.verify(digest, "Right-Password-1")
                                      for _ in range(5)), return_exceptions=True)

    try:
        results = asyncio.run(burst())
    finally:
        workers.close()
    assert results.count(True) == 2
    busy = [r for r in results if isinstance(r, PasswordsBusy)]
    assert len(busy) == 3 and busy[0].status == 429 and "稍后再试" in busy[0].message


@pytest.fixture
def login_app(clock: ManualClock, tmp_path: Path) -> Iterator[Any]:
    """A hall on SQLite with an admin, whose throttle waits milliseconds instead of seconds
    (the delays themselves are checked above), trusting 10.0.0.254 as its reverse proxy."""
    db_url = f"sqlite:///{tmp_path / 'login.db'}"
    add_user(db_url, "admin", "admin")
    config = load_hall_config(SAMPLE)
    config = config.model_copy(update={"security": SecurityDef(trusted_proxies=["10.0.0.254"])})
    settings = RuntimeSettings(db=db_url, data_dir=tmp_path, printer_poll_seconds=60)
    app = create_app(settings, config, clock)
    with TestClient(app):
        app.state.hall.login_throttle.base_delay = 0.001
        yield app


def attempt(c: TestClient, password: str, username: str = "admin",
            headers: dict[str, str] | None = None) -> int:
    csrf = c.get("/auth/me").json()["csrf_token"]
    return c.post("/auth/login", json={"username": username, "password": password},
                  headers={"X-CSRF-Token": csrf, **(headers or {})}).status_code


def test_wrong_passwords_from_one_address_do_not_lock_the_user_out_elsewhere(
        login_app: Any) -> None:
    at_a = TestClient(login_app, client=("10.0.0.1", 50000))
    at_b = TestClient(login_app, client=("10.0.0.2", 50000))
    assert [attempt(at_a, "Wrong-Guess-1") for _ in range(5)] == [401] * 5
    assert attempt(at_a, PASSWORD) == 429, "address A is locked for admin, even the right one"
    assert attempt(at_b, PASSWORD) == 200, "admin still signs in from address B"


def test_forwarded_for_counts_only_behind_the_trusted_proxy(login_app: Any) -> None:
    proxy = TestClient(login_app, client=("10.0.0.254", 50000))
    liar = TestClient(login_app, client=("10.0.0.7", 50000))
    for _ in range(5):
        assert attempt(proxy, "Wrong-Guess-1", headers={"X-Forwarded-For": "192.0.2.10"}) == 401
    assert attempt(proxy, PASSWORD, headers={"X-Forwarded-For": "192.0.2.10"}) == 429
    assert attempt(proxy, PASSWORD, headers={"X-Forwarded-For": "192.0.2.11"}) == 200
    # A client that is not the proxy cannot escape its lock by claiming other addresses.
    for i in range(5):
        assert attempt(liar, "Wrong-Guess-1", headers={"X-Forwarded-For": f"198.51.100.{i}"}) \
            == 401
    assert attempt(liar, PASSWORD, headers={"X-Forwarded-For": "198.51.100.99"}) == 429


def test_a_parallel_burst_from_one_address_gets_at_most_five_password_checks(
        login_app: Any) -> None:
    hall = login_app.state.hall
    checked: list[str] = []
    verify = hall.passwords.verify

    async def counting(password_hash: str | None, password: str) -> bool:
        checked.append(password)
        return bool(await verify(password_hash, password))

    hall.passwords.verify = counting
    burst = TestClient(login_app, client=("10.0.0.66", 50000))
    csrf = burst.get("/auth/me").json()["csrf_token"]
    burst.headers["X-CSRF-Token"] = csrf

    def one(_: int) -> int:
        return burst.post("/auth/login", json={"username": "admin",
                                               "password": "Wrong-Guess-1"}).status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(one, range(40)))
    assert 1 <= len(checked) <= 5, f"{len(checked)} passwords checked"
    assert statuses.count(401) == len(checked) and statuses.count(429) == 40 - len(checked)
