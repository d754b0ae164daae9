"""Who may do what: every API route × every role against the role matrix, plus CSRF, window
binding, kiosk binding and sign-in throttling. Real app, real database, real sign-in."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth_support import add_device, add_user, sign_in
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from onestop.app import create_app
from onestop.queue.clock import ManualClock
from onestop.settings import RuntimeSettings, load_hall_config
from onestop.web.access import MATRIX

SAMPLE = Path(__file__).resolve().parent.parent / "config"
DEVICES = """
[[kiosks]]
id = "k1"
name = "一号机"
printer = { type = "none" }

[[kiosks]]
id = "k2"
name = "二号机"
printer = { type = "none" }
"""
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
    for name in ("hall.toml", "services.toml"):
        shutil.copy(SAMPLE / name, config_dir / name)
    (config_dir / "devices.toml").write_text(DEVICES, encoding="utf-8")
    for role in ("admin", "supervisor", "desk"):
        add_user(db_url, role, role)
    add_user(db_url, "clerk", "clerk", counters=[5, 6])
    tokens = {"kiosk": add_device(db_url, "kiosk-k1", "kiosk", "k1"),
              "screen": add_device(db_url, "screen-1", "screen")}
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
        yield {"app": app, "clients": clients, "token": ticket.json()["token"]}


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


def fill(path: str, token: str) -> str:
    return (path.replace("{counter}", "5").replace("{kiosk}", "k1").replace("{token}", token)
            .replace("{id}", "1").replace("{notice_id}", "1"))


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
            path = fill(route.path, hall["token"])
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


def test_sign_in_is_throttled(hall: dict[str, Any]) -> None:
    c = TestClient(hall["app"])
    csrf = c.get("/auth/me").json()["csrf_token"]

    def attempt(password: str) -> int:
        return c.post("/auth/login", json={"username": "desk", "password": password},
                      headers={"X-CSRF-Token": csrf}).status_code

    assert [attempt("wrong") for _ in range(5)] == [401] * 5
    assert attempt("wrong") == 429
    blocked = attempt("correct-horse-battery")
    assert blocked == 429, "even the right password waits out the lock"


def test_pages_send_strangers_to_sign_in(hall: dict[str, Any]) -> None:
    stranger = TestClient(hall["app"], follow_redirects=False)
    desk = stranger.get("/desk")
    assert desk.status_code == 303 and desk.headers["location"].startswith("/login")
    login = stranger.get("/login?next=//evil.example/x")
    assert login.status_code == 200 and 'value="/"' in login.text
    cookie = next(c for c in hall["clients"]["supervisor"].cookies.jar)
    assert cookie.has_nonstandard_attr("HttpOnly") or "httponly" in str(cookie._rest).lower()


