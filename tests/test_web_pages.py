"""Every room's pages come out of onestop.web: the security headers middleware, the shared
templates and the shared, versioned static files. Real app, real database, real sign-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth_support import add_user, sign_in
from fastapi.testclient import TestClient
from test_access import all_routes

from onestop.app import create_app
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import ManualClock
from onestop.settings import RuntimeSettings
from onestop.web.security import DATA_POLICY, DOCS_POLICY, SECURITY_HEADERS

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

# Every HTML page and the Cache-Control it has always sent (None: it sets none).
PAGES = {
    "/kiosk?k=k1": "no-cache",
    "/kiosk?k=nowhere": "no-store",
    "/t/{token}": "no-store",
    "/t/no-such-ticket": "no-store",
    "/desk": "no-cache",
    "/counter": "no-store",
    "/screen": "no-cache",
    "/screen?lang=en": "no-cache",
    "/admin": "no-store",
    "/book": "no-store",
    "/a/ZZZZZZZZ": "no-store",
    "/login": "no-store",  # nothing said by the page: the middleware's default
}
SHARED = ("common.js", "common.css", "day.js")


@pytest.fixture
def staff(db_url: str, config: HallConfig, clock: ManualClock, tmp_path: Path
          ) -> Iterator[tuple[TestClient, str]]:
    add_user(db_url, "sup", "supervisor")
    settings = RuntimeSettings(db=db_url, data_dir=tmp_path, printer_poll_seconds=60)
    with TestClient(create_app(settings, config, clock)) as client:
        sign_in(client, "sup")
        ticket = client.post("/api/desk/tickets", json={"service": "gas-payment", "reason": "老年人"})
        assert ticket.status_code == 201, ticket.text
        yield client, ticket.json()["token"]


def pages(staff: tuple[TestClient, str]) -> Iterator[tuple[str, Any, str | None]]:
    client, token = staff
    for url, cache in PAGES.items():
        yield url, client.get(url.replace("{token}", token)), cache


def test_every_page_has_the_security_headers_once_and_its_own_cache_policy(
    staff: tuple[TestClient, str],
) -> None:
    for url, page, cache in pages(staff):
        assert page.headers["content-type"].startswith("text/html"), url
        for name, value in SECURITY_HEADERS.items():
            assert page.headers.get_list(name) == [value], (url, name)
        assert page.headers.get("cache-control") == cache, url


def test_json_and_the_docs_have_their_own_policies(staff: tuple[TestClient, str]) -> None:
    client, token = staff
    for url in ("/api/services", f"/api/tickets/{token}", "/api/nothing-here", "/openapi.json",
                f"/t/{token}/qr.svg"):
        answer = client.get(url)
        assert answer.headers["content-security-policy"] == DATA_POLICY, url
        assert answer.headers["x-frame-options"] == "DENY", url
        assert answer.headers["x-content-type-options"] == "nosniff", url
        assert "no-store" in answer.headers["cache-control"], url
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-security-policy"] == DOCS_POLICY
    # Swagger UI from the installed package: nothing from the Internet.
    assert "http://" not in docs.text and "https://" not in docs.text
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.text):
        assert client.get(asset).status_code == 200, asset


def test_every_route_answers_with_the_security_headers(staff: tuple[TestClient, str]) -> None:
    """Walk every route with every method it takes, signed in or not: whatever the answer
    (200, 401, 404, 405, 422), it carries the headers."""
    client, token = staff
    public = TestClient(client.app)
    seen = 0
    for route in all_routes(client.app.routes):
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", None) or set()
        if not path or path.startswith("/static") or path.startswith("/ws"):
            continue
        url = re.sub(r"\{[^}]+\}", lambda m: token if "token" in m.group(0) else "1", path)
        for method in sorted(methods - {"HEAD"}):
            for who in (client, public):
                answer = who.request(method, url, json={} if method != "GET" else None)
                assert answer.status_code < 500, (method, url, answer.text)
                for name in ("content-security-policy", "x-content-type-options",
                             "x-frame-options", "referrer-policy"):
                    assert name in answer.headers, (method, url, name)
                seen += 1
    assert seen > 100


def test_pages_link_only_static_files_that_exist_shared_ones_from_web_versioned(
    staff: tuple[TestClient, str],
) -> None:
    client, _ = staff
    linked: set[str] = set()
    for url, page, _ in pages(staff):
        links = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
        assert links, url
        for link in links:
            path, _, version = link.partition("?v=")
            assert version, f"{url}: {link} is not versioned"
            name = path.rsplit("/", 1)[1]
            if name in SHARED:
                assert path == f"/static/web/{name}", (url, link)
            linked.add(link)
    for link in linked:
        assert client.get(link).status_code == 200, link
    assert {f"/static/web/{name}" for name in SHARED} <= {link.split("?")[0] for link in linked}
    for name in SHARED:  # moved, not copied: one copy of each shared file
        assert client.get(f"/static/kiosk/{name}").status_code == 404
