"""Numbers and calls stay exactly-once when many windows act at the same moment.

Real threads, each with its own database connection, hit the same database: on SQLite the
BEGIN IMMEDIATE lock serialises them, on PostgreSQL row locks with SKIP LOCKED do.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from onestop.queue.catalogue import HallConfig
from onestop.queue.engine import QueueEngine
from onestop.queue.states import Outcome
from onestop.queue.tables import events

THREADS = 8
TICKETS = 2000


def run_together(work: Callable[[int], Any], n: int) -> list[Any]:
    """Run work(i) in n threads released at the same instant; re-raise the first failure."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def target(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    if errors:
        raise errors[0]
    return results


def test_concurrent_issue_and_call_next_are_exactly_once(
    always_open: QueueEngine, config: HallConfig
) -> None:
    engine = always_open
    services = [s.id for s in config.services]

    def issue_share(i: int) -> list[tuple[int, str, str]]:
        out = []
        for k in range(TICKETS // THREADS):
            t = engine.issue(services[(i * 7 + k) % len(services)])
            out.append((t["id"], t["number"], t["queue"]))
        return out

    issued = [t for share in run_together(issue_share, THREADS) for t in share]
    assert len(issued) == TICKETS
    by_prefix: dict[str, list[int]] = defaultdict(list)
    for _, number, _ in issued:
        by_prefix[number[0]].append(int(number[1:]))
    for prefix, seqs in by_prefix.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), f"gaps or repeats in {prefix}"

    def call_until_empty(i: int) -> list[int]:
        window = i + 1  # windows 1 and 2 serve everything, so the hall drains completely
        called = []
        while (result := engine.call_next(window)) is not None:
            called.append(result["ticket"]["id"])
            engine.start(window)
            engine.finish(window, Outcome.ON_THE_SPOT)
        return called

    per_window = run_together(call_until_empty, THREADS)
    all_called = [tid for calls in per_window for tid in calls]
    twice = [tid for tid, n in Counter(all_called).items() if n > 1]
    assert not twice, f"tickets called more than once: {twice[:10]}"
    assert sorted(all_called) == sorted(tid for tid, _, _ in issued)
    assert sum(1 for calls in per_window if calls) >= 2, "calls were not actually concurrent"

    with engine.store.read() as conn:
        types = Counter(t for (t,) in conn.execute(sa.select(events.c.type)))
        seqs = [s for (s,) in conn.execute(sa.select(events.c.seq).order_by(events.c.seq))]
    assert types["ticket.issued"] == TICKETS
    assert types["ticket.called"] == TICKETS
    assert types["ticket.finished"] == TICKETS
    assert seqs == list(range(1, len(seqs) + 1)), "the ledger's sequence must be gapless"
