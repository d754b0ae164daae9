"""Input the database cannot hold gets a clear 4xx at the door, on both databases.

The probe that found these: a NUL byte in a path token or a text field answered 500 on
PostgreSQL (it refuses NUL in text), a ticket id of 2^63 answered 500 on SQLite, and a 50 MB
anonymous body was read whole before anything checked who sent it.
"""

from __future__ import annotations

import asyncio
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
from onestop.web.bounds import InputBounds


@pytest.fixture
def app(db_url: str, config: HallConfig, clock: ManualClock, tmp_path: Path) -> Iterator[Any]:
    add_user(db_url, "sup", "supervisor")
    settings = RuntimeSettings(db=db_url, data_dir=tmp_path, public_url="http://hall.test")
    application = create_app(settings, config, clock)
    with TestClient(application):
        yield application


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == code and body["message"] and body["message_en"], body
    # The refusal is an answer like any other: it carries the security headers.
    assert response.headers["x-content-type-options"] == "nosniff"
    return body


@pytest.mark.parametrize("path", [
    "/t/abc%00def", "/t/abc%00def/qr.svg", "/api/appointments/AB%00CD", "/a/AB%00CD",
    "/api/appointments/AB%00CD/cancel", "/api/kiosks/k%001",
])
def test_nul_in_a_path_token_is_a_422_without_signing_in(app: Any, path: str) -> None:
    anonymous = TestClient(app)
    method = "POST" if path.endswith("/cancel") else "GET"
    refused(anonymous.request(method, path, json={}), 422, "invalid_characters")


def test_control_characters_in_text_fields_and_queries(app: Any) -> None:
    sup = TestClient(app)
    sign_in(sup, "sup")
    body = refused(sup.post("/api/notices", json={"title": "停车\u0000公告"}), 422,
                   "invalid_characters")
    assert body["details"][0]["field"] == "title"
    refused(sup.post("/api/notices", json={"title": "公告", "body": "退格\u0008"}), 422,
            "invalid_characters")
    refused(sup.get("/api/notices?all=1%00"), 422, "invalid_characters")
    # Line breaks and tabs are text people type: a notice body may span lines.
    made = sup.post("/api/notices", json={"title": "公告", "body": "第一行\n第二行\t完"})
    assert made.status_code == 201, made.text
    assert sup.get("/api/notices").json()[0]["body"] == "第一行\n第二行\t完"
    # The sign-in form (urlencoded) is checked the same way.
    anonymous = TestClient(app)
    csrf = anonymous.get("/auth/me").json()["csrf_token"]
    refused(anonymous.post("/auth/login", content=b"username=s%00up&password=x",
                           headers={"content-type": "application/x-www-form-urlencoded",
                                    "X-CSRF-Token": csrf}), 422, "invalid_characters")


def test_integers_beyond_64_bits(app: Any) -> None:
    sup = TestClient(app)
    sign_in(sup, "sup")
    refused(sup.get(f"/api/tickets/{2**63}/history"), 422, "number_out_of_range")
    refused(sup.get(f"/api/tickets/-{2**64}/history"), 422, "number_out_of_range")
    body = refused(sup.post("/api/notices/order", json={"ids": [1, 2**70]}), 422,
                   "number_out_of_range")
    assert body["details"][0]["field"] == "ids[1]"
    # The largest 64-bit id is merely unknown.
    assert sup.get(f"/api/tickets/{2**63 - 1}/history").status_code == 404


def test_a_body_over_the_limit_is_refused_before_it_is_read(app: Any) -> None:
    anonymous = TestClient(app)
    big = b'{"phone": "' + b"1" * (70 * 1024) + b'"}'
    body = refused(anonymous.post("/api/appointments", content=big,
                                  headers={"content-type": "application/json"}), 413,
                   "body_too_large")
    assert "64 KB" in body["message"]
    # Just under the limit reaches the route, which answers for itself.
    fits = b'{"phone": "' + b"1" * (60 * 1024) + b'"}'
    answer = anonymous.post("/api/appointments", content=fits,
                            headers={"content-type": "application/json"})
    assert answer.status_code == 422 and answer.json()["error"] == "invalid_request"


def test_a_streamed_body_is_cut_off_at_the_limit() -> None:
    """Without Content-Length the middleware counts the chunks and stops reading at the limit:
    the route never runs, and the rest of the stream is never pulled."""
    reached: list[bool] = []

    async def route(scope: Any, receive: Any, send: Any) -> None:
        reached.append(True)

    pulled = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 16 * 1024, "more_body": pulled < 1000}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/tickets", "query_string": b"",
             "headers": [(b"content-type", b"application/json")]}
    asyncio.run(InputBounds(route, max_body_bytes=64 * 1024)(scope, receive, send))
    assert not reached
    assert sent[0]["status"] == 413
    assert pulled == 5  # 5 × 16 KB is the first count over 64 KB
