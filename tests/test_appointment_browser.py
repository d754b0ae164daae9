"""预约服务 end to end in real headless Chromium: book on a phone, check in at the kiosk with the
on-screen keypad, and the window calls the appointment before earlier walk-in tickets.

The test server's clock starts Wednesday 2026-11-25 09:30 (Shanghai), so the 10:00 slot is
inside its check-in window (from 09:30) and the 15:00 slot is not yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from browser_support import (
    ARTIFACTS,
    NO_PRINTERS,
    PHONE,
    PORTRAIT,
    WAIT_MS,
    HallServer,
    api,
    assert_no_horizontal_overflow,
    assert_no_js_errors,
    launch_browser,
    new_page,
    screenshot,
    start_server,
)
from playwright.sync_api import Browser, Page, expect

ITEM = "elderly-card"
ITEM_NAME = "老年人优待证办理"
TODAY = "2026-11-25"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallServer]:
    live = start_server(tmp_path_factory.mktemp("appointments"), NO_PRINTERS)
    live.seat()  # a working day: a clerk at every window
    try:
        yield live
    finally:
        live.stop()


def shot(page: Page, name: str) -> None:
    (ARTIFACTS / "appointments").mkdir(parents=True, exist_ok=True)
    screenshot(page, f"appointments/{name}")


def book_on_phone(browser: Browser, server: HallServer, slot: str) -> str:
    page = new_page(browser, PHONE)
    page.goto(f"{server.base}/book")
    expect(page.locator(f"#service option[value='{ITEM}']")).to_have_count(1, timeout=WAIT_MS)
    page.locator("#service").select_option(ITEM)
    expect(page.locator("#materials li").first).to_be_visible()
    page.locator(f".chip[data-day='{TODAY}']").click()
    slot_button = page.locator(f".chip[data-slot='{TODAY}T{slot}:00+08:00']")
    expect(slot_button).to_contain_text("余 4")
    shot(page, f"book-form-{slot.replace(':', '')}")
    slot_button.click()
    page.locator("#phone").fill("138 1234 5678")
    page.locator("#submit").click()
    code = page.locator("#done-code")
    expect(code).to_have_text(re.compile(r"^[2-9A-HJKMNP-Z]{8}$"), timeout=WAIT_MS)
    expect(page.locator("#done-phone")).to_have_text("138****5678")
    expect(page.locator("#done-when")).to_contain_text(slot)
    expect(page.locator("#done-qr")).to_have_attribute("src", f"/a/{code.text_content()}/qr.svg")
    page.wait_for_function("document.getElementById('done-qr').naturalWidth > 0")
    assert_no_horizontal_overflow(page)
    shot(page, f"book-done-{slot.replace(':', '')}")
    assert_no_js_errors(page)
    value = code.text_content() or ""
    page.context.close()
    return value


def open_kiosk(browser: Browser, server: HallServer) -> Page:
    page = new_page(browser, PORTRAIT, has_touch=True)
    page.goto(server.kiosk_url("k1"))
    expect(page.locator(".tile-category").first).to_be_visible(timeout=WAIT_MS)
    return page


def type_code(page: Page, code: str) -> None:
    page.locator("#checkin-open").click()
    expect(page.locator("#keypad .key")).to_have_count(33)
    for ch in code:
        page.locator(f"#keypad .key[data-key='{ch}']").click()
    expect(page.locator("#code-display .code-cell").last).to_have_text(code[-1])


def test_book_check_in_and_be_called_first(browser: Browser, server: HallServer) -> None:
    code = book_on_phone(browser, server, "10:00")
    with api(server) as http:
        walk_ins = [http.post("/api/tickets", json={"service": ITEM}).json() for _ in range(2)]
        assert all(t["priority"] == "normal" for t in walk_ins)

        kiosk = open_kiosk(browser, server)
        shot(kiosk, "kiosk-home")
        type_code(kiosk, code)
        shot(kiosk, "kiosk-keypad")
        kiosk.locator("#checkin-submit").click()
        number = kiosk.locator("#ticket-number")
        expect(number).to_have_text(re.compile(r"^B\d{3}$"), timeout=WAIT_MS)
        expect(kiosk.locator("#ticket-service")).to_have_text(ITEM_NAME)
        shot(kiosk, "kiosk-ticket")
        assert_no_js_errors(kiosk)
        appointment_number = number.text_content()
        assert appointment_number not in {t["number"] for t in walk_ins}

        called = http.post("/api/counters/5/call-next")
        assert called.status_code == 200, called.text
        ticket = called.json()["ticket"]
        assert ticket["number"] == appointment_number and ticket["priority"] == "appointment"

    status = new_page(browser, PHONE)
    status.goto(f"{server.base}/a/{code}")
    expect(status.locator("#a-state")).to_have_text("已签到", timeout=WAIT_MS)
    expect(status.locator("#actions")).to_be_hidden()
    shot(status, "status-checked-in")
    assert_no_js_errors(status)


def test_too_early_offers_a_normal_ticket(browser: Browser, server: HallServer) -> None:
    code = book_on_phone(browser, server, "15:00")
    kiosk = open_kiosk(browser, server)
    type_code(kiosk, code)
    kiosk.locator("#checkin-submit").click()
    expect(kiosk.locator("#checkin-error")).to_have_text(
        "预约时段 15:00-15:30，请于 14:30 后签到", timeout=WAIT_MS)
    offer = kiosk.locator("#take-normal")
    expect(offer).to_be_visible()
    shot(kiosk, "kiosk-too-early")
    offer.click()
    expect(kiosk.locator("#ticket-number")).to_have_text(
        re.compile(r"^B\d{3}$"), timeout=WAIT_MS)
    shot(kiosk, "kiosk-normal-instead")
    assert_no_js_errors(kiosk)

    # The booking is untouched and can still be cancelled from its page.
    page = new_page(browser, PHONE)
    page.goto(f"{server.base}/a/{code}")
    expect(page.locator("#a-state")).to_have_text("已预约", timeout=WAIT_MS)
    page.locator("#cancel").click()  # without the phone's last four digits: asked for them
    expect(page.locator("#error")).to_have_text("请先输入预约手机号的后四位")
    page.locator("#last4").fill("5678")  # booked with 138 1234 5678
    page.locator("#cancel").click()
    page.locator("#cancel-yes").click()
    expect(page.locator("#a-state")).to_have_text("已取消", timeout=WAIT_MS)
    expect(page.locator("#notice")).to_have_text("预约已取消")
    shot(page, "status-cancelled")
    assert_no_js_errors(page)
