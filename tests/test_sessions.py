"""Server-side sessions (onestop.web.sessions) through the real application on both databases:
sign-out kills the cookie, deactivation and password changes end sessions at once and leave the
windows they sat at, idle and absolute expiry, last_seen written at most once a minute, and
admins listing and ending sessions. The clock is a ManualClock, so timeouts are exact."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from auth_support import PASSWORD, add_user, sign_in
from fastapi.testclient import TestClient

from onestop.app import create_app
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import ManualClock
from onestop.queue.tables import events, sessions
from onestop.settings import RuntimeSettings


@pytest.fixture
def app(db_url: str, config: HallConfig, clock: ManualClock, tmp_path: Path) -> Iterator[Any]:
    add_user(db_url, "root", "admin")
    add_user(db_url, "sup", "supervisor")
    add_user(db_url, "wang", "clerk", counters=[5], name="王丽")
    settings = RuntimeSettings(db=db_url, data_dir=tmp_path, printer_poll_seconds=60)
    application = create_app(settings, config, clock)
    with TestClient(application):
        yield application


def client(app: Any, username: str | None = None, **kwargs: Any) -> TestClient:
    c = TestClient(app, **kwargs)
    if username:
        sign_in(c, username)
    return c


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def window(app: Any, number: int) -> dict[str, Any]:
    views = app.state.hall.engine.reads.counters(staff=True)
    return dict(next(c for c in views if c["number"] == number))


def stored(app: Any) -> list[Any]:
    with app.state.hall.store.read() as conn:
        return list(conn.execute(sa.select(sessions).order_by(sessions.c.id)))


def test_logout_kills_the_cookie(app: Any) -> None:
    sup = client(app, "sup")
    cookies = dict(sup.cookies)
    csrf = sup.headers["X-CSRF-Token"]
    assert ok(sup.get("/auth/me"))["authenticated"]
    assert ok(sup.post("/auth/logout"))["authenticated"] is False
    # Someone who kept the old cookie and its CSRF token has nothing.
    stale = TestClient(app, cookies=cookies, headers={"X-CSRF-Token": csrf})
    refused = stale.post("/api/tickets", json={"service": "gas-payment"})
    assert refused.status_code == 401, refused.text
    assert stale.get("/api/presence").status_code == 401
    assert ok(stale.get("/auth/me"))["authenticated"] is False
    (row,) = stored(app)
    assert row.revoked_reason == "logout" and row.revoked_at is not None
    # Only a digest of the cookie's session id is kept.
    assert len(row.token_hash) == 64 and row.token_hash not in str(cookies)


def test_signing_out_leaves_the_window_and_signing_in_again_sits_down(app: Any) -> None:
    wang = client(app, "wang")
    assert window(app, 5)["clerk_id"] == "wang"
    ok(wang.post("/auth/logout"))
    assert window(app, 5)["state"] == "unstaffed"
    assert sign_in(wang, "wang")["window"] == 5
    assert [r.revoked_reason for r in stored(app)] == ["logout", None]


def test_a_disabled_users_open_session_is_refused_at_once(app: Any) -> None:
    wang = client(app, "wang")  # bound to window 5: sits down at sign-in
    assert ok(wang.get("/auth/me"))["window"] == 5
    assert window(app, 5)["clerk_id"] == "wang"
    assert wang.get("/api/counters/5/today").status_code == 200
    root = client(app, "root")
    users = {u["username"]: u for u in ok(root.get("/api/admin/users"))}
    assert users["wang"]["sessions"] == 1 and users["wang"]["active"]
    done = ok(root.post(f"/api/admin/users/{users['wang']['id']}/disable"))
    assert done["active"] is False and done["sessions_ended"] == 1
    assert wang.get("/api/counters/5/today").status_code == 401
    assert window(app, 5)["state"] == "unstaffed", "her window is left with her session"
    # She cannot sign in again; the message says why (only to whoever knows the password).
    csrf = wang.get("/auth/me").json()["csrf_token"]
    again = wang.post("/auth/login", json={"username": "wang", "password": PASSWORD},
                      headers={"X-CSRF-Token": csrf})
    assert again.status_code == 403 and "已停用" in again.json()["message"]
    wrong = wang.post("/auth/login", json={"username": "wang", "password": "Wrong-Pass-42"},
                      headers={"X-CSRF-Token": csrf})
    assert wrong.status_code == 401
    ok(root.post(f"/api/admin/users/{users['wang']['id']}/enable"))
    assert sign_in(TestClient(app), "wang")["window"] == 5


def test_password_reset_ends_every_session_and_a_change_every_other(app: Any) -> None:
    wang_terminal, wang_phone = client(app, "wang"), client(app, "wang")
    root = client(app, "root")
    wang_id = next(u["id"] for u in ok(root.get("/api/admin/users")) if u["username"] == "wang")
    reset = ok(root.post(f"/api/admin/users/{wang_id}/password"))
    assert reset["sessions_ended"] == 2 and reset["password"]
    assert wang_terminal.get("/api/presence").status_code == 401
    assert wang_phone.get("/api/presence").status_code == 401
    assert window(app, 5)["state"] == "unstaffed"
    new = reset["password"]
    first, second = client(app), client(app)
    sign_in(first, "wang", new)
    sign_in(second, "wang", new)
    changed = ok(first.post("/auth/password", json={"current_password": new,
                                                    "new_password": "Lanterns-by-the-river-7"}))
    assert changed == {"changed": True, "sessions_ended": 1}
    assert first.get("/api/presence").status_code == 200, "the session that changed it stays"
    assert second.get("/api/presence").status_code == 401
    csrf = client(app).get("/auth/me").json()["csrf_token"]
    old = TestClient(app).post("/auth/login", json={"username": "wang", "password": new},
                               headers={"X-CSRF-Token": csrf})
    assert old.status_code in (401, 403)
    sign_in(TestClient(app), "wang", "Lanterns-by-the-river-7")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_changing_ones_password_checks_the_current_one_and_the_policy(app: Any) -> None:
    sup = client(app, "sup")
    for body, words in [
        ({"current_password": "Not-my-password-1", "new_password": "Lanterns-by-the-river-7"},
         "当前密码不正确"),
        ({"current_password": PASSWORD, "new_password": "short"}, "至少 10 位"),
        ({"current_password": PASSWORD, "new_password": "alllowercaseletters"}, "至少 3 类"),
        ({"current_password": PASSWORD, "new_password": "P@ssw0rd2024!"}, "常见密码"),
        ({"current_password": PASSWORD, "new_password": "Sup-Sup-Sup-2024"}, "用户名"),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, "不能与当前密码相同"),
        ({"new_password": "Lanterns-by-the-river-7"}, "请填写"),
    ]:
        refused = sup.post("/auth/password", json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert words in refused.json()["message"] and refused.json()["message_en"]
    assert sup.get("/api/presence").status_code == 200, "refusals end no session"
    # The plain form page does the same without any script.
    page = sup.get("/password")
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    form = sup.post("/auth/password", data={
        "csrf_token": sup.headers["X-CSRF-Token"], "current_password": PASSWORD,
        "new_password": "Lanterns-by-the-river-7", "repeat_password": "Lanterns-by-the-river-8"})
    assert form.status_code == 422 and "两次输入的新密码不一致" in form.text
    form = sup.post("/auth/password", data={
        "csrf_token": sup.headers["X-CSRF-Token"], "current_password": PASSWORD,
        "new_password": "Lanterns-by-the-river-7", "repeat_password": "Lanterns-by-the-river-7"})
    assert form.status_code == 200 and "密码已修改" in form.text
    stranger = TestClient(app, follow_redirects=False)
    assert stranger.get("/password").headers["location"] == "/login?next=/password"


def test_idle_and_absolute_expiry(app: Any, clock: ManualClock) -> None:
    sup = client(app, "sup")
    clock.advance(timedelta(minutes=239))
    assert sup.get("/api/presence").status_code == 200  # 239 minutes idle: still on
    clock.advance(timedelta(minutes=239))
    assert sup.get("/api/presence").status_code == 200  # the last request reset the idle time
    clock.advance(timedelta(minutes=241))
    assert sup.get("/api/presence").status_code == 401, "idle longer than 240 minutes"
    busy = client(app, "sup")
    for _ in range(11):
        clock.advance(timedelta(hours=1))
        assert busy.get("/api/presence").status_code == 200
    clock.advance(timedelta(minutes=61))
    assert busy.get("/api/presence").status_code == 401, "12 hours after sign-in, whatever"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_last_seen_is_written_at_most_once_a_minute(app: Any, clock: ManualClock) -> None:
    sup = client(app, "sup")
    (before,) = stored(app)
    for _ in range(5):
        clock.advance(timedelta(seconds=10))
        assert sup.get("/api/presence").status_code == 200
    (row,) = stored(app)
    assert row.last_seen_at == before.last_seen_at
    clock.advance(timedelta(seconds=20))
    assert sup.get("/api/presence").status_code == 200
    (row,) = stored(app)
    assert row.last_seen_at == clock.now()


def test_admins_list_and_end_sessions(app: Any) -> None:
    wang = client(app, "wang", headers={"User-Agent": "counter-terminal/1"})
    root = client(app, "root")
    live = ok(root.get("/api/admin/sessions"))
    assert [s["username"] for s in live] == ["root", "wang"]
    mine, his = live
    assert mine["current"] and not his["current"]
    assert his["counter"] == 5 and his["user_agent"] == "counter-terminal/1"
    assert his["name"] == "王丽" and his["address"] == "testclient"
    assert "token_hash" not in his
    own = root.delete(f"/api/admin/sessions/{mine['id']}")
    assert own.status_code == 409 and "退出" in own.json()["message"]
    assert ok(root.delete(f"/api/admin/sessions/{his['id']}")) == {"ended": his["id"],
                                                                   "counter": 5}
    assert wang.get("/api/presence").status_code == 401
    assert window(app, 5)["state"] == "unstaffed"
    gone = root.delete(f"/api/admin/sessions/{his['id']}")
    assert gone.status_code == 404 and gone.json()["message"]
    assert [s["username"] for s in ok(root.get("/api/admin/sessions"))] == ["root"]
    assert client(app, "sup").get("/api/admin/sessions").status_code == 403


def test_an_ended_session_never_unseats_whoever_sits_there_now(app: Any) -> None:
    """wang's first terminal sat at window 5; she moved to another terminal meanwhile and
    left; a supervisor sat down there. Ending her old session leaves the supervisor seated."""
    old = client(app, "wang")
    ok(old.post("/auth/window", json={"counter": None}))
    app.state.hall.sessions.set_counter(stored(app)[0].id, 5)  # a stale record of window 5
    sup = client(app, "sup")
    ok(sup.post("/auth/window", json={"counter": 5}))
    root = client(app, "root")
    his = next(s for s in ok(root.get("/api/admin/sessions")) if s["username"] == "wang")
    ok(root.delete(f"/api/admin/sessions/{his['id']}"))
    assert window(app, 5)["clerk_id"] == "sup"


def test_audit_records_who_changed_what_and_the_public_part_names_nobody(app: Any) -> None:
    root = client(app, "root")
    made = ok(root.post("/api/admin/users", json={"username": "zhao", "name": "赵磊",
                                                  "role": "clerk", "counters": [7]}), 201)
    ok(root.post(f"/api/admin/users/{made['id']}/disable"))
    ok(root.post(f"/api/admin/users/{made['id']}/enable"))
    ok(root.post(f"/api/admin/users/{made['id']}/password"))
    device = ok(root.post("/api/admin/devices", json={"name": "tv-2", "role": "screen"}), 201)
    ok(root.post(f"/api/admin/devices/{device['id']}/rotate"))
    ok(root.post(f"/api/admin/devices/{device['id']}/revoke"))
    record = ok(root.get("/api/admin/audit"))["events"]
    types = [e["type"] for e in record]
    assert types[:7] == ["device.revoked", "device.rotated", "device.added",
                         "account.password_reset", "account.enabled", "account.disabled",
                         "account.added"]
    for event in record[:7]:
        assert event["actor"]["id"] == "root" and event["actor"]["role"] == "admin"
        assert set(event["data"]) == {"change"}
    assert record[6]["staff"]["user"] == "zhao" and record[6]["staff"]["name"] == "赵磊"
    assert record[0]["staff"]["device"] == "tv-2"
    # Nothing that names a person or a device reaches the public part of the ledger.
    with app.state.hall.store.read() as conn:
        public = [str(r.data) for r in conn.execute(
            sa.select(events.c.data).where(events.c.type.like("account.%")
                                           | events.c.type.in_(["device.added", "device.revoked",
                                                                "device.rotated"])))]
    assert public and not any(n in text for text in public for n in ("zhao", "赵磊", "tv-2"))
    page = ok(root.get("/api/admin/audit?limit=2"))
    assert len(page["events"]) == 2 and page["next_before"] == page["events"][-1]["seq"]
    more = ok(root.get(f"/api/admin/audit?limit=2&before={page['next_before']}"))
    assert more["events"][0]["seq"] < page["next_before"]
    assert client(app, "sup").get("/api/admin/audit").status_code == 403
