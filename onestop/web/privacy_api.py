"""What the hall holds about one person's phone number (个人信息保护法), for administrators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from onestop.queue.personal_data import PersonalData
from onestop.web.access import Principal, allow
from onestop.web.deps import hall_of

if TYPE_CHECKING:
    from onestop.hall import Hall

router = APIRouter(prefix="/api/privacy", tags=["privacy"])


class HeldBooking(BaseModel):
    code: str
    service: str
    day: str
    slot_start: str
    state: str
    name: str | None
    phone: str = Field(description="As kept: in full, or masked once its keeping time passed")
    created_at: str


class HeldData(BaseModel):
    phone: str
    kept_days: int = Field(description="Days after a booking's day its phone and name are kept")
    bookings: list[HeldBooking]


def _hall(request: Request) -> Hall:
    return hall_of(request)


@router.get("/phone", response_model=HeldData)
async def held_about_a_phone(
    request: Request, principal: Annotated[Principal, allow("privacy.export")],
    phone: Annotated[str, Query(min_length=11, max_length=20, description="A mobile number")],
) -> dict[str, Any]:
    """Every booking kept with this phone number (the export is itself recorded)."""
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(PersonalData(hall.appointments).export, phone,
                                           actor=principal.actor)
    return result
