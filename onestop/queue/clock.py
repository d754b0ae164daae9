"""The one source of time: everything that schedules or stamps reads an injected Clock.

Tests pass a ManualClock and walk a whole day in milliseconds; production uses SystemClock.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """Current instant as an aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ShiftedClock:
    """Real time, shifted to begin at a chosen instant: a training hall on a weekday morning at
    any hour, and test servers that behave the same whenever the tests run."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs an aware datetime")
        self._offset = start.astimezone(UTC) - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


class ManualClock:
    """A clock that moves only when told to, shared safely between test threads."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = instant.astimezone(UTC)


class HallTime:
    """Converts the clock's instants to the hall's local time, where days begin at local midnight."""

    def __init__(self, clock: Clock, timezone: str) -> None:
        self.clock = clock
        self.tz: tzinfo = ZoneInfo(timezone)

    def now(self) -> datetime:
        return self.clock.now()

    def local(self, instant: datetime | None = None) -> datetime:
        return (instant or self.clock.now()).astimezone(self.tz)

    def service_day(self, instant: datetime | None = None) -> date:
        return self.local(instant).date()

    def iso(self, instant: datetime) -> str:
        return self.local(instant).isoformat()
