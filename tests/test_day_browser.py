"""The hall's day on the staff and residents' pages, in real headless Chromium against a real server.

Each test starts its own hall with the server's clock set to the moment it needs (11:27 before
the first lunch slot, 16:31 after the issuing cut-off, ...); the clock then runs in real time.
Chromium keeps the real date, so a page that counted down with the browser's clock instead of
the server's would show nothing at all.

Screenshots: test-artifacts/day/.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from auth_support import add_user
from browser_support import (
    ARTIFACTS,
    LANDSCAPE,
    NO_PRINTERS,
    PORTRAIT,
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
from playwright.sync_api import Browser, Page, expect

from onestop.queue.lunch import LunchInfeasible, LunchPlan, LunchProblem, swap
from onestop.settings import load_hall_config

DESKTOP = {"width": 1366, "height": 768}
LUNCH_WAIT_MS = 90_000  # a lunch slot begins in real time: up to ~45 s after the page is ready


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


def hall(workdir: Path, clock: str, clerks: dict[str, list[int]] | None = None,
         min_open: int | None = None) -> HallServer:
    """A started sample hall whose clock begins at `clock` (hall time, e.g. '11:27')."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_dir = hall_config(workdir, NO_PRINTERS)
    if min_open is not None:  # how many windows every item keeps open through lunch
        toml = config_dir / "hall.toml"
        text = toml.read_text(encoding="utf-8")
        assert "\nmin_open = 1\n" in text
        toml.write_text(text.replace("\nmin_open = 1\n", f"\nmin_open = {min_open}\n"),
                        encoding="utf-8")
    live = HallServer(f"sqlite:///{workdir / 'onestop.db'}", workdir / "data",
                      config_dir=config_dir,
                      env={"ONESTOP_CLOCK_START": f"2026-11-25T{clock}+08:00"})
    live.enrol()
    for username, windows in (clerks or {}).items():
        add_user(live.db_url, username, "clerk", counters=windows)
    live.start()
    return live


@pytest.fixture
def stopper() -> Iterator[list[HallServer]]:
    """Servers a test started, stopped when it ends whatever happened."""
    started: list[HallServer] = []
    yield started
    for live in started:
        live.stop()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def shot(page: Page, name: str) -> None:
    (ARTIFACTS / "day").mkdir(parents=True, exist_ok=True)
    screenshot(page, f"day/{name}")


def lunch_labels(day: dict[str, Any], window: int) -> list[str]:
    lunch = day["lunch"]
    return [lunch["slots"][i]["label"] for i in lunch["closed"][str(window)]]


def first_slot_window(day: dict[str, Any]) -> int:
    """A window the rotation closes in the first slot."""
    closed = [int(w) for w, slots in day["lunch"]["closed"].items() if 0 in slots]
    assert closed, day["lunch"]
    return 8 if 8 in closed else sorted(closed)[-1]


def lunch_first_at_8(server: HallServer) -> None:
    """黄婷 (a clerk of the hall's rota, bound to window 8 for these tests) eats in the first
    slot: a supervisor fixes it, as on /admin; re-planning keeps it when she sits down."""
    with api(server) as http:
        ok(http.put("/api/lunch", json={"breaks": {"huang-ting": 0}}))


# ---- counter terminal ------------------------------------------------------------------------


def test_counter_counts_down_to_its_lunch_break(browser: Browser, tmp_path: Path,
                                                stopper: list[HallServer]) -> None:
    server = hall(tmp_path / "hall", "11:27:00", clerks={"huang-ting": [8]})
    stopper.append(server)
    lunch_first_at_8(server)
    page = new_page(browser, DESKTOP)
    sign_in_page(page, server, "/counter", "huang-ting")
    with api(server) as http:
        day = ok(http.get("/api/day"))
    assert first_slot_window(day) == 8, day["lunch"]["closed"]
    expect(page.locator("#window-name")).to_have_text("8号窗口", timeout=WAIT_MS)
    # The window's own breaks, from the server's rotation.
    expect(page.locator("#lunch-info")).to_have_text(
        "午餐轮休 " + "、".join(lunch_labels(day, 8)), timeout=WAIT_MS)
    # 11:27 + start-up: between two and three minutes to 11:30 by the server's clock.
    banner = page.locator("#day-banner")
    expect(banner).to_have_text(re.compile(r"^[12]:[0-5]\d 后午餐轮休，本号办结后暂停服务$"),
                                timeout=WAIT_MS)
    expect(banner).to_have_attribute("data-kind", "countdown")
    # The banner shares the messages strip: nothing under the clerk's mouse moves when it shows.
    call = page.locator("#btn-call").bounding_box()
    page.evaluate("() => { document.getElementById('day-banner').style.display = 'none'; }")
    assert page.locator("#btn-call").bounding_box() == call
    page.evaluate("() => { document.getElementById('day-banner').style.display = ''; }")
    first = banner.text_content()
    expect(banner).not_to_have_text(first or "", timeout=5_000)  # it ticks every second
    assert_no_horizontal_overflow(page)
    shot(page, "counter-countdown")
    assert_no_js_errors(page)


def test_counter_pauses_for_lunch_after_the_resident_at_the_window(
        browser: Browser, tmp_path: Path, stopper: list[HallServer]) -> None:
    server = hall(tmp_path / "hall", "11:29:25", clerks={"huang-ting": [8]})
    stopper.append(server)
    server.seat(7)  # window 7 covers residency while 8 eats (else 8's break would wait)
    lunch_first_at_8(server)
    page = new_page(browser, DESKTOP)
    sign_in_page(page, server, "/counter", "huang-ting")
    expect(page.locator("#window-name")).to_have_text("8号窗口", timeout=WAIT_MS)
    expect(page.locator("#day-banner")).to_have_text(
        re.compile(r"^0:[0-5]\d 后午餐轮休，本号办结后暂停服务$"), timeout=WAIT_MS)

    # A resident is being served at window 8 when its slot begins.
    with api(server) as http:
        ok(http.post("/api/tickets", json={"service": "birth-registration"}), 201)
    page.locator("#btn-call").click()
    expect(page.locator("#btn-start")).to_be_enabled(timeout=WAIT_MS)
    page.locator("#btn-start").click()
    expect(page.locator("#btn-finish-spot")).to_be_enabled(timeout=WAIT_MS)

    banner = page.locator("#day-banner")
    expect(banner).to_have_text("本号办结后暂停服务（午餐）", timeout=LUNCH_WAIT_MS)
    expect(banner).to_have_attribute("data-kind", "pending")
    expect(banner).to_be_visible(timeout=WAIT_MS)  # once the "started" notice has gone
    shot(page, "counter-pending-pause")

    # Finishing the ticket starts the break, which ends with the slot.
    page.locator("#btn-finish-spot").click()
    expect(banner).to_have_text("午餐轮休中，12:10 恢复", timeout=WAIT_MS)
    expect(banner).to_have_attribute("data-kind", "paused")
    expect(banner).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#btn-resume")).to_be_visible()
    expect(page.locator("#window-state")).to_have_text("暂停：午餐")
    shot(page, "counter-lunch-break")
    assert_no_js_errors(page)


# ---- hall screen -----------------------------------------------------------------------------


def test_screen_sends_residents_of_a_paused_window_to_its_alternative(
        browser: Browser, tmp_path: Path, stopper: list[HallServer]) -> None:
    server = hall(tmp_path / "hall", "09:30:00")
    stopper.append(server)
    server.seat(7, 8)  # their clerks are in: 7 may pause, 8 takes its residents
    page = new_page(browser, LANDSCAPE)
    page.goto(f"{server.base}/screen")
    expect(page.locator("#day-panel")).to_be_hidden()
    page.wait_for_function("() => window.OnestopScreenDay && OnestopScreenDay.state.day !== null")

    with api(server) as http:
        ok(http.post("/api/counters/7/pause", json={"reason": "会议"}))
        line = page.locator("#paused-windows li[data-counter='7']")
        expect(line).to_have_text("7号窗口 暂停服务，请到8号窗口", timeout=WAIT_MS)
        expect(line).to_have_attribute("data-alternative", "8")
        expect(page.locator("#day-phase")).to_be_hidden()  # an ordinary working morning
        assert_no_horizontal_overflow(page)
        # The panel fits on the TV without pushing the notices off the bottom.
        box = page.locator(".sc-notices").bounding_box()
        assert box is not None and box["y"] + box["height"] <= LANDSCAPE["height"], box
        shot(page, "screen-paused-window")

        ok(http.post("/api/counters/7/resume"))
        expect(page.locator("#day-panel")).to_be_hidden(timeout=WAIT_MS)
    assert_no_js_errors(page)


# ---- kiosk -----------------------------------------------------------------------------------


def test_kiosk_shows_items_closed_after_the_cutoff(browser: Browser, tmp_path: Path,
                                                   stopper: list[HallServer]) -> None:
    server = hall(tmp_path / "hall", "16:31:00")
    stopper.append(server)
    with api(server) as http:
        day = ok(http.get("/api/day"))
        services = ok(http.get("/api/services"))
    issuing = day["issuing"]
    assert any(not entry["open"] for entry in issuing.values()), issuing

    page = new_page(browser, PORTRAIT)
    page.goto(server.kiosk_url())
    page.wait_for_function("() => document.querySelectorAll('.tile-category').length > 0")
    if all(not entry["open"] for entry in issuing.values()):
        first = next(iter(issuing.values()))
        expect(page.locator("#day-note")).to_have_text(first["message"], timeout=WAIT_MS)

    page.locator(".tile-category").first.click()
    tiles = page.locator(".tile-service")
    expect(tiles.first).to_be_visible()
    by_id = {s["id"]: s for s in services}
    closed_seen = None
    for i in range(tiles.count()):
        tile = tiles.nth(i)
        service = by_id[str(tile.get_attribute("data-service"))]
        entry = issuing[service["queue"]]
        expect(tile).to_have_attribute("data-open", "true" if entry["open"] else "false",
                                       timeout=WAIT_MS)
        if not entry["open"]:
            expect(tile.locator(".tile-count")).to_have_text(entry["message"])
            closed_seen = (tile, entry)
    assert closed_seen is not None, "no closed item in the first category"
    shot(page, "kiosk-category-after-cutoff")

    # The resident may still read the materials; the kiosk never offers a number it would refuse.
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    closed_seen[0].click()
    expect(page.locator("#take-closed")).to_have_text(closed_seen[1]["message"])
    expect(page.locator("#take")).to_be_hidden()
    expect(page.locator("#svc-wait")).to_have_text("—")  # no wait promised for a closed queue
    assert "16:30" in closed_seen[1]["message"], closed_seen[1]
    shot(page, "kiosk-service-after-cutoff")
    assert posts == []
    assert_no_js_errors(page)

    # The hall screen on the same afternoon says numbers have stopped.
    screen = new_page(browser, LANDSCAPE)
    screen.goto(f"{server.base}/screen")
    expect(screen.locator("#day-phase")).to_have_text("今日取号已截止，正在办理剩余业务",
                                                      timeout=WAIT_MS)
    shot(screen, "screen-after-cutoff")
    assert_no_js_errors(screen)


# ---- admin -----------------------------------------------------------------------------------


def find_swap(server: HallServer, lunch: dict[str, Any], refused: bool) -> tuple[str, str]:
    """Two clerks whose swap the rotation allows (or refuses), found with the domain's rules."""
    problem = LunchProblem.from_config(load_hall_config(server.config_dir))
    plan = LunchPlan(tuple(s["label"] for s in lunch["slots"]), dict(lunch["breaks"]),
                     tuple({int(w): c for w, c in seats.items()} for seats in lunch["seating"]))
    for a, b in itertools.combinations(sorted(plan.breaks), 2):
        if plan.breaks[a] == plan.breaks[b]:
            continue
        try:
            swap(problem, plan, a, b)
        except LunchInfeasible:
            if refused:
                return a, b
        else:
            if not refused:
                return a, b
    raise AssertionError(f"no {'refused' if refused else 'allowed'} swap in this rotation")


def test_admin_today_shows_the_rotation_and_a_refused_swap(browser: Browser, tmp_path: Path,
                                                           stopper: list[HallServer]) -> None:
    # Three windows per item through lunch: tight enough that some swaps uncover an item.
    server = hall(tmp_path / "hall", "10:00:00", min_open=3)
    stopper.append(server)
    with api(server) as http:
        day = ok(http.get("/api/day"))
        lunch = ok(http.get("/api/lunch"))
    allowed = find_swap(server, lunch, refused=False)

    page = new_page(browser, DESKTOP)
    sign_in_page(page, server, "/admin", "sup")
    # Once the page's scripts have run (the overview is drawn), the tab button has its handler.
    expect(page.locator("#overview-windows tbody tr")).to_have_count(12, timeout=WAIT_MS)
    page.locator("#tabs button[data-tab=today]").click()
    expect(page.locator("#tab-today")).to_be_visible()
    expect(page.locator("#day-phase")).to_have_text(day["phase_label"], timeout=WAIT_MS)
    summary = page.locator("#day-summary")
    expect(summary).to_contain_text("2026-11-25 · 工作日")
    expect(summary).to_contain_text("09:00–17:00（08:30 起提前取号）")

    # One row per slot: its label and the windows closed in it, as the server planned.
    rows = page.locator("#lunch-slots tbody tr")
    expect(rows).to_have_count(len(lunch["slots"]), timeout=WAIT_MS)
    for i, slot in enumerate(lunch["slots"]):
        closed = sorted(int(w) for w, s in lunch["closed"].items() if i in s)
        cells = rows.nth(i).locator("td")
        expect(cells.nth(0)).to_have_text(slot["label"])
        expect(cells.nth(1)).to_have_text("、".join(f"{n}号窗口" for n in closed) or "无")
    # One row per clerk: the slot they eat in.
    clerks = page.locator("#lunch-clerks tbody tr")
    expect(clerks).to_have_count(len(lunch["breaks"]))
    for clerk, slot in lunch["breaks"].items():
        expect(page.locator(f"#lunch-clerks tr[data-clerk='{clerk}'] td").nth(1)).to_have_text(
            lunch["slots"][slot]["label"])

    # The extended-hours count is in the day report.
    expect(page.locator("#day-report tr[data-key=extended_hours] td")).to_have_text("0 件",
                                                                                     timeout=WAIT_MS)

    # An allowed swap trades the two clerks' slots on the page.
    a, b = allowed
    form = page.locator("#swap-form")
    form.locator("select[name=a]").select_option(a)
    form.locator("select[name=b]").select_option(b)
    with page.expect_response(lambda r: r.url.endswith("/api/lunch/swap")) as answer:
        form.locator("button[type=submit]").click()
    assert answer.value.status == 200
    expect(page.locator("#swap-result")).to_contain_text("已对调")
    expect(page.locator(f"#lunch-clerks tr[data-clerk='{a}'] td").nth(1)).to_have_text(
        lunch["slots"][lunch["breaks"][b]]["label"])

    # A refused swap shows the server's 409 message, which names the item left uncovered.
    with api(server) as http:
        lunch = ok(http.get("/api/lunch"))
    a, b = find_swap(server, lunch, refused=True)
    form.locator("select[name=a]").select_option(a)
    form.locator("select[name=b]").select_option(b)
    with page.expect_response(lambda r: r.url.endswith("/api/lunch/swap")) as answer:
        form.locator("button[type=submit]").click()
    assert answer.value.status == 409
    body = answer.value.json()
    assert body["error"] == "lunch_infeasible", body
    services = {s.id: s.name for s in load_hall_config(server.config_dir).services}
    item = services[body["details"]["service"]]
    assert item in body["message"], body
    expect(page.locator("#swap-result")).to_have_text("未能对调：" + body["message"])
    # Nothing changed on the page.
    expect(page.locator(f"#lunch-clerks tr[data-clerk='{a}'] td").nth(1)).to_have_text(
        lunch["slots"][lunch["breaks"][a]]["label"])
    assert_no_horizontal_overflow(page)
    (ARTIFACTS / "day").mkdir(parents=True, exist_ok=True)
    page.locator("#tab-today").screenshot(path=str(ARTIFACTS / "day" / "admin-today.png"))
    assert_no_js_errors(page)
