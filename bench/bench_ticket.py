"""Benchmark (not a test): lay out and encode one printed ticket; bytes per ticket.

    .venv/bin/python bench/bench_ticket.py

Prints the figures and replaces the "Printed ticket" section of BENCHMARKS.md.
"""

from __future__ import annotations

import platform
import re
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from onestop.drivers.escpos.encoder import encode_receipt
from onestop.kiosk.ticket_layout import build_ticket_receipt
from onestop.queue.catalogue import TicketTemplate

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 2000
TICKET = {
    "id": 7, "number": "B012", "service_name": "最低生活保障申请",
    "service_name_en": "Minimum living allowance application", "people_ahead": 12,
    "estimated_wait_seconds": 1500, "issued_at": "2026-11-25T09:31:02+08:00", "priority": "normal",
}
URL = "http://192.168.1.20:8000/t/Zk3xQ9pL2mNa7bC1"


def measure(paper_mm: int, language: str) -> tuple[float, float, int]:
    template = TicketTemplate(paper_mm=paper_mm, language=language)  # type: ignore[arg-type]
    times = []
    size = 0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        receipt = build_ticket_receipt(TICKET, "青枫街道政务服务中心",
                                       "Qingfeng Sub-district Government Service Centre",
                                       template, URL)
        data = encode_receipt(receipt, paper_mm)
        times.append((time.perf_counter() - start) * 1000)
        size = len(data)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)], size


def main() -> None:
    rows = []
    for paper in (58, 80):
        for language in ("zh", "both"):
            p50, p99, size = measure(paper, language)
            seconds_9600 = size / 960
            rows.append(f"| {paper} mm, {language} | {p50:.3f} ms | {p99:.3f} ms | {size} bytes "
                        f"| {seconds_9600:.2f} s |")
            print(rows[-1])
    worst = max(float(r.split("|")[3].split()[0]) for r in rows)
    section = "\n".join([
        "## Printed ticket",
        "",
        "Command: `.venv/bin/python bench/bench_ticket.py`  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}; "
        f"{ROUNDS} rounds each",
        "",
        "Layout (template → Receipt) plus encoding (Receipt → ESC/POS bytes with GB18030 text in "
        "Chinese mode and a native GS ( k QR code), for one ticket. The last column is the time "
        "the bytes take on a 9600-baud serial line (960 bytes/s).",
        "",
        "| paper, language | p50 | p99 | bytes per ticket | at 9600 baud |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"Target < 5 ms per ticket: **{'met' if worst < 5 else 'not met'}** (worst p99 "
        f"{worst:.3f} ms).",
        "",
    ])
    bench = ROOT / "BENCHMARKS.md"
    text = bench.read_text(encoding="utf-8") if bench.exists() else "# Benchmarks\n\n"
    pattern = re.compile(r"## Printed ticket\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    bench.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
