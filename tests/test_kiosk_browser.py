"""The kiosk page in real headless Chromium against a real server: taking a number by touch.

Also the kiosk's printer faults (paper out, printer unreachable) with the ESC/POS emulator as the
printer, and the first-inquiry desk page. Kiosk pages are opened as an enrolled kiosk opens them
(its device token in the URL fragment), the desk page after signing in through /login.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import (
    LANDSCAPE,
    NO_PRINTERS,
    PORTRAIT,
    WAIT_MS,
    HallServer,
    api,
    assert_inside_viewport,
    assert_no_horizontal_overflow,
    assert_no_js_errors,
    assert_touch_friendly,
    launch_browser,
    network_printer,
    new_page,
    printer_state,
    screenshot,
    sign_in_page,
    start_server,
    wait_until,
    waiting,
)
from live_server import free_port
from playwright.sync_api import Browser, Page, Response, expect

from onestop.drivers.escpos.emulator import EscPosEmulator

CATEGORY = "社会保障"
SERVICE = "退休人员领取养老金资格认证"
SERVICE_ID = "pension-qualification"
QUEUE = "social-security"
ISSUE_URL = re.compile(r"/api/kiosks/k1/tickets$")

# k1 prints to the server's built-in ESC/POS emulator; k2 has no printer at all.
EMULATED_AND_NONE = """
[ticket]
paper_mm = 80

[[kiosks]]
id = "k1"
name = "大厅1号取号机"
printer = { type = "emulator", port = 0 }

[[kiosks]]
id = "k2"
name = "大厅2号取号机"
printer = { type = "none" }
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallServer]:
    """One hall for the flow tests; they compare counts before and after, never absolutes."""
    live = start_server(tmp_path_factory.mktemp("kiosk"), EMULATED_AND_NONE)
    live.seat()  # a working day: a clerk at every window, so the kiosk shows waits
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def http(server: HallServer) -> Iterator[httpx.Client]:
    with api(server) as client:
        yield client


def open_kiosk(browser: Browser, server: HallServer, viewport: dict[str, int],
               kiosk: str = "k1", **options: Any) -> Page:
    page = new_page(browser, viewport, has_touch=True, **options)
    response = page.goto(server.kiosk_url(kiosk))
    assert response is not None and response.status == 200
    expect(page.locator(".tile-category").first).to_be_visible(timeout=WAIT_MS)
    assert "token" not in page.url, "the device token stayed in the address bar"
    return page


def go_to_service(page: Page, category: str = CATEGORY, service: str = SERVICE) -> None:
    page.locator(".tile-category", has_text=category).click()
    expect(page.locator("#category-title")).to_have_text(category)
    page.locator(".tile-service", has_text=service).click()
    expect(page.locator("#service-title")).to_have_text(service)


def is_issue(response: Response) -> bool:
    return response.request.method == "POST" and bool(ISSUE_URL.search(response.url))


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_take_a_number(browser: Browser, server: HallServer, orientation: str) -> None:
    viewport = PORTRAIT if orientation == "portrait" else LANDSCAPE
    page = open_kiosk(browser, server, viewport)
    expect(page.locator("#hall-name")).to_have_text("青枫街道政务服务中心")
    expect(page.locator("#clock-time")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    expect(page.locator(".tile-category")).to_have_count(5)
    assert_no_horizontal_overflow(page)
    assert_touch_friendly(page)
    screenshot(page, f"kiosk-{orientation}-home")

    page.locator(".tile-category", has_text=CATEGORY).click()
    expect(page.locator(".tile-service")).to_have_count(5)
    expect(page.locator(".tile-service", has_text=SERVICE).locator(".tile-count")).to_have_text(
        re.compile(r"^等候 \d+ 人$"))
    assert_touch_friendly(page)
    screenshot(page, f"kiosk-{orientation}-category")

    page.locator(".tile-service", has_text=SERVICE).click()
    expect(page.locator("#service-title")).to_have_text(SERVICE)
    expect(page.locator("#materials li")).to_have_text(["本人身份证原件", "社会保障卡"])
    expect(page.get_by_text("请携带以下材料")).to_be_visible()
    expect(page.locator("#svc-waiting")).to_have_text(re.compile(r"^\d+ 人$"))
    expect(page.locator("#svc-wait")).not_to_be_empty()
    assert_no_horizontal_overflow(page)
    assert_touch_friendly(page)
    assert_inside_viewport(page, page.locator("#take"))
    screenshot(page, f"kiosk-{orientation}-service")

    with page.expect_response(is_issue) as issued:
        page.locator("#take").click()
    assert issued.value.status == 201
    ticket = issued.value.json()
    expect(page.locator("#ticket-number")).to_have_text(ticket["number"])
    expect(page.locator("#ticket-service")).to_have_text(SERVICE)
    expect(page.locator("#ticket-ahead")).to_have_text(f"{ticket['people_ahead']} 人")
    qr = page.locator("#ticket-qr")
    assert qr.get_attribute("src") == ticket["qr_url"]
    page.wait_for_function("() => document.getElementById('ticket-qr').naturalWidth > 0")
    # Queued for the emulator, then its ticket.printed event: "take your ticket".
    assert ticket["print"]["state"] == "queued", ticket["print"]
    expect(page.locator("#print-note")).to_have_text("请取走号票", timeout=WAIT_MS)
    expect(page.locator("#ticket-countdown")).to_have_text(re.compile(r"^\d+ 秒后返回首页$"))
    assert_no_horizontal_overflow(page)
    assert_inside_viewport(page, page.locator("#ticket-number"))
    assert_inside_viewport(page, page.locator("#ticket-service"))
    assert_inside_viewport(page, page.locator("#done"))
    assert_touch_friendly(page)
    screenshot(page, f"kiosk-{orientation}-ticket")

    page.locator("#done").click()
    expect(page.locator("#view-home")).to_be_visible()
    assert_no_js_errors(page)
    page.context.close()


@pytest.mark.parametrize("how", ["dblclick", "two quick taps"])
def test_double_tap_issues_one_ticket(browser: Browser, server: HallServer, http: httpx.Client,
                                      how: str) -> None:
    page = open_kiosk(browser, server, PORTRAIT)
    go_to_service(page)
    before = waiting(http, QUEUE)
    responses: list[Response] = []
    page.on("response", lambda r: responses.append(r) if is_issue(r) else None)
    # Raw input at the button's position: no Playwright waiting for it to be enabled again.
    box = page.locator("#take").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    with page.expect_response(is_issue) as first:
        if how == "dblclick":
            page.mouse.dblclick(x, y)
        else:
            page.mouse.click(x, y)
            page.mouse.click(x, y)
    ticket = first.value.json()
    expect(page.locator("#ticket-number")).to_have_text(ticket["number"])
    # Everything the page sent has been answered by now (the screen shows the answer)...
    assert {r.json()["id"] for r in responses} == {ticket["id"]}
    # ...and the server holds exactly one new ticket.
    assert waiting(http, QUEUE) == before + 1
    assert_no_js_errors(page)
    page.context.close()


def test_lost_answer_is_retried_with_the_same_request_id(
    browser: Browser, server: HallServer, http: httpx.Client
) -> None:
    """The server issued the ticket but the answer never arrived: the kiosk says "network
    problem"; the resident taps again and gets that same ticket, not a second one."""
    page = open_kiosk(browser, server, LANDSCAPE)
    go_to_service(page)
    before = waiting(http, QUEUE)
    bodies: list[dict[str, Any]] = []

    def lose_first_answer(route: Any) -> None:
        bodies.append(route.request.post_data_json)
        if len(bodies) == 1:
            route.fetch()  # the server does the work...
            route.abort("connectionreset")  # ...and the answer is lost on the way back
        else:
            route.continue_()

    page.route(ISSUE_URL, lose_first_answer)
    page.locator("#take").click()
    expect(page.locator("#take-error")).to_have_text("网络异常，请稍后重试或到咨询台")
    expect(page.locator("#take")).to_be_enabled()
    assert waiting(http, QUEUE) == before + 1
    screenshot(page, "kiosk-landscape-network-error")

    with page.expect_response(is_issue) as retried:
        page.locator("#take").click()
    ticket = retried.value.json()
    assert ticket["replayed"] is True
    expect(page.locator("#ticket-number")).to_have_text(ticket["number"])
    assert bodies[0]["request_id"] == bodies[1]["request_id"]
    assert len(bodies[0]["request_id"]) >= 8
    assert waiting(http, QUEUE) == before + 1
    assert_no_js_errors(page)
    page.context.close()


def test_api_errors_are_shown_in_plain_words(browser: Browser, server: HallServer) -> None:
    page = open_kiosk(browser, server, PORTRAIT)
    go_to_service(page)
    refusal = {"error": "closed", "message": "今日取号已截止，请明天再来",
               "message_en": "Ticket issuing has closed for today"}
    page.route(ISSUE_URL, lambda route: route.fulfill(status=409, json=refusal))
    page.locator("#take").click()
    alert = page.locator("#take-error")
    expect(alert).to_have_text(refusal["message"])
    page.locator(".lang-btn[data-lang=en]").click()
    expect(alert).to_have_text(refusal["message_en"])
    page.unroute(ISSUE_URL)
    page.route(ISSUE_URL, lambda route: route.fulfill(status=500, body="Internal Server Error"))
    page.locator("#take").click()
    expect(alert).to_have_text(re.compile(r"^The system cannot do this right now"))
    assert "{" not in alert.inner_text()
    assert_no_js_errors(page)
    page.context.close()


def test_unenrolled_kiosk_says_so_instead_of_issuing(browser: Browser, server: HallServer,
                                                     http: httpx.Client) -> None:
    """A kiosk opened without its device token can show the catalogue (public) but may not
    issue: the server refuses with 401 and the page says why in plain words."""
    page = new_page(browser, PORTRAIT, has_touch=True)
    response = page.goto(f"{server.base}/kiosk?k=k1")  # no #token=...: never enrolled
    assert response is not None and response.status == 200
    expect(page.locator(".tile-category").first).to_be_visible(timeout=WAIT_MS)
    go_to_service(page)
    before = waiting(http, QUEUE)
    with page.expect_response(is_issue) as refused:
        page.locator("#take").click()
    assert refused.value.status == 401
    assert "authorization" not in refused.value.request.headers
    body = refused.value.json()
    assert body["message"] == "本机尚未启用，请到咨询台取号", body
    assert body["message_en"], body
    alert = page.locator("#take-error")
    expect(alert).to_contain_text(body["message"])
    assert "{" not in alert.inner_text() and "401" not in alert.inner_text()
    assert_inside_viewport(page, alert)
    expect(page.locator("#take")).to_be_enabled()
    expect(page.locator("#view-service")).to_be_visible()  # no ticket screen
    screenshot(page, "kiosk-portrait-unenrolled")
    page.locator(".lang-btn[data-lang=en]").click()
    expect(alert).to_contain_text(body["message_en"])
    assert waiting(http, QUEUE) == before
    assert_no_js_errors(page)
    page.context.close()


def test_english_switch_changes_every_text(browser: Browser, server: HallServer) -> None:
    page = open_kiosk(browser, server, LANDSCAPE)
    page.locator(".lang-btn[data-lang=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#hall-name")).to_have_text("Qingfeng Sub-district Government Service Centre")
    expect(page.locator("#view-home h1")).to_have_text("Choose a category")
    expect(page.locator(".tile-category").first.locator(".tile-name")).to_have_text("Social Security")
    screenshot(page, "kiosk-landscape-home-en")
    go_to_service(page, "Social Security", "Pension eligibility certification for retirees")
    expect(page.locator("#materials li")).to_have_text(["Original of own ID card",
                                                        "Social security card"])
    expect(page.locator("#take")).to_have_text("Take a number")
    expect(page.get_by_text("Please bring")).to_be_visible()
    visible_text = page.locator("#view-service").inner_text() + page.locator("header").inner_text()
    assert not re.search(r"[\u4e00-\u9fff]", visible_text.replace("中文", "")), visible_text
    assert_touch_friendly(page)
    screenshot(page, "kiosk-landscape-service-en")
    with page.expect_response(is_issue) as issued:
        page.locator("#take").click()
    ticket = issued.value.json()
    expect(page.locator("#ticket-number")).to_have_text(ticket["number"])
    expect(page.locator("#ticket-service")).to_have_text(
        "Pension eligibility certification for retirees")
    expect(page.locator("#print-note")).to_have_text("Please take your ticket", timeout=WAIT_MS)
    expect(page.locator("#done")).to_have_text("Done")
    assert_inside_viewport(page, page.locator("#ticket-service"))
    screenshot(page, "kiosk-landscape-ticket-en")
    # Done: the next resident starts in Chinese.
    page.locator("#done").click()
    expect(page.locator("#view-home h1")).to_have_text("请选择办理事项类别")
    assert_no_js_errors(page)
    page.context.close()


def test_ticket_screen_and_idle_pages_return_home(browser: Browser, server: HallServer) -> None:
    page = new_page(browser, PORTRAIT, has_touch=True)
    page.clock.install()
    page.goto(server.kiosk_url("k1"))
    expect(page.locator(".tile-category").first).to_be_visible(timeout=WAIT_MS)
    # A page left alone for 60 s goes home.
    go_to_service(page)
    page.clock.run_for(50_000)
    expect(page.locator("#view-service")).to_be_visible()
    page.clock.run_for(11_000)
    expect(page.locator("#view-home")).to_be_visible()
    # The ticket screen goes home after ~15 s.
    go_to_service(page)
    with page.expect_response(is_issue):
        page.locator("#take").click()
    expect(page.locator("#view-ticket")).to_be_visible()
    expect(page.locator("#print-note")).to_have_text("请取走号票", timeout=WAIT_MS)
    page.clock.run_for(16_000)
    expect(page.locator("#view-home")).to_be_visible()
    assert_no_js_errors(page)
    page.context.close()


def test_kiosk_without_printer_says_tickets_are_on_screen(browser: Browser,
                                                          server: HallServer) -> None:
    page = open_kiosk(browser, server, PORTRAIT, kiosk="k2")
    banner = page.locator("#printer-banner")
    expect(banner).to_have_text("本机号票显示在屏幕上，请扫码或拍照保存")
    go_to_service(page)
    with page.expect_response(re.compile(r"/api/kiosks/k2/tickets$")) as issued:
        page.locator("#take").click()
    ticket = issued.value.json()
    assert ticket["print"]["state"] == "disabled"
    expect(page.locator("#ticket-number")).to_have_text(ticket["number"])
    expect(page.locator("#print-note")).to_have_text(ticket["print"]["message"])
    assert_no_js_errors(page)
    page.context.close()


def test_unknown_kiosk_is_a_clear_404(browser: Browser, server: HallServer) -> None:
    page = new_page(browser, PORTRAIT)
    response = page.goto(f"{server.base}/kiosk?k=<b>nope</b>")
    assert response is not None and response.status == 404
    expect(page.locator("h1").first).to_have_text("没有这台取号机")
    expect(page.locator(".nf-detail")).to_have_text("<b>nope</b>")  # escaped, shown as text
    expect(page.locator(".nf-links a").first).to_have_attribute("href", "/kiosk?k=k1")
    page.context.close()


def test_desk_issues_a_green_channel_ticket(browser: Browser, server: HallServer,
                                            http: httpx.Client) -> None:
    page = new_page(browser, {"width": 1366, "height": 900})
    sign_in_page(page, server, "/desk")  # signed out, /desk sends the browser to /login first
    assert page.locator('meta[name="csrf-token"]').get_attribute("content")
    page.locator(".d-choice", has_text="老年人优待证办理").click()
    page.locator("#d-issue").click()
    expect(page.locator("#d-error")).to_have_text("请选择或填写绿色通道原因")
    page.locator(".d-reason", has_text="老年人").click()
    page.locator("#d-reason-text").fill("82岁，行动不便")
    with page.expect_response(re.compile(r"/api/desk/tickets$")) as issued:
        page.locator("#d-issue").click()
    ticket = issued.value.json()
    assert ticket["priority"] == "green"
    expect(page.locator("#d-number")).to_have_text(ticket["number"])
    expect(page.locator("#d-reason-shown")).to_have_text("老年人：82岁，行动不便")
    page.wait_for_function("() => document.getElementById('d-qr').naturalWidth > 0")
    status = http.get(f"/api/tickets/{ticket['token']}").json()
    assert status["priority"] == "green"
    screenshot(page, "desk")
    page.locator("#d-again").click()
    expect(page.locator("#d-result")).to_be_hidden()
    assert_no_js_errors(page)
    page.context.close()


def test_event_stream_reconnects_with_since_after_a_restart(browser: Browser,
                                                            tmp_path: Path) -> None:
    """The server restarts under a kiosk: the page reconnects with ?since=<last seq> and its
    waiting counts follow the hall again, without a reload."""
    server = start_server(tmp_path, NO_PRINTERS)
    try:
        page = open_kiosk(browser, server, PORTRAIT)
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.locator(".tile-category", has_text=CATEGORY).click()
        count = page.locator(".tile-service", has_text=SERVICE).locator(".tile-count")
        expect(count).to_have_text("等候 0 人")
        with api(server) as http:
            assert http.post("/api/tickets", json={"service": SERVICE_ID}).status_code == 201
        expect(count).to_have_text("等候 1 人")

        server.stop()
        server.start()  # same port, same database
        with api(server) as http:
            assert http.post("/api/tickets", json={"service": SERVICE_ID}).status_code == 201
        expect(count).to_have_text("等候 2 人", timeout=30_000)
        # It resumed from its last seq; its device token went in a header, not the URL.
        assert any(re.search(r"/ws/events\?since=\d+$", url) for url in sockets), sockets
        assert not any("token" in url for url in sockets), sockets
        assert_no_js_errors(page)
        page.context.close()
    finally:
        server.stop()


# ---- printer faults: the ESC/POS emulator plays the kiosk's network printer ------------------

POLL = {"ONESTOP_PRINTER_POLL_SECONDS": "0.5"}


@pytest.fixture
def emulator() -> Iterator[EscPosEmulator]:
    printer = EscPosEmulator(host="127.0.0.1", port=0)
    printer.start()
    try:
        yield printer
    finally:
        printer.stop()


def take_ticket(page: Page) -> dict[str, Any]:
    go_to_service(page)
    with page.expect_response(is_issue) as issued:
        page.locator("#take").click()
    ticket: dict[str, Any] = issued.value.json()
    expect(page.locator("#ticket-number")).to_have_text(ticket["number"])
    return ticket


def printed_text(printed: Any) -> str:
    return "\n".join(line.text for line in printed.lines)


def test_paper_out_then_refilled(browser: Browser, tmp_path: Path,
                                 emulator: EscPosEmulator) -> None:
    emulator.set_paper("out")
    server = start_server(tmp_path, network_printer(emulator.port), env=POLL)
    try:
        with api(server) as http:
            wait_until(lambda: printer_state(http) == "paper_out")
            page = open_kiosk(browser, server, PORTRAIT)
            expect(page.locator("#printer-banner")).to_be_visible()
            ticket = take_ticket(page)
            note = page.locator("#print-note")
            expect(note).to_contain_text("缺纸")
            expect(note).to_have_class(re.compile(r"print-note-warn"))
            assert_inside_viewport(page, page.locator("#ticket-number"))
            screenshot(page, "kiosk-portrait-ticket-paper-out")
            assert printer_state(http) == "paper_out"
            assert ticket["print"]["state"] == "unavailable"

            emulator.set_paper("ok")  # the clerk refills the paper; the server keeps running
            expect(page.locator("#printer-banner")).to_be_hidden(timeout=WAIT_MS)
            assert wait_until(lambda: printer_state(http) == "online")
            page.locator("#done").click()
            second = take_ticket(page)
            printed = emulator.wait_for_tickets(1, timeout=15)
            assert second["number"] in printed_text(printed[-1])
            assert ticket["number"] not in printed_text(printed[-1])
            expect(page.locator("#print-note")).to_have_text("请取走号票", timeout=WAIT_MS)
            assert_no_js_errors(page)
            page.context.close()
    finally:
        server.stop()


def test_unreachable_printer_then_back(browser: Browser, tmp_path: Path) -> None:
    port = free_port()  # nobody listens here yet
    server = start_server(tmp_path, network_printer(port), env=POLL)
    printer: EscPosEmulator | None = None
    try:
        with api(server) as http:
            wait_until(lambda: printer_state(http) == "unreachable")
            page = open_kiosk(browser, server, LANDSCAPE)
            expect(page.locator("#printer-banner")).to_have_text(
                "打印机暂停出票，号票将显示在屏幕上，请扫码或拍照保存")
            take_ticket(page)
            expect(page.locator("#print-note")).to_have_text("打印机暂时无法使用，请拍照保存或到咨询台")
            screenshot(page, "kiosk-landscape-ticket-unreachable")
            assert printer_state(http) == "unreachable"

            printer = EscPosEmulator(host="127.0.0.1", port=port)  # the printer is plugged in
            printer.start()
            expect(page.locator("#printer-banner")).to_be_hidden(timeout=WAIT_MS)
            page.locator("#done").click()
            second = take_ticket(page)
            printed = printer.wait_for_tickets(1, timeout=15)
            assert second["number"] in printed_text(printed[-1])
            expect(page.locator("#print-note")).to_have_text("请取走号票", timeout=WAIT_MS)
            assert_no_js_errors(page)
            page.context.close()
    finally:
        server.stop()
        if printer is not None:
            printer.stop()

