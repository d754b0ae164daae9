"""The vocabulary of a ticket's life and a window's day."""

from __future__ import annotations

from enum import StrEnum


class TicketState(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


OPEN_STATES = (TicketState.WAITING, TicketState.CALLED, TicketState.SERVING)
AT_WINDOW_STATES = (TicketState.CALLED, TicketState.SERVING)


class Priority(StrEnum):
    """Calling classes, best first; `rank` is what the store sorts on."""

    GREEN = "green"  # 绿色通道: elderly, disabled, pregnant, other special groups
    APPOINTMENT = "appointment"  # 预约
    NORMAL = "normal"

    @property
    def rank(self) -> int:
        return PRIORITY_RANK[self]


PRIORITY_RANK = {Priority.GREEN: 0, Priority.APPOINTMENT: 1, Priority.NORMAL: 2}


class Outcome(StrEnum):
    ON_THE_SPOT = "on_the_spot"  # 即办件
    COMMITTED = "committed"  # 承诺件, with a promised completion date
    CONSULTATION = "consultation"  # 咨询件


OUTCOME_ZH = {
    Outcome.ON_THE_SPOT: "即办件",
    Outcome.COMMITTED: "承诺件",
    Outcome.CONSULTATION: "咨询件",
}


class CounterState(StrEnum):
    """A window is open only while a clerk sits there (staffed); paused is staffed but not
    calling; unstaffed means nobody is signed in at it, or their terminal has gone silent."""

    OPEN = "open"
    PAUSED = "paused"
    UNSTAFFED = "unstaffed"


COUNTER_STATE_ZH = {
    CounterState.OPEN: "服务中",
    CounterState.PAUSED: "暂停服务",
    CounterState.UNSTAFFED: "暂无人员",
}


class PauseOrigin(StrEnum):
    """Who paused a window: the scheduler resumes only the pauses it started itself."""

    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    SCHEDULER = "scheduler"


STATE_ZH = {
    TicketState.WAITING: "等候中",
    TicketState.CALLED: "已叫号",
    TicketState.SERVING: "办理中",
    TicketState.DONE: "已办结",
    TicketState.NO_SHOW: "过号",
    TicketState.CANCELLED: "已取消",
}
