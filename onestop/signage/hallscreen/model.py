"""What the hall TV shows, as plain data fed by wire messages: no pygame, no sockets.

The same rules as the browser screen (onestop/signage/static/screen.js), so the two never
disagree: one entry per ticket in the recent calls, newest first, at most eight; a call flashes
only when it is news, never when it is replayed while catching up after an outage (committed
before the socket opened, up to the ledger head /healthz reported then) and never when it is
more than 30 s older than the newest event seen; calls of another service day are dropped.
Every collection is bounded, so a screen that runs for months keeps a flat memory profile.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from onestop.signage.notice_changes import apply_change
from onestop.signage.screen import (
    FLASH_SECONDS,
    RECENT_CALLS,
    STALE_SECONDS,
    mask_name,
)

CLOCK_SLACK_SECONDS = 1.0  # the opening time is an estimate of the server clock: tolerate this
OFFLINE_GRACE_SECONDS = 3.0  # a blip shorter than this shows no banner
MAX_QUEUES = 64  # more than any hall configures; a bound, not a limit anyone meets
MAX_COUNTERS = 256
MAX_NOTICES = 100
DEFAULT_TZ = timezone(timedelta(hours=8))  # Asia/Shanghai until the server's offset is known


@dataclass(frozen=True)
class Call:
    """One call as the screen lists it: the number, the window and nothing private."""

    id: int
    number: str
    counter: int
    window: str
    window_en: str
    service: str
    service_en: str
    name: str  # masked: 张三 → 张*
    priority: str
    day: str | None  # the ticket's service day, 'YYYY-MM-DD'
    seq: int | None  # the event that made it the latest call (None: from a snapshot)


@dataclass
class QueueCount:
    """A queue's line on the screen: its prefix, names and how many wait (None: unknown)."""

    id: str
    prefix: str
    name: str
    name_en: str
    waiting: int | None = None


@dataclass
class CounterInfo:
    """A window's names and whether it is paused, from the snapshot and counter events."""

    number: int
    name: str
    name_en: str
    state: str = "open"
    pause_reason: str | None = None


@dataclass(frozen=True)
class Notice:
    """A public notice the marquee scrolls: titles and bodies in both languages."""

    id: int
    title: str
    title_en: str
    body: str
    body_en: str
    ends_at: datetime | None


@dataclass
class CatchUp:
    """The bounds of a replay after a reconnect: seq ≤ head and committed before `opened`."""

    head: float = -math.inf  # ledger head when the socket opened (inf when unknown)
    opened: float = -math.inf  # server time (epoch seconds) when the socket opened


def parse_at(text: Any) -> datetime | None:
    """An event's ISO 8601 `at`, or None when missing or malformed."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


MAX_DAY_NOTES = 40


@dataclass
class ScreenModel:
    """The hall screen's state; `apply` each wire message in order, read the fields to draw."""

    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    recent_max: int = RECENT_CALLS
    flash_seconds: float = FLASH_SECONDS
    stale_seconds: float = STALE_SECONDS

    hall_name: str = ""
    hall_name_en: str = ""
    seq: int | None = None  # the last ledger position applied
    queues: list[QueueCount] = field(default_factory=list)
    counters: dict[int, CounterInfo] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)  # newest first, one per ticket
    current: Call | None = None
    notices: list[Notice] = field(default_factory=list)
    notice_seq: int | None = None  # seq of the last notice.changed applied
    day_notes: list[tuple[str, str]] = field(default_factory=list)  # (zh, en), from GET /api/day
    tz: tzinfo = DEFAULT_TZ  # the hall's UTC offset, learnt from the server's timestamps
    offset: float = 0.0  # server clock − this machine's clock, seconds
    today: str | None = None
    connected: bool = False
    flash_seq: int | None = None
    flashes: int = 0  # calls announced since start (for tests and diagnostics)
    snapshots: int = 0
    gaps: int = 0  # events whose seq did not follow the previous one (should stay 0)
    catch_up: CatchUp = field(default_factory=CatchUp)
    _notice_views: list[dict[str, Any]] = field(default_factory=list)  # as the server sent them
    _newest_at: float = -math.inf
    _flash_started: float | None = None
    _offline_since: float | None = None

    def __post_init__(self) -> None:
        self._offline_since = self.monotonic()

    # -- feeding ---------------------------------------------------------------------------

    def apply(self, message: Mapping[str, Any]) -> None:
        """One wire message: `{"seq", "type", "at", "data"}` (anything else is ignored)."""
        kind = message.get("type")
        seq = _int(message.get("seq"))
        data = message.get("data")
        data = data if isinstance(data, Mapping) else {}
        at = parse_at(message.get("at"))
        if kind == "snapshot":
            self._apply_snapshot(data, seq, at)
            return
        if seq is not None:
            if self.seq is not None and seq <= self.seq:
                return  # already applied: a replay overlap must not count twice
            if self.seq is not None and seq != self.seq + 1:
                self.gaps += 1
            self.seq = seq
        at_s = at.timestamp() if at is not None else None
        quiet = self._is_catch_up(seq, at_s) or (
            at_s is not None and self._newest_at - at_s > self.stale_seconds)
        if at_s is not None and at_s > self._newest_at:
            self._newest_at = at_s
        if at is not None:
            self.tz = at.tzinfo or self.tz
        if kind in ("ticket.called", "ticket.recalled"):
            self._add_call(data.get("ticket"), data.get("counter"), seq, announce=not quiet)
        elif kind == "notice.changed":
            self.notice_seq = seq
            # A notice this screen has not seen is fetched by the client's periodic refresh.
            self._set_notices(apply_change(self._notice_views, data)[0])
        elif kind in ("counter.paused", "counter.resumed"):
            self._update_counter(data.get("counter"))
        queues = data.get("queues")
        if isinstance(queues, Mapping):
            self._update_counts(queues)

    def begin_catch_up(self, head: float, opened_wall: float) -> None:
        """A socket resumed with ?since: events up to `head` committed before it opened are old.

        `opened_wall` is this machine's clock when the socket opened; `head` is what /healthz
        said (math.inf when it could not be asked: then the opening time alone decides).
        """
        self.catch_up = CatchUp(head=head, opened=opened_wall + self.offset)

    def set_notices(self, notices: Any, as_of_seq: int | None = None) -> None:
        """Notices fetched from GET /api/notices when the client had seen up to `as_of_seq`.

        A notice.changed event applied after that fetch started is newer: the fetch is dropped.
        """
        if (self.notice_seq is not None and as_of_seq is not None
                and self.notice_seq > as_of_seq):
            return
        self._set_notices(notices)

    def set_day(self, day: Any) -> None:
        """GET /api/day answered: what the screen must say beside the calls — windows paused and
        where to go instead (5号窗口 暂停服务，请到6号窗口), and the phase after the cut-off."""
        if not isinstance(day, Mapping):
            return
        notes: list[tuple[str, str]] = []
        if day.get("phase") in ("after_cutoff", "extended", "closed") or day.get("check_in_only"):
            notes.append((_text(day.get("phase_label")), _text(day.get("phase_label_en"))))
        for window in day.get("windows") or []:
            if not isinstance(window, Mapping) or window.get("state") != "paused":
                continue
            name, name_en = _text(window.get("name")), _text(window.get("name_en"))
            if window.get("alternative_name"):
                other = _text(window.get("alternative_name"))
                other_en = _text(window.get("alternative_name_en")) or other
                notes.append((f"{name} 暂停服务，请到{other}",
                              f"{name_en} is closed: please go to {other_en}"))
            else:
                reason = _text(window.get("pause_reason"))
                notes.append((f"{name} 暂停服务（{reason}）" if reason else f"{name} 暂停服务",
                              f"{name_en} is closed"))
        self.day_notes = notes[:MAX_DAY_NOTES]

    def set_connected(self, connected: bool) -> None:
        """The stream opened or closed; the offline banner waits OFFLINE_GRACE_SECONDS."""
        if connected:
            self._offline_since = None
        elif self.connected or self._offline_since is None:
            self._offline_since = self.monotonic()
        self.connected = connected

    def tick(self) -> None:
        """Called about once a second: a new service day drops yesterday's calls."""
        today = self.server_now().strftime("%Y-%m-%d")
        if today != self.today:
            self.today = today
            self._drop_other_days()

    # -- reading ---------------------------------------------------------------------------

    def server_now(self) -> datetime:
        """The server's clock, estimated, in the hall's time zone."""
        return datetime.fromtimestamp(self.wall() + self.offset, self.tz)

    def flashing(self) -> bool:
        """True for `flash_seconds` after a call that was news."""
        started = self._flash_started
        return started is not None and self.monotonic() - started < self.flash_seconds

    def flash_elapsed(self) -> float:
        """Seconds since the current flash started (inf when none)."""
        started = self._flash_started
        return math.inf if started is None else self.monotonic() - started

    def offline(self) -> bool:
        """Whether to show the "reconnecting" banner: disconnected for the grace period."""
        since = self._offline_since
        return (not self.connected and since is not None
                and self.monotonic() - since >= OFFLINE_GRACE_SECONDS)

    def showing_notices(self) -> list[Notice]:
        """The notices whose end has not passed by the server's clock."""
        now = self.server_now()
        return [n for n in self.notices if n.ends_at is None or n.ends_at > now]

    # -- internals -------------------------------------------------------------------------

    def _apply_snapshot(self, data: Mapping[str, Any], seq: int | None,
                        at: datetime | None) -> None:
        self.snapshots += 1
        self.seq = seq
        if at is not None:
            self.offset = at.timestamp() - self.wall()
            self.tz = at.tzinfo or self.tz
            self._newest_at = max(self._newest_at, at.timestamp())
        self.today = self.server_now().strftime("%Y-%m-%d")
        self.catch_up = CatchUp()  # everything after a snapshot is live
        self.notice_seq = None
        hall = data.get("hall")
        if isinstance(hall, Mapping):
            self.hall_name = _text(hall.get("name"))
            self.hall_name_en = _text(hall.get("name_en"))
        counters = data.get("counters")
        if isinstance(counters, list):
            self.counters = {}
            for c in counters:
                self._update_counter(c)
        queues = data.get("queues")
        if isinstance(queues, list):
            self.queues = [
                QueueCount(id=_text(q.get("id")), prefix=_text(q.get("prefix")),
                           name=_text(q.get("name")), name_en=_text(q.get("name_en")),
                           waiting=_int(q.get("waiting")))
                for q in queues[:MAX_QUEUES] if isinstance(q, Mapping)
            ]
        self.calls = []
        seen: set[int] = set()
        recent = data.get("recent_calls")
        for ticket in recent if isinstance(recent, list) else []:
            call = self._call_from(ticket, None, None)
            if call is None or call.id in seen or (call.day and call.day != self.today):
                continue
            seen.add(call.id)
            self.calls.append(call)
            if len(self.calls) >= self.recent_max:
                break
        self.current = self.calls[0] if self.calls else None

    def _is_catch_up(self, seq: int | None, at: float | None) -> bool:
        bounds = self.catch_up
        return (seq is not None and seq <= bounds.head
                and (at is None or at < bounds.opened + CLOCK_SLACK_SECONDS))

    def _call_from(self, ticket: Any, counter: Any, seq: int | None) -> Call | None:
        if not isinstance(ticket, Mapping):
            return None
        ticket_id = _int(ticket.get("id"))
        number = ticket.get("number")
        window = _int(ticket.get("counter"))
        if ticket_id is None or number is None or window is None:
            return None
        if isinstance(counter, Mapping) and _int(counter.get("number")) == window:
            self._update_counter(counter)
        info = self.counters.get(window)
        name = info.name if info else _text(ticket.get("counter_name")) or str(window)
        name_en = info.name_en if info and info.name_en else f"Window {window}"
        return Call(
            id=ticket_id,
            number=str(number),
            counter=window,
            window=name,
            window_en=name_en,
            service=_text(ticket.get("service_name")),
            service_en=_text(ticket.get("service_name_en")),
            name=mask_name(ticket.get("resident_name")),
            priority=_text(ticket.get("priority")),
            day=_text(ticket.get("service_day")) or None,
            seq=seq,
        )

    def _add_call(self, ticket: Any, counter: Any, seq: int | None, announce: bool) -> None:
        call = self._call_from(ticket, counter, seq)
        if call is None:
            return
        rest = [c for c in self.calls if c.id != call.id]
        self.calls = [call, *rest][: self.recent_max]
        self.current = call
        if announce:
            self.flashes += 1
            self.flash_seq = seq
            self._flash_started = self.monotonic()

    def _drop_other_days(self) -> None:
        if self.today is None:
            return
        self.calls = [c for c in self.calls if not c.day or c.day == self.today]
        if self.current is not None and self.current.day and self.current.day != self.today:
            self.current = None
            self._flash_started = None

    def _update_counts(self, counts: Mapping[str, Any]) -> None:
        for q in self.queues:
            if q.id in counts:
                waiting = _int(counts[q.id])
                if waiting is not None:
                    q.waiting = waiting

    def _update_counter(self, counter: Any) -> None:
        if not isinstance(counter, Mapping):
            return
        number = _int(counter.get("number"))
        if number is None:
            return
        if number not in self.counters and len(self.counters) >= MAX_COUNTERS:
            return
        known = self.counters.get(number)
        self.counters[number] = CounterInfo(
            number=number,
            name=_text(counter.get("name")) or (known.name if known else f"{number}号窗口"),
            name_en=_text(counter.get("name_en")) or (known.name_en if known else ""),
            state=_text(counter.get("state")) or (known.state if known else "open"),
            pause_reason=counter.get("pause_reason") if "pause_reason" in counter else (
                known.pause_reason if known else None),
        )

    def _set_notices(self, notices: Any) -> None:
        if not isinstance(notices, list):
            return
        self._notice_views = [dict(n) for n in notices[:MAX_NOTICES] if isinstance(n, Mapping)]
        result: list[Notice] = []
        for n in notices[:MAX_NOTICES]:
            if not isinstance(n, Mapping):
                continue
            result.append(Notice(
                id=_int(n.get("id")) or 0,
                title=_text(n.get("title")),
                title_en=_text(n.get("title_en")),
                body=" ".join(_text(n.get("body")).split()),
                body_en=" ".join(_text(n.get("body_en")).split()),
                ends_at=parse_at(n.get("ends_at")),
            ))
        self.notices = result
