"""Public notices (政务信息公开): the JSON API against the real application and database.

Who may read and write, scheduling on the injectable clock, ordering, every write as one
`notice.changed` ledger event carrying the showing list, and bad input: always a 4xx with a
message, never a 500. Also the screen's name masking and the /screen page itself.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from auth_support import add_device, add_user, sign_in
from conftest import hall_time
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onestop.app import create_app
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import ManualClock
from onestop.settings import RuntimeSettings
from onestop.signage.notice_changes import apply_change
from onestop.signage.notices import MAX_NOTICES
from onestop.signage.screen import mask_name


@dataclass
class Hall:
    app: FastAPI
    sup: TestClient  # a signed-in supervisor (runs the app's lifespan)
    db_url: str
    clock: ManualClock

    def client(self, username: str | None = None, bearer: str | None = None) -> TestClient:
        """Another browser on the same running app: public, a signed-in user or a device."""
        other = TestClient(self.app)
        if username:
            sign_in(other, username)
        if bearer:
            other.headers["Authorization"] = f"Bearer {bearer}"
        return other

    def events(self) -> list[Any]:
        engine = self.app.state.hall.engine
        return [e for e in engine.replay(0, 10_000) if e.type == "notice.changed"]


def make_hall(db_url: str, config: HallConfig, clock: ManualClock, tmp_path: Path
              ) -> Iterator[Hall]:
    settings_ = RuntimeSettings(db=db_url, data_dir=tmp_path, public_url="http://hall.test")
    add_user(db_url, "sup", "supervisor")
    add_user(db_url, "clerk", "clerk", [5])
    app = create_app(settings_, config, clock)
    with TestClient(app) as sup:
        sign_in(sup, "sup")
        yield Hall(app, sup, db_url, clock)


@pytest.fixture
def hall(db_url: str, config: HallConfig, clock: ManualClock, tmp_path: Path) -> Iterator[Hall]:
    yield from make_hall(db_url, config, clock, tmp_path)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = ok(client.post("/api/notices", json=fields), 201)
    return result


def titles(client: TestClient, query: str = "") -> list[str]:
    return [n["title"] for n in ok(client.get(f"/api/notices{query}"))]


# -- the round trip ---------------------------------------------------------------------------


def test_create_edit_delete_and_every_write_is_one_event(hall: Hall) -> None:
    sup = hall.sup
    assert ok(sup.get("/api/notices")) == []
    first = create(sup, title="周六预约服务", title_en="Saturday appointments",
                   body="本周六上午9:00-12:00受理预约业务。", body_en="Appointments 9-12.")
    assert first["position"] == 0 and first["status"] == "showing" and first["active"] is True
    assert first["updated_by"] == "sup" and first["updated_at"].endswith("+08:00")
    second = create(sup, title="  医保缴费提醒  ")
    assert second["title"] == "医保缴费提醒"  # trimmed
    assert second["position"] == 1 and second["title_en"] == "" and second["body"] == ""

    shown = ok(sup.get("/api/notices"))
    assert [n["title"] for n in shown] == ["周六预约服务", "医保缴费提醒"]
    assert set(shown[0]) == {"id", "title", "title_en", "body", "body_en", "position",
                             "starts_at", "ends_at"}  # no editor fields for the public

    edited = ok(sup.put(f"/api/notices/{first['id']}",
                        json={"title": "周六预约服务（已调整）", "active": False}))
    assert edited["status"] == "inactive" and edited["body"] == ""  # PUT replaces every field
    assert titles(sup) == ["医保缴费提醒"]
    assert titles(sup, "?all=1") == ["周六预约服务（已调整）", "医保缴费提醒"]

    assert sup.delete(f"/api/notices/{second['id']}").status_code == 204
    assert titles(sup) == []
    assert ok(sup.put(f"/api/notices/{second['id']}", json={"title": "x"}), 404)["message"]
    assert ok(sup.delete(f"/api/notices/{second['id']}"), 404)["error"] == "not_found"

    events = hall.events()
    assert [e.data["change"]["action"] for e in events] == [
        "created", "created", "updated", "deleted"]
    # A screen folding the events from an empty list shows what GET shows after each change.
    folded: list[list[str]] = []
    screen: list[dict[str, Any]] = []
    for e in events:
        screen, missed = apply_change(screen, e.data)
        assert not missed
        folded.append([n["title"] for n in screen])
    assert folded == [["周六预约服务"], ["周六预约服务", "医保缴费提醒"], ["医保缴费提醒"], []]
    assert events[1].data["notice"] == shown[1]  # the event carries the change, as GET shows it
    assert "notices" not in events[1].data and events[1].data["showing"] == [first["id"], second["id"]]
    assert events[3].data["notice"] is None  # deleted


def test_changes_reach_the_event_stream_live(hall: Hall) -> None:
    with hall.client().websocket_connect("/ws/events") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        create(hall.sup, title="停车场维修公告", body="东侧停车场暂停使用。")
        event = ws.receive_json()
        assert event["type"] == "notice.changed"
        assert event["data"]["notice"]["title"] == "停车场维修公告"
        assert event["data"]["showing"] == [event["data"]["change"]["id"]]


# -- scheduling -------------------------------------------------------------------------------


def test_scheduled_notices_show_only_inside_their_window(hall: Hall) -> None:
    sup, clock = hall.sup, hall.clock  # the clock stands at 2026-11-25 09:00 hall time
    create(sup, title="always")
    later = create(sup, title="from ten", starts_at="2026-11-25T10:00:00+08:00",
                   ends_at="2026-11-25T11:00:00+08:00")
    create(sup, title="naive is hall time", starts_at="2026-11-25T09:30")
    create(sup, title="until half past", ends_at="2026-11-25T01:30:00Z")
    create(sup, title="switched off", active=False)
    assert later["status"] == "scheduled" and later["starts_at"] == "2026-11-25T10:00:00+08:00"

    assert titles(sup) == ["always", "until half past"]
    statuses = {n["title"]: n["status"] for n in ok(sup.get("/api/notices?all=1"))}
    assert statuses == {"always": "showing", "from ten": "scheduled",
                        "naive is hall time": "scheduled", "until half past": "showing",
                        "switched off": "inactive"}

    clock.set(hall_time(2026, 11, 25, 9, 30))  # starts_at is inclusive, ends_at exclusive
    assert titles(sup) == ["always", "naive is hall time"]
    clock.set(hall_time(2026, 11, 25, 10, 0))
    assert titles(sup) == ["always", "from ten", "naive is hall time"]
    clock.advance(timedelta(hours=1))
    assert titles(sup) == ["always", "naive is hall time"]
    assert {n["title"]: n["status"] for n in ok(sup.get("/api/notices?all=1"))}["from ten"] == (
        "expired")


def test_a_window_that_ends_before_it_starts_is_refused(hall: Hall) -> None:
    for ends in ("2026-11-25T10:00:00+08:00", "2026-11-25T09:00:00+08:00", "2026-11-25T01:59Z"):
        answer = ok(hall.sup.post("/api/notices", json={
            "title": "x", "starts_at": "2026-11-25T10:00:00+08:00", "ends_at": ends}), 422)
        assert answer["message"] == "结束时间必须晚于开始时间"
        assert answer["message_en"] == "ends_at must be later than starts_at"
    notice = create(hall.sup, title="x")
    answer = ok(hall.sup.put(f"/api/notices/{notice['id']}", json={
        "title": "x", "starts_at": "2026-12-01T10:00", "ends_at": "2026-12-01T09:00"}), 422)
    assert answer["error"] == "rejected"
    assert len(hall.events()) == 1  # refused writes leave no trace in the ledger


# -- ordering ---------------------------------------------------------------------------------


def test_reorder_puts_the_given_ids_first(hall: Hall) -> None:
    sup = hall.sup
    a, b, c, d = (create(sup, title=t)["id"] for t in "ABCD")
    listed = ok(sup.post("/api/notices/order", json={"ids": [c, a]}))
    assert [n["title"] for n in listed] == ["C", "A", "B", "D"]
    assert [n["position"] for n in listed] == [0, 1, 2, 3]
    assert titles(sup) == ["C", "A", "B", "D"]
    ok(sup.post("/api/notices/order", json={"ids": [d, c, b, a]}))
    assert titles(sup) == ["D", "C", "B", "A"]
    assert hall.events()[-1].data["change"] == {"action": "reordered", "id": d}
    assert hall.events()[-1].data["showing"] == [d, c, b, a]
    # a new notice goes last
    create(sup, title="E")
    assert titles(sup)[-1] == "E"
    missing = ok(sup.post("/api/notices/order", json={"ids": [a, 987654]}), 404)
    assert missing["details"] == {"ids": [987654]}
    assert titles(sup)[:4] == ["D", "C", "B", "A"]  # nothing moved


# -- who may do what --------------------------------------------------------------------------


def test_a_hall_holds_at_most_max_notices(hall: Hall) -> None:
    """Each create is one small event; beyond the cap a clear 409, and nothing is stored."""
    for i in range(MAX_NOTICES):
        create(hall.sup, title=f"公告{i}", body="很长的正文。" * 300)
    refused = ok(hall.sup.post("/api/notices", json={"title": "再来一条"}), 409)
    assert "上限" in refused["message"] and refused["details"] == {"limit": MAX_NOTICES}
    assert len(ok(hall.sup.get("/api/notices?all=1"))) == MAX_NOTICES
    last = hall.events()[-1]
    assert len(jsonlib.dumps(last.data, ensure_ascii=False)) < 8_000 + 8 * MAX_NOTICES


def test_roles(hall: Hall) -> None:
    notice = create(hall.sup, title="公示")
    public = hall.client()
    clerk = hall.client("clerk")
    screen = hall.client(bearer=add_device(hall.db_url, "screen-1", "screen"))
    body = {"title": "x"}

    for reader in (public, clerk, screen):
        assert titles(reader) == ["公示"]
    writes = [
        ("POST", "/api/notices", body),
        ("PUT", f"/api/notices/{notice['id']}", body),
        ("DELETE", f"/api/notices/{notice['id']}", None),
        ("POST", "/api/notices/order", {"ids": [notice["id"]]}),
    ]
    for method, path, json in writes:
        assert public.request(method, path, json=json).status_code == 401
        assert clerk.request(method, path, json=json).status_code == 403
        assert screen.request(method, path, json=json).status_code == 403
    assert public.get("/api/notices?all=1").status_code == 401
    assert clerk.get("/api/notices?all=1").status_code == 403
    assert screen.get("/api/notices?all=1").status_code == 403

    admin_name = "admin1"
    add_user(hall.db_url, admin_name, "admin")
    admin = hall.client(admin_name)
    assert create(admin, title="by admin")["updated_by"] == admin_name
    # a signed-in browser must send its CSRF token with every write
    del admin.headers["X-CSRF-Token"]
    assert admin.post("/api/notices", json=body).status_code == 403
    assert titles(public) == ["公示", "by admin"]


# -- bad input --------------------------------------------------------------------------------

LONG = "长" * 201
BAD: list[tuple[str, str, Any, int]] = [
    ("POST", "/api/notices", {}, 422),
    ("POST", "/api/notices", {"title": ""}, 422),
    ("POST", "/api/notices", {"title": "   "}, 422),
    ("POST", "/api/notices", {"title": LONG}, 422),
    ("POST", "/api/notices", {"title": "x", "title_en": LONG}, 422),
    ("POST", "/api/notices", {"title": "x", "body": "x" * 2001}, 422),
    ("POST", "/api/notices", {"title": "x", "body_en": "x" * 2001}, 422),
    ("POST", "/api/notices", {"title": 5}, 422),
    ("POST", "/api/notices", {"title": "x", "extra": 1}, 422),
    ("POST", "/api/notices", {"title": "x", "position": 3}, 422),
    ("POST", "/api/notices", {"title": "a\u0000b"}, 422),
    ("POST", "/api/notices", {"title": "a\nb"}, 422),
    ("POST", "/api/notices", {"title": "x", "body": "a\u0000b"}, 422),
    ("POST", "/api/notices", '{"title": "\\ud800"}', 422),  # a lone surrogate, as JSON text
    ("POST", "/api/notices", {"title": "x", "starts_at": "tomorrow"}, 422),
    ("POST", "/api/notices", {"title": "x", "starts_at": 1764032400}, 422),
    ("POST", "/api/notices", {"title": "x", "starts_at": "2026-13-01T00:00"}, 422),
    ("POST", "/api/notices", {"title": "x", "ends_at": "9999-12-31T23:59:59-12:00"}, 422),
    ("POST", "/api/notices", {"title": "x", "starts_at": "0001-01-01T00:00:00+14:00"}, 422),
    ("POST", "/api/notices", {"title": "x", "active": "maybe"}, 422),
    ("POST", "/api/notices", "not json", 422),
    ("POST", "/api/notices", ["title"], 422),
    ("PUT", "/api/notices/0", {"title": "x"}, 422),
    ("PUT", "/api/notices/abc", {"title": "x"}, 422),
    ("PUT", "/api/notices/99999999999999999999", {"title": "x"}, 422),
    ("PUT", "/api/notices/9223372036854775807", {"title": "x"}, 404),
    ("PUT", "/api/notices/123", {"title": "x"}, 404),
    ("PUT", "/api/notices/123", {}, 422),
    ("DELETE", "/api/notices/123", None, 404),
    ("DELETE", "/api/notices/-1", None, 422),
    ("POST", "/api/notices/order", {}, 422),
    ("POST", "/api/notices/order", {"ids": []}, 422),
    ("POST", "/api/notices/order", {"ids": [1, 1]}, 422),
    ("POST", "/api/notices/order", {"ids": ["x"]}, 422),
    ("POST", "/api/notices/order", {"ids": [0]}, 422),
    ("POST", "/api/notices/order", {"ids": [99999999999999999999]}, 422),
    ("POST", "/api/notices/order", {"ids": [123]}, 404),
    ("POST", "/api/notices/order", {"ids": [1], "x": 1}, 422),
    ("GET", "/api/notices?all=maybe", None, 422),
    ("GET", "/api/notices/5", None, 405),
]


def test_bad_input_gets_a_clear_4xx(hall: Hall) -> None:
    """Every case in BAD against one running app (an app per case would take minutes)."""
    problems = []
    for method, path, body, status in BAD:
        kwargs: dict[str, Any] = {}
        if isinstance(body, str):
            kwargs = {"content": body, "headers": {"content-type": "application/json"}}
        elif body is not None:
            kwargs = {"json": body}
        response = hall.sup.request(method, path, **kwargs)
        payload = response.json()
        if response.status_code != status or not (payload["message"] and payload["message_en"]):
            problems.append(f"{method} {path} {body!r}: {response.status_code} {response.text}")
    assert not problems, "\n".join(problems)
    assert hall.events() == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)
bodies = st.dictionaries(
    st.sampled_from(["title", "title_en", "body", "body_en", "starts_at", "ends_at", "active",
                     "ids"]),
    json_values,
    max_size=5,
)


@pytest.fixture
def sqlite_hall(config: HallConfig, clock: ManualClock, tmp_path: Path) -> Iterator[Hall]:
    yield from make_hall(f"sqlite:///{tmp_path / 'onestop.db'}", config, clock, tmp_path)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(["POST /api/notices", "PUT /api/notices/1",
                              "POST /api/notices/order"]), body=bodies)
def test_random_bodies_never_cause_a_500(sqlite_hall: Hall, route: str, body: Any) -> None:
    method, path = route.split(" ")
    response = sqlite_hall.sup.request(method, path, json=body)
    assert response.status_code < 500, response.text


# -- the screen's name masking (mirrored by maskName in screen.js) -----------------------------

MASKED = [
    ("张三", "张*"),
    ("欧阳娜娜", "欧***"),
    ("Li Lei", "L*"),
    ("  王小明 ", "王**"),
    ("王", "王*"),
    ("𠮷野家", "𠮷**"),  # a character outside the BMP is one character
    ("买买提·艾力", "买*****"),
    ("O'Brien", "O*"),
    ("", ""),
    ("   ", ""),
    (None, ""),
]


@pytest.mark.parametrize(("name", "masked"), MASKED)
def test_mask_name(name: str | None, masked: str) -> None:
    assert mask_name(name) == masked


# -- the page ----------------------------------------------------------------------------------


def test_screen_page_is_public_by_default(hall: Hall) -> None:
    page = hall.client().get("/screen")
    assert page.status_code == 200
    assert "青枫街道政务服务中心" in page.text and 'id="current-number"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "/static/signage/screen.js?v=" in page.text
    assert hall.client().get("/static/signage/screen.css").status_code == 200
    english = hall.client().get("/screen?lang=en")
    assert english.status_code == 200 and '<html lang="en">' in english.text
    assert hall.client().get("/screen?lang=<b>").status_code == 200


def test_private_screen_page_still_loads(config: HallConfig, clock: ManualClock,
                                         tmp_path: Path) -> None:
    private = config.model_copy(
        update={"hall": config.hall.model_copy(update={"public_screen": False})})
    db_url = f"sqlite:///{tmp_path / 'onestop.db'}"
    for hall in make_hall(db_url, private, clock, tmp_path):
        page = hall.client().get("/screen")
        assert page.status_code == 200 and '"public_screen": false' in page.text
        # the notices are public information either way
        assert hall.client().get("/api/notices").status_code == 200
