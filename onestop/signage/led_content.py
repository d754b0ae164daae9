"""What the hall's LED screens say, worked out from the same events every screen follows.

Pure: no I/O, no protocol. `LedHallState` takes the snapshot, then each ledger event, and says
which screens changed; `window_content` and `hall_content` are the templates:

- a window's screen: "A012 请到3号窗口" while the resident is called, "A012 正在办理" while being
  served, the window's name when it waits for the next call, "暂停服务" with "请到Y号窗口"
  (an open window for the same items) while it is paused or nobody sits there (暂无人员), so the
  LED never sends a resident to an empty window;
- the hall board: the latest call, waiting counts per queue (scrolling) and the first notice
  showing now (scrolling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onestop.drivers.led.content import Colour, Effect, ScreenContent, TextLine
from onestop.queue.catalogue import HallConfig
from onestop.queue.coverage import alternative_window
from onestop.signage.notice_changes import apply_change

HALL_BOARD = "hall"


@dataclass
class WindowNow:
    number: int
    paused: bool = False  # paused, or nobody sits there: either way it calls nobody
    unstaffed: bool = False
    pause_reason: str | None = None
    ticket_id: int | None = None
    ticket_number: str | None = None
    serving: bool = False


@dataclass(frozen=True)
class LatestCall:
    number: str
    counter: int


class LedHallState:
    def __init__(self, config: HallConfig) -> None:
        self.config = config
        self.windows = {c.number: WindowNow(c.number) for c in config.counters}
        self.waiting = {q.id: 0 for q in config.queues}
        self.latest: LatestCall | None = None
        self.notice: str | None = None
        self.notices: list[dict[str, Any]] = []  # showing, in order (to apply notice.changed)

    # -- input ------------------------------------------------------------------------------

    def load(self, snapshot: dict[str, Any], notices: list[dict[str, Any]]) -> None:
        for q in snapshot.get("queues", []):
            if q.get("id") in self.waiting:
                self.waiting[q["id"]] = int(q.get("waiting") or 0)
        for c in snapshot.get("counters", []):
            self._set_counter(c)
            window = self.windows.get(c.get("number"))
            ticket = c.get("ticket")
            if window is not None and ticket:
                self._seat(window, ticket)
        calls = snapshot.get("recent_calls") or []
        if calls and calls[0].get("counter") is not None:
            self.latest = LatestCall(str(calls[0]["number"]), int(calls[0]["counter"]))
        self._set_notices(notices)

    def apply(self, type_: str, data: dict[str, Any]) -> tuple[set[str], bool]:
        """Fold one event in; returns the screens it changed (window numbers as str, or
        HALL_BOARD) and whether the change is a call (sent before anything else)."""
        changed: set[str] = set()
        urgent = False
        for queue_id, count in (data.get("queues") or {}).items():
            if queue_id in self.waiting and self.waiting[queue_id] != count:
                self.waiting[queue_id] = int(count)
                changed.add(HALL_BOARD)
        ticket = data.get("ticket") or {}
        counter = data.get("counter") or {}
        if counter and self._set_counter(counter):
            changed.add(str(counter["number"]))
        if type_ in ("ticket.called", "ticket.recalled", "ticket.serving"):
            window = self.windows.get(ticket.get("counter"))  # type: ignore[arg-type]
            if window is not None:
                self._seat(window, ticket)
                changed.add(str(window.number))
                if type_ != "ticket.serving":
                    self.latest = LatestCall(str(ticket["number"]), window.number)
                    changed.add(HALL_BOARD)
                    urgent = True
        elif type_ in ("ticket.finished", "ticket.no_show", "ticket.transferred",
                       "ticket.cancelled"):
            for window in self.windows.values():
                if window.ticket_id is not None and window.ticket_id == ticket.get("id"):
                    window.ticket_id = window.ticket_number = None
                    window.serving = False
                    changed.add(str(window.number))
        elif type_ == "notice.changed":
            before = self.notice
            self._set_notices(apply_change(self.notices, data)[0])
            if self.notice != before:
                changed.add(HALL_BOARD)
        if type_ in ("counter.paused", "counter.resumed", "counter.staffed",
                     "counter.unstaffed"):
            # Another window opening or closing changes where a closed window sends residents.
            changed.update(str(w.number) for w in self.windows.values() if w.paused)
        return changed, urgent

    def _set_counter(self, view: dict[str, Any]) -> bool:
        window = self.windows.get(view.get("number"))  # type: ignore[arg-type]
        if window is None:
            return False
        before = (window.paused, window.unstaffed, window.pause_reason, window.ticket_id)
        window.unstaffed = view.get("state") == "unstaffed"
        window.paused = view.get("state") in ("paused", "unstaffed")
        window.pause_reason = "暂无人员" if window.unstaffed else view.get("pause_reason")
        if view.get("current_ticket_id") is None and "current_ticket_id" in view:
            window.ticket_id = window.ticket_number = None
            window.serving = False
        return before != (window.paused, window.unstaffed, window.pause_reason, window.ticket_id)

    @staticmethod
    def _seat(window: WindowNow, ticket: dict[str, Any]) -> None:
        window.ticket_id = ticket.get("id")
        window.ticket_number = str(ticket.get("number"))
        window.serving = ticket.get("state") == "serving"

    def _set_notices(self, notices: list[dict[str, Any]]) -> None:
        self.notices = notices
        self.notice = next((str(n["title"]) for n in notices if n.get("title")), None)

    # -- templates --------------------------------------------------------------------------

    def window_name(self, number: int) -> str:
        counter = self.config.counter(number)
        return counter.name if counter else f"{number}号窗口"

    def alternative(self, number: int) -> int | None:
        """The open window a closed one sends its residents to (the hall-wide rule): never one
        paused or without a clerk."""
        open_now = {w.number for w in self.windows.values() if not w.paused}
        return alternative_window(self.config, open_now, number)

    def _lines(self, template: str, colours: tuple[Colour, ...], effects: tuple[Effect, ...],
               **values: str) -> tuple[TextLine, ...]:
        texts = template.format(**values).split("|")
        return tuple(TextLine(text, colours[min(i, len(colours) - 1)],
                              effects[min(i, len(effects) - 1)]) for i, text in enumerate(texts))

    def window_content(self, number: int) -> ScreenContent:
        texts = self.config.led_texts
        window = self.windows[number]
        name = self.window_name(number)
        static = (Effect.STATIC,)
        if window.ticket_number and window.serving:
            return ScreenContent(self._lines(texts.window_serving, (Colour.YELLOW, Colour.GREEN),
                                             static, number=window.ticket_number, window=name))
        if window.ticket_number:
            return ScreenContent(self._lines(texts.window_called, (Colour.RED, Colour.GREEN),
                                             static, number=window.ticket_number, window=name))
        if window.paused:
            other = self.alternative(number)
            if other is not None:
                return ScreenContent(self._lines(texts.window_paused, (Colour.RED, Colour.YELLOW),
                                                 static, window=name,
                                                 other=self.window_name(other)))
            return ScreenContent(self._lines(texts.window_paused_alone, (Colour.RED, Colour.YELLOW),
                                             static, window=name,
                                             reason=window.pause_reason or "请稍候"))
        return ScreenContent(self._lines(texts.window_idle, (Colour.GREEN,), static, window=name))

    def hall_content(self) -> ScreenContent:
        texts = self.config.led_texts
        hall = self.config.hall.name
        if self.latest is not None:
            call = self._lines(texts.hall_call, (Colour.RED,), (Effect.STATIC,),
                               number=self.latest.number,
                               window=self.window_name(self.latest.counter), hall=hall)
        else:
            call = self._lines(texts.hall_idle, (Colour.RED,), (Effect.SCROLL,), hall=hall)
        waiting = "  ".join(f"{q.name} {self.waiting[q.id]}人" for q in self.config.queues)
        counts = self._lines(texts.hall_waiting, (Colour.GREEN,), (Effect.SCROLL,),
                             waiting=waiting, hall=hall)
        notice = self._lines(texts.hall_notice, (Colour.YELLOW,), (Effect.SCROLL,),
                             notice=self.notice or texts.no_notice, hall=hall)
        return ScreenContent(call + counts + notice)
