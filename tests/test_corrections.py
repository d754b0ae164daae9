"""Correcting mistakes, on SQLite and PostgreSQL: a fair chance before 过号, undo, 过号顺延,
cancel and re-route by number, and what of it reaches the public stream."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from engine_support import DESK, SUPERVISOR, EngineForTests

from onestop.queue.clock import ManualClock
from onestop.queue.errors import InvalidTransition, NotStaffed, Rejected
from onestop.queue.states import Outcome
from onestop.queue.tables import events

ELDERLY = "elderly-card"


def _issue_spaced(engine: EngineForTests, clock: ManualClock, n: int) -> list[dict[str, object]]:
    issued = []
    for _ in range(n):
        clock.advance(timedelta(seconds=15))
        issued.append(engine.issue(ELDERLY))
    return issued


def test_no_show_needs_a_minute_or_a_recall(engine: EngineForTests, clock: ManualClock) -> None:
    engine.issue(ELDERLY)
    engine.call_next(5)
    clock.advance(timedelta(seconds=20))
    with pytest.raises(InvalidTransition) as early:
        engine.no_show(5)
    assert "还需40秒" in early.value.message and early.value.details["seconds_left"] == 40
    clock.advance(timedelta(seconds=40))
    assert engine.no_show(5)["ticket"]["state"] == "no_show"
    engine.issue(ELDERLY)
    engine.call_next(5)
    engine.recall(5)  # called twice: the resident has had their chance
    assert engine.no_show(5)["ticket"]["state"] == "no_show"


def test_undo_the_last_finish_or_no_show(engine: EngineForTests, clock: ManualClock) -> None:
    first = engine.issue(ELDERLY)
    engine.call_next(5)
    engine.start(5)
    engine.finish(5, Outcome.COMMITTED, clock.now().date() + timedelta(days=3))
    undone = engine.corrections.undo(5, actor=engine.clerk_of(5))["ticket"]
    assert (undone["state"], undone["outcome"], undone["promised_date"]) == (
        "serving", None, None)
    engine.finish(5, Outcome.ON_THE_SPOT)
    assert engine.ticket_by_id(first["id"])["outcome"] == "on_the_spot"
    # Too late: after undo_seconds the window says whom to ask.
    clock.advance(timedelta(seconds=31))
    with pytest.raises(InvalidTransition, match="30 s only"):
        engine.corrections.undo(5, actor=engine.clerk_of(5))
    # A no-show, undone: the resident is called at the window again.
    engine.issue(ELDERLY)
    engine.call_next(5)
    engine.recall(5)
    engine.no_show(5)
    assert engine.corrections.undo(5, actor=engine.clerk_of(5))["ticket"]["state"] == "called"
    # Nothing to undo once the window has moved on.
    engine.start(5)
    engine.finish(5, Outcome.ON_THE_SPOT)
    engine.issue(ELDERLY)
    engine.call_next(5)
    with pytest.raises(InvalidTransition):
        engine.corrections.undo(5, actor=engine.clerk_of(5))


def test_a_no_show_goes_back_in_line_three_places_after_the_head(
        engine: EngineForTests, clock: ManualClock) -> None:
    missed = engine.issue(ELDERLY)
    others = _issue_spaced(engine, clock, 5)
    engine.call_next(5)
    engine.recall(5)
    engine.no_show(5)
    with pytest.raises(InvalidTransition, match="only a no-show"):
        engine.corrections.requeue(others[0]["id"], actor=DESK)  # type: ignore[arg-type]
    back = engine.corrections.requeue(missed["id"], actor=DESK, reason="群众回来了")  # type: ignore[arg-type]
    ticket = back["ticket"]
    assert (ticket["number"], ticket["state"], ticket["people_ahead"]) == ("B001", "waiting", 3)
    assert ticket["requeue_count"] == 1
    order = []
    for _ in range(6):
        called = engine.call_next(6)
        if called is None:
            break
        order.append(called["ticket"]["number"])
        engine.start(6)
        engine.finish(6, Outcome.ON_THE_SPOT)
    assert order == ["B002", "B003", "B004", "B001", "B005", "B006"]


def test_staff_cancel_and_reroute_keep_their_reasons_for_staff(
        engine: EngineForTests, clock: ManualClock) -> None:
    wrong, later, gone = _issue_spaced(engine, clock, 3)
    with pytest.raises(Rejected):
        engine.corrections.reroute(wrong["id"], "gas-payment", None, None, "",  # type: ignore[arg-type]
                                   actor=DESK)
    moved = engine.corrections.reroute(wrong["id"], "gas-payment", None, None,  # type: ignore[arg-type]
                                       "取错了事项，身份证号 110101199001011234", actor=DESK)
    assert moved["ticket"]["queue"] == "payments" and moved["ticket"]["number"] == "B001"
    engine.windows.sign_out(12, actor=engine.clerk_of(12))
    with pytest.raises(NotStaffed):
        engine.corrections.reroute(later["id"], None, None, 12, "找专人", actor=DESK)  # type: ignore[arg-type]
    engine.corrections.cancel(gone["id"], actor=SUPERVISOR, reason="群众已离开")  # type: ignore[arg-type]
    assert engine.reads.find("B003")["closed_reason"] == "群众已离开"
    # B001 kept its place by issue time in its new line: first at a payments window.
    engine.issue("gas-payment")
    called = engine.call_next(11)
    assert called is not None and called["ticket"]["number"] == "B001"
    with engine.store.read() as conn:
        rows = conn.execute(sa.select(events.c.type, events.c.data, events.c.staff)
                            .order_by(events.c.seq)).all()
    public = " ".join(str(r.data) for r in rows)
    assert "110101199001011234" not in public and "群众已离开" not in public
    staff = [r.staff for r in rows if r.staff]
    assert {"reason": "取错了事项，身份证号 110101199001011234"} in staff
    assert {"reason": "群众已离开"} in staff


def test_a_transfer_note_is_for_staff_only(engine: EngineForTests) -> None:
    ticket = engine.issue(ELDERLY)
    engine.call_next(5)
    engine.transfer(5, to_counter=9, note="联合会审 身份证110101199001011234")
    history = engine.reads.history(ticket["id"])["events"]
    step = next(e for e in history if e["type"] == "ticket.transferred")
    assert step["staff"] == {"note": "联合会审 身份证110101199001011234"}
    assert "note" not in step["detail"]["transfer"]
    assert step["actor"] == {"kind": "user", "id": "clerk5", "name": "5号窗口员", "role": "clerk"}
