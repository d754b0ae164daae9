"""Kiosk, counter terminal and hall screen open at once in one browser, against one real server.

A resident takes a number at the kiosk by touch; the clerk at window 1 (a comprehensive window)
calls it; the hall screen shows it as the current call and in the recent list; a recall flashes
it again; a transfer to window 2 keeps its number. Then the server is killed (SIGKILL) and
started again on the same port: every page reconnects by itself, and the next call made at the
counter appears on the screen, which is never reloaded.

The hall screen's DOM contract: #current-number, #current-window, #recent li[data-number], and
the class `flash` on #current while a call flashes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from auth_support import add_user
from browser_support import (
    LANDSCAPE,
    NO_PRINTERS,
    WAIT_MS,
    HallServer,
    api,
    assert_no_js_errors,
    hall_config,
    launch_browser,
    new_page,
    screenshot,
    sign_in_page,
)
from playwright.sync_api import Browser, Page, expect

DESKTOP = {"width": 1366, "height": 768}
RESTART_MS = 40_000  # reconnecting backs off up to 10 s; a loaded machine restarts slowly
CATEGORY = "社会保障"
SERVICE = "退休人员领取养老金资格认证"
FLASHING = re.compile(r"\bflash\b")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallServer]:
    workdir = tmp_path_factory.mktemp("three-pages")
    # The kiosk has no printer ("none"): tickets are shown on screen, no printer is involved.
    live = HallServer(f"sqlite:///{workdir / 'onestop.db'}", workdir / "data",
                      config_dir=hall_config(workdir, NO_PRINTERS))
    live.enrol()
    add_user(live.db_url, "liu", "clerk", counters=[1])  # 1号窗口 serves every item
    live.start()
    live.seat(2)  # window 2 has its clerk: the counter transfers a resident there by name
    try:
        yield live
    finally:
        live.stop()


def is_post(path: str) -> Any:
    pattern = re.compile(re.escape(path) + "$")
    return lambda r: r.request.method == "POST" and bool(pattern.search(r.url))


def take_number(kiosk: Page) -> dict[str, Any]:
    """Tap a category, an item, 取号: the ticket the server issued."""
    kiosk.locator(".tile-category", has_text=CATEGORY).click()
    kiosk.locator(".tile-service", has_text=SERVICE).click()
    expect(kiosk.locator("#service-title")).to_have_text(SERVICE)
    with kiosk.expect_response(is_post("/api/kiosks/k1/tickets")) as issued:
        kiosk.locator("#take").click()
    assert issued.value.status == 201, issued.value.text()
    ticket: dict[str, Any] = issued.value.json()
    expect(kiosk.locator("#ticket-number")).to_have_text(ticket["number"])
    return ticket


def call_next(counter: Page, expected: str) -> None:
    expect(counter.locator(f"#waiting-list li[data-number={expected}]")).to_be_visible(
        timeout=WAIT_MS)
    with counter.expect_response(is_post("/api/counters/1/call-next")) as answer:
        counter.locator("#btn-call").click()
    assert answer.value.status == 200, answer.value.text()
    assert answer.value.json()["ticket"]["number"] == expected
    expect(counter.locator("#cur-number")).to_have_text(expected)


def expect_on_screen(screen: Page, number: str, window: str = "1号窗口",
                     timeout: int = WAIT_MS) -> None:
    expect(screen.locator("#current-number")).to_have_text(number, timeout=timeout)
    expect(screen.locator("#current-window")).to_have_text(window)
    expect(screen.locator(f"#recent li[data-number={number}]")).to_have_count(1)


def test_kiosk_counter_and_screen_together(browser: Browser, server: HallServer) -> None:
    kiosk = new_page(browser, LANDSCAPE, has_touch=True)
    kiosk.goto(server.kiosk_url("k1"))
    expect(kiosk.locator(".tile-category").first).to_be_visible(timeout=WAIT_MS)

    counter = new_page(browser, DESKTOP)
    sign_in_page(counter, server, "/counter", "liu")
    expect(counter.locator("#window-name")).to_have_text("1号窗口")
    expect(counter.locator("#conn")).to_have_text("实时", timeout=WAIT_MS)

    screen = new_page(browser, LANDSCAPE)
    response = screen.goto(f"{server.base}/screen")
    assert response is not None and response.status == 200, "the hall screen is not served"
    expect(screen.locator("#current-number")).to_be_attached(timeout=WAIT_MS)

    # Kiosk → counter → screen.
    first = take_number(kiosk)
    call_next(counter, first["number"])
    expect_on_screen(screen, first["number"])
    expect(screen.locator("#current")).to_have_class(FLASHING)
    screenshot(screen, "three-pages-screen-called")

    # Recall: the screen flashes the same number again (after the first flash has ended).
    expect(screen.locator("#current")).not_to_have_class(FLASHING, timeout=WAIT_MS)
    with counter.expect_response(is_post("/api/counters/1/recall")):
        counter.keyboard.press("F2")
    expect(screen.locator("#current")).to_have_class(FLASHING, timeout=WAIT_MS)
    expect(screen.locator("#current-number")).to_have_text(first["number"])
    expect(counter.locator("#cur-extra")).to_have_text("已重呼 1 次")
    screenshot(counter, "three-pages-counter-called")

    # Transfer to window 2: same number, waiting there (by name) and gone from this window.
    counter.locator("#btn-transfer").click()
    counter.locator("#transfer-counter").select_option(label="2号窗口")
    counter.locator("#transfer-note").fill("联合会审")
    with counter.expect_response(is_post("/api/counters/1/transfer")) as answer:
        counter.locator("#transfer-ok").click()
    moved = answer.value.json()["ticket"]
    assert (moved["number"], moved["state"], moved["target_counter"]) == (
        first["number"], "waiting", 2)
    expect(counter.locator("#cur-empty")).to_have_text("空闲，请叫号")
    expect(counter.locator(f"#waiting-list li[data-number={first['number']}]")).to_have_count(0)
    with api(server) as http:
        at_two = http.get("/api/counters/2/waiting").json()
        assert [t["number"] for t in at_two] == [first["number"]]

    # The server dies hard and comes back on the same port.
    kiosk.locator("#done").click()
    expect(kiosk.locator("#view-home")).to_be_visible()
    server.kill()
    expect(counter.locator("#conn")).to_have_text("连接中断，正在重连…", timeout=WAIT_MS)
    server.start()
    expect(counter.locator("#conn")).to_have_text("实时", timeout=RESTART_MS)

    # A new resident, the next call: on the screen without reloading it.
    second = take_number(kiosk)
    assert second["number"] != first["number"]
    call_next(counter, second["number"])
    expect_on_screen(screen, second["number"], timeout=RESTART_MS)
    expect(screen.locator(f"#recent li[data-number={first['number']}]")).to_have_count(1)
    screenshot(counter, "three-pages-counter-after-restart")
    screenshot(screen, "three-pages-screen-after-restart")

    with httpx.Client(base_url=server.base, timeout=10) as anyone:
        assert anyone.get("/healthz").json()["ok"] is True
    for page in (kiosk, counter, screen):
        assert_no_js_errors(page)
        page.context.close()
