"""The calling policy: window priority order, classes, FIFO, and the fairness guard."""

from __future__ import annotations

from datetime import timedelta

from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import ManualClock
from onestop.queue.engine import QueueEngine
from onestop.queue.states import Outcome, Priority


def serve_next(engine: QueueEngine, window: int) -> str | None:
    called = engine.call_next(window)
    if called is None:
        return None
    engine.start(window)
    engine.finish(window, Outcome.ON_THE_SPOT)
    return str(called["ticket"]["number"])


def test_one_queue_is_first_come_first_served_whatever_the_item(
    engine: QueueEngine, config: HallConfig, clock: ManualClock
) -> None:
    order = config.counter_services(5)
    first_item, second_item = order[0], order[1]
    tick = timedelta(seconds=10)
    engine.issue(second_item)  # B001 normal, second item of window 5
    clock.advance(tick)
    engine.issue(first_item)  # B002 normal
    clock.advance(tick)
    engine.issue(first_item, Priority.APPOINTMENT)  # B003
    clock.advance(tick)
    engine.issue(first_item, Priority.GREEN, "80岁老人")  # B004
    clock.advance(tick)
    engine.issue(first_item)  # B005
    clock.advance(tick)
    calls = [serve_next(engine, 5) for _ in range(6)]
    # One line of residents (queue B, one number sequence): green, then appointment, then
    # normal tickets by issue time. The window's item order never puts B002 before B001.
    assert calls == ["B004", "B003", "B001", "B002", "B005", None]


def test_streak_guard_lets_a_normal_ticket_through(
    engine: QueueEngine, config: HallConfig, clock: ManualClock
) -> None:
    k = config.policy.max_priority_streak
    item = config.counter_services(5)[0]
    normal = engine.issue(item)["number"]
    for _ in range(k + 3):
        clock.advance(timedelta(seconds=5))
        engine.issue(item, Priority.GREEN, "孕妇")
    calls = [serve_next(engine, 5) for _ in range(k + 1)]
    assert calls[-1] == normal, f"after {k} priority calls the normal ticket is owed a call"
    assert normal not in calls[:-1]


def test_long_wait_promotes_a_normal_ticket(
    engine: QueueEngine, config: HallConfig, clock: ManualClock
) -> None:
    item = config.counter_services(5)[0]
    green = engine.issue(item, Priority.GREEN, "残疾人")["number"]
    clock.advance(timedelta(minutes=1))
    normal = engine.issue(item)["number"]
    clock.advance(timedelta(minutes=config.policy.promote_after_minutes))
    later_green = engine.issue(item, Priority.GREEN, "老人")["number"]
    # The promoted normal ticket ranks with the green channel by issue time.
    assert [serve_next(engine, 5) for _ in range(3)] == [green, normal, later_green]


def test_normal_wait_is_bounded_under_a_stream_of_green_tickets(
    engine: QueueEngine, config: HallConfig, clock: ManualClock
) -> None:
    """Two green tickets arrive every service slot (more than one window can serve) for two
    hours; the normal ticket issued at the start must still be called within the policy's
    bound: the promotion time plus the time to serve what was issued before it."""
    item = config.counter_services(5)[0]
    service = timedelta(minutes=5)
    for _ in range(3):
        engine.issue(item, Priority.GREEN, "老人")
    normal = engine.issue(item)
    issued_at = clock.now()
    called_after: timedelta | None = None
    for _ in range(24):
        engine.issue(item, Priority.GREEN, "老人")
        engine.issue(item, Priority.GREEN, "老人")
        if serve_next(engine, 5) == normal["number"]:
            called_after = clock.now() - issued_at
            break
        clock.advance(service)
    assert called_after is not None, "normal ticket starved behind green tickets"
    bound = timedelta(minutes=config.policy.promote_after_minutes) + 4 * service
    assert called_after <= bound
    # Without the streak guard it would have waited for the promotion; with it, far less.
    assert called_after <= (config.policy.max_priority_streak + 1) * service
