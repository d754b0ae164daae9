"""Benchmark (not a test): 40 window screens on one 9600-baud line, bursts of calls.

    .venv/bin/python bench/bench_led_bus.py

Real socat pty pair, the line-protocol emulator on the far end. Prints, per scenario, how long
until every screen shows its last call against the line's minimum (the final frames' bytes ×
10 / baud), and bytes written against the minimum; replaces the "LED bus" section of
BENCHMARKS.md. Stops by itself within a minute.
"""

from __future__ import annotations

import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from onestop.drivers.led.bus import LedBus
from onestop.drivers.led.content import Colour, ScreenContent, TextLine
from onestop.drivers.led.linescreen import LineScreenEncoder
from onestop.drivers.led.linescreen_emulator import SerialScreenEmulator
from onestop.drivers.transports import SerialTransport

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from socat_support import SocatPair  # noqa: E402

BAUD = 9600
SCREENS = list(range(1, 41))
ROUNDS = 3
ENCODER = LineScreenEncoder()


def call(ticket: str, window: int) -> ScreenContent:
    return ScreenContent((TextLine(ticket, Colour.RED),
                          TextLine(f"请到{window}号窗口", Colour.GREEN)))


def run(bus: LedBus, emulator: SerialScreenEmulator, calls: int, spread: float,
        rng: random.Random, serial: list[int]) -> dict[str, float]:
    """Show `calls` calls on random screens over `spread` seconds; time until all are shown."""
    wanted: dict[int, ScreenContent] = {}
    sent_before = bus.health().bytes_sent
    start = time.monotonic()
    for n in range(calls):
        if spread:
            due = start + spread * n / calls
            while time.monotonic() < due:  # a steady call rate, as clerks press "call next"
                time.sleep(max(0.0, due - time.monotonic()))
        address = SCREENS[n] if calls == len(SCREENS) else rng.choice(SCREENS)
        serial[0] += 1
        wanted[address] = call(f"A{serial[0] % 1000:03d}", address)
        bus.show(address, ENCODER.encode(address, wanted[address]), urgent=True)
    last_show = time.monotonic()
    done: Callable[[SerialScreenEmulator], bool] = lambda e: all(  # noqa: E731
        e.content(a) == c for a, c in wanted.items())
    if not emulator.wait_for(done, 30) or not bus.wait_idle(30):
        raise RuntimeError("screens did not reach their wanted content within 30 s")
    shown = time.monotonic()
    minimum = sum(len(ENCODER.encode(a, c)) for a, c in wanted.items())
    return {"screens": len(wanted), "seconds": shown - start, "after_last": shown - last_show,
            "line_min": minimum * 10 / BAUD, "bytes": bus.health().bytes_sent - sent_before,
            "min_bytes": minimum}


def main() -> None:
    if shutil.which("socat") is None:
        sys.exit("socat not found (apt-get install socat)")
    began = time.monotonic()
    rng = random.Random(1)
    serial = [0]
    scenarios = [("40 calls, one per screen, at once", 40, 0.0),
                 ("200 calls on random screens, at once", 200, 0.0),
                 ("200 calls on random screens over 2 s (100 calls/s)", 200, 2.0),
                 ("1000 calls on random screens over 5 s (200 calls/s)", 1000, 5.0)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        pair = SocatPair(Path(tmp))
        pair.start()
        emulator = SerialScreenEmulator(str(pair.screens_link), BAUD)
        emulator.start()
        try:
            emulator.wait_for(lambda e: e.is_open, 10)
            pair.wait_bus_end()
            bus = LedBus("bench", SerialTransport(str(pair.bus_link), BAUD), BAUD)
            bus.start()
            for label, calls, spread in scenarios:
                results = [run(bus, emulator, calls, spread, rng, serial) for _ in range(ROUNDS)]
                worst = max(results, key=lambda r: r["seconds"] / max(r["line_min"], spread))
                ratio = max(r["bytes"] / r["min_bytes"] for r in results)
                rows.append(
                    f"| {label} | {worst['screens']:.0f} | {worst['seconds']:.2f} s "
                    f"({worst['after_last']:.2f} s after the last call) | "
                    f"{worst['line_min']:.2f} s | {worst['bytes']:.0f} / {worst['min_bytes']:.0f} "
                    f"| {ratio:.3f} |")
                print(rows[-1], flush=True)
            health = bus.health()
            bus.stop()
            if emulator.errors:
                raise RuntimeError(f"emulator errors: {emulator.errors[:5]}")
        finally:
            emulator.stop()
            pair.kill()
    elapsed = time.monotonic() - began
    socat = subprocess.run(["socat", "-V"], capture_output=True, text=True, check=False)
    version = next((ln.split()[2] for ln in socat.stdout.splitlines() if "version" in ln), "?")
    section = "\n".join([
        "## LED bus",
        "",
        "Command: `.venv/bin/python bench/bench_led_bus.py`  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}; "
        f"socat {version}; run took {elapsed:.0f} s",
        "",
        f"40 window screens (addresses 1..40) on one `LedBus` at {BAUD} baud 8N1 (pacing 10 bits "
        "per byte) over a real socat pty pair, the line-protocol emulator on the far end. Every "
        "call is `show(urgent=True)` of a two-line frame (\"A123\" / \"请到7号窗口\", 31–32 "
        "bytes). \"Shown\" is when the emulator holds every screen's last call. The line minimum "
        "is the final frames' bytes × 10 / baud: the time the line needs for just the last "
        f"frame of each screen that changed. Worst of {ROUNDS} rounds per row; bytes ratio is "
        "the worst round's bytes written ÷ the sum of the final frames. When calls are spread "
        "over time, the screens rightly show intermediate calls too, so bytes exceed that "
        "minimum; what matters there is the time after the last call (at most about one pass "
        "over the changed screens when the line is saturated).",
        "",
        "| scenario | screens changed | all shown after | line minimum | bytes written / "
        "minimum | bytes ratio |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"Utilisation reported at the end: {health.utilisation:.2f} of the line over the last "
        f"10 s; {health.frames_sent} frames, {health.bytes_sent} bytes in all.",
        "",
    ])
    bench = ROOT / "BENCHMARKS.md"
    text = bench.read_text(encoding="utf-8") if bench.exists() else "# Benchmarks\n\n"
    pattern = re.compile(r"## LED bus\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else (
        text.rstrip() + "\n\n" + section)
    bench.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
