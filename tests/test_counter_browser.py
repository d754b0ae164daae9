"""The clerk's counter terminal in real headless Chromium against a real server process.

A clerk signs in through the /login form (which seats them at their window: presence), calls,
recalls, starts, finishes (承诺件 with a date, 即办件 by keyboard), marks a no-show only after a
fair chance and with a confirmation, undoes, pauses for lunch and resumes; a second tab at the
same window acts while the first one is stale, and the first one says so in plain words and
shows the fresh state. Windows start unstaffed: a supervisor's or another clerk's work at a
window needs someone there (auth_support.seat_clerks). The heartbeat keeps a window staffed;
see test_counter_presence_browser.py for a hall with a short heartbeat limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from auth_support import add_user, seat_clerks
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
from playwright.sync_api import Browser, FloatRect, Page, WebSocketRoute, expect

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
    add_user(live.db_url, "li", "clerk", counters=[3])  # social insurance (A): presence only
    add_user(live.db_url, "guo", "clerk", counters=[4])  # social insurance (A): 过号 and undo
    add_user(live.db_url, "xu", "clerk", counters=[11])  # payments (E): undo after a finish
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


def window(http: httpx.Client, number: int) -> dict[str, Any]:
    """One window as GET /api/counters reports it to staff (state, who sits there, ...)."""
    return dict(next(c for c in http.get("/api/counters").json() if c["number"] == number))


def close_all(clients: list[httpx.Client]) -> None:
    for client in clients:
        client.close()


def test_clerk_serves_residents(browser: Browser, server: HallServer, http: httpx.Client) -> None:
    page = open_terminal(browser, server, "wang")
    expect(page.locator("#window-name")).to_have_text("5号窗口")
    expect(page.locator("#clerk-label")).to_have_text("在岗")
    expect(page.locator("#clerk-name")).to_have_text("wang")
    expect(page.locator("#window-state")).to_have_text("服务中")
    expect(page.locator("#mine-text")).to_have_text("已办 0：即办 0 · 承诺 0 · 咨询 0 · 过号 0")
    assert window(http, 5)["clerk_id"] == "wang"  # signing in at the terminal staffed it
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
    expect(page.locator("#mine-text")).to_have_text("已办 1：即办 0 · 承诺 1 · 咨询 0 · 过号 0")
    expect(page.locator("#btn-undo")).to_have_text(
        re.compile(rf"^撤销办结 {called['number']}（\d+秒）$"))

    # The keyboard: F1 calls, Space calls, F4 finishes on the spot, F6 asks about a no-show.
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
    expect(page.locator("#btn-undo")).to_be_hidden()  # the window moved on
    # Just called: F6 is too early, and the button says how long is left.
    page.keyboard.press("F6")
    expect(page.locator("#alert-text")).to_have_text(re.compile(
        rf"^{tickets[2]['number']} 刚叫号，请给群众到窗口的时间：叫号满60秒（还需\d+秒）"))
    expect(page.locator("#dlg-noshow")).to_be_hidden()
    expect(page.locator("#btn-noshow")).to_be_disabled()
    expect(page.locator("#noshow-label")).to_have_text(re.compile(r"^过号（\d+秒）$"))
    # Recalled once: a fair chance given, F6 asks first, then marks the no-show.
    with page.expect_response(is_action("recall")):
        page.keyboard.press("F2")
    expect(page.locator("#btn-noshow")).to_be_enabled()
    expect(page.locator("#noshow-label")).to_have_text("过号")
    page.keyboard.press("F6")
    expect(page.locator("#dlg-noshow")).to_be_visible()
    expect(page.locator("#noshow-question")).to_have_text(f"确认 {tickets[2]['number']} 过号？")
    with page.expect_response(is_action("no-show")):
        page.locator("#noshow-ok").click()
    expect(page.locator("#cur-empty")).to_be_visible()
    expect(page.locator("#served-today")).to_have_text("2")  # a no-show is not served
    expect(page.locator("#mine-text")).to_have_text("已办 2：即办 1 · 承诺 1 · 咨询 0 · 过号 1")

    # Lunch: shortcuts are off while the dialog is open (F1 would have called, and then the
    # pause would have been refused). Window 6 is staffed too, so civil affairs stays covered
    # (and the transfer below has a window with someone there).
    clerks = seat_clerks(server.db_url, server.base, 6)
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
    close_all(clerks)

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
    choices = page.locator("#window-list .c-window-choice")
    expect(choices).to_have_count(2)
    expect(choices).to_have_text(["9号窗口暂无人员", "10号窗口暂无人员"])  # nobody there yet
    expect(page.locator("#clerk-label")).to_have_text("已登录")
    screenshot(page, "counter-picker-1920")
    assert not window(http, 10)["staffed"]
    choices.filter(has_text="10号窗口").click()
    expect(page.locator("#window-name")).to_have_text("10号窗口")
    expect(page.locator("#conn")).to_have_text("实时", timeout=WAIT_MS)
    expect(page.locator("#switch-window")).to_be_visible()
    expect(page.locator("#window-state")).to_have_text("服务中")
    assert window(http, 10)["clerk_id"] == "chen"
    ticket = issue(http, "full-agency")
    expect(page.locator(f"#waiting-list li[data-number={ticket['number']}]")).to_be_visible(
        timeout=WAIT_MS)
    with page.expect_response(is_action("call-next")):
        page.keyboard.press("F1")
    current_number(page).to_have_text(ticket["number"])
    assert_no_horizontal_overflow(page)
    screenshot(page, "counter-called-1920")

    # Leaving a window with a resident at it is refused: the picker says why, and going back
    # to one's own window (still staffed by this clerk) shows the resident again.
    page.locator("#switch-window").click()
    expect(choices.filter(has_text="10号窗口")).to_have_text(
        f"10号窗口您已在岗 · 有号票 {ticket['number']}")
    with page.expect_response(lambda r: r.url.endswith("/auth/window")) as refused:
        choices.filter(has_text="9号窗口").click()
    assert refused.value.status == 409
    expect(page.locator("#alert-text")).to_contain_text(
        f"请先办结或转出10号窗口的号票 {ticket['number']}，再离开窗口")
    expect(page.locator("#view-picker")).to_be_visible()
    choices.filter(has_text="10号窗口").click()
    current_number(page).to_have_text(ticket["number"])
    expect(page.locator("#alert")).to_be_hidden()
    expect(page.locator("#btn-start")).to_be_enabled()  # the window's fresh state is in
    with page.expect_response(is_action("start")):
        page.keyboard.press("F3")
    expect(page.locator("#btn-finish-spot")).to_be_enabled()
    with page.expect_response(is_action("finish")):
        page.keyboard.press("F4")
    expect(page.locator("#cur-empty")).to_be_visible()

    # Now the clerk may move: 9 is staffed, 10 is left (nobody there).
    page.locator("#switch-window").click()
    choices.filter(has_text="9号窗口").click()
    expect(page.locator("#window-name")).to_have_text("9号窗口")
    expect(page.locator("#window-state")).to_have_text("服务中")
    expect(page.locator("#cur-empty")).to_be_visible()
    assert window(http, 9)["clerk_id"] == "chen"
    assert not window(http, 10)["staffed"]
    page.keyboard.press("F2")  # nothing to recall here: the button is disabled, nothing is sent
    expect(page.locator("#alert")).to_be_hidden()

    page.locator("#sign-out").click()
    expect(page).to_have_url(f"{server.base}/login?next=/counter", timeout=WAIT_MS)
    assert not window(http, 9)["staffed"]  # signing out leaves the window
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



def boxes_overlap(a: FloatRect | None, b: FloatRect | None) -> bool:
    assert a is not None and b is not None
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_presence_in_the_header_and_when_the_window_is_left(
    browser: Browser, server: HallServer, http: httpx.Client
) -> None:
    page = open_terminal(browser, server, "li")
    expect(page.locator("#window-name")).to_have_text("3号窗口")
    expect(page.locator("#window-state")).to_have_text("服务中")
    expect(page.locator("#clerk-label")).to_have_text("在岗")
    expect(page.locator("#clerk-name")).to_have_text("li")
    expect(page.locator("#btn-staff")).to_be_hidden()
    assert window(http, 3)["clerk_id"] == "li"
    screenshot(page, "counter-staffed-1366")

    # The same clerk signs out on another PC: the window is left on purpose. This terminal says
    # so, shows nobody there, does not sit down again by itself, and offers to.
    other = new_page(browser, DESKTOP)
    sign_in_page(other, server, "/counter", "li")
    expect(other.locator("#window-state")).to_have_text("服务中", timeout=WAIT_MS)
    other.locator("#sign-out").click()
    expect(other).to_have_url(f"{server.base}/login?next=/counter", timeout=WAIT_MS)
    other.context.close()
    state = page.locator("#window-state")
    expect(state).to_have_text("暂无人员", timeout=WAIT_MS)
    expect(state).to_have_attribute("data-state", "unstaffed")
    expect(page.locator("#alert-text")).to_have_text("3号窗口已无人员在岗：工作人员已退出窗口")
    expect(page.locator("#cur-empty")).to_have_text("本窗口暂无人员在岗")
    expect(page.locator("#clerk-label")).to_have_text("已登录")
    expect(page.locator("#btn-call")).to_be_disabled()
    expect(page.locator("#btn-pause")).to_be_disabled()
    expect(page.locator("#mine-text")).to_have_text("—")
    expect(page.locator("#btn-staff")).to_be_visible()
    assert not window(http, 3)["staffed"]
    screenshot(page, "counter-unstaffed-1366")
    # The tab coming back to the front sends no heartbeat that would sit the clerk down again.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.locator("#btn-staff")).to_be_enabled()
    with page.expect_response(lambda r: r.url.endswith("/auth/window")):
        page.locator("#btn-staff").click()
    expect(page.locator("#notice")).to_have_text("已在3号窗口上岗")  # shown for 6 s: first
    expect(state).to_have_text("服务中")
    expect(page.locator("#clerk-label")).to_have_text("在岗")
    expect(page.locator("#btn-call")).to_be_enabled()
    assert window(http, 3)["clerk_id"] == "li"

    # Another tab of this browser leaves the window (POST /auth/window null): this tab goes
    # back to the picker, where the window is free again.
    second = page.context.new_page()
    second.goto(f"{server.base}/counter")
    expect(second.locator("#window-state")).to_have_text("服务中", timeout=WAIT_MS)
    second.evaluate("() => Onestop.api('POST', '/auth/window', {counter: null})")
    expect(page.locator("#view-picker")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#alert-text")).to_have_text("本浏览器已退出3号窗口，请重新选择窗口")
    choice = page.locator("#window-list .c-window-choice")
    expect(choice).to_have_text(["3号窗口暂无人员"])
    expect(choice).to_be_enabled()
    assert not window(http, 3)["staffed"]
    screenshot(page, "counter-picker-left-1366")
    choice.click()
    expect(state).to_have_text("服务中")
    assert window(http, 3)["clerk_id"] == "li"
    assert_no_js_errors(page)
    assert_no_js_errors(second)
    page.context.close()


def test_no_show_needs_a_fair_chance_and_a_confirmation(
    browser: Browser, server: HallServer, http: httpx.Client
) -> None:
    page = open_terminal(browser, server, "guo")
    expect(page.locator("#window-name")).to_have_text("4号窗口")
    number = issue(http, "social-insurance-enrolment")["number"]
    expect(page.locator(f"#waiting-list li[data-number={number}]")).to_be_visible(timeout=WAIT_MS)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url)
            if r.method == "POST" and r.url.endswith("/no-show") else None)
    with page.expect_response(is_action("call-next")):
        page.keyboard.press("F1")
    current_number(page).to_have_text(number)

    # Just called: the button waits, counting down on the server's numbers.
    button, label = page.locator("#btn-noshow"), page.locator("#noshow-label")
    expect(label).to_have_text(re.compile(r"^过号（\d+秒）$"))
    expect(button).to_be_disabled()
    first = label.text_content()
    expect(label).not_to_have_text(first or "", timeout=WAIT_MS)  # it ticks
    screenshot(page, "counter-noshow-countdown-1366")

    # A page that believes the minute is over (a wrong view of the call) asks; the server
    # still refuses, and the page shows its message and the countdown again.
    def called_long_ago(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        body["since_called_seconds"] = 600
        route.fulfill(response=response, json=body)

    page.route(re.compile(r"/api/counters/4/today$"), called_long_ago)
    issue(http, "social-insurance-enrolment")  # an event: the page re-reads the window
    expect(button).to_be_enabled(timeout=WAIT_MS)
    page.unroute(re.compile(r"/api/counters/4/today$"))
    button.click()
    dialog = page.locator("#dlg-noshow")
    expect(dialog).to_be_visible()
    expect(page.locator("#noshow-question")).to_have_text(f"确认 {number} 过号？")
    expect(page.locator("#noshow-hint")).to_have_text("请确认群众确实未到窗口。过号后30秒内可撤销。")
    # 确认过号 is nowhere near where 过号 was: a second tap there cannot confirm.
    assert not boxes_overlap(page.locator("#noshow-ok").bounding_box(), button.bounding_box())
    expect(page.locator("#noshow-cancel")).to_be_focused()  # Enter / Space do not confirm
    expect(page.locator("#noshow-ok")).to_be_enabled()  # armed a moment after opening
    screenshot(page, "counter-noshow-confirm-1366")
    with page.expect_response(is_action("no-show")) as refused:
        page.locator("#noshow-ok").click()
    assert refused.value.status == 409
    message = refused.value.json()["message"]
    assert message.startswith(f"{number} 刚叫号，请给群众到窗口的时间：叫号满60秒（还需")
    expect(page.locator("#alert-text")).to_have_text(f"操作未执行：{message}。页面已更新为最新状态。")
    expect(dialog).to_be_hidden()
    expect(label).to_have_text(re.compile(r"^过号（\d+秒）$"))
    expect(button).to_be_disabled()
    expect(page.locator("#cur-state")).to_have_text("已叫号")
    screenshot(page, "counter-noshow-refused-1366")

    # Recalled once: 过号 is allowed. A double tap on it opens the question and nothing else.
    with page.expect_response(is_action("recall")):
        page.locator("#btn-recall").click()
    expect(button).to_be_enabled()
    expect(label).to_have_text("过号")
    sent.clear()
    box = button.bounding_box()
    assert box is not None
    page.mouse.dblclick(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(dialog).to_be_visible()
    expect(page.locator("#noshow-ok")).to_be_enabled()  # armed a moment after opening
    assert sent == []
    expect(page.locator("#cur-state")).to_have_text("已叫号")
    with page.expect_response(is_action("no-show")) as answer:
        page.locator("#noshow-ok").click()
    assert answer.value.status == 200
    assert answer.value.json()["ticket"]["state"] == "no_show"
    expect(dialog).to_be_hidden()
    expect(page.locator("#notice")).to_have_text(f"{number} 已标记过号")
    expect(page.locator("#cur-empty")).to_have_text("空闲，请叫号")
    undo = page.locator("#btn-undo")
    expect(undo).to_have_text(re.compile(rf"^撤销过号 {number}（\d+秒）$"))
    expect(page.locator("#mine-text")).to_have_text("已办 0：即办 0 · 承诺 0 · 咨询 0 · 过号 1")
    screenshot(page, "counter-undo-noshow-1366")

    # Undo: the resident is back at the window, called, as before.
    with page.expect_response(is_action("undo")) as answer:
        undo.click()
    assert answer.value.status == 200
    current_number(page).to_have_text(number)
    expect(page.locator("#cur-state")).to_have_text("已叫号")
    expect(page.locator("#notice")).to_have_text(f"已撤销，{number} 回到本窗口")
    expect(undo).to_be_hidden()
    expect(button).to_be_enabled()  # still recalled once
    expect(page.locator("#mine-text")).to_have_text("已办 0：即办 0 · 承诺 0 · 咨询 0 · 过号 0")
    with page.expect_response(is_action("start")):
        page.keyboard.press("F3")
    expect(page.locator("#btn-finish-spot")).to_be_enabled()
    with page.expect_response(is_action("finish")):
        page.keyboard.press("F4")
    expect(page.locator("#cur-empty")).to_be_visible()
    assert_no_js_errors(page)
    page.context.close()


def test_undo_after_finish_brings_the_ticket_back(
    browser: Browser, server: HallServer, http: httpx.Client
) -> None:
    page = open_terminal(browser, server, "xu")
    expect(page.locator("#window-name")).to_have_text("11号窗口")
    first, second = (issue(http, "gas-payment")["number"] for _ in range(2))
    expect(page.locator("#waiting-list li")).to_have_count(2, timeout=WAIT_MS)
    with page.expect_response(is_action("call-next")):
        page.keyboard.press("F1")
    current_number(page).to_have_text(first)
    expect(page.locator("#btn-start")).to_be_enabled()
    with page.expect_response(is_action("start")):
        page.keyboard.press("F3")
    expect(page.locator("#btn-finish-consult")).to_be_enabled()
    with page.expect_response(is_action("finish")):
        page.keyboard.press("F9")
    undo = page.locator("#btn-undo")
    expect(undo).to_have_text(re.compile(rf"^撤销办结 {first}（\d+秒）$"))
    expect(page.locator("#served-today")).to_have_text("1")
    expect(page.locator("#mine-text")).to_have_text("已办 1：即办 0 · 承诺 0 · 咨询 1 · 过号 0")
    seconds = undo.text_content()
    expect(undo).not_to_have_text(seconds or "", timeout=WAIT_MS)  # counts down
    assert_no_horizontal_overflow(page)
    screenshot(page, "counter-undo-finish-1366")

    with page.expect_response(is_action("undo")):
        undo.click()
    current_number(page).to_have_text(first)
    expect(page.locator("#cur-state")).to_have_text("办理中")
    expect(page.locator("#served-today")).to_have_text("0")
    expect(page.locator("#mine-text")).to_have_text("已办 0：即办 0 · 承诺 0 · 咨询 0 · 过号 0")
    expect(undo).to_be_hidden()
    assert window(http, 11)["ticket"]["number"] == first

    # The undo goes away when the window moves on (the next call) ...
    expect(page.locator("#btn-finish-spot")).to_be_enabled()
    with page.expect_response(is_action("finish")):
        page.keyboard.press("F4")
    expect(undo).to_be_visible()
    expect(page.locator("#btn-call")).to_be_enabled()
    with page.expect_response(is_action("call-next")):
        page.keyboard.press("F1")
    current_number(page).to_have_text(second)
    expect(undo).to_be_hidden()

    # ... and when its time is up (here: the window's last finish read as 29 s old).
    def nearly_expired(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        if body.get("undo"):
            at = datetime.fromisoformat(body["undo"]["at"]) - timedelta(seconds=28)
            body["undo"]["at"] = at.isoformat()
        route.fulfill(response=response, json=body)

    expect(page.locator("#btn-start")).to_be_enabled()
    with page.expect_response(is_action("start")):
        page.keyboard.press("F3")
    expect(page.locator("#btn-finish-spot")).to_be_enabled()
    page.route(re.compile(r"/api/counters/11/today$"), nearly_expired)
    with page.expect_response(is_action("finish")):
        page.keyboard.press("F4")
    expect(undo).to_have_text(re.compile(rf"^撤销办结 {second}（[12]秒）$"))
    expect(undo).to_be_hidden(timeout=WAIT_MS)
    page.unroute(re.compile(r"/api/counters/11/today$"))
    assert_no_js_errors(page)
    page.context.close()


def test_picker_shows_who_sits_where(browser: Browser, server: HallServer,
                                     http: httpx.Client) -> None:
    clerks = seat_clerks(server.db_url, server.base, 1, 2)
    paused = clerks[1].post("/api/counters/2/pause", json={"reason": "会议"})
    assert paused.status_code == 200, paused.text
    page = new_page(browser, DESKTOP)
    sign_in_page(page, server, "/counter", "sup")  # a supervisor may take any free window
    expect(page.locator("#view-picker")).to_be_visible()
    choices = page.locator("#window-list .c-window-choice")
    expect(choices).to_have_count(12)
    one, two, eight = (choices.filter(has_text=re.compile(rf"^{n}号窗口")) for n in (1, 2, 8))
    expect(one).to_have_text("1号窗口1号窗口员在岗")
    expect(one).to_be_disabled()
    expect(two).to_have_text("2号窗口2号窗口员在岗 · 暂停：会议")
    expect(two).to_be_disabled()
    expect(eight).to_have_text("8号窗口暂无人员")
    expect(eight).to_be_enabled()
    assert_no_horizontal_overflow(page)
    screenshot(page, "counter-picker-presence-1366")

    # Live: the clerk at window 1 signs out, and the window is free to take.
    assert clerks[0].post("/auth/logout").status_code == 200
    expect(one).to_have_text("1号窗口暂无人员", timeout=WAIT_MS)
    expect(one).to_be_enabled()

    eight.click()
    expect(page.locator("#window-name")).to_have_text("8号窗口")
    expect(page.locator("#window-state")).to_have_text("服务中")
    expect(page.locator("#clerk-name")).to_have_text("sup")
    expect(page.locator("#mine-text")).to_have_text("已办 0：即办 0 · 承诺 0 · 咨询 0 · 过号 0")
    assert window(http, 8)["clerk_id"] == "sup"
    page.locator("#switch-window").click()
    expect(eight).to_have_text("8号窗口您已在岗")
    expect(eight).to_be_enabled()  # the supervisor's own window
    eight.click()
    expect(page.locator("#window-state")).to_have_text("服务中")
    assert_no_js_errors(page)
    page.context.close()
    close_all(clerks)
