"""The first-inquiry desk's 号票查询 in real Chromium: a resident who missed their call comes to
the desk; the desk finds the ticket by its number, sees what happened and puts it back in line
(过号顺延). The desk may put back and cancel, not re-route."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from auth_support import seat_clerks
from browser_support import (
    NO_PRINTERS,
    WAIT_MS,
    HallServer,
    api,
    assert_no_horizontal_overflow,
    assert_no_js_errors,
    launch_browser,
    new_page,
    screenshot,
    sign_in_page,
    start_server,
)
from playwright.sync_api import Browser, expect

SERVICE = "elderly-card"  # queue B, served at window 5


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture(autouse=True)
def patient_expect() -> Iterator[None]:
    """Every expect() here may wait WAIT_MS: each step waits on a real server, and CI is busy."""
    expect.set_options(timeout=WAIT_MS)
    yield
    expect.set_options(timeout=None)  # back to Playwright's default for other modules


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HallServer]:
    live = start_server(tmp_path / "hall", NO_PRINTERS)
    try:
        yield live
    finally:
        live.stop()


def test_desk_finds_a_missed_ticket_and_puts_it_back_in_line(browser: Browser,
                                                              server: HallServer) -> None:
    clerks = seat_clerks(server.db_url, server.base, 5)
    try:
        with api(server) as http:
            tickets = [http.post("/api/tickets", json={"service": SERVICE}).json()
                       for _ in range(5)]
            number = tickets[0]["number"]
            clerk = clerks[0]  # the clerk at window 5 calls, recalls and marks the no-show
            assert clerk.post("/api/counters/5/call-next").json()["ticket"]["number"] == number
            assert clerk.post("/api/counters/5/recall").status_code == 200
            assert clerk.post("/api/counters/5/no-show").status_code == 200

        page = new_page(browser, {"width": 1366, "height": 900})
        sign_in_page(page, server, "/desk")
        lookup = page.locator("#d-lookup")
        expect(lookup.locator("h2")).to_have_text("号票查询")
        expect(page.locator("#d-services .d-choice").first).to_be_visible(timeout=WAIT_MS)
        screenshot(page, "desk-start")  # the lookup is one short line above the green channel
        lookup.locator("input[name=number]").fill(number)
        lookup.locator("input[name=number]").press("Enter")
        result = lookup.locator(".lk-result")
        expect(result).to_have_attribute("data-state", "no_show", timeout=WAIT_MS)
        expect(lookup.locator(".lk-state")).to_have_text("过号")
        steps = lookup.locator(".lk-history tbody tr")
        expect(steps).to_have_count(4)
        expect(steps.nth(3).locator(".lk-what")).to_have_text("过号")
        expect(steps.nth(3).locator(".lk-who")).to_have_text("5号窗口员（窗口人员）")
        expect(steps.nth(3).locator(".lk-where")).to_have_text("5号窗口")
        expect(lookup.locator("button.lk-reroute")).to_have_count(0)  # not the desk's to do

        with page.expect_response(lambda r: r.url.endswith(f"/{number}/requeue")) as answer:
            lookup.locator("button.lk-requeue").click()
        assert answer.value.status == 200
        expect(lookup.locator(".lk-done")).to_have_text(
            f"{number} 已过号顺延，重新排队，前面还有 3 人")
        expect(result).to_have_attribute("data-state", "waiting", timeout=WAIT_MS)
        expect(lookup.locator(".lk-facts")).to_contain_text("前面还有3 人")
        expect(lookup.locator("button.lk-requeue")).to_be_hidden()
        expect(lookup.locator("button.lk-cancel")).to_be_visible()
        last = steps.nth(4)
        expect(last.locator(".lk-what")).to_have_text("过号顺延")
        expect(last.locator(".lk-who")).to_have_text("desk（首问服务台）")
        with httpx.Client(base_url=server.base) as public:
            status = public.get(f"/api/tickets/{tickets[0]['token']}").json()
        assert status["state"] == "waiting" and status["people_ahead"] == 3
        assert_no_horizontal_overflow(page)
        screenshot(page, "desk-lookup")

        # The page's English follows the language switch, data stays as it is.
        page.locator(".lang-btn[data-lang=en]").click()
        expect(lookup.locator("h2")).to_have_text("Find a ticket")
        expect(lookup.locator(".lk-state")).to_have_text("Waiting")
        expect(last.locator(".lk-what")).to_have_text("Back in line")
        # Done with this resident: the lookup folds away; the green-channel flow is unchanged.
        lookup.locator("button.lk-clear").click()
        expect(result).to_be_hidden()
        expect(lookup.locator("input[name=number]")).to_have_value("")
        expect(page.locator("#d-issue")).to_be_visible()
        assert_no_js_errors(page)
        page.context.close()
    finally:
        for client in clerks:
            client.close()
