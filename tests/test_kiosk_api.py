"""Kiosk and desk routes over HTTP: idempotent taps, green channel, health, QR, bad input."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth_support import add_user, sign_in, staff_windows
from fastapi.testclient import TestClient

from onestop.app import create_app
from onestop.queue.clock import ManualClock
from onestop.settings import RuntimeSettings, load_hall_config

SAMPLE = Path(__file__).resolve().parent.parent / "config"

NO_PRINTER_DEVICES = """
[ticket]
paper_mm = 58

[[kiosks]]
id = "k1"
name = "测试取号机"
printer = { type = "none" }

[[kiosks]]
id = "k9"
name = "坏打印机"
printer = { type = "network", host = "127.0.0.1", port = 9, timeout = 0.5 }
"""


@pytest.fixture
def client(db_url: str, clock: ManualClock, tmp_path: Path) -> Iterator[TestClient]:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    for name in ("hall.toml", "services.toml"):
        shutil.copy(SAMPLE / name, config_dir / name)
    (config_dir / "devices.toml").write_text(NO_PRINTER_DEVICES, encoding="utf-8")
    settings = RuntimeSettings(db=db_url, data_dir=tmp_path, public_url="http://hall.test",
                               printer_poll_seconds=60)
    add_user(db_url, "sup", "supervisor")
    with TestClient(create_app(settings, load_hall_config(config_dir), clock)) as c:
        staff_windows(c)
        sign_in(c, "sup")
        yield c


def issue(client: TestClient, body: dict[str, Any], kiosk: str = "k1") -> Any:
    response = client.post(f"/api/kiosks/{kiosk}/tickets", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_repeated_tap_returns_the_same_ticket(client: TestClient) -> None:
    first = issue(client, {"service": "elderly-card", "request_id": "tap-0001-abcd"})
    again = issue(client, {"service": "elderly-card", "request_id": "tap-0001-abcd"})
    assert again["id"] == first["id"] and again["number"] == first["number"] == "B001"
    assert again["replayed"] is True and first["replayed"] is False
    other = issue(client, {"service": "elderly-card", "request_id": "tap-0002-abcd"})
    assert other["number"] == "B002"
    # The same request id from another kiosk is another tap.
    elsewhere = issue(client, {"service": "elderly-card", "request_id": "tap-0001-abcd"}, "k9")
    assert elsewhere["number"] == "B003"
    waiting = {q["id"]: q["waiting"] for q in client.get("/api/queues").json()}
    assert waiting["civil-affairs"] == 3


def test_kiosk_without_printer_says_so(client: TestClient) -> None:
    ticket = issue(client, {"service": "gas-payment"})
    assert ticket["print"]["state"] == "disabled"
    assert ticket["qr_url"] == f"/t/{ticket['token']}/qr.svg"
    assert ticket["status_url"] == f"http://hall.test/t/{ticket['token']}"
    qr = client.get(ticket["qr_url"])
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in qr.content


def test_desk_issues_green_channel_with_reason(client: TestClient) -> None:
    issue(client, {"service": "elderly-card"})
    response = client.post("/api/desk/tickets",
                           json={"service": "elderly-card", "reason": "80岁老人"})
    assert response.status_code == 201, response.text
    green = response.json()
    assert green["priority"] == "green"
    called = client.post("/api/counters/5/call-next").json()["ticket"]
    assert called["number"] == green["number"], "green channel is called first"


def test_health_lists_every_printer(client: TestClient) -> None:
    health = client.get("/api/health").json()
    states = {p["kiosk"]: p for p in health["printers"]}
    assert states["k1"]["state"] == "disabled"
    assert states["k9"]["type"] == "network"
    assert client.get("/api/kiosks/k1").json()["name"] == "测试取号机"


BAD = [
    ("POST", "/api/kiosks/nope/tickets", {"service": "gas-payment"}, 404),
    ("POST", "/api/kiosks/K%20X/tickets", {"service": "gas-payment"}, 422),
    ("POST", "/api/kiosks/k1/tickets", {"service": "no-such"}, 404),
    ("POST", "/api/kiosks/k1/tickets", {"service": "gas-payment", "request_id": "x"}, 422),
    ("POST", "/api/kiosks/k1/tickets", {"service": "gas-payment", "request_id": "<script>ab"}, 422),
    ("POST", "/api/kiosks/k1/tickets", {}, 422),
    ("POST", "/api/kiosks/k1/tickets", {"service": "gas-payment", "priority": "green"}, 422),
    ("GET", "/api/kiosks/nope", None, 404),
    ("POST", "/api/desk/tickets", {"service": "gas-payment"}, 422),
    ("POST", "/api/desk/tickets", {"service": "gas-payment", "reason": ""}, 422),
    ("POST", "/api/desk/tickets", {"service": "gas-payment", "reason": "老人", "print_at": "zz"},
     404),
    ("GET", "/t/unknown-token/qr.svg", None, 404),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), BAD,
                         ids=[f"{m} {p} {b!r}"[:70] for m, p, b, _ in BAD])
def test_bad_input_is_a_clear_4xx(
    client: TestClient, method: str, path: str, body: Any, status: int
) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert response.json()["message"]
