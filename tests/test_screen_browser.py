"""The hall screen (/screen) in real headless Chromium against a real server process.

The queue is driven through the HTTP API as a supervisor; the screen must follow live: the call
in large type with a flash and a chime, recent calls, waiting counts, notices in the marquee
(as text, never markup), and it must survive the server being killed and restarted without a
reload, without announcing old calls as new.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from auth_support import OpenTerminals, add_device, add_user, sign_in
from browser_support import (
    CHROMIUM,
    LANDSCAPE,
    LAUNCH_ARGS,
    NO_PRINTERS,
    assert_inside_viewport,
    assert_no_horizontal_overflow,
    assert_no_js_errors,
    hall_config,
    new_page,
    require_chromium,
    screenshot,
)
from live_server import LiveServer
from playwright.sync_api import Browser, Page, expect, sync_playwright
from test_notices import MASKED

WAIT_MS = 15_000
RECONNECT_MS = 40_000  # the stream backs off up to 10 s between attempts while the server is down
SCRIPT_TITLE = "<script>alert(1)</script>通知"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """As browser_support.launch_browser, plus the flag a hall TV runs with so the chime plays."""
    require_chromium()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[*LAUNCH_ARGS, "--autoplay-policy=no-user-gesture-required"],
        )
        try:
            yield instance
        finally:
            instance.close()


def make_server(workdir: Path, env: dict[str, str] | None = None) -> LiveServer:
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{workdir / 'onestop.db'}"
    add_user(db_url, "sup", "supervisor")
    return LiveServer(db_url, workdir / "data", config_dir=hall_config(workdir, NO_PRINTERS),
                      env=env)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = make_server(tmp_path / "hall")
    live.start()
    terminals = OpenTerminals(live.db_url, live.base, *range(1, 13))  # a clerk at every window
    try:
        yield live
    finally:
        terminals.close()
        live.stop()


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base, timeout=10) as client:
        sign_in(client, "sup")
        yield client


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def issue(http: httpx.Client, service: str) -> str:
    return str(ok(http.post("/api/tickets", json={"service": service}), 201)["number"])


def call_next(http: httpx.Client, window: int) -> str:
    return str(ok(http.post(f"/api/counters/{window}/call-next"))["ticket"]["number"])


def screen_value(page: Page, expression: str) -> Any:
    return page.evaluate(f"() => window.OnestopScreen.{expression}")


def open_screen(browser: Browser, server: LiveServer, suffix: str = "") -> Page:
    page = new_page(browser, LANDSCAPE)
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.dialogs = dialogs  # type: ignore[attr-defined]
    response = page.goto(f"{server.base}/screen{suffix}")
    assert response is not None and response.status == 200
    return page


def wait_connected(page: Page, timeout: int = WAIT_MS) -> None:
    page.wait_for_function("() => window.OnestopScreen && OnestopScreen.state.connected",
                           timeout=timeout)


def expect_call(page: Page, number: str, window: str) -> None:
    expect(page.locator("#current-number")).to_have_text(number, timeout=WAIT_MS)
    expect(page.locator("#current-window")).to_have_text(window)
    expect(page.locator(f"#recent li[data-number='{number}']")).to_be_visible()


def assert_readable(page: Page) -> None:
    """Nothing cut off: the key texts lie wholly on screen and none is clipped."""
    assert_no_horizontal_overflow(page)
    for selector in ("#hall-name", "#clock", "#date", "#current-number", "#current-window"):
        assert_inside_viewport(page, page.locator(selector))
    for item in page.locator("#recent li").all():
        assert_inside_viewport(page, item)
    for item in page.locator("#queues li").all():
        assert_inside_viewport(page, item)
        assert_inside_viewport(page, item.locator(".q-name"))
    sizes = page.evaluate("""() => ['#current-number', '#current-window', '#recent li', '.q-n']
        .map(s => parseFloat(getComputedStyle(document.querySelector(s)).fontSize))""")
    assert sizes[0] >= 200 and sizes[1] >= 100 and sizes[2] >= 40 and sizes[3] >= 56, sizes


def test_screen_follows_the_hall(browser: Browser, server: LiveServer, http: httpx.Client
                                 ) -> None:
    page = open_screen(browser, server)
    expect(page.locator("#hall-name")).to_have_text("青枫街道政务服务中心")
    expect(page.locator("#clock")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
    expect(page.locator("#date")).to_have_text(re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 星期.$"))
    wait_connected(page)
    expect(page.locator("#queues li")).to_have_count(5)
    expect(page.locator("#queues li[data-queue='civil-affairs']")).to_have_attribute(
        "data-waiting", "0")
    expect(page.locator("#current-idle")).to_be_visible()
    load_id = screen_value(page, "loadId")
    screenshot(page, "screen-idle")

    # a call: large, flashing, chiming, listed, and the waiting count follows
    first = issue(http, "elderly-card")
    issue(http, "elderly-card")
    expect(page.locator("#queues li[data-queue='civil-affairs']")).to_have_attribute(
        "data-waiting", "2", timeout=WAIT_MS)
    assert call_next(http, 5) == first
    expect_call(page, first, "5号窗口")
    expect(page.locator("#current")).to_have_class(re.compile(r"\bflash\b"))
    expect(page.locator("#queues li[data-queue='civil-affairs']")).to_have_attribute(
        "data-waiting", "1")
    assert screen_value(page, "state.chimes") == 1
    assert screen_value(page, "state.audio.state") == "running"  # the chime really played
    screenshot(page, "screen-call")

    # a recall flashes and chimes again
    flashed = page.locator("#current").get_attribute("data-flash-seq")
    ok(http.post("/api/counters/5/recall"))
    page.wait_for_function(
        """old => { const el = document.getElementById('current');
                    return el.dataset.flashSeq !== old && el.classList.contains('flash'); }""",
        arg=flashed, timeout=WAIT_MS)
    assert screen_value(page, "state.chimes") == 2
    expect(page.locator("#recent li")).to_have_count(1)  # the same ticket, listed once

    # a notice is text, however it looks
    ok(http.post("/api/notices", json={
        "title": SCRIPT_TITLE, "body": "<b>本周六</b>上午9:00-12:00办理预约业务，请携带身份证。"}), 201)
    insurance = ok(http.post("/api/notices", json={
        "title": "医保缴费提醒", "body": "2027年度城乡居民医保集中缴费期截至12月31日。"}), 201)
    expect(page.locator("#notices")).to_contain_text(SCRIPT_TITLE, timeout=WAIT_MS)
    expect(page.locator("#notices")).to_contain_text("<b>本周六</b>")
    expect(page.locator("#notices .n-item")).to_have_count(2)
    assert page.locator("#notices script, #notices b").count() == 0
    # Each event carries only the change: an edit and a delete still redraw the marquee.
    ok(http.put(f"/api/notices/{insurance['id']}", json={"title": "医保缴费提醒（延期）"}))
    expect(page.locator("#notices")).to_contain_text("医保缴费提醒（延期）", timeout=WAIT_MS)
    expect(page.locator("#notices .n-item")).to_have_count(2)
    assert http.delete(f"/api/notices/{insurance['id']}").status_code == 204
    expect(page.locator("#notices")).not_to_contain_text("医保缴费提醒", timeout=WAIT_MS)
    expect(page.locator("#notices .n-item")).to_have_count(1)
    assert page.dialogs == []  # type: ignore[attr-defined]

    # a busy hall: more calls than the list holds, from every queue
    calls = [("pension-qualification", 3), ("residence-permit", 7), ("gas-payment", 11),
             ("business-registration-agency", 9), ("resident-medical-insurance", 4),
             ("elderly-card", 6), ("birth-registration", 8), ("cable-tv-payment", 12)]
    numbers = []
    for service, window in calls:
        issue(http, service)
        issue(http, service)
        numbers.append(call_next(http, window))
    expect_call(page, numbers[-1], "12号窗口")
    expect(page.locator("#recent li")).to_have_count(8)
    expect(page.locator("#recent li").first).to_have_attribute("data-number", numbers[-1])
    expect(page.locator(f"#recent li[data-number='{first}']")).to_have_count(0)  # scrolled off
    assert_readable(page)
    screenshot(page, "screen-busy")

    # a hard server kill: the screen says so, then reconnects and catches up by itself
    server.kill()
    expect(page.locator("#status")).to_have_text("连接中断，正在重新连接…", timeout=WAIT_MS)
    screenshot(page, "screen-offline")
    server.start()
    wait_connected(page, RECONNECT_MS)
    expect(page.locator("#status")).to_be_hidden(timeout=WAIT_MS)
    flashes = screen_value(page, "state.flashes")
    after_restart = issue(http, "full-agency")
    assert call_next(http, 10) == after_restart
    expect_call(page, after_restart, "10号窗口")
    page.wait_for_function("n => OnestopScreen.state.flashes > n", arg=flashes, timeout=WAIT_MS)
    screenshot(page, "screen-after-restart")

    # calls made while the screen was away are listed, but never announced as new
    chimes = screen_value(page, "state.chimes")
    flashes = screen_value(page, "state.flashes")
    page.evaluate("() => OnestopScreen.stream.stop()")
    ok(http.post("/api/counters/8/start"))
    ok(http.post("/api/counters/8/finish", json={"outcome": "on_the_spot"}))
    missed = call_next(http, 8)
    page.evaluate("() => OnestopScreen.stream.start()")
    expect_call(page, missed, "8号窗口")
    assert screen_value(page, "state.flashes") == flashes
    assert screen_value(page, "state.chimes") == chimes
    # ... and what follows the catch-up is live again
    ok(http.post("/api/counters/8/recall"))
    page.wait_for_function("n => OnestopScreen.state.flashes > n", arg=flashes, timeout=WAIT_MS)

    # never reloaded
    assert screen_value(page, "loadId") == load_id
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert_no_js_errors(page)


def test_stale_calls_and_names(browser: Browser, server: LiveServer, http: httpx.Client) -> None:
    """An event far behind the newest one seen is history; residents' names are masked."""
    page = open_screen(browser, server)
    wait_connected(page)
    number = issue(http, "elderly-card")
    call_next(http, 5)
    expect_call(page, number, "5号窗口")
    newest = screen_value(page, "state.newestAt")
    flashes = screen_value(page, "state.flashes")

    def feed(seq_offset: int, at_ms: int, ticket: dict[str, Any]) -> None:
        page.evaluate(
            """([offset, at, ticket]) => OnestopScreen.receive({
                 seq: OnestopScreen.stream.lastSeq + offset, type: 'ticket.called',
                 at: new Date(at).toISOString(), data: {ticket: ticket, queues: {}}})""",
            [seq_offset, at_ms, ticket])

    old = {"id": 990001, "number": "A901", "counter": 3, "counter_name": "3号窗口",
           "service_day": None, "resident_name": "欧阳娜娜"}
    feed(1000, newest - 31_000, old)  # 31 s older than the newest event seen
    expect_call(page, "A901", "3号窗口")
    expect(page.locator("#current-name")).to_have_text("欧***")
    expect(page.locator("#recent li[data-number='A901']")).to_contain_text("欧***")
    assert screen_value(page, "state.flashes") == flashes

    fresh = {**old, "id": 990002, "number": "A902", "resident_name": "Li Lei"}
    feed(1001, newest - 29_000, fresh)
    expect_call(page, "A902", "3号窗口")
    expect(page.locator("#current-name")).to_have_text("L*")
    assert screen_value(page, "state.flashes") == flashes + 1
    assert "Li Lei" not in page.content() and "欧阳娜娜" not in page.content()

    # the browser's masking is the server's
    names = [name for name, _ in MASKED]
    masked = page.evaluate("names => names.map(n => OnestopScreen.maskName(n))", names)
    assert masked == [m for _, m in MASKED]
    assert_no_js_errors(page)

    # the English screen, with the longest line it can get, still fits
    english = open_screen(browser, server, "?lang=en")
    wait_connected(english)
    expect_call(english, number, "Window 5")
    english.evaluate(
        """() => OnestopScreen.receive({seq: OnestopScreen.stream.lastSeq + 1,
             type: 'ticket.called', at: new Date().toISOString(), data: {ticket: {
               id: 990003, number: 'D123', counter: 12, service_day: null,
               service_name: '个体工商户营业执照', service_name_en: 'Individual business licence',
               resident_name: 'Alexandra Montgomery-Smith'}, queues: {}}})""")
    expect_call(english, "D123", "Window 12")
    expect(english.locator("#current-name")).to_have_text("A*")
    expect(english.locator("#queues li[data-queue='payments']")).to_contain_text(
        "Payments & Consultation")
    assert_readable(english)
    screenshot(english, "screen-en")
    assert_no_js_errors(english)


def test_private_screen_needs_a_device_token(browser: Browser, tmp_path: Path) -> None:
    live = make_server(tmp_path / "private", env={"ONESTOP_HALL__PUBLIC_SCREEN": "false"})
    live.start()
    try:
        page = open_screen(browser, live)
        expect(page.locator("#status")).to_contain_text("本屏幕尚未登记", timeout=WAIT_MS)
        expect(page.locator("#hall-name")).to_have_text("青枫街道政务服务中心")
        assert not screen_value(page, "state.received")  # refused: no snapshot, no data
        expect(page.locator("#queues li[data-queue='civil-affairs']")).to_have_attribute(
            "data-waiting", "")
        page.close()

        token = add_device(live.db_url, "hall-screen-1", "screen")
        page = open_screen(browser, live, f"#token={token}")
        wait_connected(page)
        expect(page.locator("#status")).to_be_hidden()
        assert "token" not in page.url  # enrolled, and the token left the address bar
        expect(page.locator("#queues li[data-queue='civil-affairs']")).to_have_attribute(
            "data-waiting", "0")
        assert_no_js_errors(page)
    finally:
        live.stop()
