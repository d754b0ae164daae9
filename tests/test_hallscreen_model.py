"""The pygame hall screen's state model, fed wire messages as the server sends them."""

from __future__ import annotations

import math
from typing import Any

from onestop.signage.hallscreen.client import Message, Notices, Resumed, Status, apply_update
from onestop.signage.hallscreen.model import OFFLINE_GRACE_SECONDS, ScreenModel

BASE = 1_795_000_000.0  # an epoch second on 2026-11-18 (the exact day is computed below)


class FakeTime:
    """Two clocks a test moves by hand: monotonic for flashing, wall for the server's time."""

    def __init__(self) -> None:
        self.mono = 100.0
        self.wall = BASE

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds


def iso(wall: float) -> str:
    from datetime import datetime, timedelta, timezone

    return datetime.fromtimestamp(wall, timezone(timedelta(hours=8))).isoformat()


def day(wall: float) -> str:
    return iso(wall)[:10]


def make_model(t: FakeTime) -> ScreenModel:
    return ScreenModel(monotonic=lambda: t.mono, wall=lambda: t.wall)


def ticket(tid: int, number: str, counter: int, day_: str, name: str | None = None,
           priority: str = "normal") -> dict[str, Any]:
    return {"id": tid, "number": number, "counter": counter, "counter_name": f"{counter}号窗口",
            "service_name": "社会保险参保登记", "service_name_en": "Social insurance enrolment",
            "queue": "social-security", "priority": priority, "state": "called",
            "service_day": day_, "resident_name": name}


def snapshot(t: FakeTime, seq: int = 10, recent: list[dict[str, Any]] | None = None
             ) -> dict[str, Any]:
    return {"seq": seq, "type": "snapshot", "at": iso(t.wall), "data": {
        "seq": seq,
        "hall": {"name": "青枫街道政务服务中心", "name_en": "Qingfeng Centre"},
        "queues": [{"id": "social-security", "prefix": "A", "name": "社会保障",
                    "name_en": "Social Security", "waiting": 4},
                   {"id": "civil-affairs", "prefix": "B", "name": "民政优抚",
                    "name_en": "Civil Affairs", "waiting": 0}],
        "counters": [{"number": n, "name": f"{n}号窗口", "name_en": f"Window {n}",
                      "state": "open", "pause_reason": None} for n in range(1, 13)],
        "recent_calls": recent or [],
    }}


def called(t: FakeTime, seq: int, tk: dict[str, Any], kind: str = "ticket.called",
           at: float | None = None) -> dict[str, Any]:
    return {"seq": seq, "type": kind, "at": iso(t.wall if at is None else at),
            "data": {"ticket": tk, "counter": {"number": tk["counter"],
                                               "name": f"{tk['counter']}号窗口",
                                               "name_en": f"Window {tk['counter']}"},
                     "queues": {"social-security": 3}}}


def test_snapshot_sets_hall_queues_counters_and_todays_recent_calls() -> None:
    t = FakeTime()
    m = make_model(t)
    today, yesterday = day(t.wall), day(t.wall - 86400)
    m.apply(snapshot(t, 10, [ticket(3, "A003", 2, today), ticket(2, "A002", 1, today),
                             ticket(2, "A002", 1, today), ticket(1, "A001", 5, yesterday)]))
    assert m.hall_name == "青枫街道政务服务中心"
    assert m.seq == 10 and m.snapshots == 1
    assert [(q.prefix, q.waiting) for q in m.queues] == [("A", 4), ("B", 0)]
    assert m.counters[3].name_en == "Window 3"
    assert [c.number for c in m.calls] == ["A003", "A002"]  # deduplicated, yesterday dropped
    assert m.current is not None and m.current.number == "A003"
    assert not m.flashing(), "calls in a snapshot are history, not news"


def test_live_call_flashes_for_six_seconds_and_leads_the_list() -> None:
    t = FakeTime()
    m = make_model(t)
    m.apply(snapshot(t))
    m.apply(called(t, 11, ticket(12, "A012", 3, day(t.wall), name="张三")))
    assert m.current is not None
    assert (m.current.number, m.current.window, m.current.name) == ("A012", "3号窗口", "张*")
    assert m.flashing() and m.flashes == 1 and m.flash_seq == 11
    assert m.queues[0].waiting == 3
    t.advance(5.9)
    assert m.flashing()
    t.advance(0.2)
    assert not m.flashing()


def test_recall_moves_the_ticket_to_the_top_without_a_duplicate() -> None:
    t = FakeTime()
    m = make_model(t)
    m.apply(snapshot(t))
    today = day(t.wall)
    m.apply(called(t, 11, ticket(1, "A001", 1, today)))
    m.apply(called(t, 12, ticket(2, "A002", 2, today)))
    m.apply(called(t, 13, ticket(1, "A001", 1, today), kind="ticket.recalled"))
    assert [c.number for c in m.calls] == ["A001", "A002"]
    assert m.current is not None and m.current.number == "A001"
    assert m.flashes == 3


def test_at_most_eight_recent_calls_newest_first() -> None:
    t = FakeTime()
    m = make_model(t)
    m.apply(snapshot(t))
    for i in range(1, 21):
        m.apply(called(t, 10 + i, ticket(i, f"A{i:03d}", 1 + i % 12, day(t.wall))))
    assert [c.number for c in m.calls] == [f"A{i:03d}" for i in range(20, 12, -1)]


def test_an_event_seen_twice_is_applied_once_and_gaps_are_counted() -> None:
    t = FakeTime()
    m = make_model(t)
    m.apply(snapshot(t, seq=10))
    event = called(t, 11, ticket(1, "A001", 1, day(t.wall)))
    m.apply(event)
    m.apply(event)
    assert m.flashes == 1 and m.gaps == 0
    m.apply(called(t, 15, ticket(2, "A002", 1, day(t.wall))))
    assert m.gaps == 1 and m.seq == 15


def test_calls_replayed_while_catching_up_do_not_flash_but_later_ones_do() -> None:
    t = FakeTime()
    m = make_model(t)
    m.apply(snapshot(t, seq=10))
    t.advance(120)  # an outage: two calls happen meanwhile
    missed_at = t.wall - 60
    t.advance(1)
    m.begin_catch_up(head=12, opened_wall=t.wall)
    m.apply(called(t, 11, ticket(1, "A001", 1, day(t.wall)), at=missed_at))
    m.apply(called(t, 12, ticket(2, "A002", 2, day(t.wall)), at=missed_at + 1))
    assert [c.number for c in m.calls] == ["A002", "A001"]
    assert m.current is not None and m.current.number == "A002"
    assert m.flashes == 0 and not m.flashing()
    t.advance(5)
    m.apply(called(t, 13, ticket(3, "A003", 3, day(t.wall))))
    assert m.flashes == 1 and m.flashing()


def test_a_call_after_the_socket_opened_flashes_even_when_the_head_was_read_late() -> None:
    """/healthz answered after a new call was committed: its time says it is news."""
    t = FakeTime()
    m = make_model(t)
    m.apply(snapshot(t, seq=10))
    opened = t.wall
    t.advance(3)
    m.begin_catch_up(head=11, opened_wall=opened)
    m.apply(called(t, 11, ticket(1, "A001", 1, day(t.wall))))
    assert m.flashes == 1


def test_a_call_much_older_than_the_newest_event_is_quiet() -> None:
    t = FakeTime()
    m = make_model(t)
    m.apply(snapshot(t, seq=10))
    m.apply(called(t, 11, ticket(1, "A001", 1, day(t.wall))))
    m.apply(called(t, 12, ticket(2, "A002", 1, day(t.wall)), at=t.wall - 31))
    assert m.flashes == 1 and m.current is not None and m.current.number == "A002"


def test_a_new_day_drops_yesterdays_calls() -> None:
    t = FakeTime()
    m = make_model(t)
    m.apply(snapshot(t))
    m.apply(called(t, 11, ticket(1, "A001", 1, day(t.wall))))
    m.tick()
    assert len(m.calls) == 1
    t.advance(86400)
    m.tick()
    assert m.calls == [] and m.current is None and not m.flashing()


def test_notices_from_events_and_fetches_newest_wins() -> None:
    t = FakeTime()
    m = make_model(t)
    m.apply(snapshot(t, seq=10))
    m.set_notices([{"id": 1, "title": "旧公告", "body": "a\n b"}], as_of_seq=10)
    assert [(n.title, n.body) for n in m.notices] == [("旧公告", "a b")]
    m.apply({"seq": 11, "type": "notice.changed", "at": iso(t.wall),
             "data": {"notices": [{"id": 2, "title": "新公告", "ends_at": iso(t.wall + 60)}],
                      "change": {"action": "created", "id": 2}}})
    assert [n.title for n in m.notices] == ["新公告"]
    m.set_notices([{"id": 1, "title": "旧公告"}], as_of_seq=10)  # started before the event
    assert [n.title for n in m.notices] == ["新公告"]
    assert [n.title for n in m.showing_notices()] == ["新公告"]
    t.advance(61)
    assert m.showing_notices() == [], "an ended notice leaves without waiting for the server"


def test_counter_pause_and_resume() -> None:
    t = FakeTime()
    m = make_model(t)
    m.apply(snapshot(t))
    m.apply({"seq": 11, "type": "counter.paused", "at": iso(t.wall), "data": {"counter": {
        "number": 4, "name": "4号窗口", "state": "paused", "pause_reason": "午餐"}}})
    assert (m.counters[4].state, m.counters[4].pause_reason) == ("paused", "午餐")
    assert m.counters[4].name_en == "Window 4", "what the event leaves out is kept"
    m.apply({"seq": 12, "type": "counter.resumed", "at": iso(t.wall), "data": {"counter": {
        "number": 4, "state": "open", "pause_reason": None}}})
    assert (m.counters[4].state, m.counters[4].pause_reason) == ("open", None)


def test_offline_banner_only_after_the_grace_period() -> None:
    t = FakeTime()
    m = make_model(t)
    apply_update(m, Status(True))
    apply_update(m, Status(False))
    t.advance(OFFLINE_GRACE_SECONDS - 0.1)
    assert not m.offline()
    t.advance(0.2)
    assert m.offline()
    apply_update(m, Status(True))
    assert not m.offline()


def test_client_updates_reach_the_model() -> None:
    t = FakeTime()
    m = make_model(t)
    apply_update(m, Message(snapshot(t, seq=5)))
    apply_update(m, Resumed(head=math.inf, opened_wall=t.wall + 10))
    apply_update(m, Message(called(t, 6, ticket(1, "A001", 1, day(t.wall)))))
    apply_update(m, Notices([{"id": 1, "title": "公告"}], as_of_seq=6))
    assert m.seq == 6 and m.flashes == 0 and [n.title for n in m.notices] == ["公告"]


def test_malformed_messages_change_nothing() -> None:
    t = FakeTime()
    m = make_model(t)
    m.apply(snapshot(t, seq=10))
    before = (list(m.calls), m.seq)
    for junk in ({}, {"type": "ticket.called"}, {"seq": 11, "type": "ticket.called", "data": 5},
                 {"seq": 12, "type": "ticket.called", "data": {"ticket": {"id": 1}}}):
        m.apply(junk)
    assert m.calls == before[0] and m.current is None and m.flashes == 0


def test_server_addresses() -> None:
    from onestop.signage.hallscreen.client import http_url, ws_url

    assert ws_url("http://10.0.0.5:8000") == "ws://10.0.0.5:8000/ws/events"
    assert ws_url("https://hall.example/") == "wss://hall.example/ws/events"
    assert ws_url("10.0.0.5:8000") == "ws://10.0.0.5:8000/ws/events"
    assert http_url("ws://10.0.0.5:8000/ws/events", "/healthz") == "http://10.0.0.5:8000/healthz"


def test_the_day_adds_paused_windows_and_the_phase_to_the_screen() -> None:
    m = make_model(FakeTime())
    m.set_day({"phase": "extended", "phase_label": "延时服务中", "phase_label_en": "Extended hours",
               "windows": [
                   {"number": 5, "name": "5号窗口", "name_en": "Window 5", "state": "paused",
                    "pause_reason": "午餐", "alternative_name": "6号窗口",
                    "alternative_name_en": "Window 6"},
                   {"number": 9, "name": "9号窗口", "name_en": "Window 9", "state": "paused",
                    "pause_reason": "会议", "alternative_name": None},
                   {"number": 1, "name": "1号窗口", "name_en": "Window 1", "state": "open"}]})
    assert m.day_notes == [("延时服务中", "Extended hours"),
                           ("5号窗口 暂停服务，请到6号窗口", "Window 5 is closed: please go to Window 6"),
                           ("9号窗口 暂停服务（会议）", "Window 9 is closed")]
    m.set_day({"phase": "open", "windows": []})
    assert m.day_notes == []
    m.set_day("not a day")  # a broken answer changes nothing
    assert m.day_notes == []
