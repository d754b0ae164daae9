"""A ticket's whole life, every operation, and every transition the engine must refuse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from onestop.queue.clock import ManualClock
from onestop.queue.engine import QueueEngine
from onestop.queue.errors import DomainError, InvalidTransition, NotFound, Rejected
from onestop.queue.ledger import Event
from onestop.queue.states import Outcome, Priority
from onestop.queue.tables import events as events_table

ELDERLY = "elderly-card"  # queue B, served by windows 1, 2, 5, 6


def recorded(engine: QueueEngine) -> list[Event]:
    seen: list[Event] = []
    engine.bus.subscribe(seen.extend)
    return seen


def test_full_lifecycle_writes_one_event_per_change(
    engine: QueueEngine, clock: ManualClock
) -> None:
    seen = recorded(engine)
    issued = engine.issue(ELDERLY)
    assert issued["number"] == "B001"
    assert issued["state"] == "waiting"
    assert issued["people_ahead"] == 0
    assert issued["token"]

    clock.advance(timedelta(minutes=4))
    called = engine.call_next(5)
    assert called is not None
    assert called["ticket"]["number"] == "B001"
    assert called["ticket"]["state"] == "called"
    assert called["ticket"]["counter"] == 5
    assert engine.recall(5)["ticket"]["recall_count"] == 1
    assert engine.start(5)["ticket"]["state"] == "serving"
    clock.advance(timedelta(minutes=7))
    promised = date(2026, 12, 10)
    done = engine.finish(5, Outcome.COMMITTED, promised, "材料齐全")["ticket"]
    assert done["state"] == "done"
    assert done["outcome"] == "committed"
    assert done["promised_date"] == "2026-12-10"

    assert [e.type for e in seen] == [
        "ticket.issued",
        "ticket.called",
        "ticket.recalled",
        "ticket.serving",
        "ticket.finished",
    ]
    seqs = [e.seq for e in seen]
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    assert engine.head() == seqs[-1]
    with engine.store.read() as conn:
        stored = conn.execute(
            sa.select(events_table.c.seq, events_table.c.type)
            .where(events_table.c.seq >= seqs[0]).order_by(events_table.c.seq)
        ).all()
    assert [(s, t) for s, t in stored] == [(e.seq, e.type) for e in seen]
    # Each says who did it: the kiosk issued, the clerk at window 5 did the rest.
    assert [e.actor.label for e in seen] == ["device:kiosk-k1"] + ["user:clerk5"] * 4

    status = engine.ticket_status(issued["token"])
    assert status["state"] == "done"
    counters = {c["number"]: c for c in engine.counters()}
    assert counters[5]["ticket"] is None
    assert counters[5]["served_today"] == 1


def test_no_show_cancel_and_pause(engine: QueueEngine, clock: ManualClock) -> None:
    first = engine.issue(ELDERLY)
    second = engine.issue(ELDERLY)
    third = engine.issue(ELDERLY)
    engine.call_next(5)
    clock.advance(timedelta(seconds=61))  # 过号 only after the resident had a minute to come
    assert engine.no_show(5)["ticket"]["state"] == "no_show"
    # A waiting ticket can be cancelled by its holder; it then never gets called.
    assert engine.cancel(second["token"])["ticket"]["state"] == "cancelled"
    called = engine.call_next(5)
    assert called is not None and called["ticket"]["number"] == third["number"]
    # Cancelling a called ticket frees the window.
    engine.cancel(third["token"])
    assert {c["number"]: c for c in engine.counters()}[5]["ticket"] is None
    assert engine.call_next(5) is None
    assert engine.ticket_status(first["token"])["state"] == "no_show"

    paused = engine.pause(5, "午餐")["counter"]
    assert paused["state"] == "paused" and paused["pause_reason"] == "午餐"
    assert engine.resume(5)["counter"]["state"] == "open"


def test_call_specific_ticket(engine: QueueEngine) -> None:
    engine.issue(ELDERLY)
    second = engine.issue(ELDERLY)
    called = engine.call(6, second["id"])
    assert called["ticket"]["number"] == "B002"
    assert called["ticket"]["counter"] == 6


def test_transfer_to_service_keeps_number_and_place(
    engine: QueueEngine, clock: ManualClock
) -> None:
    # A resident at the civil-affairs window turns out to need social security (queue A).
    moved = engine.issue(ELDERLY)
    clock.advance(timedelta(minutes=1))
    later = engine.issue("social-insurance-enrolment")  # A001, issued after the B ticket
    engine.call_next(5)
    engine.start(5)
    out = engine.transfer(5, to_service="social-insurance-enrolment", note="需办理参保")
    ticket = out["ticket"]
    assert ticket["number"] == moved["number"] == "B001"
    assert ticket["state"] == "waiting"
    assert ticket["queue"] == "social-security"
    assert ticket["transfer_count"] == 1
    # Its place is by original issue time: it goes before A001 at a social-security window.
    called = engine.call_next(3)
    assert called is not None and called["ticket"]["number"] == "B001"
    assert later["number"] == "A001"


def test_transfer_to_queue_and_to_window(engine: QueueEngine, clock: ManualClock) -> None:
    engine.issue(ELDERLY)
    engine.call_next(5)
    by_queue = engine.transfer(5, to_queue="residency")["ticket"]
    assert by_queue["queue"] == "residency"
    assert by_queue["number"] == "B001"

    engine.issue(ELDERLY)
    engine.call_next(6)
    directed = engine.transfer(6, to_counter=9, note="联合会审")["ticket"]
    assert directed["target_counter"] == 9
    # Window 9 does not serve the item, but the resident was sent there by name: it calls them.
    called = engine.call_next(9)
    assert called is not None and called["ticket"]["number"] == "B002"
    # ...and no other window takes a ticket directed elsewhere.
    engine.issue(ELDERLY)
    engine.call_next(5)
    engine.transfer(5, to_counter=6)
    first = engine.call_next(1)  # a comprehensive window takes B001 (now residency)...
    assert first is not None and first["ticket"]["number"] == "B001"
    engine.recall(1)
    engine.no_show(1)
    assert engine.call_next(1) is None  # ...but never B003, which was sent to window 6
    sent = engine.call_next(6)
    assert sent is not None and sent["ticket"]["number"] == "B003"


Op = Callable[[QueueEngine, dict[str, Any]], Any]


def _called_at_5(engine: QueueEngine) -> dict[str, Any]:
    t = engine.issue(ELDERLY)
    engine.call_next(5)
    return t


def _serving_at_5(engine: QueueEngine) -> dict[str, Any]:
    t = _called_at_5(engine)
    engine.start(5)
    return t


def _idle(engine: QueueEngine) -> dict[str, Any]:
    return engine.issue(ELDERLY)


def _done(engine: QueueEngine) -> dict[str, Any]:
    t = _serving_at_5(engine)
    engine.finish(5, Outcome.ON_THE_SPOT)
    return t


def _paused(engine: QueueEngine) -> dict[str, Any]:
    t = engine.issue(ELDERLY)
    engine.pause(5, "会议")
    return t


REFUSED: list[tuple[str, Callable[[QueueEngine], dict[str, Any]], Op, type[DomainError]]] = [
    ("start with no ticket", _idle, lambda e, t: e.start(5), InvalidTransition),
    ("recall with no ticket", _idle, lambda e, t: e.recall(5), InvalidTransition),
    (
        "finish with no ticket",
        _idle,
        lambda e, t: e.finish(5, Outcome.ON_THE_SPOT),
        InvalidTransition,
    ),
    ("no-show with no ticket", _idle, lambda e, t: e.no_show(5), InvalidTransition),
    ("transfer with no ticket", _idle, lambda e, t: e.transfer(5, to_counter=6), InvalidTransition),
    (
        "finish before start",
        _called_at_5,
        lambda e, t: e.finish(5, Outcome.ON_THE_SPOT),
        InvalidTransition,
    ),
    ("start twice", _serving_at_5, lambda e, t: e.start(5), InvalidTransition),
    ("recall while serving", _serving_at_5, lambda e, t: e.recall(5), InvalidTransition),
    ("no-show while serving", _serving_at_5, lambda e, t: e.no_show(5), InvalidTransition),
    (
        "call next with a ticket at the window",
        _called_at_5,
        lambda e, t: e.call_next(5),
        InvalidTransition,
    ),
    (
        "call specific with a ticket at the window",
        _serving_at_5,
        lambda e, t: e.call(5, e.issue(ELDERLY)["id"]),
        InvalidTransition,
    ),
    ("call next while paused", _paused, lambda e, t: e.call_next(5), InvalidTransition),
    (
        "pause with a ticket at the window",
        _called_at_5,
        lambda e, t: e.pause(5, "午餐"),
        InvalidTransition,
    ),
    ("pause twice", _paused, lambda e, t: e.pause(5, "午餐"), InvalidTransition),
    ("resume an open window", _idle, lambda e, t: e.resume(5), InvalidTransition),
    ("cancel a finished ticket", _done, lambda e, t: e.cancel(t["token"]), InvalidTransition),
    ("cancel while serving", _serving_at_5, lambda e, t: e.cancel(t["token"]), InvalidTransition),
    ("call a finished ticket", _done, lambda e, t: e.call(6, t["id"]), InvalidTransition),
    ("call a called ticket", _called_at_5, lambda e, t: e.call(6, t["id"]), InvalidTransition),
    ("call a ticket the window does not serve", _idle, lambda e, t: e.call(3, t["id"]), Rejected),
    (
        "committed without a date",
        _serving_at_5,
        lambda e, t: e.finish(5, Outcome.COMMITTED),
        Rejected,
    ),
    (
        "committed with a past date",
        _serving_at_5,
        lambda e, t: e.finish(5, Outcome.COMMITTED, date(2026, 11, 24)),
        Rejected,
    ),
    (
        "a date on an on-the-spot case",
        _serving_at_5,
        lambda e, t: e.finish(5, Outcome.ON_THE_SPOT, date(2026, 12, 1)),
        Rejected,
    ),
    (
        "transfer with two targets",
        _called_at_5,
        lambda e, t: e.transfer(5, to_counter=6, to_queue="residency"),
        Rejected,
    ),
    ("transfer with no target", _called_at_5, lambda e, t: e.transfer(5), Rejected),
    (
        "transfer to its own window",
        _called_at_5,
        lambda e, t: e.transfer(5, to_counter=5),
        Rejected,
    ),
    (
        "transfer to an unknown window",
        _called_at_5,
        lambda e, t: e.transfer(5, to_counter=99),
        NotFound,
    ),
    (
        "transfer to an unknown queue",
        _called_at_5,
        lambda e, t: e.transfer(5, to_queue="nope"),
        NotFound,
    ),
    ("pause without a reason", _idle, lambda e, t: e.pause(5, "  "), Rejected),
    ("unknown window", _idle, lambda e, t: e.call_next(99), NotFound),
    ("unknown service", _idle, lambda e, t: e.issue("no-such-item"), NotFound),
    ("unknown ticket id", _idle, lambda e, t: e.call(5, 10_000), NotFound),
    ("unknown token", _idle, lambda e, t: e.cancel("nope"), NotFound),
    (
        "green channel without a reason",
        _idle,
        lambda e, t: e.issue(ELDERLY, Priority.GREEN, None),
        Rejected,
    ),
]


@pytest.mark.parametrize(("name", "setup", "op", "error"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_operations_change_nothing(
    engine: QueueEngine,
    name: str,
    setup: Callable[[QueueEngine], dict[str, Any]],
    op: Op,
    error: type[DomainError],
) -> None:
    ticket = setup(engine)
    before_head = engine.head()
    before_counters = engine.counters()
    with pytest.raises(error) as info:
        op(engine, ticket)
    # The message is for a clerk: both languages, no Python in it.
    assert info.value.message and info.value.message_en
    assert "Traceback" not in info.value.message_en
    if name not in ("call specific with a ticket at the window",):
        assert engine.head() == before_head, "a refused operation must write no ledger event"
        assert engine.counters() == before_counters


def test_committed_promise_is_checked_against_the_hall_day(
    always_open: QueueEngine, clock: ManualClock
) -> None:
    engine = always_open
    # 00:30 in Shanghai on the 26th is still the 25th in UTC; "today" is the hall's day.
    clock.set(clock.now().replace(hour=16, minute=30))  # 00:30 on 26 Nov, Shanghai
    _serving_at_5(engine)
    with pytest.raises(Rejected):
        engine.finish(5, Outcome.COMMITTED, date(2026, 11, 25))
    done = engine.finish(5, Outcome.COMMITTED, date(2026, 11, 26))
    assert done["ticket"]["promised_date"] == "2026-11-26"
