"""Admin routes: accounts and devices managed by admins only; the page needs sign-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth_support import add_user, sign_in
from fastapi.testclient import TestClient

from onestop.app import create_app
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import ManualClock
from onestop.settings import RuntimeSettings


@pytest.fixture
def app(db_url: str, config: HallConfig, clock: ManualClock, tmp_path: Path) -> Iterator[Any]:
    add_user(db_url, "root", "admin")
    add_user(db_url, "sup", "supervisor")
    settings = RuntimeSettings(db=db_url, data_dir=tmp_path, printer_poll_seconds=60)
    application = create_app(settings, config, clock)
    with TestClient(application):
        yield application


def test_admin_creates_accounts_and_devices_that_work(app: Any) -> None:
    admin = TestClient(app)
    sign_in(admin, "root")
    made = admin.post("/api/admin/users", json={"username": "li.na", "name": "李娜",
                                                "role": "clerk", "counters": [3, 4]})
    assert made.status_code == 201, made.text
    password = made.json()["password"]
    assert password and len(password) >= 8
    clerk = TestClient(app)
    assert sign_in(clerk, "li.na", password)["counters"] == [3, 4]
    device = admin.post("/api/admin/devices", json={"name": "kiosk-east", "role": "kiosk",
                                                    "kiosk": "k1"})
    assert device.status_code == 201, device.text
    token = device.json()["token"]
    assert device.json()["enrol_url"].endswith(f"/kiosk?k=k1#token={token}")
    kiosk = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    issued = kiosk.post("/api/kiosks/k1/tickets", json={"service": "gas-payment"})
    assert issued.status_code == 201, issued.text
    names = [u["username"] for u in admin.get("/api/admin/users").json()]
    assert "li.na" in names and "root" in names
    assert all("password" not in u for u in admin.get("/api/admin/users").json())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_supervisor_reads_config_but_cannot_manage_accounts(app: Any) -> None:
    sup = TestClient(app)
    sign_in(sup, "sup")
    config = sup.get("/api/admin/config").json()
    assert len(config["counters"]) == 12 and config["counters"][0]["serves"]
    assert sup.get("/api/admin/users").status_code == 403
    assert sup.post("/api/admin/users", json={"username": "x1", "name": "x", "role": "admin"}
                    ).status_code == 403


BAD = [
    ("/api/admin/users", {"username": "A B", "name": "x", "role": "clerk"}, 422),
    ("/api/admin/users", {"username": "ok1", "name": "x", "role": "king"}, 422),
    ("/api/admin/users", {"username": "ok2", "name": "x", "role": "clerk", "counters": [99]}, 422),
    ("/api/admin/users", {"username": "root", "name": "x", "role": "clerk"}, 422),
    ("/api/admin/users", {"username": "ok3", "name": "x", "role": "clerk", "password": "short"},
     422),
    ("/api/admin/devices", {"name": "d1", "role": "kiosk"}, 422),
    ("/api/admin/devices", {"name": "d2", "role": "kiosk", "kiosk": "nowhere"}, 422),
    ("/api/admin/devices", {"name": "<b>", "role": "screen"}, 422),
    ("/api/admin/devices", {"name": "d3", "role": "printer"}, 422),
]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("path", "body", "status"), BAD, ids=[str(b)[:50] for _, b, _ in BAD])
def test_bad_input_is_a_clear_4xx(app: Any, path: str, body: Any, status: int) -> None:
    admin = TestClient(app)
    sign_in(admin, "root")
    response = admin.post(path, json=body)
    assert response.status_code == status, response.text
    assert response.json()["message"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_admin_page_requires_staff_sign_in(app: Any) -> None:
    stranger = TestClient(app, follow_redirects=False)
    response = stranger.get("/admin")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/admin"
    sup = TestClient(app)
    sign_in(sup, "sup")
    page = sup.get("/admin")
    assert page.status_code == 200 and "今日概览" in page.text
    assert "Content-Security-Policy" in page.headers
