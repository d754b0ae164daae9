"""The admin page in real Chromium: sign in, live overview, a notice created in the page reaches
the hall screen as plain text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import (
    LANDSCAPE,
    NO_PRINTERS,
    SUPERVISOR,
    WAIT_MS,
    HallServer,
    api,
    assert_no_js_errors,
    launch_browser,
    new_page,
    screenshot,
    sign_in_page,
    start_server,
)
from playwright.sync_api import Browser, expect


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HallServer]:
    live = start_server(tmp_path / "hall", NO_PRINTERS)
    try:
        yield live
    finally:
        live.stop()


def test_overview_and_notices(browser: Browser, server: HallServer) -> None:
    with api(server) as http:
        issued = http.post("/api/tickets", json={"service": "elderly-card"}).json()
        assert http.post("/api/counters/5/call-next").status_code == 200
    page = new_page(browser, LANDSCAPE)
    sign_in_page(page, server, "/admin", SUPERVISOR)
    windows = page.locator("#overview-windows tbody tr")
    expect(windows).to_have_count(12, timeout=WAIT_MS)
    expect(windows.nth(4)).to_contain_text(issued["number"])
    # Live: a call made elsewhere shows up without a reload.
    with api(server) as http:
        assert http.post("/api/counters/5/no-show").status_code == 200
        http.post("/api/tickets", json={"service": "gas-payment"})
        called = http.post("/api/counters/1/call-next").json()["ticket"]["number"]
    expect(windows.nth(0)).to_contain_text(called, timeout=WAIT_MS)
    screenshot(page, "admin-overview")

    screen = new_page(browser, LANDSCAPE)
    screen.goto(f"{server.base}/screen")
    page.locator("#tabs button[data-tab=notices]").click()
    form = page.locator("#notice-form")
    form.locator("input[name=title]").fill("<b>办事指南</b>：周六预约服务")
    form.locator("textarea[name=body]").fill("非工作日预约服务请提前一天预约。")
    form.locator("#notice-save").click()
    expect(page.locator("#alert")).to_contain_text("公告已保存", timeout=WAIT_MS)
    expect(page.locator("#notices tbody tr")).to_have_count(1)
    expect(page.locator("#notices tbody")).to_contain_text("<b>办事指南</b>")
    expect(screen.locator("#notices")).to_contain_text("<b>办事指南</b>", timeout=WAIT_MS)
    screenshot(page, "admin-notices")
    for tab in ("windows", "catalogue", "staff", "devices"):
        page.locator(f"#tabs button[data-tab={tab}]").click()
        expect(page.locator(f"#tab-{tab} table tbody tr").first).to_be_visible(timeout=WAIT_MS)
    screenshot(page, "admin-devices")
    assert_no_js_errors(page)
    assert_no_js_errors(screen)
