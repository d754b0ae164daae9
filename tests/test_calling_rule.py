"""The calling rule, checked against a brute-force model written from the README's statement.

Random halls of waiting tickets (three queues, items served by different windows, the three
classes, tickets old and new, a few sent to a window by name) are called at random windows;
every call must be the ticket the model picks, and two properties must hold whatever the model
says: within one queue no ticket is called before an earlier ticket of its class that the
window could serve, and no window calls a younger ticket while an aged one it could serve waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from conftest import hall_time
from engine_support import KIOSK, EngineForTests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onestop.queue.clock import ManualClock
from onestop.queue.policy import queue_preference
from onestop.queue.states import Outcome, Priority, TicketState
from onestop.queue.tables import counters, tickets

# Items of three queues and the windows of the sample hall that serve them (config/hall.toml):
# A (social security): windows 3, 4 (in different item orders) and the comprehensive 1, 2;
# B (civil affairs): 5, 6, 1, 2; E (payments): 11, 12, 1, 2.
ITEMS = ["social-insurance-enrolment", "pension-qualification", "elderly-card",
         "subsistence-allowance", "gas-payment", "consultation"]
WINDOWS = [1, 3, 4, 5, 11]
CLASSES = [Priority.NORMAL, Priority.NORMAL, Priority.NORMAL, Priority.APPOINTMENT,
           Priority.GREEN]
NOW = hall_time(2026, 11, 25, 11, 0)


@dataclass(frozen=True)
class Waiting:
    id: int
    queue: str
    service: str
    rank: int  # 0 green, 1 appointment, 2 normal
    rank_at: datetime
    target: int | None


def model_pick(waiting: list[Waiting], window: int, services: list[str], preference: list[str],
               now: datetime, promote_minutes: float) -> Waiting | None:
    """The README's rule, by brute force: sort everyone the window may call by the rule's key."""
    cutoff = now - timedelta(minutes=promote_minutes)
    mine = [w for w in waiting
            if w.target == window or (w.target is None and w.service in services)]
    if not mine:
        return None

    def key(w: Waiting) -> tuple[object, ...]:
        named = 0 if w.target == window else 1
        if w.rank_at <= cutoff:  # aged: oldest first, whatever the queue or class
            return (named, 0, w.rank_at, w.id)
        pref = preference.index(w.queue) if w.queue in preference else len(preference)
        return (named, 1, w.rank, pref, w.rank_at, w.id)

    return min(mine, key=key)


ticket_spec = st.tuples(
    st.sampled_from(ITEMS),
    st.sampled_from(CLASSES),
    st.integers(min_value=0, max_value=90),  # minutes before NOW
    st.one_of(st.none(), st.none(), st.none(), st.sampled_from([3, 5])),  # sent by name
)


def _load(engine: EngineForTests, clock: ManualClock, specs: list[tuple[str, Priority, int,
                                                                         int | None]]) -> None:
    with engine.store.write() as conn:
        conn.execute(sa.delete(tickets))
        conn.execute(sa.update(counters).values(current_ticket_id=None, priority_streak=0))
    for service, klass, minutes_ago, target in sorted(specs, key=lambda s: -s[2]):
        at = NOW - timedelta(minutes=minutes_ago)
        clock.set(at)
        if klass is Priority.APPOINTMENT:  # ranks by its slot: up to 20 minutes after check-in
            with engine.unit(KIOSK) as work:
                row = engine.tickets.issue_in(work, service, klass, channel="appointment",
                                              rank_at=at + timedelta(minutes=minutes_ago % 21))
        else:
            row = engine.issue(service, klass, "老年人" if klass is Priority.GREEN else None)
        if target is not None:
            with engine.store.write() as conn:
                conn.execute(sa.update(tickets).where(tickets.c.id == row["id"])
                             .values(target_counter=target))
    clock.set(NOW)


def _waiting(engine: EngineForTests) -> list[Waiting]:
    with engine.store.read() as conn:
        rows = conn.execute(sa.select(tickets).where(
            tickets.c.state == TicketState.WAITING.value)).all()
    return [Waiting(r.id, r.queue_id, r.service_id, r.priority_rank, r.sort_at, r.target_counter)
            for r in rows]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(ticket_spec, min_size=1, max_size=14),
       calls=st.lists(st.sampled_from(WINDOWS), min_size=1, max_size=10))
def test_every_call_is_the_models_pick(always_open: EngineForTests, clock: ManualClock,
                                       specs: list[tuple[str, Priority, int, int | None]],
                                       calls: list[int]) -> None:
    engine = always_open
    # The streak guard is its own rule (tested in test_policy.py); here it never applies.
    policy = engine.config.policy.model_copy(update={"max_priority_streak": 100})
    engine.config = engine.config.model_copy(update={"policy": policy})
    promote = engine.config.policy.promote_after_minutes
    _load(engine, clock, specs)
    for window in calls:
        before = _waiting(engine)
        services = engine.config.counter_services(window)
        preference = queue_preference(engine.config, window)
        expected = model_pick(before, window, services, preference, NOW, promote)
        called = engine.call_next(window)
        if expected is None:
            assert called is None
            continue
        assert called is not None, f"window {window} called nobody; the model picks {expected}"
        assert called["ticket"]["id"] == expected.id, (window, called["ticket"], expected)
        picked = next(w for w in before if w.id == expected.id)
        if picked.target is None:
            for other in before:
                if other.id == picked.id or other.target is not None:
                    continue
                if other.service not in services:
                    continue
                # First come, first served within a queue and a class, at every window.
                if other.queue == picked.queue and other.rank == picked.rank:
                    assert (other.rank_at, other.id) > (picked.rank_at, picked.id), (
                        f"{other} waited longer than {picked} in the same line")
                # Nobody the window could call waits past the aging bound behind a younger one.
                if other.rank_at <= NOW - timedelta(minutes=promote):
                    assert other.rank_at >= picked.rank_at, (
                        f"aged {other} left waiting while younger {picked} was called")
        engine.start(window)
        engine.finish(window, Outcome.ON_THE_SPOT)


def test_a_comprehensive_window_starves_nobody(always_open: EngineForTests,
                                               clock: ManualClock) -> None:
    """The probe's morning: an E ticket at 09:00 at a comprehensive window that prefers queue
    A, with A residents arriving all morning. Once it has waited `promote_after_minutes`, it is
    the next call there, before every A ticket issued after it."""
    engine = always_open
    promote = timedelta(minutes=engine.config.policy.promote_after_minutes)
    clock.set(hall_time(2026, 11, 25, 9, 0))
    e = engine.issue("gas-payment")
    called_e_at: datetime | None = None
    for minute in range(0, 120, 5):
        clock.set(hall_time(2026, 11, 25, 9, 0) + timedelta(minutes=minute))
        engine.issue("social-insurance-enrolment")
        engine.issue("social-insurance-enrolment")
        called = engine.call_next(1)
        assert called is not None
        engine.start(1)
        engine.finish(1, Outcome.ON_THE_SPOT)
        if called["ticket"]["id"] == e["id"]:
            called_e_at = clock.now()
            break
    assert called_e_at is not None, "the E ticket starved at the comprehensive window"
    assert called_e_at - hall_time(2026, 11, 25, 9, 0) <= promote + timedelta(minutes=5)


def test_people_ahead_is_true_when_every_window_calls(always_open: EngineForTests,
                                                      clock: ManualClock) -> None:
    """A001 is told 0 ahead and is the first A called, whichever A window calls first; A004,
    told 3 ahead, is called after exactly three other A tickets."""
    engine = always_open
    issued = []
    for minute, item in enumerate(["pension-qualification", "social-insurance-enrolment",
                                   "pension-qualification", "unemployment-registration",
                                   "social-insurance-enrolment"]):
        clock.set(hall_time(2026, 11, 25, 9, minute))
        issued.append(engine.issue(item))
    assert [t["people_ahead"] for t in issued] == [0, 1, 2, 3, 4]
    clock.set(hall_time(2026, 11, 25, 9, 10))
    order = []
    for window in (3, 4, 3, 4, 3):  # window 3 lists social-insurance first, window 4 pension
        called = engine.call_next(window)
        assert called is not None
        order.append(called["ticket"]["number"])
        engine.start(window)
        engine.finish(window, Outcome.ON_THE_SPOT)
    assert order == ["A001", "A002", "A003", "A004", "A005"]
