"""Staff routes beyond one window: who sits where and who is absent, a ticket's history, and
the desk's and supervisors' corrections (过号顺延, cancel or re-route by number, close the day's
leftovers). Every change is recorded with its actor; reasons stay with staff."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from onestop.queue import roster
from onestop.queue.day_status import lunch_view
from onestop.web.access import Principal, allow
from onestop.web.deps import hall_of

if TYPE_CHECKING:
    from onestop.hall import Hall

router = APIRouter(prefix="/api", tags=["staff"])

TicketNumber = Annotated[str, Path(min_length=2, max_length=12, pattern=r"^[A-Za-z]\d{1,6}$",
                                   description="The number printed on the ticket, e.g. A012")]
ClerkId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Attendance(Body):
    absent: bool = Field(description="true: not at work today (left out of the lunch rotation)")


class Reason(Body):
    reason: str = Field(min_length=1, max_length=200, description="Kept in the ledger, for staff")


class OptionalReason(Body):
    reason: str | None = Field(None, max_length=200)


class Reroute(Body):
    service: str | None = Field(None, min_length=1, max_length=64)
    queue: str | None = Field(None, min_length=1, max_length=64)
    counter: int | None = Field(None, ge=1, le=9999)
    reason: str = Field(min_length=1, max_length=200)


class Leftovers(Body):
    reason: str = Field(min_length=1, max_length=200, description="e.g. 群众已离开，今日闭厅")
    day: date | None = Field(None, description="Close tickets of this day and before (today)")


class ClerkOut(BaseModel):
    id: str
    name: str
    counters: list[int]
    absent: bool
    seat: int | None = Field(description="The window they are signed in at now")
    break_started_at: str | None
    marked_by: str | None
    served_today: dict[str, int] = Field(description="Finished today by outcome, and no-shows")


class WindowOut(BaseModel):
    number: int
    name: str
    name_en: str
    state: str = Field(description="open / paused / unstaffed")
    clerk_id: str | None
    clerk_name: str | None
    seen_at: str | None
    pause_reason: str | None
    pause_origin: str | None
    pause_until: str | None = Field(description="When a scheduled break ends")
    pending_pause: str | None = Field(description="A break waiting for the resident to leave")
    ticket: str | None = Field(description="The number at the window, if any")


class PresenceOut(BaseModel):
    day: str
    windows: list[WindowOut]
    clerks: list[ClerkOut]
    lunch: dict[str, Any]


class ActorOut(BaseModel):
    kind: str
    id: str
    name: str
    role: str


class StepOut(BaseModel):
    seq: int
    type: str
    at: str
    actor: ActorOut
    state: str | None
    outcome: str | None = Field(None, description="The ticket's outcome after this step")
    counter: int | None
    detail: dict[str, Any]
    staff: dict[str, Any]


class HistoryOut(BaseModel):
    ticket: dict[str, Any]
    events: list[StepOut]


class LeftoversOut(BaseModel):
    closed: int
    numbers: list[str]
    reason: str


def _hall(request: Request) -> Hall:
    return hall_of(request)


def presence(hall: Hall) -> dict[str, Any]:
    engine = hall.engine
    day = engine.time.service_day()
    clerks = roster.today(engine, day)
    served = engine.reads.served_by_clerk(day)
    windows = engine.reads.counters(staff=True)
    empty = {"on_the_spot": 0, "committed": 0, "consultation": 0, "served": 0, "no_show": 0}
    return {
        "day": day.isoformat(),
        "windows": [{"number": w["number"], "name": w["name"], "name_en": w["name_en"],
                     "state": w["state"], "pause_until": w["pause_until"],
                     "pending_pause": w["pending_pause"],
                     "clerk_id": w["clerk_id"], "clerk_name": w["clerk_name"],
                     "seen_at": w["seen_at"], "pause_reason": w["pause_reason"],
                     "pause_origin": w["pause_origin"],
                     "ticket": w["ticket"]["number"] if w["ticket"] else None}
                    for w in windows],
        "clerks": [{"id": c.id, "name": c.name, "counters": list(c.counters),
                    "absent": c.absent, "seat": c.seat, "marked_by": c.marked_by,
                    "break_started_at": engine.time.iso(c.break_started_at)
                    if c.break_started_at else None,
                    "served_today": served.get(c.id, empty)} for c in clerks],
        "lunch": lunch_view(hall.day, engine.calendar.plan(day), staff=True),
    }


@router.get("/presence", response_model=PresenceOut)
async def who_is_where(request: Request,
                       _: Annotated[Principal, allow("presence.read")]) -> dict[str, Any]:
    """Who sits at which window now, who is at work today, their counts and today's rotation."""
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(presence, hall)
    return result


@router.post("/presence/{clerk}", response_model=PresenceOut)
async def mark_attendance(clerk: ClerkId, body: Attendance, request: Request,
                          principal: Annotated[Principal, allow("presence.manage")]
                          ) -> dict[str, Any]:
    """Mark a clerk absent (or present again) for today; the lunch rotation is planned again."""
    hall = _hall(request)
    await hall.db(roster.set_absent, hall.engine, clerk, body.absent, actor=principal.actor)
    await hall.db(hall.day.plan_lunch, hall.engine.time.service_day(), principal.actor)
    result: dict[str, Any] = await hall.db(presence, hall)
    return result


@router.get("/tickets/{ticket_id}/history", response_model=HistoryOut)
async def ticket_history(ticket_id: Annotated[int, Path(ge=1)], request: Request,
                         _: Annotated[Principal, allow("ticket.history")]) -> dict[str, Any]:
    """Every step of a ticket with who did it (a person, a device or the scheduler)."""
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(hall.engine.reads.history, ticket_id)
    return result


@router.get("/desk/tickets/{number}")
async def find_ticket(number: TicketNumber, request: Request,
                      _: Annotated[Principal, allow("ticket.correct")],
                      day: Annotated[date | None, Query(description="default: today")] = None,
                      ) -> dict[str, Any]:
    """A ticket by its printed number (today's, unless `day` is given)."""
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(hall.engine.reads.find, number, day)
    return result


async def _ticket_id(hall: Hall, number: str) -> int:
    found: dict[str, Any] = await hall.db(hall.engine.reads.find, number, None)
    return int(found["id"])


@router.post("/desk/tickets/{number}/requeue")
async def requeue(number: TicketNumber, body: OptionalReason, request: Request,
                  principal: Annotated[Principal, allow("ticket.correct")]) -> dict[str, Any]:
    """过号顺延: today's no-show back in line, same number, a few places after the head."""
    hall = _hall(request)
    ticket_id = await _ticket_id(hall, number)
    result: dict[str, Any] = await hall.db(hall.engine.corrections.requeue, ticket_id,
                                           actor=principal.actor, reason=body.reason)
    return result


@router.post("/desk/tickets/{number}/cancel")
async def cancel(number: TicketNumber, body: Reason, request: Request,
                 principal: Annotated[Principal, allow("ticket.correct")]) -> dict[str, Any]:
    """Cancel today's waiting or called ticket, with a reason."""
    hall = _hall(request)
    ticket_id = await _ticket_id(hall, number)
    result: dict[str, Any] = await hall.db(hall.engine.corrections.cancel, ticket_id,
                                           actor=principal.actor, reason=body.reason.strip())
    return result


@router.post("/desk/tickets/{number}/reroute")
async def reroute(number: TicketNumber, body: Reroute, request: Request,
                  principal: Annotated[Principal, allow("ticket.correct")]) -> dict[str, Any]:
    """Send today's waiting ticket to another item, queue or (staffed) window; it keeps its
    number and its place by issue time."""
    hall = _hall(request)
    ticket_id = await _ticket_id(hall, number)
    result: dict[str, Any] = await hall.db(
        hall.engine.corrections.reroute, ticket_id, body.service, body.queue, body.counter,
        body.reason, actor=principal.actor)
    return result


@router.post("/day/close-leftovers", response_model=LeftoversOut)
async def close_leftovers(body: Leftovers, request: Request,
                          principal: Annotated[Principal, allow("day.close_leftovers")]
                          ) -> dict[str, Any]:
    """At day's end: close every ticket still waiting (and any called at a window nobody sits
    at), each as its own event with the reason."""
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(hall.engine.corrections.close_leftovers, body.reason,
                                           actor=principal.actor, day=body.day)
    return result
