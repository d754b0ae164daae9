"""What the LED screens say, from the same events the hall screen follows (pure: no I/O)."""

from __future__ import annotations

from typing import Any

from onestop.drivers.led.content import Colour
from onestop.queue.catalogue import HallConfig
from onestop.signage.led_content import HALL_BOARD, LedHallState


def _ticket(number: str, counter: int | None, state: str, ticket_id: int = 1) -> dict[str, Any]:
    return {"id": ticket_id, "number": number, "counter": counter, "state": state}


def _counter(number: int, state: str = "open", current: int | None = None,
             reason: str | None = None) -> dict[str, Any]:
    return {"number": number, "state": state, "pause_reason": reason,
            "current_ticket_id": current}


def test_a_call_shows_on_its_window_and_the_hall_board_first(config: HallConfig) -> None:
    state = LedHallState(config)
    changed, urgent = state.apply("ticket.called", {
        "ticket": _ticket("A012", 3, "called"), "counter": _counter(3, current=1),
        "queues": {"social-security": 4}})
    assert changed == {"3", HALL_BOARD}
    assert urgent
    window = state.window_content(3)
    assert window.lines[0].text == "A012 请到3号窗口"
    assert window.lines[0].colour is Colour.RED
    hall = state.hall_content()
    assert hall.lines[0].text == "请 A012 号到3号窗口"
    assert "社会保障 4人" in hall.lines[1].text


def test_serving_then_finished_returns_the_window_to_waiting(config: HallConfig) -> None:
    state = LedHallState(config)
    state.apply("ticket.called", {"ticket": _ticket("B003", 5, "called"),
                                  "counter": _counter(5, current=1)})
    changed, urgent = state.apply("ticket.serving", {"ticket": _ticket("B003", 5, "serving"),
                                                     "counter": _counter(5, current=1)})
    assert changed == {"5"} and not urgent
    assert state.window_content(5).lines[0].text == "B003 正在办理"
    changed, _ = state.apply("ticket.finished", {"ticket": _ticket("B003", 5, "done"),
                                                 "counter": _counter(5)})
    assert "5" in changed
    assert state.window_content(5).lines[0].text == "5号窗口"


def test_a_paused_window_names_an_open_window_for_the_same_items(config: HallConfig) -> None:
    state = LedHallState(config)
    state.apply("counter.paused", {"counter": _counter(7, "paused", reason="午餐")})
    content = state.window_content(7)
    assert [line.text for line in content.lines] == ["暂停服务", "请到8号窗口"]
    # Window 8 pauses too: window 7 now sends residents to a comprehensive window.
    changed, _ = state.apply("counter.paused", {"counter": _counter(8, "paused", reason="午餐")})
    assert {"7", "8"} <= changed
    assert state.window_content(7).lines[1].text == "请到1号窗口"


def test_notices_and_snapshot_load(config: HallConfig) -> None:
    state = LedHallState(config)
    state.load({"queues": [{"id": "residency", "waiting": 9}],
                "counters": [{**_counter(2, current=5), "ticket": _ticket("C001", 2, "called", 5)}],
                "recent_calls": [_ticket("C001", 2, "called", 5)]},
               [{"title": "本周六预约办理户籍业务"}])
    assert state.window_content(2).lines[0].text == "C001 请到2号窗口"
    hall = state.hall_content()
    assert "户籍证照 9人" in hall.lines[1].text
    assert hall.lines[2].text == "本周六预约办理户籍业务"
    changed, urgent = state.apply("notice.changed", {"notices": []})
    assert changed == {HALL_BOARD} and not urgent
    assert state.hall_content().lines[2].text != "本周六预约办理户籍业务"


def test_a_hall_words_its_own_screens(config: HallConfig) -> None:
    from onestop.queue.catalogue import LedTexts

    texts = LedTexts(window_called="{number}|请到{window}办理", hall_call="{number} → {window}")
    state = LedHallState(config.model_copy(update={"led_texts": texts}))
    state.apply("ticket.called", {"ticket": _ticket("A012", 3, "called"),
                                  "counter": _counter(3, current=1)})
    assert [line.text for line in state.window_content(3).lines] == ["A012", "请到3号窗口办理"]
    assert state.hall_content().lines[0].text == "A012 → 3号窗口"


def test_a_misspelt_placeholder_is_a_config_error() -> None:
    import pytest
    from pydantic import ValidationError

    from onestop.queue.catalogue import LedTexts

    with pytest.raises(ValidationError, match=r"window_called: unknown placeholder\(s\) \['numbr'\]"):
        LedTexts(window_called="{numbr} 请到{window}")


def test_a_window_nobody_sits_at_is_never_named_and_sends_residents_on(
        config: HallConfig) -> None:
    """Only windows 7 and 8 have a clerk (residency): an empty window's LED sends residents to
    a staffed one, and no LED ever says "请到1号窗口" while nobody sits at window 1."""
    state = LedHallState(config)
    snapshot = {"counters": [_counter(n, "open" if n in (7, 8) else "unstaffed")
                             for n in range(1, 13)]}
    state.load(snapshot, [])
    assert [line.text for line in state.window_content(1).lines] == ["暂停服务", "请到7号窗口"]
    # Window 3 (social security): nobody anywhere serves its items.
    assert [line.text for line in state.window_content(3).lines] == ["暂停服务", "暂无人员"]
    # 8 pauses: 7 is now the only residency window, and 8's screen says so.
    state.apply("counter.paused", {"counter": _counter(8, "paused", reason="午餐")})
    assert state.window_content(8).lines[1].text == "请到7号窗口"
    # 7's clerk leaves: 8 (paused) has nowhere to send anyone.
    changed, _ = state.apply("counter.unstaffed", {"counter": _counter(7, "unstaffed")})
    assert "8" in changed and "1" in changed
    assert [line.text for line in state.window_content(8).lines] == ["暂停服务", "午餐"]
    assert all("请到" not in line.text for n in range(1, 13)
               for line in state.window_content(n).lines)
