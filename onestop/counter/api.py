"""Reads the counter terminal needs beyond the window routes in onestop.web.api.

Both are guarded exactly like the window operations: a clerk sees only the window they are
signed in to; supervisors and admins may look at any window.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request

from onestop.queue.errors import NotFound
from onestop.web.api import AtWindow, CounterNo
from onestop.web.deps import hall_of

if TYPE_CHECKING:
    from onestop.hall import Hall

router = APIRouter(prefix="/api/counters", tags=["windows"])


def _seconds(later: datetime, earlier: str | None) -> int | None:
    if earlier is None:
        return None
    return max(0, int((later - datetime.fromisoformat(earlier)).total_seconds()))


def window_today(hall: Hall, number: int) -> dict[str, Any]:
    """The window's state, today's count served there and the ticket at it, with its timings.

    waited_seconds: from issue until the resident was called (fixed once called; a transferred
    ticket counts from its first issue). since_called_seconds: since the call, until service
    starts. served_seconds: since service started. All from the server's clock, so a terminal
    only adds its own elapsed time and never depends on the PC's clock."""
    now = hall.engine.time.now()
    view = next((c for c in hall.engine.reads.counters(staff=True) if c["number"] == number), None)
    if view is None:
        raise NotFound(f"没有{number}号窗口", f"unknown window {number}")
    ticket = view.get("ticket")
    timing: dict[str, int | None] = {
        "waited_seconds": None, "since_called_seconds": None, "served_seconds": None,
    }
    if ticket is not None:
        called = ticket.get("called_at")
        started = ticket.get("started_at")
        if called is not None:
            timing["waited_seconds"] = _seconds(datetime.fromisoformat(called), ticket["issued_at"])
        if ticket["state"] == "called":
            timing["since_called_seconds"] = _seconds(now, called)
        elif ticket["state"] == "serving":
            timing["served_seconds"] = _seconds(now, started)
    clerk_id = view.get("clerk_id")
    served = hall.engine.reads.served_by_clerk().get(clerk_id or "", {}) if clerk_id else {}
    return {
        "counter": number,
        "name": view["name"],
        "name_en": view["name_en"],
        "state": view["state"],
        "pause_reason": view["pause_reason"],
        "pause_origin": view["pause_origin"],
        "services": view["services"],
        "served_today": view["served_today"],
        # Who sits here and their own count today (they may have served at other windows).
        "clerk": {"id": clerk_id, "name": view["clerk_name"],
                  "served": {k: served.get(k, 0) for k in
                             ("on_the_spot", "committed", "consultation", "served", "no_show")}}
        if clerk_id else None,
        # What the window may undo now (its last finish or no-show, for a short while).
        "undo": {"action": view["last_action"], "at": view["last_action_at"]}
        if view.get("last_action") else None,
        "ticket": ticket,
        **timing,
        "now": hall.engine.time.iso(now),
    }


@router.get("/{counter}/waiting")
async def waiting(
    counter: CounterNo,
    request: Request,
    _: AtWindow,
    limit: Annotated[int, Query(ge=1, le=200)] = 200,
) -> list[dict[str, Any]]:
    """Waiting tickets this window may call, in calling order (for "call a specific ticket")."""
    hall = hall_of(request)
    result: list[dict[str, Any]] = await hall.db(hall.engine.reads.waiting_for, counter, limit)
    return result


@router.get("/{counter}/today")
async def today(counter: CounterNo, request: Request, _: AtWindow) -> dict[str, Any]:
    """Today's count served at this window and its current ticket with waited/served seconds."""
    hall = hall_of(request)
    result: dict[str, Any] = await hall.db(window_today, hall, counter)
    return result
