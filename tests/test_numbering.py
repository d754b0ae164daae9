"""Ticket numbers: per prefix, per hall day, reset at the hall's midnight, history kept."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from conftest import hall_time

from onestop.queue.clock import ManualClock
from onestop.queue.engine import QueueEngine, format_number
from onestop.queue.tables import tickets


def test_numbers_count_per_prefix(engine: QueueEngine) -> None:
    numbers = [
        engine.issue(s)["number"]
        for s in (
            "elderly-card",
            "social-insurance-enrolment",
            "elderly-card",
            "gas-payment",
            "social-insurance-enrolment",
            "elderly-card",
        )
    ]
    assert numbers == ["B001", "A001", "B002", "E001", "A002", "B003"]


def test_reset_at_shanghai_midnight_not_utc(always_open: QueueEngine, clock: ManualClock) -> None:
    engine = always_open
    # 07:59 → 08:01 in Shanghai crosses UTC midnight: the hall's day must not change.
    clock.set(hall_time(2026, 11, 25, 7, 59))
    assert engine.issue("elderly-card")["number"] == "B001"
    clock.advance(timedelta(minutes=2))
    assert engine.issue("elderly-card")["number"] == "B002"
    # 23:59 → 00:00:30 local: a new hall day, numbering starts again.
    clock.set(hall_time(2026, 11, 25, 23, 59))
    assert engine.issue("elderly-card")["number"] == "B003"
    clock.set(hall_time(2026, 11, 26, 0, 0, 30))
    fresh = engine.issue("elderly-card")
    assert fresh["number"] == "B001"
    assert fresh["service_day"] == "2026-11-26"
    # Yesterday's tickets are all still there: history is never deleted.
    with engine.store.read() as conn:
        rows = conn.execute(
            sa.select(tickets.c.service_day, tickets.c.number).order_by(tickets.c.id)
        ).all()
    assert [(str(d), n) for d, n in rows] == [
        ("2026-11-25", "B001"),
        ("2026-11-25", "B002"),
        ("2026-11-25", "B003"),
        ("2026-11-26", "B001"),
    ]


def test_number_format_grows_past_999() -> None:
    assert format_number("A", 7) == "A007"
    assert format_number("A", 999) == "A999"
    assert format_number("A", 1000) == "A1000"
