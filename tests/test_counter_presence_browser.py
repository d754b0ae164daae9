"""The counter terminal's heartbeat, in real headless Chromium against a real server process.

A hall with the shortest heartbeat limit allowed (15 s), so the terminal beats every 5 s: the
beats keep the window staffed (its `seen_at` advances), a terminal that goes silent loses its
window to the hall's sweep (the page shows 暂无人员), and the first beat that gets through
again sits the clerk back down (服务中) without them doing anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from auth_support import add_user
from browser_support import (
    NO_PRINTERS,
    WAIT_MS,
    HallServer,
    api,
    assert_no_js_errors,
    launch_browser,
    new_page,
    screenshot,
    sign_in_page,
    start_server,
    wait_until,
)
from playwright.sync_api import Browser, Route, expect

DESKTOP = {"width": 1366, "height": 768}
HEARTBEAT_SECONDS = 15  # the least the config allows; the terminal beats every 5 s
HEARTBEAT = re.compile(r"/api/counters/7/heartbeat$")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallServer]:
    workdir: Path = tmp_path_factory.mktemp("presence")
    live = start_server(workdir, NO_PRINTERS,
                        env={"ONESTOP_PRESENCE__HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS)})
    try:
        add_user(live.db_url, "zhao", "clerk", counters=[7])
        yield live
    finally:
        live.stop()


def window(http: httpx.Client, number: int) -> dict[str, Any]:
    return dict(next(c for c in http.get("/api/counters").json() if c["number"] == number))


def test_heartbeat_keeps_the_window_staffed_and_takes_it_back(
    browser: Browser, server: HallServer
) -> None:
    page = new_page(browser, DESKTOP)
    beats: list[int] = []
    page.on("response", lambda r: beats.append(r.status)
            if r.request.method == "POST" and HEARTBEAT.search(r.url) else None)
    sign_in_page(page, server, "/counter", "zhao")
    state = page.locator("#window-state")
    expect(state).to_have_text("服务中", timeout=WAIT_MS)
    with api(server) as http:
        # Beats arrive and move the window's last sign of life on.
        seen = window(http, 7)["seen_at"]
        assert seen is not None
        wait_until(lambda: (window(http, 7)["seen_at"] or "") > seen, timeout=WAIT_MS / 1000)
        assert window(http, 7)["clerk_id"] == "zhao"
        assert beats and all(status == 200 for status in beats)

        # The terminal falls silent (its beats are lost on the way): the hall's sweep unstaffs
        # the window, and the page, still hearing the event stream, shows nobody there.
        def lose(route: Route) -> None:
            route.abort()

        page.route(HEARTBEAT, lose)
        expect(state).to_have_text("暂无人员", timeout=(HEARTBEAT_SECONDS + 30) * 1000)
        expect(page.locator("#cur-empty")).to_have_text("本窗口暂无人员在岗")
        expect(page.locator("#btn-call")).to_be_disabled()
        unstaffed = window(http, 7)
        assert not unstaffed["staffed"] and unstaffed["seen_at"] is None
        screenshot(page, "counter-lost-1366")

        # The beats get through again: the clerk is back at the window without pressing a thing
        # (the tab coming to the front beats at once).
        page.unroute(HEARTBEAT)
        with page.expect_response(lambda r: bool(HEARTBEAT.search(r.url))) as answer:
            page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        assert answer.value.status == 200
        expect(state).to_have_text("服务中", timeout=WAIT_MS)
        expect(page.locator("#btn-call")).to_be_enabled()
        expect(page.locator("#alert")).to_be_hidden()  # a lost beat is not the clerk's doing
        assert window(http, 7)["clerk_id"] == "zhao"
    assert_no_js_errors(page)
    page.context.close()
