"""Presence, on SQLite and PostgreSQL: a window is open only while a clerk sits there."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from engine_support import KIOSK, SUPERVISOR, EngineForTests, clerk_at

from onestop.queue.actors import SCHEDULER, user
from onestop.queue.clock import ManualClock
from onestop.queue.errors import InvalidTransition, NotAtWindow, NotStaffed, Rejected
from onestop.queue.states import Outcome
from onestop.queue.tables import events

ELDERLY = "elderly-card"  # queue B: windows 5, 6 and the comprehensive 1, 2
WANG = user("wang", "王丽", "clerk")
LI = user("li", "李军", "clerk")


def _types(engine: EngineForTests, since: int) -> list[str]:
    with engine.store.read() as conn:
        return [t for (t,) in conn.execute(sa.select(events.c.type)
                                           .where(events.c.seq > since).order_by(events.c.seq))]


def _window(engine: EngineForTests, number: int) -> dict[str, object]:
    return next(c for c in engine.reads.counters(staff=True) if c["number"] == number)


def test_nobody_in_the_building_means_no_window_is_open(bare_engine: EngineForTests) -> None:
    engine = bare_engine
    assert {c["state"] for c in engine.counters()} == {"unstaffed"}
    ticket = engine.issue(ELDERLY)
    assert ticket["estimated_wait_seconds"] is None and ticket["open_counters"] == 0
    queues = {q["id"]: q for q in engine.queues()}
    assert queues["civil-affairs"]["open_counters"] == 0
    with pytest.raises(NotStaffed, match="window 5"):
        engine.call_next(5, actor=SUPERVISOR)


def test_estimates_count_only_the_windows_with_a_clerk(bare_engine: EngineForTests,
                                                       clock: ManualClock) -> None:
    engine = bare_engine
    engine.windows.sign_in(5, actor=WANG)
    for _ in range(4):
        clock.advance(timedelta(seconds=10))
        engine.issue(ELDERLY)
    last = engine.issue(ELDERLY)
    assert last["people_ahead"] == 4 and last["open_counters"] == 1
    one = last["estimated_wait_seconds"]
    engine.windows.sign_in(6, actor=LI)
    assert engine.ticket_status(last["token"])["estimated_wait_seconds"] == one / 2


def test_sign_in_switch_and_sign_out(bare_engine: EngineForTests) -> None:
    engine = bare_engine
    head = engine.head()
    staffed = engine.windows.sign_in(5, actor=WANG)["counter"]
    assert (staffed["state"], staffed["clerk_name"]) == ("open", "王丽")
    assert "clerk_id" not in staffed, "the public view never names the account"
    assert engine.windows.sign_in(5, actor=WANG)["changed"] is False  # already there
    with pytest.raises(InvalidTransition, match="staffed by someone else"):
        engine.windows.sign_in(5, actor=LI)
    # Moving to window 6 leaves 5; with a resident at the window the move is refused.
    engine.issue(ELDERLY)
    engine.call_next(5, actor=WANG)
    with pytest.raises(InvalidTransition, match="finish or transfer"):
        engine.windows.sign_in(6, actor=WANG)
    engine.recall(5, actor=WANG)
    engine.no_show(5, actor=WANG)
    engine.windows.sign_in(6, actor=WANG)
    assert _window(engine, 5)["state"] == "unstaffed" and _window(engine, 6)["clerk_id"] == "wang"
    assert engine.windows.sign_out(6, actor=WANG) is not None
    assert _window(engine, 6)["state"] == "unstaffed"
    assert _types(engine, head) == [
        "counter.staffed", "ticket.issued", "ticket.called", "ticket.recalled",
        "ticket.no_show", "counter.unstaffed", "counter.staffed", "counter.unstaffed"]


def test_a_silent_terminal_unstaffs_its_window_and_can_come_back(
        bare_engine: EngineForTests, clock: ManualClock) -> None:
    engine = bare_engine
    engine.windows.sign_in(5, actor=WANG)
    engine.windows.sign_in(6, actor=LI)
    clock.advance(timedelta(seconds=45))
    engine.windows.heartbeat(6, actor=LI)
    clock.advance(timedelta(seconds=30))  # 75 s since 王丽's last sign of life, 30 s for 李军
    assert engine.windows.sweep_lost() == [5]
    assert _window(engine, 5)["state"] == "unstaffed" and _window(engine, 6)["state"] == "open"
    # Her network comes back: the terminal's next heartbeat sits her down again.
    assert engine.windows.heartbeat(5, actor=WANG)["changed"] is True
    assert _window(engine, 5)["clerk_id"] == "wang"


def test_a_silent_clerks_window_can_be_taken_over(bare_engine: EngineForTests,
                                                  clock: ManualClock) -> None:
    """Her PC died with a resident called: 李军 sits down; the resident goes back in line at
    their place; her old session can no longer act at the window."""
    engine = bare_engine
    engine.windows.sign_in(5, actor=WANG)
    ticket = engine.issue(ELDERLY)
    engine.call_next(5, actor=WANG)
    clock.advance(timedelta(minutes=2))
    head = engine.head()
    engine.windows.sign_in(5, actor=LI)
    assert _types(engine, head) == ["ticket.returned", "counter.unstaffed", "counter.staffed"]
    assert engine.ticket_by_id(ticket["id"])["state"] == "waiting"
    with pytest.raises(NotAtWindow):
        engine.call_next(5, actor=WANG)
    with pytest.raises(NotAtWindow):
        engine.windows.heartbeat(5, actor=WANG)
    called = engine.call_next(5, actor=LI)
    assert called is not None and called["ticket"]["id"] == ticket["id"]


def test_signing_out_keeps_a_resident_being_served_at_the_window(
        bare_engine: EngineForTests) -> None:
    engine = bare_engine
    engine.windows.sign_in(5, actor=WANG)
    ticket = engine.issue(ELDERLY)
    engine.call_next(5, actor=WANG)
    engine.start(5, actor=WANG)
    with pytest.raises(InvalidTransition):
        engine.windows.sign_out(5, actor=WANG)  # leaving the window: finish first
    engine.windows.sign_out(5, actor=WANG, force=True)  # the terminal signs out regardless
    assert engine.ticket_by_id(ticket["id"])["state"] == "serving"
    engine.windows.sign_in(5, actor=LI)  # whoever sits down next finds the resident
    assert engine.finish(5, Outcome.ON_THE_SPOT, actor=LI)["ticket"]["state"] == "done"


def test_a_supervisor_acts_at_staffed_windows_only(bare_engine: EngineForTests) -> None:
    engine = bare_engine
    engine.windows.sign_in(5, actor=WANG)
    engine.issue(ELDERLY)
    called = engine.call_next(5, actor=SUPERVISOR)
    assert called is not None
    # The clerk at the window is who the ticket is counted for.
    assert engine.reads.served_by_clerk() == {}
    with pytest.raises(NotStaffed):
        engine.call_next(6, actor=SUPERVISOR)


def test_residents_are_never_sent_to_an_empty_window(engine: EngineForTests) -> None:
    engine.windows.sign_out(9, actor=clerk_at(9))
    engine.issue(ELDERLY)
    engine.call_next(5)
    with pytest.raises(NotStaffed, match="nobody is signed in at window 9"):
        engine.transfer(5, to_counter=9)
    with pytest.raises(Rejected):
        engine.windows.sign_in(9, actor=KIOSK)  # a kiosk never staffs a window
    assert engine.windows.sign_out(9, actor=SCHEDULER) is None  # already empty: nothing to do


def test_only_a_lost_terminal_sits_down_again_by_itself(bare_engine: EngineForTests) -> None:
    """A heartbeat sent after its clerk left on purpose (signed out on another PC, moved to
    another window) does not put them back: their terminal must choose a window again."""
    engine = bare_engine
    engine.windows.sign_in(9, actor=WANG)
    engine.windows.sign_in(10, actor=WANG)  # the same clerk, a second terminal: 9 is left
    with pytest.raises(NotAtWindow, match="left window 9"):
        engine.windows.heartbeat(9, actor=WANG)
    assert _window(engine, 9)["state"] == "unstaffed" and _window(engine, 10)["state"] == "open"
    engine.windows.sign_out(10, actor=WANG)
    with pytest.raises(NotAtWindow, match="left window 10"):
        engine.windows.heartbeat(10, actor=WANG)
    with pytest.raises(NotAtWindow):
        engine.windows.heartbeat(11, actor=LI)  # never sat there


def test_a_pause_ends_what_may_be_undone(engine: EngineForTests) -> None:
    engine.issue(ELDERLY)
    engine.call_next(5)
    engine.start(5)
    engine.finish(5, Outcome.ON_THE_SPOT)
    engine.pause(5, "会议")
    engine.resume(5)
    with pytest.raises(InvalidTransition, match="nothing to undo"):
        engine.corrections.undo(5, actor=engine.clerk_of(5))
