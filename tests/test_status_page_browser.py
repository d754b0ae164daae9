"""A ticket's status page (/t/<token>, the QR code's target) on a phone-sized headless Chromium.

It must follow the hall live, without a reload: people ahead goes down as windows call others,
and when the ticket itself is called the page names the window to go to. The page itself is
public (holding the token is the permission); the hall is driven by a signed-in supervisor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from browser_support import (
    NO_PRINTERS,
    PHONE,
    WAIT_MS,
    HallServer,
    api,
    assert_inside_viewport,
    assert_no_horizontal_overflow,
    assert_no_js_errors,
    launch_browser,
    new_page,
    screenshot,
    start_server,
)
from playwright.sync_api import Browser, Page, expect

SERVICE = "elderly-card"  # 老年人优待证办理, queue B; windows 1 and 2 serve everything


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture
def server(tmp_path: Any) -> Iterator[HallServer]:
    live = start_server(tmp_path, NO_PRINTERS)
    live.seat()  # a working day: a clerk at every window
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def http(server: HallServer) -> Iterator[httpx.Client]:
    with api(server) as client:
        yield client


def issue(http: httpx.Client, n: int) -> list[dict[str, Any]]:
    tickets = []
    for _ in range(n):
        response = http.post("/api/tickets", json={"service": SERVICE})
        assert response.status_code == 201, response.text
        tickets.append(response.json())
    return tickets


def post(http: httpx.Client, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = http.post(path, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def open_status(browser: Browser, server: HallServer, token: str, lang: str = "") -> Page:
    page = new_page(browser, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    suffix = f"?lang={lang}" if lang else ""
    response = page.goto(f"{server.base}/t/{token}{suffix}")
    assert response is not None and response.status == 200
    # Connected to the event stream: from here on every change must arrive without a reload.
    expect(page.locator("#st-live")).to_have_class(re.compile(r"st-live-on"), timeout=WAIT_MS)
    page.evaluate("window.__notReloaded = true")
    return page


def test_people_ahead_and_window_update_live(browser: Browser, server: HallServer,
                                             http: httpx.Client) -> None:
    first, _second, third = issue(http, 3)
    page = open_status(browser, server, third["token"])
    expect(page.locator("#st-number")).to_have_text(third["number"])
    expect(page.locator("#st-service")).to_have_text("老年人优待证办理")
    expect(page.locator("#st-state")).to_have_text("等候中")
    ahead = page.locator("#st-ahead")
    expect(ahead).to_have_text("2 人")
    expect(page.locator("#st-wait")).to_have_text(re.compile(r"^约 \d+ 分钟$"))
    expect(page.locator("#st-window")).to_be_hidden()
    assert_no_horizontal_overflow(page)
    assert_inside_viewport(page, page.locator("#st-number"))
    assert_inside_viewport(page, page.locator("#st-service"))
    screenshot(page, "status-phone-waiting")

    called = post(http, "/api/counters/1/call-next")
    assert called["ticket"]["id"] == first["id"]
    expect(ahead).to_have_text("1 人")

    post(http, "/api/counters/2/call-next")
    expect(ahead).to_have_text("0 人")
    expect(page.locator("#st-wait")).to_have_text("即将叫号")

    # Window 1 finishes its resident and calls ours.
    post(http, "/api/counters/1/start")
    post(http, "/api/counters/1/finish", {"outcome": "on_the_spot"})
    post(http, "/api/counters/1/call-next")
    window = page.locator("#st-window")
    expect(window).to_have_text("请到 1号窗口办理")
    expect(page.locator("#st-state")).to_have_text("已叫号")
    expect(page.locator("#st-stats")).to_be_hidden()
    assert_no_horizontal_overflow(page)
    assert_inside_viewport(page, window)
    screenshot(page, "status-phone-called")

    post(http, "/api/counters/1/start")
    expect(window).to_have_text("正在 1号窗口办理")
    expect(page.locator("#st-state")).to_have_text("办理中")
    post(http, "/api/counters/1/finish", {"outcome": "on_the_spot"})
    expect(page.locator("#st-state")).to_have_text("已办结")
    expect(page.locator("#st-final")).to_have_text("已办结，感谢您的耐心等候")
    screenshot(page, "status-phone-done")

    assert page.evaluate("window.__notReloaded === true"), "the page reloaded"
    assert_no_js_errors(page)
    page.context.close()


def test_english_status_page(browser: Browser, server: HallServer, http: httpx.Client) -> None:
    _first, second = issue(http, 2)
    # Without JavaScript (some in-app browsers) the server-rendered page says the same words.
    plain = new_page(browser, PHONE, is_mobile=True, java_script_enabled=False)
    plain.goto(f"{server.base}/t/{second['token']}?lang=en")
    expect(plain.locator("#st-state")).to_have_text("Waiting")
    expect(plain.locator("#st-ahead")).to_have_text("1")
    expect(plain.locator("#st-wait")).to_have_text(re.compile(r"^About \d+ min$"))
    plain.context.close()

    page = open_status(browser, server, second["token"], lang="en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#st-state")).to_have_text("Waiting")
    expect(page.locator("#st-ahead")).to_have_text("1")
    expect(page.locator("#st-service")).to_have_text("Senior citizen preferential card")
    post(http, "/api/counters/2/call-next")
    expect(page.locator("#st-ahead")).to_have_text("0")
    post(http, "/api/counters/1/call-next")
    expect(page.locator("#st-window")).to_have_text("Please go to Window 1")
    expect(page.locator("#st-state")).to_have_text("Called")
    assert_no_horizontal_overflow(page)
    screenshot(page, "status-phone-called-en")
    assert_no_js_errors(page)
    page.context.close()


def test_unknown_token_is_a_friendly_404(browser: Browser, server: HallServer) -> None:
    page = new_page(browser, PHONE, is_mobile=True)
    response = page.goto(f"{server.base}/t/no-such-ticket")
    assert response is not None and response.status == 404
    expect(page.locator("h1").first).to_have_text("没有找到这张号票")
    expect(page.get_by_text("Ticket not found")).to_be_visible()
    assert_no_horizontal_overflow(page)
    screenshot(page, "status-phone-404")
    page.context.close()
