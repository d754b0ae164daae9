"""The JSON API that kiosks, counter terminals and integrators use (OpenAPI at /docs).

Routers are split by who calls them (residents' kiosks, windows, anyone with a ticket link) so
that sign-in and roles (issue [3/5]) attach to a router, not to each route.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from onestop.queue.errors import NotAtWindow
from onestop.queue.states import Outcome, Priority
from onestop.web.access import Forbidden, Principal, allow
from onestop.web.deps import hall_of
from onestop.web.rate_limits import rate_limit

if TYPE_CHECKING:
    from onestop.hall import Hall

CounterNo = Annotated[int, Path(ge=1, le=9999, description="Window number, e.g. 3 for 3号窗口")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IssueRequest(Body):
    service: str = Field(min_length=1, max_length=64, description="Service item id")
    priority: Priority = Priority.NORMAL
    reason: str | None = Field(None, max_length=200, description="Why green channel (required)")


class CallRequest(Body):
    ticket: int = Field(ge=1, description="Ticket id")


class FinishRequest(Body):
    outcome: Outcome
    promised_date: date | None = Field(None, description="承诺件: promised completion date")
    note: str | None = Field(None, max_length=500)


class TransferRequest(Body):
    service: str | None = Field(None, min_length=1, max_length=64)
    queue: str | None = Field(None, min_length=1, max_length=64)
    counter: int | None = Field(None, ge=1, le=9999)
    note: str | None = Field(None, max_length=500)


class PauseRequest(Body):
    reason: str = Field(min_length=1, max_length=100, description="e.g. 午餐 / 会议 / 后台办理")


catalogue = APIRouter(prefix="/api", tags=["catalogue"])
kiosk = APIRouter(prefix="/api", tags=["tickets"])
windows = APIRouter(prefix="/api/counters", tags=["windows"])


def _hall(request: Request) -> Hall:
    return hall_of(request)


async def window_actor(
    counter: CounterNo, principal: Annotated[Principal, allow("window.act")]
) -> Principal:
    """Window operations: a clerk only at the window they are signed in to."""
    if not principal.may_act_at(counter):
        if principal.window is None:
            raise Forbidden("请先选择您所在的窗口", "choose your window first")
        raise Forbidden(f"您已登录在{principal.window}号窗口，不能操作{counter}号窗口",
                        f"you are signed in at window {principal.window}, not {counter}")
    return principal


AtWindow = Annotated[Principal, Depends(window_actor)]


@catalogue.get("/services")
async def list_services(request: Request, _: Annotated[Principal, allow("catalogue.read")]) -> list[dict[str, Any]]:
    return [s.model_dump() for s in _hall(request).config.services]


@catalogue.get("/queues")
async def list_queues(request: Request, _: Annotated[Principal, allow("catalogue.read")]) -> list[dict[str, Any]]:
    hall = _hall(request)
    result: list[dict[str, Any]] = await hall.db(hall.engine.reads.queues)
    return result


@catalogue.get("/counters")
async def list_counters(
    request: Request, principal: Annotated[Principal, allow("counters.read")]
) -> list[dict[str, Any]]:
    """Every window: state, who sits there (staff see the account), the ticket at it."""
    hall = _hall(request)
    result: list[dict[str, Any]] = await hall.db(hall.engine.reads.counters,
                                                 principal.role != "screen")
    return result


@kiosk.post("/tickets", status_code=status.HTTP_201_CREATED)
async def issue_ticket(
    body: IssueRequest, request: Request, principal: Annotated[Principal, allow("ticket.issue")]
) -> dict[str, Any]:
    hall = _hall(request)
    _may_issue(principal, body.priority)
    ticket: dict[str, Any] = await hall.db(
        hall.engine.tickets.issue, body.service, body.priority, body.reason,
        kiosk=principal.kiosk,
        actor=principal.actor,
    )
    ticket["status_url"] = f"{hall.base_url}/t/{ticket['token']}"
    return ticket


def _may_issue(principal: Principal, priority: Priority) -> None:
    """Priority only by right: a kiosk issues normal tickets (for itself: the ticket records
    its kiosk); the green channel needs the desk (or a supervisor), with a reason; the
    appointment class comes only from checking in a booking."""
    if priority is Priority.APPOINTMENT:
        raise Forbidden("预约号只能通过预约签到取得", "appointment tickets come only from check-in")
    if priority is Priority.GREEN and principal.role not in ("desk", "supervisor", "admin"):
        raise Forbidden("绿色通道号票须由首问责任岗（咨询台）办理",
                        "a green-channel ticket is issued by the first-inquiry desk")


@kiosk.get("/tickets/{token}")
async def ticket_status(
    token: Annotated[str, Path(max_length=64)], request: Request,
    _: Annotated[Principal, allow("ticket.read")],
) -> dict[str, Any]:
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(hall.engine.reads.ticket_status, token)
    return result


@kiosk.post("/tickets/{token}/cancel")
async def cancel_ticket(
    token: Annotated[str, Path(max_length=64)], request: Request,
    principal: Annotated[Principal, allow("ticket.cancel")],
    _: Annotated[None, rate_limit("cancel")],
) -> dict[str, Any]:
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(hall.engine.tickets.cancel, token,
                                           actor=principal.actor)
    return result


@windows.post("/{counter}/call-next", responses={204: {"description": "Nobody waits"}})
async def call_next(counter: CounterNo, request: Request, who: AtWindow) -> Any:
    hall = _hall(request)
    result = await hall.db(hall.engine.tickets.call_next, counter, actor=who.actor)
    return Response(status_code=204) if result is None else result


@windows.post("/{counter}/call")
async def call_ticket(counter: CounterNo, body: CallRequest, request: Request, who: AtWindow) -> dict[str, Any]:
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(hall.engine.tickets.call, counter, body.ticket,
                                           actor=who.actor)
    return result


@windows.post("/{counter}/recall")
async def recall(counter: CounterNo, request: Request, who: AtWindow) -> dict[str, Any]:
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(hall.engine.tickets.recall, counter, actor=who.actor)
    return result


@windows.post("/{counter}/start")
async def start(counter: CounterNo, request: Request, who: AtWindow) -> dict[str, Any]:
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(hall.engine.tickets.start, counter, actor=who.actor)
    return result


@windows.post("/{counter}/finish")
async def finish(counter: CounterNo, body: FinishRequest, request: Request, who: AtWindow) -> dict[str, Any]:
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(
        hall.engine.tickets.finish, counter, body.outcome, body.promised_date, body.note,
        actor=who.actor,
    )
    return result


@windows.post("/{counter}/no-show")
async def no_show(counter: CounterNo, request: Request, who: AtWindow) -> dict[str, Any]:
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(hall.engine.tickets.no_show, counter, actor=who.actor)
    return result


@windows.post("/{counter}/transfer")
async def transfer(counter: CounterNo, body: TransferRequest, request: Request, who: AtWindow) -> dict[str, Any]:
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(
        hall.engine.tickets.transfer, counter, body.service, body.queue, body.counter, body.note,
        actor=who.actor,
    )
    return result


@windows.post("/{counter}/pause")
async def pause(counter: CounterNo, body: PauseRequest, request: Request, who: AtWindow) -> dict[str, Any]:
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(hall.engine.windows.pause, counter, body.reason,
                                           actor=who.actor)
    return result


@windows.post("/{counter}/resume")
async def resume(counter: CounterNo, request: Request, who: AtWindow) -> dict[str, Any]:
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(hall.engine.windows.resume, counter, actor=who.actor)
    return result


@windows.post("/{counter}/undo")
async def undo(counter: CounterNo, request: Request, who: AtWindow) -> dict[str, Any]:
    """Take back this window's last finish or no-show (within `[corrections] undo_seconds`)."""
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(hall.engine.corrections.undo, counter,
                                           actor=who.actor)
    return result


@windows.post("/{counter}/heartbeat")
async def heartbeat(counter: CounterNo, request: Request, who: AtWindow) -> dict[str, Any]:
    """The terminal at this window is alive (it sends this every 20 s). A clerk whose window
    was unstaffed while the terminal was silent sits down again, unless someone else has."""
    hall = _hall(request)
    if who.kind != "user":
        raise Forbidden("只有工作人员的终端可以在岗", "only a staff terminal can staff a window")
    if who.window != counter:
        raise NotAtWindow(f"本终端未登录{counter}号窗口，请先选择窗口",
                          f"this terminal is not signed in at window {counter}; choose it first",
                          counter=counter)
    result: dict[str, Any] = await hall.db(hall.engine.windows.heartbeat, counter,
                                           actor=who.actor)
    return result
