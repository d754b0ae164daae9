"""The hall's day over HTTP: today's status for every screen, the lunch rotation for staff,
the day report for supervisors."""

from __future__ import annotations

import functools
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from onestop.queue.actors import Actor
from onestop.queue.day_status import day_status, lunch_view
from onestop.queue.errors import InvalidTransition, Rejected
from onestop.queue.lunch import (
    LunchInfeasible,
    LunchPlan,
    LunchProblem,
    LunchSearchLimit,
    swap,
    with_breaks,
)
from onestop.queue.reports import day_report
from onestop.web.access import Principal, allow
from onestop.web.deps import hall_of

if TYPE_CHECKING:
    from onestop.hall import Hall

router = APIRouter(prefix="/api", tags=["day"])

Clerk = Annotated[str, Field(min_length=1, max_length=64)]


class BreaksRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    breaks: dict[Clerk, Annotated[int, Field(ge=0, le=20)]] = Field(min_length=1)


class SwapRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: Clerk
    b: Clerk


class LunchRefused(InvalidTransition):
    code = "lunch_infeasible"


def _hall(request: Request) -> Hall:
    return hall_of(request)


@router.get("/day")
async def today(request: Request, _: Annotated[Principal, allow("day.read")]) -> dict[str, Any]:
    """Today: opening hours, the phase of the day, who may take a ticket, the lunch rotation and
    where each paused window sends its residents."""
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(day_status, hall.day)
    return result


@router.get("/lunch")
async def lunch(request: Request, _: Annotated[Principal, allow("lunch.read")]) -> dict[str, Any]:
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(_lunch_now, hall.day)
    return result


def _lunch_now(day: Any) -> dict[str, Any]:
    plan = day.calendar.plan(day.engine.time.service_day())
    return lunch_view(day, plan, staff=True)


def _edit(day: Any, edit: Any, actor: Actor) -> dict[str, Any]:
    try:
        day.edit_lunch(edit, actor)
    except LunchInfeasible as exc:
        raise LunchRefused(exc.message_zh, exc.message_en, service=exc.service) from None
    except LunchSearchLimit as exc:
        raise LunchRefused("轮换安排过于复杂，系统未能算出结果，请简化后重试（如只调整两人）",
                           f"the rotation search gave up: {exc}") from None
    except ValueError as exc:  # an unknown clerk, a slot that does not exist
        raise Rejected(f"轮换安排有误：{exc}", f"the rotation is not valid: {exc}") from None
    return _lunch_now(day)


@router.put("/lunch")
async def set_breaks(body: BreaksRequest, request: Request,
                     principal: Annotated[Principal, allow("lunch.edit")]) -> dict[str, Any]:
    """Set who eats in which slot (slot index from 0); the others are seated to cover every item."""
    hall = _hall(request)

    def edit(problem: LunchProblem, plan: LunchPlan) -> LunchPlan:
        return with_breaks(problem, body.breaks)

    result: dict[str, Any] = await hall.db(_edit, hall.day, edit, principal.actor)
    return result


@router.post("/lunch/swap")
async def swap_breaks(body: SwapRequest, request: Request,
                      principal: Annotated[Principal, allow("lunch.edit")]) -> dict[str, Any]:
    """Two clerks trade lunch slots; refused (409) when an item would be left uncovered."""
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(_edit, hall.day,
                                           functools.partial(_swap, a=body.a, b=body.b),
                                           principal.actor)
    return result


def _swap(problem: LunchProblem, plan: LunchPlan, a: str, b: str) -> LunchPlan:
    return swap(problem, plan, a, b)


@router.get("/reports/day")
async def report(request: Request, _: Annotated[Principal, allow("reports.read")],
                 day: Annotated[date | None, Query(alias="date")] = None) -> dict[str, Any]:
    """A day's figures: cases by outcome, no-shows, green channel, appointments, extended hours."""
    hall = _hall(request)
    wanted = day or hall.engine.time.service_day()
    result: dict[str, Any] = await hall.db(day_report, hall.engine, wanted, hall.engine.calendar)
    return result
