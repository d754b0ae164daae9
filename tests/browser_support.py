"""Shared pieces of the browser tests: real headless Chromium against a real server process.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright. Without it the browser tests are
skipped locally and FAIL with CI=true, so CI can never go green by testing less.

Every API call needs a principal, so each test hall starts with real accounts and devices in
its database (created before the server starts, through tests/auth_support.py): a supervisor
"sup" (the httpx client from `api()` signs in as it), a desk user "desk" (signs in through the
real /login form in the browser), and one kiosk device per configured kiosk, whose token the
kiosk page gets once from its URL fragment: `server.kiosk_url("k1")` = /kiosk?k=k1#token=....

Screenshots go to test-artifacts/ (git-ignored) for a human to look at.
"""

from __future__ import annotations

import os
import shutil
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from auth_support import PASSWORD, OpenTerminals, add_device, add_user, sign_in
from live_server import CONFIG_DIR, LiveServer
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("ONESTOP_TEST_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
PHONE = {"width": 375, "height": 812}
WAIT_MS = 15_000  # for expect(): long enough for a loaded CI machine, never a fixed sleep

# Printer-less kiosks keep the tests that are not about printing independent of the emulator.
NO_PRINTERS = """
[[kiosks]]
id = "k1"
name = "大厅1号取号机"
printer = { type = "none" }
"""


def require_chromium() -> None:
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def launch_browser() -> Iterator[Browser]:
    """Body of each module's `browser` fixture: one headless Chromium per test module, closed
    before other modules run (Playwright's sync API must not outlive into asyncio tests)."""
    require_chromium()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def hall_config(target: Path, devices_toml: str | None = None) -> Path:
    """A copy of the sample hall's config in `target`, with devices.toml replaced if given."""
    config_dir = target / "config"
    shutil.copytree(CONFIG_DIR, config_dir)
    if devices_toml is not None:
        (config_dir / "devices.toml").write_text(devices_toml, encoding="utf-8")
    return config_dir


def network_printer(port: int, kiosk: str = "k1") -> str:
    """devices.toml with one kiosk whose printer is a raw TCP printer on 127.0.0.1:port."""
    return f"""
[[kiosks]]
id = "{kiosk}"
name = "大厅1号取号机"
printer = {{ type = "network", host = "127.0.0.1", port = {port}, timeout = 1.0 }}
"""


SUPERVISOR = "sup"
DESK_USER = "desk"


class HallServer(LiveServer):
    """A LiveServer whose database holds the accounts and kiosk devices the browser tests use."""

    def __init__(self, db_url: str, data_dir: Path, config_dir: Path,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(db_url, data_dir, config_dir=config_dir, env=env)
        self.kiosk_tokens: dict[str, str] = {}
        self.terminals: list[OpenTerminals] = []

    def seat(self, *windows: int) -> None:
        """Clerks sit down at these windows (every window when none are given) and keep their
        terminals open: the hall during a working day, which is what most page tests show."""
        wanted = windows or tuple(range(1, 13))
        self.terminals.append(OpenTerminals(self.db_url, self.base, *wanted))

    def stop(self) -> None:
        for terminals in self.terminals:
            terminals.close()
        self.terminals = []
        super().stop()

    def enrol(self) -> None:
        """Before the first start: the staff accounts and one device per configured kiosk."""
        add_user(self.db_url, SUPERVISOR, "supervisor")
        add_user(self.db_url, DESK_USER, "desk")
        devices = tomllib.loads((self.config_dir / "devices.toml").read_text(encoding="utf-8"))
        for kiosk in devices.get("kiosks", []):
            self.kiosk_tokens[kiosk["id"]] = add_device(self.db_url, f"kiosk-{kiosk['id']}",
                                                        "kiosk", kiosk["id"])

    def kiosk_url(self, kiosk: str = "k1") -> str:
        """The kiosk page as an enrolled kiosk opens it: its device token in the fragment."""
        return f"{self.base}/kiosk?k={kiosk}#token={self.kiosk_tokens[kiosk]}"


def start_server(workdir: Path, devices_toml: str | None = None,
                 env: dict[str, str] | None = None) -> HallServer:
    workdir.mkdir(parents=True, exist_ok=True)
    config_dir = hall_config(workdir, devices_toml)
    server = HallServer(f"sqlite:///{workdir / 'onestop.db'}", workdir / "data",
                        config_dir=config_dir, env=env)
    server.enrol()
    server.start()
    return server


@contextmanager
def api(server: LiveServer) -> Iterator[httpx.Client]:
    """An httpx client signed in as the supervisor (sends the session cookie and CSRF header)."""
    with httpx.Client(base_url=server.base, timeout=10) as client:
        sign_in(client, SUPERVISOR)
        yield client


def sign_in_page(page: Page, server: LiveServer, path: str, username: str = DESK_USER) -> None:
    """Open a staff page signed out, get sent to the real /login form, fill it and come back."""
    page.goto(f"{server.base}{path}")
    expect(page).to_have_url(f"{server.base}/login?next={path}")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{server.base}{path}", timeout=WAIT_MS)


def new_page(browser: Browser, viewport: dict[str, int], **options: Any) -> Page:
    """A page in a fresh context; page errors fail the test instead of passing silently."""
    context = browser.new_context(viewport=viewport, locale="zh-CN",  # type: ignore[arg-type]
                                  timezone_id="Asia/Shanghai", **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    return page


def assert_no_js_errors(page: Page) -> None:
    errors = getattr(page, "js_errors", [])
    assert not errors, f"JavaScript errors on the page: {errors}"


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def assert_no_horizontal_overflow(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page is wider than the screen: {widths}"


def assert_inside_viewport(page: Page, locator: Locator) -> None:
    """The element is visible and wholly on screen, and its text is not clipped or wrapped away."""
    box = locator.bounding_box()
    assert box is not None, "element is not rendered"
    size = page.viewport_size
    assert size is not None
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= size["width"], (box, size)
    assert box["y"] + box["height"] <= size["height"], (box, size)
    clipped = locator.evaluate("el => el.scrollWidth > el.clientWidth + 1")
    assert not clipped, "text overflows its box"


# Every visible control at least 64 px tall, every visible text at least 28 px (kiosk rules).
_TOUCH_CHECK = """
() => {
  const problems = [];
  const visible = el => {
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return s.visibility !== 'hidden' && s.display !== 'none' && r.width > 0 && r.height > 0;
  };
  for (const el of document.querySelectorAll('button, a, input, select')) {
    if (visible(el) && el.getBoundingClientRect().height < 64) {
      problems.push('control too small: ' + el.outerHTML.slice(0, 80));
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || !visible(el) || el.closest('script')) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 28) problems.push('text too small (' + size + 'px): ' + node.textContent.trim().slice(0, 40));
  }
  return problems;
}
"""


def assert_touch_friendly(page: Page) -> None:
    problems = page.evaluate(_TOUCH_CHECK)
    assert not problems, "\n".join(problems)


def wait_until(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1) -> Any:
    """Poll a condition that has no event to wait on (e.g. /api/health); returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check}")
        time.sleep(interval)


def printer_state(http: httpx.Client, kiosk: str = "k1") -> str:
    printers = http.get("/api/health").json()["printers"]
    return str(next(p["state"] for p in printers if p["kiosk"] == kiosk))


def waiting(http: httpx.Client, queue: str) -> int:
    return int(next(q["waiting"] for q in http.get("/api/queues").json() if q["id"] == queue))
