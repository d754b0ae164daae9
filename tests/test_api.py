"""The HTTP contract, against the real application and a real database (no mocks).

Besides the happy path, every route is fed bad input: the answer is always a 4xx with a
message a clerk can read, never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth_support import add_user, sign_in, staff_windows
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onestop.app import create_app
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import ManualClock
from onestop.settings import RuntimeSettings


@pytest.fixture
def client(
    db_url: str, config: HallConfig, clock: ManualClock, tmp_path: Path
) -> Iterator[TestClient]:
    settings = RuntimeSettings(db=db_url, data_dir=tmp_path, public_url="http://hall.test")
    add_user(db_url, "sup", "supervisor")
    with TestClient(create_app(settings, config, clock)) as c:
        staff_windows(c)
        sign_in(c, "sup")
        yield c


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_catalogue_and_queues(client: TestClient, config: HallConfig) -> None:
    services = ok(client.get("/api/services"))
    assert {s["id"] for s in services} == {s.id for s in config.services}
    elderly = next(s for s in services if s["id"] == "elderly-card")
    assert elderly["name"] == "老年人优待证办理" and elderly["materials"]
    queues = ok(client.get("/api/queues"))
    assert [q["prefix"] for q in queues] == [q.prefix for q in config.queues]
    assert all(q["waiting"] == 0 and q["open_counters"] >= 2 for q in queues)


def test_ticket_round_trip_over_http(client: TestClient) -> None:
    first = ok(client.post("/api/tickets", json={"service": "elderly-card"}), 201)
    second = ok(client.post("/api/tickets", json={"service": "elderly-card"}), 201)
    assert (first["number"], second["number"]) == ("B001", "B002")
    assert second["people_ahead"] == 1
    assert second["estimated_wait_seconds"] > 0
    assert second["status_url"] == f"http://hall.test/t/{second['token']}"
    assert second["service_name"] == "老年人优待证办理"

    called = ok(client.post("/api/counters/5/call-next"))["ticket"]
    assert called["number"] == "B001" and called["counter_name"] == "5号窗口"
    assert ok(client.get(f"/api/tickets/{first['token']}"))["state"] == "called"
    status = ok(client.get(f"/api/tickets/{second['token']}"))
    assert status["people_ahead"] == 0 and status["state"] == "waiting"

    ok(client.post("/api/counters/5/recall"))
    ok(client.post("/api/counters/5/start"))
    ok(
        client.post(
            "/api/counters/5/finish",
            json={"outcome": "committed", "promised_date": "2026-12-01", "note": "ok"},
        )
    )
    ok(client.post("/api/counters/6/call", json={"ticket": second["id"]}))
    moved = ok(client.post("/api/counters/6/transfer", json={"counter": 9, "note": "会审"}))
    assert moved["ticket"]["number"] == "B002" and moved["ticket"]["target_counter"] == 9
    ok(client.post("/api/counters/9/call-next"))
    ok(client.post("/api/counters/9/recall"))  # 过号 after a recall (or a minute)
    ok(client.post("/api/counters/9/no-show"))
    assert client.post("/api/counters/9/call-next").status_code == 204
    ok(client.post("/api/counters/9/pause", json={"reason": "午餐"}))
    windows = {c["number"]: c for c in ok(client.get("/api/counters"))}
    assert windows[9]["state"] == "paused" and windows[5]["served_today"] == 1
    ok(client.post("/api/counters/9/resume"))
    third = ok(client.post("/api/tickets", json={"service": "gas-payment"}), 201)
    assert ok(client.post(f"/api/tickets/{third['token']}/cancel"))["ticket"]["state"] == (
        "cancelled"
    )


BAD_REQUESTS: list[tuple[str, str, Any, int]] = [
    ("POST", "/api/tickets", {}, 422),
    ("POST", "/api/tickets", {"service": ""}, 422),
    ("POST", "/api/tickets", {"service": 5}, 422),
    ("POST", "/api/tickets", {"service": "no-such-item"}, 404),
    ("POST", "/api/tickets", {"service": "elderly-card", "priority": "vip"}, 422),
    ("POST", "/api/tickets", {"service": "elderly-card", "priority": "green"}, 422),
    ("POST", "/api/tickets", {"service": "elderly-card", "extra": 1}, 422),
    ("POST", "/api/tickets", "not json", 422),
    ("POST", "/api/tickets", ["service"], 422),
    ("GET", "/api/tickets/no-such-token", None, 404),
    ("POST", "/api/tickets/no-such-token/cancel", None, 404),
    ("POST", "/api/counters/99/call-next", None, 404),
    ("POST", "/api/counters/0/call-next", None, 422),
    ("POST", "/api/counters/abc/call-next", None, 422),
    ("POST", "/api/counters/-3/start", None, 422),
    ("POST", "/api/counters/5/start", None, 409),
    ("POST", "/api/counters/5/recall", None, 409),
    ("POST", "/api/counters/5/no-show", None, 409),
    ("POST", "/api/counters/5/finish", {"outcome": "on_the_spot"}, 409),
    ("POST", "/api/counters/5/finish", {"outcome": "maybe"}, 422),
    ("POST", "/api/counters/5/finish", {"outcome": "committed", "promised_date": "soon"}, 422),
    ("POST", "/api/counters/5/finish", {}, 422),
    ("POST", "/api/counters/5/call", {"ticket": "x"}, 422),
    ("POST", "/api/counters/5/call", {"ticket": 123456}, 404),
    ("POST", "/api/counters/5/call", {}, 422),
    ("POST", "/api/counters/5/transfer", {}, 422),
    ("POST", "/api/counters/5/transfer", {"counter": 6}, 409),
    ("POST", "/api/counters/5/transfer", {"counter": "x"}, 422),
    ("POST", "/api/counters/5/pause", {}, 422),
    ("POST", "/api/counters/5/pause", {"reason": ""}, 422),
    ("POST", "/api/counters/5/pause", {"reason": "x" * 101}, 422),
    ("POST", "/api/counters/5/resume", None, 409),
    ("DELETE", "/api/counters/5/resume", None, 405),
    ("GET", "/api/nothing-here", None, 404),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    BAD_REQUESTS,
    ids=[f"{m} {p} {b!r}"[:60] for m, p, b, _ in BAD_REQUESTS],
)
def test_bad_input_gets_a_clear_4xx(
    client: TestClient, method: str, path: str, body: Any, status: int
) -> None:
    kwargs: dict[str, Any] = {}
    if isinstance(body, str):
        kwargs = {"content": body, "headers": {"content-type": "application/json"}}
    elif body is not None:
        kwargs = {"json": body}
    response = client.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["message"] and payload["message_en"], payload


ROUTES = [
    "/api/tickets",
    "/api/counters/5/call",
    "/api/counters/5/finish",
    "/api/counters/5/transfer",
    "/api/counters/5/pause",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
bodies = st.dictionaries(
    st.sampled_from(
        [
            "service",
            "priority",
            "reason",
            "ticket",
            "outcome",
            "promised_date",
            "note",
            "queue",
            "counter",
        ]
    ),
    json_values,
    max_size=4,
)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(route=st.sampled_from(ROUTES), body=bodies)
def test_random_bodies_never_cause_a_500(client: TestClient, route: str, body: Any) -> None:
    response = client.post(route, json=body)
    assert response.status_code < 500, response.text
