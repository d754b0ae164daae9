"""Admin routes: accounts and devices managed by admins only; the page needs sign-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth_support import add_user, sign_in
from fastapi.testclient import TestClient

from onestop.app import create_app
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import ManualClock
from onestop.queue.errors import InvalidTransition
from onestop.settings import RuntimeSettings
from onestop.web.accounts import CLI


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


def test_revoked_and_rotated_device_tokens(app: Any) -> None:
    admin = TestClient(app)
    sign_in(admin, "root")
    made = admin.post("/api/admin/devices", json={"name": "kiosk-west", "role": "kiosk",
                                                  "kiosk": "k1"}).json()
    kiosk = TestClient(app, headers={"Authorization": f"Bearer {made['token']}"})
    assert kiosk.get("/api/kiosks/k1").status_code == 200
    rotated = admin.post(f"/api/admin/devices/{made['id']}/rotate")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["token"] != made["token"] and new["enrol_url"].endswith(f"#token={new['token']}")
    assert new["rotated_at"] and new["active"]
    old = kiosk.get("/api/kiosks/k1")
    assert old.status_code == 401 and old.json()["message"] == "设备令牌无效或已停用"
    kiosk.headers["Authorization"] = f"Bearer {new['token']}"
    assert kiosk.get("/api/kiosks/k1").status_code == 200
    revoked = admin.post(f"/api/admin/devices/{made['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert kiosk.get("/api/kiosks/k1").status_code == 401
    assert kiosk.post("/api/kiosks/k1/tickets", json={"service": "gas-payment"}).status_code == 401
    listed = {d["name"]: d for d in admin.get("/api/admin/devices").json()}
    assert listed["kiosk-west"]["active"] is False and listed["kiosk-west"]["revoked_at"]
    assert "token" not in listed["kiosk-west"]
    # The live stream learns of it: device.revoked, who in its staff part only.
    hall = app.state.hall
    last = hall.engine.events_between(0, hall.engine.head())[-1]
    assert last.type == "device.revoked" and last.data == {"change": "revoked"}
    assert last.staff == {"device_id": made["id"], "device": "kiosk-west", "role": "kiosk",
                          "kiosk": "k1"}
    # Rotating a revoked device enrols it again with a new token.
    again = admin.post(f"/api/admin/devices/{made['id']}/rotate").json()
    assert again["active"]
    kiosk.headers["Authorization"] = f"Bearer {again['token']}"
    assert kiosk.get("/api/kiosks/k1").status_code == 200


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_account_changes_that_are_refused(app: Any) -> None:
    admin = TestClient(app)
    sign_in(admin, "root")
    users = {u["username"]: u for u in admin.get("/api/admin/users").json()}
    me = users["root"]["id"]
    for path, words in [(f"/api/admin/users/{me}/disable", "不能停用自己的账号"),
                        (f"/api/admin/users/{me}/password", "修改自己的密码"),
                        ("/api/admin/users/999/disable", "没有这个账号"),
                        ("/api/admin/users/999/password", "没有这个账号"),
                        ("/api/admin/devices/999/revoke", "没有这个设备"),
                        ("/api/admin/devices/999/rotate", "没有这个设备"),
                        ("/api/admin/users/0/enable", "请求内容有误"),
                        ("/api/admin/users/x/enable", "请求内容有误")]:
        response = admin.post(path)
        assert response.status_code in (404, 409, 422), (path, response.text)
        assert words in response.json()["message"] and response.json()["message_en"], path
    # Another admin may disable root; then root2 is the last active admin, whom nobody (not
    # even the command line) may disable: nobody could manage accounts any more.
    other = admin.post("/api/admin/users", json={"username": "root2", "name": "二号管理员",
                                                 "role": "admin"}).json()
    second = TestClient(app)
    sign_in(second, "root2", other["password"])
    assert second.post(f"/api/admin/users/{me}/disable").status_code == 200
    assert admin.get("/api/admin/users").status_code == 401, "root's session ended with it"
    with pytest.raises(InvalidTransition, match="last active admin"):
        app.state.hall.accounts.set_active(other["id"], False, actor=CLI)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_new_passwords_follow_the_policy(app: Any) -> None:
    admin = TestClient(app)
    sign_in(admin, "root")
    for password, words in [("Short-1", "至少 10 位"), ("onlylowercase", "至少 3 类"),
                            ("Admin@2024!!", "常见密码"), ("Zhou.Min-2024", "用户名")]:
        refused = admin.post("/api/admin/users", json={"username": "zhou.min", "name": "周敏",
                                                       "role": "desk", "password": password})
        assert refused.status_code == 422, refused.text
        body = refused.json()
        assert words in body["message"] and body["message_en"].startswith("the password")
    made = admin.post("/api/admin/users", json={"username": "zhou.min", "name": "周敏",
                                                "role": "desk"}).json()
    generated = made["password"]
    assert re.fullmatch(r"[A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}", generated)
    reset = admin.post(f"/api/admin/users/{made['id']}/password").json()["password"]
    assert reset != generated
    assert sign_in(TestClient(app), "zhou.min", reset)["role"] == "desk"
