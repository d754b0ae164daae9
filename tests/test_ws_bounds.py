"""The event stream is bounded and follows revocation.

- A device revoked, a user disabled, a session signed out or ended: its open websocket is closed
  at once (1008), not left streaming until the client reconnects.
- Open streams are capped per client address (and in all).
- A client that stops reading is disconnected after the backlog bound and a bounded send time,
  and the server's memory stays bounded: a raw socket that never reads against the real server.
"""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from auth_support import add_device, add_user, sign_in
from fastapi.testclient import TestClient
from live_server import LiveServer
from starlette.websockets import WebSocketDisconnect

from onestop.app import create_app
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import ManualClock
from onestop.settings import RuntimeSettings


def hall_app(db_url: str, config: HallConfig, clock: ManualClock, tmp_path: Path) -> Any:
    settings = RuntimeSettings(db=db_url, data_dir=tmp_path, public_url="http://hall.test")
    return create_app(settings, config, clock)


@pytest.fixture
def app(db_url: str, config: HallConfig, clock: ManualClock, tmp_path: Path) -> Iterator[Any]:
    add_user(db_url, "root", "admin")
    add_user(db_url, "sup", "supervisor")
    add_user(db_url, "wang", "clerk", counters=[5], name="王丽")
    application = hall_app(db_url, config, clock, tmp_path)
    with TestClient(application) as running:
        # Streams must run on the loop the hub runs on: the client that runs the app.
        application.state.streams = running
        yield application


def stream(app: Any, as_client: TestClient | None = None, **kwargs: Any) -> Any:
    """A websocket on the running app, with `as_client`'s session cookie when given."""
    headers = dict(kwargs.pop("headers", {}))
    if as_client is not None:
        headers["cookie"] = "; ".join(f"{k}={v}" for k, v in as_client.cookies.items())
    return app.state.streams.websocket_connect("/ws/events", headers=headers, **kwargs)


def signed_in(app: Any, username: str) -> TestClient:
    client = TestClient(app)
    sign_in(client, username)
    return client


def closed_with(ws: Any) -> int:
    """Read until the server closes the stream; its close code."""
    for _ in range(100):  # bounded: a stream that is not closed fails the test
        try:
            ws.receive_json()
        except WebSocketDisconnect as closed:
            return int(closed.code)
    raise AssertionError("the stream was not closed")


def test_a_revoked_device_is_cut_off_at_once(app: Any, db_url: str) -> None:
    token = add_device(db_url, "tv-9", "screen")
    root = signed_in(app, "root")
    device = next(d for d in root.get("/api/admin/devices").json() if d["name"] == "tv-9")
    screen = TestClient(app)
    with stream(app, subprotocols=["onestop", f"bearer.{token}"]) as ws:
        assert ws.receive_json()["type"] == "snapshot"
        assert root.post(f"/api/admin/devices/{device['id']}/revoke").status_code == 200
        assert closed_with(ws) == 1008
    answer = screen.get("/api/day", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401, answer.text
    # Another device's stream is not touched by this revocation.
    other = add_device(db_url, "tv-10", "screen")
    with stream(app, subprotocols=["onestop", f"bearer.{other}"]) as ws:
        assert ws.receive_json()["type"] == "snapshot"
        made = TestClient(app)
        sign_in(made, "sup")
        assert made.post("/api/notices", json={"title": "新公告"}).status_code == 201
        assert ws.receive_json()["type"] == "notice.changed"


def test_disabling_a_user_and_signing_out_close_their_streams(app: Any) -> None:
    root = signed_in(app, "root")
    wang = signed_in(app, "wang")
    sup = signed_in(app, "sup")
    wang_id = next(u["id"] for u in root.get("/api/admin/users").json() if u["username"] == "wang")
    with stream(app, wang) as clerk_ws, stream(app, sup) as sup_ws:
        assert clerk_ws.receive_json()["type"] == "snapshot"
        assert sup_ws.receive_json()["type"] == "snapshot"
        assert root.post(f"/api/admin/users/{wang_id}/disable").status_code == 200
        assert closed_with(clerk_ws) == 1008
        assert wang.get("/api/presence").status_code == 401
        # Signing out ends this browser's stream too (the session is gone from now on).
        assert sup.post("/auth/logout").status_code == 200
        assert closed_with(sup_ws) == 1008


def test_streams_are_capped_per_address(db_url: str, config: HallConfig, clock: ManualClock,
                                        tmp_path: Path) -> None:
    capped = config.model_copy(update={"security": config.security.model_copy(
        update={"websockets_per_address": 2})})
    with TestClient(hall_app(db_url, capped, clock, tmp_path)) as client, \
            client.websocket_connect("/ws/events") as one, \
            client.websocket_connect("/ws/events") as two:
        assert one.receive_json()["type"] == "snapshot"
        assert two.receive_json()["type"] == "snapshot"
        with client.websocket_connect("/ws/events") as three, \
                pytest.raises(WebSocketDisconnect) as refused:
            three.receive_json()
        assert refused.value.code == 1013
        assert client.get("/healthz").json()["websocket_clients"] == 2


# -- a client that stops reading ----------------------------------------------------------------

def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def silent_client(port: int) -> socket.socket:
    """A websocket that completes the handshake (without compression) and never reads again;
    its receive buffer is as small as the kernel allows, so the server's sends block soon."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "the server closed during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


@pytest.mark.slow
def test_a_client_that_never_reads_is_dropped_and_memory_stays_bounded(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'onestop.db'}"
    server = LiveServer(db_url, tmp_path / "data")
    from onestop.queue.store import migrate
    migrate(db_url)
    add_user(db_url, "sup", "supervisor")
    server.start()
    try:
        assert server.proc is not None
        with httpx.Client(base_url=server.base, timeout=10) as sup:
            sign_in(sup, "sup")
            notice = sup.post("/api/notices", json={"title": "公告"}).json()
            sock = silent_client(server.port)
            assert sup.get("/healthz").json()["websocket_clients"] == 1
            before = rss_kb(server.proc.pid)
            text = "请携带身份证原件办理业务。" * 150  # ~2,000 characters, ~6 KB per event
            deadline = time.monotonic() + 90
            edits = 0
            while sup.get("/healthz").json()["websocket_clients"] and time.monotonic() < deadline:
                for _ in range(20):
                    edits += 1
                    answer = sup.put(f"/api/notices/{notice['id']}",
                                     json={"title": f"公告{edits}", "body": text})
                    assert answer.status_code == 200, answer.text
            assert sup.get("/healthz").json()["websocket_clients"] == 0, "never dropped"
            # The hall goes on: more events, nobody left to queue them for.
            for i in range(200):
                sup.put(f"/api/notices/{notice['id']}", json={"title": f"后{i}", "body": text})
            grown_mb = (rss_kb(server.proc.pid) - before) / 1024
        # Bounded: the backlog (≤1,024 events) and the buffers, not the ~{edits} × 6 KB sent.
        assert grown_mb < 40, f"server grew {grown_mb:.1f} MB after {edits} events"
        # The connection itself is gone: reading now ends (reset or EOF), never blocks.
        sock.settimeout(10)
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            while sock.recv(65536):
                pass
            raise ConnectionResetError("EOF")
        sock.close()
    finally:
        server.stop()
