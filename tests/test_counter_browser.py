"""The clerk's counter terminal in real headless Chromium against a real server process.

A clerk signs in through the /login form, calls, recalls, starts, finishes (承诺件 with a date,
即办件 by keyboard), pauses for lunch and resumes; a second tab at the same window acts while
the first one is stale, and the first one says so in plain words and shows the fresh state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from auth_support import add_user
from browser_support import (
    NO_PRINTERS,
    WAIT_MS,
    HallServer,
    api,
    assert_no_horizontal_overflow,
    assert_no_js_errors,
    hall_config,
    launch_browser,
    new_page,
    screenshot,
    sign_in_page,
)
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

DESKTOP = {"width": 1366, "height": 768}
WIDE = {"width": 1920, "height": 1080}
HALL_TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallServer]:
    """One hall; each test works at its own window(s) and its own queue."""
    workdir = tmp_path_factory.mktemp("counter")
    live = HallServer(f"sqlite:///{workdir / 'onestop.db'}", workdir / "data",
                      config_dir=hall_config(workdir, NO_PRINTERS))
    live.enrol()
    add_user(live.db_url, "wang", "clerk", counters=[5])  # civil affairs (B)
    add_user(live.db_url, "zhao", "clerk", counters=[7])  # residency (C)
    add_user(live.db_url, "chen", "clerk", counters=[9, 10])  # business (D)
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def http(server: HallServer) -> Iterator[httpx.Client]:
    with api(server) as client:
        yield client


def issue(http: httpx.Client, service: str) -> dict[str, Any]:
    response = http.post("/api/tickets", json={"service": service})
    assert response.status_code == 201, response.text
    return dict(response.json())


def is_action(name: str) -> Any:
    pattern = re.compile(rf"/api/counters/\d+/{name}$")
    return lambda r: r.request.method == "POST" and bool(pattern.search(r.url))


def open_terminal(browser: Browser, server: HallServer, username: str,
                  viewport: dict[str, int] = DESKTOP) -> Page:
    page = new_page(browser, viewport)
    sign_in_page(page, server, "/counter", username)
    expect(page.locator("#conn")).to_have_text("实时", timeout=WAIT_MS)
    return page


def current_number(page: Page) -> Any:
    return expect(page.locator("#cur-number"))


def test_clerk_serves_residents(browser: Browser, server: HallServer, http: httpx.Client) -> None:
    page = open_terminal(browser, server, "wang")
    expect(page.locator("#window-name")).to_have_text("5号窗口")
    expect(page.locator("#clerk-name")).to_have_text("wang")
    expect(page.locator("#window-state")).to_have_text("服务中")
    expect(page.locator("#switch-window")).to_be_hidden()  # one window only: nothing to switch
    expect(page.locator("#cur-empty")).to_have_text("空闲，请叫号")
    expect(page.locator("#served-today")).to_have_text("0")
    expect(page.locator("#queue-list li")).to_have_count(1)  # window 5 serves civil affairs only
    expect(page.locator("#queue-list li[data-queue=civil-affairs] .c-q-count")).to_have_text("0 人")

    # Tickets issued elsewhere show up live: the queue count and the waiting list.
    tickets = [issue(http, "elderly-card") for _ in range(4)]
    expect(page.locator("#waiting-count")).to_have_text("4 人", timeout=WAIT_MS)
    expect(page.locator("#queue-list li[data-queue=civil-affairs] .c-q-count")).to_have_text("4 人")
    expect(page.locator("#waiting-list li")).to_have_count(4)
    expect(page.locator("#waiting-list li .c-w-number")).to_have_text(
        [t["number"] for t in tickets])
    for button in ("#btn-recall", "#btn-start", "#btn-noshow", "#btn-finish-spot",
                   "#btn-transfer", "#btn-resume"):
        expect(page.locator(button)).to_be_disabled()
    expect(page.locator("#btn-call")).to_be_enabled()
    assert_no_horizontal_overflow(page)
    screenshot(page, "counter-idle-1366")

    # Call next with the big button: the page shows the number the API reports.
    with page.expect_response(is_action("call-next")) as answer:
        page.locator("#btn-call").click()
    called = answer.value.json()["ticket"]
    assert called["number"] == tickets[0]["number"]
    current_number(page).to_have_text(called["number"])
    expect(page.locator("#cur-state")).to_have_text("已叫号")
    expect(page.locator("#cur-service")).to_contain_text("老年人优待证办理")
    expect(page.locator("#cur-priority")).to_have_text("普通")
    expect(page.locator("#t-called")).to_have_text(re.compile(r"^\d+:\d\d$"))
    expect(page.locator("#btn-call")).to_be_disabled()
    expect(page.locator("#btn-start")).to_be_enabled()
    expect(page.locator("#btn-finish-spot")).to_be_disabled()  # finish only once serving
    expect(page.locator("#btn-pause")).to_be_disabled()  # pause only with nobody at the window
    expect(page.locator("#waiting-count")).to_have_text("3 人")
    expect(page.locator("#waiting-list .c-call-this").first).to_be_disabled()

    # F2 recall, F3 start (keyboard).
    with page.expect_response(is_action("recall")):
        page.keyboard.press("F2")
    expect(page.locator("#cur-extra")).to_have_text("已重呼 1 次")
    with page.expect_response(is_action("start")):
        page.keyboard.press("F3")
    expect(page.locator("#cur-state")).to_have_text("办理中")
    expect(page.locator("#t-served")).to_have_text(re.compile(r"^0:0\d$"))
    expect(page.locator("#t-served")).not_to_have_text("0:00", timeout=WAIT_MS)  # it ticks
    expect(page.locator("#btn-finish-committed")).to_be_enabled()
    expect(page.locator("#btn-start")).to_be_disabled()
    screenshot(page, "counter-serving-1366")

    # 承诺件: the promised date is required.
    page.locator("#btn-finish-committed").click()
    expect(page.locator("#dlg-committed")).to_be_visible()
    expect(page.locator("#committed-ticket")).to_contain_text(called["number"])
    expect(page.locator("#committed-hint")).to_have_text(re.compile(r"^本事项承诺时限：\d+ 个工作日$"))
    page.locator("#committed-ok").click()
    expect(page.locator("#committed-error")).to_have_text("请选择承诺办结日期")
    promised = (datetime.now(HALL_TZ).date() + timedelta(days=5)).isoformat()
    page.locator("#promised-date").fill(promised)
    expect(page.locator("#promised-text")).to_contain_text("星期")
    page.locator("#committed-note").fill("材料齐全")
    screenshot(page, "counter-committed-dialog")
    with page.expect_response(is_action("finish")) as answer:
        page.locator("#committed-ok").click()
    finished = answer.value.json()["ticket"]
    assert (finished["outcome"], finished["promised_date"]) == ("committed", promised)
    expect(page.locator("#dlg-committed")).to_be_hidden()
    expect(page.locator("#served-today")).to_have_text("1")
    expect(page.locator("#cur-empty")).to_have_text("空闲，请叫号")
    expect(page.locator("#notice")).to_contain_text("已办结（承诺件）")

    # The keyboard: F1 calls, Space calls, F4 finishes on the spot, F6 marks a no-show.
    with page.expect_response(is_action("call-next")) as answer:
        page.keyboard.press("F1")
    current_number(page).to_have_text(answer.value.json()["ticket"]["number"])
    assert answer.value.json()["ticket"]["number"] == tickets[1]["number"]
    with page.expect_response(is_action("start")):
        page.keyboard.press("F3")
    expect(page.locator("#cur-state")).to_have_text("办理中")
    with page.expect_response(is_action("finish")) as answer:
        page.keyboard.press("F4")
    assert answer.value.json()["ticket"]["outcome"] == "on_the_spot"
    expect(page.locator("#served-today")).to_have_text("2")
    with page.expect_response(is_action("call-next")) as answer:
        page.keyboard.press(" ")
    assert answer.value.json()["ticket"]["number"] == tickets[2]["number"]
    current_number(page).to_have_text(tickets[2]["number"])
    with page.expect_response(is_action("no-show")):
        page.keyboard.press("F6")
    expect(page.locator("#cur-empty")).to_be_visible()
    expect(page.locator("#served-today")).to_have_text("2")  # a no-show is not served

    # Lunch: shortcuts are off while the dialog is open (F1 would have called, and then the
    # pause would have been refused).
    page.locator("#btn-pause").click()
    expect(page.locator("#dlg-pause")).to_be_visible()
    page.keyboard.press("F1")
    with page.expect_response(is_action("pause")):
        page.locator("#pause-reasons .c-reason", has_text="午餐").click()
    expect(page.locator("#window-state")).to_have_text("暂停：午餐")
    expect(page.locator("#cur-empty")).to_have_text("暂停服务：午餐")
    expect(page.locator("#btn-call")).to_be_disabled()
    expect(page.locator("#btn-resume")).to_be_enabled()
    expect(page.locator("#btn-pause")).to_be_hidden()
    counters = http.get("/api/counters").json()
    assert next(c for c in counters if c["number"] == 5)["pause_reason"] == "午餐"
    screenshot(page, "counter-paused-1366")
    with page.expect_response(is_action("resume")):
        page.locator("#btn-resume").click()
    expect(page.locator("#window-state")).to_have_text("服务中")
    expect(page.locator("#btn-call")).to_be_enabled()

    # Call one particular ticket from the list; transfer it to window 6 with a note.
    last = tickets[3]["number"]
    with page.expect_response(is_action("call")):
        page.locator(f"#waiting-list li[data-number={last}] .c-call-this").click()
    current_number(page).to_have_text(last)
    page.locator("#btn-transfer").click()
    expect(page.locator("#dlg-transfer")).to_be_visible()
    page.locator("#transfer-counter").select_option(label="6号窗口")
    page.locator("#transfer-note").fill("联合会审")
    with page.expect_response(is_action("transfer")) as answer:
        page.locator("#transfer-ok").click()
    moved = answer.value.json()["ticket"]
    assert (moved["number"], moved["target_counter"], moved["state"]) == (last, 6, "waiting")
    expect(page.locator("#notice")).to_have_text(f"{last} 已转至6号窗口")
    expect(page.locator("#cur-empty")).to_be_visible()
    assert last in [t["number"] for t in http.get("/api/counters/6/waiting").json()]
    expect(page.locator("#waiting-list li.c-empty")).to_have_text("暂无等候")

    # Nobody waits: call next says so instead of failing.
    page.locator("#btn-call").click()
    expect(page.locator("#notice")).to_have_text("当前没有等候本窗口的群众")
    expect(page.locator("#alert")).to_be_hidden()
    assert_no_js_errors(page)
    page.context.close()


def test_stale_tab_shows_the_conflict_then_the_fresh_state(
    browser: Browser, server: HallServer, http: httpx.Client
) -> None:
    first = open_terminal(browser, server, "zhao")
    expect(first.locator("#window-name")).to_have_text("7号窗口")
    # The second tab: same browser profile, same session, same window.
    second = first.context.new_page()
    second.goto(f"{server.base}/counter")
    expect(second.locator("#conn")).to_have_text("实时", timeout=WAIT_MS)
    expect(second.locator("#window-name")).to_have_text("7号窗口")

    # Hold back the events on their way to the first tab, from the next page load on: it stays
    # stale, exactly like a tab whose connection dropped a moment ago.
    frozen = {"on": False}

    def hold_events(ws: WebSocketRoute) -> None:
        server_side = ws.connect_to_server()
        server_side.on_message(lambda message: None if frozen["on"] else ws.send(message))

    first.route_web_socket(re.compile(r"/ws/events"), hold_events)
    first.reload()
    expect(first.locator("#conn")).to_have_text("实时", timeout=WAIT_MS)

    expect(first.locator("#cur-empty")).to_be_visible(timeout=WAIT_MS)
    # Freeze first, so no refresh of the first tab can still be on its way when the second
    # tab calls (a debounced re-read finishing late would make it fresh, not stale).
    frozen["on"] = True
    ticket = issue(http, "residence-permit")
    expect(second.locator(f"#waiting-list li[data-number={ticket['number']}]")).to_be_visible(
        timeout=WAIT_MS)
    with second.expect_response(is_action("call-next")) as answer:
        second.locator("#btn-call").click()
    called = answer.value.json()["ticket"]["number"]
    expect(second.locator("#cur-number")).to_have_text(called)
    expect(first.locator("#cur-empty")).to_be_visible()  # stale: still thinks it is free
    expect(first.locator("#btn-call")).to_be_enabled()

    with first.expect_response(is_action("call-next")) as refused:
        first.locator("#btn-call").click()
    assert refused.value.status == 409
    message = refused.value.json()["message"]
    assert called in message
    alert = first.locator("#alert-text")
    expect(alert).to_have_text(f"操作未执行：{message}。页面已更新为最新状态。")
    expect(first.locator("#cur-number")).to_have_text(called)  # the fresh state, without events
    expect(first.locator("#cur-state")).to_have_text("已叫号")
    expect(first.locator("#btn-call")).to_be_disabled()
    expect(first.locator("#btn-start")).to_be_enabled()
    assert "{" not in (alert.text_content() or "")
    screenshot(first, "counter-conflict-1366")

    # The other way round: the first tab starts; the second, stale about nothing (it gets its
    # events), follows; a stale recall from the first tab after the second finished is refused.
    with first.expect_response(is_action("start")):
        first.locator("#btn-start").click()
    expect(second.locator("#cur-state")).to_have_text("办理中", timeout=WAIT_MS)
    expect(first.locator("#alert")).to_be_hidden()
    with second.expect_response(is_action("finish")):
        second.keyboard.press("F4")
    expect(second.locator("#served-today")).to_have_text("1")
    expect(first.locator("#btn-finish-spot")).to_be_enabled()  # still stale
    with first.expect_response(is_action("finish")) as refused:
        first.keyboard.press("F4")
    assert refused.value.status == 409
    expect(first.locator("#alert-text")).to_contain_text("当前没有号票")
    expect(first.locator("#served-today")).to_have_text("1")
    expect(first.locator("#cur-empty")).to_have_text("空闲，请叫号")
    frozen["on"] = False
    assert_no_js_errors(first)
    assert_no_js_errors(second)
    first.context.close()


def test_window_picker_and_wide_screen(browser: Browser, server: HallServer,
                                       http: httpx.Client) -> None:
    page = new_page(browser, WIDE)
    sign_in_page(page, server, "/counter", "chen")
    expect(page.locator("#view-picker")).to_be_visible()
    expect(page.locator("#window-list .c-window-choice")).to_have_count(2)
    screenshot(page, "counter-picker-1920")
    page.locator("#window-list .c-window-choice", has_text="10号窗口").click()
    expect(page.locator("#window-name")).to_have_text("10号窗口")
    expect(page.locator("#conn")).to_have_text("实时", timeout=WAIT_MS)
    expect(page.locator("#switch-window")).to_be_visible()
    ticket = issue(http, "full-agency")
    expect(page.locator(f"#waiting-list li[data-number={ticket['number']}]")).to_be_visible(
        timeout=WAIT_MS)
    with page.expect_response(is_action("call-next")):
        page.keyboard.press("F1")
    current_number(page).to_have_text(ticket["number"])
    assert_no_horizontal_overflow(page)
    screenshot(page, "counter-called-1920")

    # Switching windows with a resident at this one is the clerk's call; the page just follows.
    page.locator("#switch-window").click()
    page.locator("#window-list .c-window-choice", has_text="9号窗口").click()
    expect(page.locator("#window-name")).to_have_text("9号窗口")
    expect(page.locator("#cur-empty")).to_be_visible()
    page.keyboard.press("F2")  # nothing to recall here: the button is disabled, nothing is sent
    expect(page.locator("#alert")).to_be_hidden()

    page.locator("#sign-out").click()
    expect(page).to_have_url(f"{server.base}/login?next=/counter", timeout=WAIT_MS)
    assert_no_js_errors(page)
    page.context.close()


def test_desk_account_gets_a_clear_403_page(browser: Browser, server: HallServer) -> None:
    page = new_page(browser, DESKTOP)
    sign_in_page(page, server, "/desk")
    response = page.goto(f"{server.base}/counter")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("此账号不能使用窗口叫号终端")
    screenshot(page, "counter-forbidden")
    page.context.close()


def test_api_errors_show_the_message_not_json(browser: Browser, server: HallServer,
                                              http: httpx.Client) -> None:
    page = open_terminal(browser, server, "wang")
    expect(page.locator("#btn-call")).to_be_enabled()
    refusal = {"error": "database_unavailable", "message": "系统繁忙，请稍后重试",
               "message_en": "busy"}

    def fail(route: Any) -> None:
        route.fulfill(status=503, json=refusal)

    page.route(re.compile(r"/api/counters/5/call-next$"), fail)
    page.locator("#btn-call").click()
    expect(page.locator("#alert-text")).to_have_text("系统暂时无法处理，请稍后重试")
    page.unroute(re.compile(r"/api/counters/5/call-next$"))
    page.route(re.compile(r"/api/counters/5/call-next$"),
               lambda route: route.fulfill(status=422, json={
                   "error": "rejected", "message": "示例：请求内容有误", "message_en": "x"}))
    page.locator("#btn-call").click()
    expect(page.locator("#alert-text")).to_have_text("操作未执行：示例：请求内容有误")
    page.locator("#alert-close").click()
    expect(page.locator("#alert")).to_be_hidden()
    assert_no_js_errors(page)
    page.context.close()

