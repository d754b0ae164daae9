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

from onestop.app import create_app
from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import ManualClock
from onestop.settings import RuntimeSettings
from onestop.web.security import SECURITY_HEADERS

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
    "/login": None,
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


def test_json_and_the_openapi_pages_keep_their_own_headers(staff: tuple[TestClient, str]) -> None:
    client, _ = staff
    assert "content-security-policy" not in client.get("/api/services").headers
    docs = client.get("/docs")  # Swagger UI loads from a CDN with inline script
    assert docs.status_code == 200 and "content-security-policy" not in docs.headers


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
