"""The hub releases events in gapless seq order, whatever order the committing threads publish."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from onestop.queue.ledger import Event
from onestop.web.hub import SUBSCRIBER_BACKLOG, EventHub


def event(seq: int) -> Event:
    return Event(
        seq=seq, type="ticket.issued", at=datetime(2026, 11, 25, tzinfo=UTC), data={"n": seq}
    )


def make_hub(head: int, ledger: list[Event]) -> EventHub:
    async def between(since: int, upto: int) -> Sequence[Event]:
        return [e for e in ledger if since < e.seq <= upto]

    async def head_now() -> int:
        return max((e.seq for e in ledger), default=head)

    return EventHub(ZoneInfo("Asia/Shanghai"), head, between, head_now)


def test_out_of_order_publication_is_delivered_in_order() -> None:
    hub = make_hub(10, [])
    sub = hub.subscribe()
    hub.feed([event(12), event(14)])
    assert sub.queue.empty(), "nothing may pass while seq 11 is missing"
    hub.feed([event(11)])
    hub.feed([event(13), event(12)])  # 12 again: a duplicate from the poll
    got = []
    while not sub.queue.empty():
        item = sub.queue.get_nowait()
        assert item is not None
        got.append(item[0])
    assert got == [11, 12, 13, 14]
    assert hub.last_seq == 14


def test_poll_fills_events_committed_elsewhere() -> None:
    async def scenario() -> list[int]:
        ledger = [event(s) for s in range(1, 6)]
        hub = make_hub(0, ledger)
        sub = hub.subscribe()
        hub.start()
        got = []
        try:
            while len(got) < 5:
                item = await asyncio.wait_for(sub.queue.get(), 5)
                assert item is not None
                got.append(item[0])
        finally:
            await hub.stop()
        return got

    assert asyncio.run(scenario()) == [1, 2, 3, 4, 5]


def test_slow_subscriber_is_cut_off_not_buffered_forever() -> None:
    hub = make_hub(0, [])
    slow = hub.subscribe()
    hub.feed([event(s) for s in range(1, SUBSCRIBER_BACKLOG + 10)])
    assert slow.overflowed
    assert slow.queue.qsize() == SUBSCRIBER_BACKLOG + 1  # the backlog plus the close marker
