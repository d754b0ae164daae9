"""The admin page in real Chromium at a laptop's 1366×768: sign in, live overview, a notice
created in the page reaches the hall screen as plain text; who sits where (在岗) and absences;
号票查询与更正 (过号顺延, cancel, re-route, each step with who did it); 日终清理.

Windows start unstaffed: a window calls only while a clerk is signed in at it, so each test
seats clerks over HTTP first (tests/auth_support.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from auth_support import PASSWORD, add_user, seat_clerks, sign_in
from browser_support import (
    LANDSCAPE,
    NO_PRINTERS,
    SUPERVISOR,
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
from playwright.sync_api import Browser, Page, expect

from onestop.queue.clock import SystemClock
from onestop.queue.store import Store
from onestop.web.accounts import Accounts

LAPTOP = {"width": 1366, "height": 768}
SERVICE = "elderly-card"  # 老年人优待证办理, queue B, served at window 5


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


@pytest.fixture
def clients() -> Iterator[list[httpx.Client]]:
    """Signed-in clerks' clients, closed after the test."""
    made: list[httpx.Client] = []
    yield made
    for client in made:
        client.close()


def add_clerk(server: HallServer, username: str, name: str, counters: list[int]) -> None:
    """A clerk account whose user name is a configured clerk's id, with their display name."""
    store = Store(server.db_url)
    try:
        Accounts(store, SystemClock()).add_user(username, name, "clerk", PASSWORD, counters)
    finally:
        store.dispose()


def seat(server: HallServer, clients: list[httpx.Client], username: str, name: str,
         window: int, counters: list[int]) -> None:
    """The configured clerk `username` signs in at `window` over HTTP (their terminal)."""
    add_clerk(server, username, name, counters)
    client = httpx.Client(base_url=server.base, timeout=15)
    clients.append(client)
    me = sign_in(client, username, window=window)
    assert me["window"] == window, me


def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def missed_ticket(http: httpx.Client, behind: int = 4, window: int = 5) -> str:
    """A no-show made the real way at a staffed window: issue, call, recall, 过号. `behind`
    more tickets of the same item stay waiting. Returns the missed ticket's number."""
    first = ok(http.post("/api/tickets", json={"service": SERVICE}))["number"]
    for _ in range(behind):
        ok(http.post("/api/tickets", json={"service": SERVICE}))
    assert ok(http.post(f"/api/counters/{window}/call-next"))["ticket"]["number"] == first
    ok(http.post(f"/api/counters/{window}/recall"))
    assert ok(http.post(f"/api/counters/{window}/no-show"))["ticket"]["state"] == "no_show"
    return str(first)


def open_admin(browser: Browser, server: HallServer) -> Page:
    """/admin signed in, once its scripts run (the overview is drawn): a tab clicked before
    then would be a click on a button with no handler yet."""
    page = new_page(browser, LAPTOP)
    sign_in_page(page, server, "/admin", SUPERVISOR)
    expect(page.locator("#overview-windows tbody tr")).to_have_count(12)
    return page


def tab(page: Page, name: str) -> None:
    page.locator(f"#tabs button[data-tab={name}]").click()
    expect(page.locator(f"#tab-{name}")).to_be_visible()


def test_overview_and_notices(browser: Browser, server: HallServer,
                              clients: list[httpx.Client]) -> None:
    clients.extend(seat_clerks(server.db_url, server.base, 1, 5))
    with api(server) as http:
        issued = ok(http.post("/api/tickets", json={"service": SERVICE}))
        assert http.post("/api/counters/5/call-next").status_code == 200
    page = open_admin(browser, server)
    windows = page.locator("#overview-windows tbody tr")
    expect(windows).to_have_count(12, timeout=WAIT_MS)
    expect(windows.nth(4)).to_contain_text(issued["number"])
    expect(windows.nth(4)).to_contain_text("服务中")
    expect(windows.nth(4)).to_contain_text("5号窗口员")
    expect(windows.nth(2)).to_contain_text("暂无人员")  # nobody signed in at window 3
    # Live: a call made elsewhere shows up without a reload.
    with api(server) as http:
        assert http.post("/api/counters/5/recall").status_code == 200
        assert http.post("/api/counters/5/no-show").status_code == 200
        http.post("/api/tickets", json={"service": "gas-payment"})
        called = http.post("/api/counters/1/call-next").json()["ticket"]["number"]
    expect(windows.nth(0)).to_contain_text(called, timeout=WAIT_MS)
    expect(windows.nth(4)).not_to_contain_text(issued["number"])
    screenshot(page, "admin-overview")

    # The number at a window links to its history on the 号票 tab.
    windows.nth(0).locator("a.ticket-link").click()
    expect(page.locator("#tab-tickets")).to_be_visible()
    result = page.locator("#lookup .lk-result")
    expect(result).to_have_attribute("data-ticket", called, timeout=WAIT_MS)
    expect(result.locator(".lk-state")).to_have_text("已叫号")
    expect(page).to_have_url(f"{server.base}/admin#ticket={called}")

    screen = new_page(browser, LANDSCAPE)
    screen.goto(f"{server.base}/screen")
    tab(page, "notices")
    form = page.locator("#notice-form")
    form.locator("input[name=title]").fill("<b>办事指南</b>：周六预约服务")
    form.locator("textarea[name=body]").fill("非工作日预约服务请提前一天预约。")
    form.locator("#notice-save").click()
    expect(page.locator("#alert")).to_contain_text("公告已保存", timeout=WAIT_MS)
    expect(page.locator("#notices tbody tr")).to_have_count(1)
    expect(page.locator("#notices tbody")).to_contain_text("<b>办事指南</b>")
    expect(screen.locator("#notices")).to_contain_text("<b>办事指南</b>", timeout=WAIT_MS)
    screenshot(page, "admin-notices")
    for name in ("windows", "catalogue", "staff", "devices"):
        tab(page, name)
        expect(page.locator(f"#tab-{name} table tbody tr").first).to_be_visible(timeout=WAIT_MS)
    screenshot(page, "admin-devices")
    assert_no_js_errors(page)
    assert_no_js_errors(screen)


def test_who_sits_where_and_absences(browser: Browser, server: HallServer,
                                     clients: list[httpx.Client]) -> None:
    seat(server, clients, "chen-jing", "陈静", 5, [5, 6])
    page = open_admin(browser, server)
    tab(page, "presence")
    window5 = page.locator("#presence-windows tr[data-window='5']")
    expect(window5).to_have_attribute("data-state", "open", timeout=WAIT_MS)
    cells = window5.locator("td")
    expect(cells.nth(0)).to_have_text("服务中")
    expect(cells.nth(1)).to_have_text("陈静")
    expect(cells.nth(2)).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))  # last heard from
    expect(cells.nth(3)).to_have_text("—")
    expect(page.locator("#presence-windows tr[data-window='3'] td").nth(0)).to_have_text("暂无人员")
    chen = page.locator("#presence-clerks tr[data-clerk='chen-jing']")
    expect(chen.locator("td").nth(1)).to_have_text("5号窗口")
    expect(chen.locator(".badge")).to_have_text("在岗")
    expect(page.locator("#presence-clerks tr[data-clerk='wang-li'] td").nth(1)).to_have_text("未登录窗口")
    expect(page.locator("#presence-problem")).to_be_hidden()

    # Live: the resident called at window 5 shows there, and her count follows the no-show.
    with api(server) as http:
        number = missed_ticket(http, behind=1)
        second = ok(http.post("/api/counters/5/call-next"))["ticket"]["number"]
    expect(cells.nth(3)).to_have_text(second, timeout=WAIT_MS)
    expect(chen.locator("td").nth(3)).to_contain_text("过号 1", timeout=WAIT_MS)
    assert number != second

    # Marking a configured clerk absent: the row says so at once, and after a reload.
    wang = page.locator("#presence-clerks tr[data-clerk='wang-li']")
    with page.expect_response(lambda r: r.url.endswith("/api/presence/wang-li")) as answer:
        wang.locator("button.toggle").click()
    assert answer.value.status == 200
    expect(wang).to_have_attribute("data-absent", "true")
    expect(wang.locator(".badge")).to_have_text("今日缺勤")
    expect(wang.locator("button.toggle")).to_have_text("恢复在岗")
    expect(wang).to_contain_text("sup 标记")
    expect(page.locator("#presence-result")).to_contain_text("已将 王丽 标记为今日缺勤")
    assert_no_horizontal_overflow(page)
    screenshot(page, "admin-presence")
    page.reload()
    tab(page, "presence")
    expect(wang).to_have_attribute("data-absent", "true", timeout=WAIT_MS)
    expect(wang.locator(".badge")).to_have_text("今日缺勤")
    with api(server) as http:
        lunch = ok(http.get("/api/lunch"))
    assert "wang-li" not in lunch["breaks"]  # re-planned without her

    # So many absent that no rotation can cover every item: a warning, here and on 今日.
    with api(server) as http:
        for clerk in ("zhang-min", "li-jun", "liu-yang", "luo-xiaomei", "zhao-lei",
                      "huang-ting", "zhou-qiang", "deng-wei", "xu-hui"):
            ok(http.post(f"/api/presence/{clerk}", json={"absent": True}))
        problem = ok(http.get("/api/lunch"))["problem"]
    assert problem is not None
    warning = page.locator("#presence-problem")
    expect(warning).to_have_text("今日没有午餐轮换：" + problem["message"], timeout=WAIT_MS)
    expect(page.locator("#presence-clerks tr[data-absent='true']")).to_have_count(10)
    screenshot(page, "admin-presence-problem")
    tab(page, "today")
    expect(page.locator("#lunch-problem")).to_have_text("今日没有午餐轮换：" + problem["message"],
                                                        timeout=WAIT_MS)
    screenshot(page, "admin-today-problem")
    # Back at work: the warning goes away by itself (lunch.changed → GET /api/lunch again).
    with api(server) as http:
        for clerk in ("zhang-min", "luo-xiaomei", "huang-ting", "deng-wei", "xu-hui"):
            ok(http.post(f"/api/presence/{clerk}", json={"absent": False}))
        assert ok(http.get("/api/lunch"))["problem"] is None
    expect(page.locator("#lunch-problem")).to_be_hidden(timeout=WAIT_MS)
    tab(page, "presence")
    expect(warning).to_be_hidden(timeout=WAIT_MS)
    wang.locator("button.toggle").click()
    expect(wang.locator(".badge")).to_have_text("在岗", timeout=WAIT_MS)
    expect(wang).to_have_attribute("data-absent", "false")
    assert_no_js_errors(page)


def test_lookup_requeues_a_no_show_and_shows_who_did_what(browser: Browser, server: HallServer,
                                                          clients: list[httpx.Client]) -> None:
    seat(server, clients, "chen-jing", "陈静", 5, [5, 6])
    seat(server, clients, "luo-xiaomei", "罗晓梅", 6, [5, 6, 2])
    with api(server) as http:
        number = missed_ticket(http, behind=4)  # B001 missed; B002-B005 waiting
    page = open_admin(browser, server)
    tab(page, "tickets")
    lookup = page.locator("#lookup")
    lookup.locator("input[name=number]").fill(number.lower())  # typed in lower case is fine
    lookup.locator("button.lk-find").click()
    result = lookup.locator(".lk-result")
    expect(result).to_have_attribute("data-state", "no_show", timeout=WAIT_MS)
    expect(lookup.locator(".lk-number")).to_have_text(number)
    expect(lookup.locator(".lk-state")).to_have_text("过号")
    expect(lookup.locator("button.lk-cancel")).to_be_hidden()
    expect(lookup.locator("button.lk-reroute")).to_be_hidden()
    steps = lookup.locator(".lk-history tbody tr")
    expect(steps).to_have_count(4)
    for i, (what, where) in enumerate([("取号", "—"), ("叫号", "5号窗口"), ("重新呼叫", "5号窗口"),
                                       ("过号", "5号窗口")]):
        row = steps.nth(i)
        expect(row.locator(".lk-what")).to_have_text(what)
        expect(row.locator(".lk-who")).to_have_text("sup（值班主管）")
        expect(row.locator(".lk-where")).to_have_text(where)

    # 过号顺延: back in line, same number, three places after the head of its queue.
    lookup.locator("input[name=reason]").fill("群众回到大厅")
    with page.expect_response(lambda r: r.url.endswith(f"/{number}/requeue")) as answer:
        lookup.locator("button.lk-requeue").click()
    assert answer.value.status == 200
    assert answer.value.json()["ticket"]["people_ahead"] == 3
    expect(lookup.locator(".lk-done")).to_have_text(f"{number} 已过号顺延，重新排队，前面还有 3 人")
    expect(result).to_have_attribute("data-state", "waiting", timeout=WAIT_MS)
    expect(lookup.locator(".lk-state")).to_have_text("等候中")
    expect(lookup.locator(".lk-facts")).to_contain_text("前面还有3 人")
    expect(steps).to_have_count(5)
    last = steps.nth(4)
    expect(last.locator(".lk-what")).to_have_text("过号顺延")
    expect(last.locator(".lk-who")).to_have_text("sup（值班主管）")
    expect(last.locator(".lk-note")).to_contain_text("原因：群众回到大厅")
    assert_no_horizontal_overflow(page)
    screenshot(page, "admin-lookup")

    # Live: the clerk calls the next one at window 5; the people ahead count follows.
    with api(server) as http:
        ok(http.post("/api/counters/5/call-next"))
    expect(lookup.locator(".lk-facts")).to_contain_text("前面还有2 人", timeout=WAIT_MS)

    # 改派 to a staffed window (only staffed ones are offered), with a reason.
    target = lookup.locator("select[name=target]")
    expect(target.locator("option[value='counter:6']")).to_have_count(1)
    expect(target.locator("option[value='counter:7']")).to_have_count(0)  # nobody at 7
    target.select_option("counter:6")
    lookup.locator("input[name=reason]").fill("")
    lookup.locator("button.lk-reroute").click()
    expect(lookup.locator(".lk-error")).to_have_text("请填写原因（将记入台账）")
    lookup.locator("input[name=reason]").fill("联合会审")
    lookup.locator("button.lk-reroute").click()
    expect(lookup.locator(".lk-done")).to_have_text(f"{number} 已改派到 6号窗口", timeout=WAIT_MS)
    expect(lookup.locator(".lk-facts")).to_contain_text("指定窗口6号窗口")
    expect(steps.nth(5).locator(".lk-what")).to_have_text("改派")
    expect(steps.nth(5).locator(".lk-note")).to_have_text("转到 6号窗口；原因：联合会审")

    # A refusal shows the server's own words.
    lookup.locator("input[name=number]").fill("B099")
    lookup.locator("button.lk-find").click()
    expect(lookup.locator(".lk-error")).to_have_text("2026-11-25 没有号票 B099", timeout=WAIT_MS)
    expect(result).to_be_hidden()

    # 取消 with a reason.
    lookup.locator("input[name=number]").fill("B005")
    lookup.locator("button.lk-find").click()
    expect(result).to_have_attribute("data-ticket", "B005", timeout=WAIT_MS)
    lookup.locator("input[name=reason]").fill("取错事项，已重新取号")
    lookup.locator("button.lk-cancel").click()
    expect(result).to_have_attribute("data-state", "cancelled", timeout=WAIT_MS)
    expect(lookup.locator(".lk-facts")).to_contain_text("取错事项，已重新取号")
    expect(lookup.locator(".lk-hint")).to_have_text("已取消；如需办理请重新取号")
    assert_no_js_errors(page)


def test_close_leftovers_after_a_confirmation(browser: Browser, server: HallServer,
                                              clients: list[httpx.Client]) -> None:
    clients.extend(seat_clerks(server.db_url, server.base, 5))
    with api(server) as http:
        numbers = [ok(http.post("/api/tickets", json={"service": SERVICE}))["number"]
                   for _ in range(3)]
        ok(http.post("/api/counters/5/call-next"))  # the first is at the window, not a leftover
    page = open_admin(browser, server)
    page.goto(f"{server.base}/admin#ticket={numbers[2]}")  # a link to a ticket opens its history
    result = page.locator("#lookup .lk-result")
    expect(result).to_have_attribute("data-state", "waiting", timeout=WAIT_MS)
    page.reload()  # and so does a bookmark of it
    expect(page.locator("#tab-tickets")).to_be_visible(timeout=WAIT_MS)
    expect(result).to_have_attribute("data-ticket", numbers[2], timeout=WAIT_MS)
    form = page.locator("#leftovers-form")
    form.locator("#leftovers-check").click()
    expect(form.locator("#leftovers-result")).to_have_text("请填写原因（将记入台账）")
    form.locator("input[name=reason]").fill("群众已离开，今日闭厅")
    form.locator("#leftovers-check").click()
    confirm = form.locator("#leftovers-confirm")
    expect(confirm).to_be_visible(timeout=WAIT_MS)
    expect(confirm).to_contain_text("当前还有 2 张号票在等候")
    screenshot(page, "admin-leftovers")
    form.locator("#leftovers-no").click()  # changed their mind: nothing closed
    expect(confirm).to_be_hidden()
    with api(server) as http:
        assert sum(q["waiting"] for q in ok(http.get("/api/queues"))) == 2
    form.locator("#leftovers-check").click()
    with page.expect_response(lambda r: r.url.endswith("/api/day/close-leftovers")) as answer:
        form.locator("#leftovers-yes").click()
    assert answer.value.json()["closed"] == 2
    expect(form.locator("#leftovers-result")).to_have_text(
        f"已关闭 2 张号票：{numbers[1]}、{numbers[2]}")
    # The ticket on show follows: closed, with the reason and who did it.
    expect(result).to_have_attribute("data-state", "cancelled", timeout=WAIT_MS)
    last = page.locator("#lookup .lk-history tbody tr").last
    expect(last.locator(".lk-what")).to_have_text("取消（日终清理）")
    expect(last.locator(".lk-who")).to_have_text("sup（值班主管）")
    expect(last.locator(".lk-note")).to_have_text("原因：群众已离开，今日闭厅")
    with api(server) as http:
        assert sum(q["waiting"] for q in ok(http.get("/api/queues"))) == 0
    assert_no_js_errors(page)


def test_accounts_sessions_and_device_tokens(browser: Browser, server: HallServer,
                                             clients: list[httpx.Client]) -> None:
    """An admin disables a clerk (her terminal is signed out and her window left at once),
    enables her again, resets her password, ends a session; rotates and revokes a device
    token; the record lists each change with who made it."""
    add_user(server.db_url, "root", "admin", name="管理员")
    seat(server, clients, "chen-jing", "陈静", 5, [5, 6])
    terminal = clients[0]
    page = new_page(browser, LAPTOP)
    sign_in_page(page, server, "/admin", "root")
    expect(page.locator("#overview-windows tbody tr")).to_have_count(12)
    tab(page, "staff")
    chen = page.locator("#users tr[data-user='chen-jing']")
    expect(chen).to_contain_text("1 个", timeout=WAIT_MS)
    expect(page.locator("#users tr[data-user='root']")).to_contain_text("当前账号")
    sessions = page.locator("#sessions tbody tr")
    expect(sessions).to_have_count(2)  # root here, and chen-jing at her terminal
    chen_session = page.locator("#sessions tr[data-user='chen-jing']")
    expect(chen_session).to_contain_text("5号窗口")
    expect(page.locator("#sessions tr[data-user='root']")).to_contain_text("当前登录")

    # Disable: asked in the row, then done; her terminal's next request is refused.
    chen.locator("button.disable").click()
    expect(chen.locator(".ask")).to_have_text("停用 陈静（chen-jing）？其登录将立即退出")
    chen.locator("button.confirm-no").click()
    expect(chen.locator(".ask")).to_have_count(0)
    chen.locator("button.disable").click()
    chen.locator("button.confirm-yes").click()
    expect(page.locator("#alert")).to_have_text("已停用 陈静（chen-jing），1 个登录已退出",
                                                timeout=WAIT_MS)
    expect(chen).to_have_attribute("data-active", "false")
    expect(chen.locator(".badge")).to_have_text("已停用")
    expect(chen_session).to_have_count(0)
    assert terminal.post("/api/counters/5/heartbeat").status_code == 401
    with api(server) as http:
        five = next(c for c in ok(http.get("/api/counters")) if c["number"] == 5)
    assert five["state"] == "unstaffed"
    chen.locator("button.enable").click()
    expect(chen.locator(".badge")).to_have_text("启用", timeout=WAIT_MS)

    # Reset her password: shown once; she signs in with it (and the session shows up).
    chen.locator("button.reset").click()
    chen.locator("button.confirm-yes").click()
    secret = page.locator("#user-secret")
    expect(secret).to_contain_text("陈静（chen-jing） 的新密码（只显示这一次）：", timeout=WAIT_MS)
    password = re.search(r"：(\S+)", secret.inner_text())
    assert password is not None
    again = httpx.Client(base_url=server.base, timeout=15)
    clients.append(again)
    sign_in(again, "chen-jing", password.group(1))
    tab(page, "staff")
    expect(chen_session).to_have_count(1, timeout=WAIT_MS)
    chen_session.locator("button.end").click()
    chen_session.locator("button.confirm-yes").click()
    expect(page.locator("#alert")).to_have_text("已结束 陈静（chen-jing） 的登录", timeout=WAIT_MS)
    expect(chen_session).to_have_count(0)
    assert again.get("/api/presence").status_code == 401
    audit = page.locator("#audit tbody tr")
    expect(audit.first).to_contain_text("结束登录")
    expect(page.locator("#audit tr[data-type='account.disabled']")).to_contain_text(
        "陈静（chen-jing）")
    expect(page.locator("#audit tr[data-type='account.disabled']")).to_contain_text("管理员")
    assert_no_horizontal_overflow(page)
    screenshot(page, "admin-accounts")

    # Devices: a new token for the kiosk (the old one is dead), then revoked.
    old_token = server.kiosk_tokens["k1"]
    tab(page, "devices")
    kiosk = page.locator("#devices tr[data-device='kiosk-k1']")
    expect(kiosk.locator(".badge")).to_have_text("可用", timeout=WAIT_MS)
    kiosk.locator("button.rotate").click()
    expect(kiosk.locator(".ask")).to_have_text("为 kiosk-k1 更换令牌？旧令牌将立即失效")
    kiosk.locator("button.confirm-yes").click()
    device_secret = page.locator("#device-secret")
    expect(device_secret).to_contain_text("/kiosk?k=k1#token=", timeout=WAIT_MS)
    new_token = device_secret.inner_text().rsplit("#token=", 1)[1].strip()
    with httpx.Client(base_url=server.base, timeout=15) as device:
        assert device.get("/api/kiosks/k1", headers={
            "Authorization": f"Bearer {old_token}"}).status_code == 401
        assert device.get("/api/kiosks/k1", headers={
            "Authorization": f"Bearer {new_token}"}).status_code == 200
        kiosk.locator("button.revoke").click()
        kiosk.locator("button.confirm-yes").click()
        expect(kiosk.locator(".badge")).to_have_text("已停用", timeout=WAIT_MS)
        expect(page.locator("#alert")).to_have_text("kiosk-k1 的令牌已停用")
        expect(device_secret).to_be_hidden()  # the token shown before is dead now
        assert device.get("/api/kiosks/k1", headers={
            "Authorization": f"Bearer {new_token}"}).status_code == 401
    assert_no_horizontal_overflow(page)
    screenshot(page, "admin-device-tokens")
    assert_no_js_errors(page)
