"""SMS verification of a phone before a booking counts (防号贩子), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from engine_support import BookForTests, EngineForTests

from onestop.queue.actors import RESIDENT
from onestop.queue.calendar import HallCalendar
from onestop.queue.clock import ManualClock
from onestop.queue.errors import InvalidTransition, Rejected
from onestop.queue.phone_checks import PhoneChecks
from onestop.queue.tables import phone_checks

PHONE = "13912345678"
THU = date(2026, 11, 26)


class Inbox:
    """A phone that keeps its messages (the sender tests use instead of the console)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        self.messages.append((phone, text))

    def last_code(self) -> str:
        found = re.search(r"验证码是 (\d{6})", self.messages[-1][1])
        assert found, self.messages[-1]
        return found.group(1)


@pytest.fixture
def verifying(engine: EngineForTests) -> tuple[BookForTests, Inbox]:
    defs = engine.config.appointments.model_copy(update={"verify_phone": True})
    engine.config = engine.config.model_copy(update={"appointments": defs})
    book = BookForTests(engine, HallCalendar(engine.config))
    inbox = Inbox()
    book._checks = PhoneChecks(engine, inbox)
    return book, inbox


def test_a_booking_counts_only_with_the_code_sent_to_its_phone(
        verifying: tuple[BookForTests, Inbox], engine: EngineForTests,
        clock: ManualClock) -> None:
    book, inbox = verifying
    with pytest.raises(Rejected, match="get the SMS code first"):
        book.book("elderly-card", THU, time(10, 0), PHONE)
    sent = book.checks.send(PHONE, actor=RESIDENT)
    assert inbox.messages[-1][0] == PHONE and sent["phone_masked"] == "139****5678"
    code = inbox.last_code()
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(Rejected, match="not right"):
        book.book("elderly-card", THU, time(10, 0), PHONE, None, sent["check"], wrong)
    with engine.store.read() as conn:  # the wrong try is counted although the booking rolled back
        assert conn.execute(sa.select(phone_checks.c.attempts)).scalar_one() == 1
    with pytest.raises(Rejected, match="not sent to this phone"):
        book.book("elderly-card", THU, time(10, 0), "13900000000", None, sent["check"], code)
    booked = book.book("elderly-card", THU, time(10, 0), PHONE, None, sent["check"], code)
    assert booked["state"] == "booked"
    with pytest.raises(Rejected, match="expired"):  # one code, one booking
        book.book("gas-payment", THU, time(10, 0), PHONE, None, sent["check"], code)
    # Ten minutes later a fresh code has expired too.
    clock.advance(timedelta(minutes=2))
    again = book.checks.send(PHONE, actor=RESIDENT)
    clock.advance(timedelta(minutes=11))
    with pytest.raises(Rejected, match="expired"):
        book.book("gas-payment", THU, time(10, 0), PHONE, None, again["check"], inbox.last_code())
    # The code never reaches the ledger, not even for staff: only its digest is kept.
    from onestop.queue.tables import events

    with engine.store.read() as conn:
        kept = " ".join(str(r) for r in conn.execute(sa.select(events.c.data, events.c.staff)))
        digests = [d for (d,) in conn.execute(sa.select(phone_checks.c.code_hash))]
    assert code not in kept and all(len(d) == 64 for d in digests)


def test_one_phone_cannot_run_up_the_sms_bill(verifying: tuple[BookForTests, Inbox],
                                              clock: ManualClock) -> None:
    book, inbox = verifying
    book.checks.send(PHONE, actor=RESIDENT)
    with pytest.raises(InvalidTransition, match="just sent"):
        book.checks.send(PHONE, actor=RESIDENT)
    for _ in range(4):
        clock.advance(timedelta(seconds=61))
        book.checks.send(PHONE, actor=RESIDENT)
    clock.advance(timedelta(seconds=61))
    with pytest.raises(InvalidTransition, match="too many codes"):
        book.checks.send(PHONE, actor=RESIDENT)
    assert len(inbox.messages) == 5
    clock.advance(timedelta(days=1))
    book.checks.send(PHONE, actor=RESIDENT)  # the next day it may again
