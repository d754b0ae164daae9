"""Two windows pause at the same instant: they can never both close the last windows of an item.

Windows 5 and 6 are the only staffed windows serving civil-affairs items. Each pause checks
that another window still serves its items; without a hall-wide lock, two pauses under READ
COMMITTED both see the other window open and both succeed (write skew). The hall lock
(pg_advisory_xact_lock, taken first by every change that can close a window) serialises them.
Repeated, with both transactions released together by a barrier, so they really overlap.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from engine_support import SUPERVISOR, EngineForTests, clerk_at
from test_concurrency import run_together

from onestop.queue.errors import InvalidTransition
from onestop.queue.states import CounterState
from onestop.queue.tables import counters

ROUNDS = 25
CIVIL = ["subsistence-allowance", "temporary-assistance", "disability-card", "elderly-card",
         "longevity-allowance"]


def _open_for_civil(engine: EngineForTests) -> list[int]:
    with engine.store.read() as conn:
        rows = conn.execute(sa.select(counters.c.number).where(
            counters.c.state == CounterState.OPEN.value)).all()
    return [n for (n,) in rows
            if set(CIVIL) & set(engine.config.counter_services(n))]


def test_two_concurrent_pauses_never_uncover_an_item(bare_engine: EngineForTests) -> None:
    engine = bare_engine
    engine.staff(5, 6, 7)  # 7 serves residency only; the comprehensive 1 and 2 are unstaffed
    outcomes: list[tuple[bool, bool]] = []
    for _ in range(ROUNDS):
        gate = threading.Lock()
        succeeded: list[int] = []

        def pause(i: int, gate: threading.Lock = gate, succeeded: list[int] = succeeded) -> None:
            window = (5, 6)[i]
            try:
                engine.windows.pause(window, "会议", actor=clerk_at(window))
            except InvalidTransition:
                return
            with gate:
                succeeded.append(window)

        run_together(pause, 2)
        assert _open_for_civil(engine), f"both windows paused: {succeeded}"
        assert len(succeeded) == 1, succeeded
        outcomes.append((5 in succeeded, 6 in succeeded))
        engine.windows.resume(succeeded[0], actor=SUPERVISOR)
    assert len(outcomes) == ROUNDS
