"""JSON routes of 预约服务: days, slots, book, look up, cancel, reschedule, and kiosk check-in.

Booking routes are public (residents book on their own phones); holding a booking's code is
the permission to see, cancel or move it. Check-in issues a ticket at a kiosk, so it follows the
kiosk's own rules: a kiosk device may check in only as itself, staff at the desk may too.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Annotated, Any

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from onestop.queue.appointments import AppointmentBook
from onestop.web.access import Principal, allow, client_address
from onestop.web.deps import hall_of
from onestop.web.kiosk_tickets import KioskId, find_kiosk, with_ticket_links
from onestop.web.rate_limits import rate_limit

if TYPE_CHECKING:
    from onestop.hall import Hall

Code = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9 -]+$",
                           description="The 8-character booking code")]
ServiceId = Annotated[str, Query(min_length=1, max_length=64, description="Service item id")]

router = APIRouter(tags=["appointments"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BookRequest(Body):
    service: str = Field(min_length=1, max_length=64, description="Service item id")
    day: date = Field(description="The hall day, e.g. 2026-11-26")
    slot: datetime | time = Field(description='Slot start: "10:00" or the ISO start from /slots')
    phone: str = Field(min_length=1, max_length=20, description="Mainland mobile number")
    name: str | None = Field(None, max_length=50)
    check: int | None = Field(None, ge=1, le=2**63 - 1,
                              description="The SMS check from /api/appointments/verify "
                                          "(when the hall verifies phones)")
    sms_code: str | None = Field(None, min_length=6, max_length=6, pattern=r"^\d{6}$")


class VerifyRequest(Body):
    phone: str = Field(min_length=1, max_length=20, description="Mainland mobile number")


class VerifyAnswer(BaseModel):
    check: int = Field(description="Send it back with the code when booking")
    phone_masked: str
    expires_at: str


PhoneLast4 = Annotated[str, Field(min_length=4, max_length=4, pattern=r"^\d{4}$",
                                   description="The last four digits of the booking's phone")]


class CancelRequest(Body):
    phone_last4: PhoneLast4 | None = Field(None, description="Needed unless staff cancel")


class RescheduleRequest(Body):
    day: date
    slot: datetime | time
    phone_last4: PhoneLast4 | None = Field(None, description="Needed unless staff move it")


class CheckInRequest(Body):
    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9 -]+$")
    print: bool = Field(True, description="Print the ticket on this kiosk's printer")


def book_of(request: Request) -> AppointmentBook:
    book: AppointmentBook = hall_of(request).appointments
    return book


def _hall(request: Request) -> Hall:
    return hall_of(request)


def _links(hall: Hall, booking: dict[str, Any]) -> dict[str, Any]:
    booking["status_url"] = f"{hall.base_url}/a/{booking['code']}"
    booking["qr_url"] = f"/a/{booking['code']}/qr.svg"
    return booking


@router.get("/api/appointments/days")
async def booking_days(
    request: Request, service: ServiceId, _: Annotated[Principal, allow("appointment.book")]
) -> list[dict[str, Any]]:
    """Days open for booking this item: working days and appointment-only sessions."""
    book = book_of(request)
    days: list[dict[str, Any]] = await _hall(request).db(book.days, service)
    return days


@router.get("/api/appointments/slots")
async def booking_slots(
    request: Request, service: ServiceId, day: Annotated[date, Query()],
    _: Annotated[Principal, allow("appointment.book")],
) -> list[dict[str, Any]]:
    """The day's slots with capacity, booked and remaining (0 for a slot already begun)."""
    book = book_of(request)
    slots: list[dict[str, Any]] = await _hall(request).db(book.slots, service, day)
    return slots


@router.post("/api/appointments", status_code=status.HTTP_201_CREATED)
async def book_slot(
    body: BookRequest, request: Request,
    principal: Annotated[Principal, allow("appointment.book")],
    _: Annotated[None, rate_limit("booking")],
) -> dict[str, Any]:
    """Book a place; one active booking per item and day per phone, and a few in all (防号贩子)."""
    hall = _hall(request)
    booking: dict[str, Any] = await hall.db(
        book_of(request).book, body.service, body.day, body.slot, body.phone, body.name,
        body.check, body.sms_code, actor=principal.actor)
    return _links(hall, booking)


@router.post("/api/appointments/verify", status_code=status.HTTP_201_CREATED,
             response_model=VerifyAnswer)
async def send_phone_check(
    body: VerifyRequest, request: Request,
    principal: Annotated[Principal, allow("appointment.book")],
    _: Annotated[None, rate_limit("booking")],
) -> dict[str, Any]:
    """Send a six-digit code by SMS to prove the phone before booking (when the hall verifies
    phones: `[appointments] verify_phone`); at most once a minute and five times a day."""
    hall = _hall(request)
    result: dict[str, Any] = await hall.db(book_of(request).checks.send, body.phone,
                                           actor=principal.actor,
                                           address=client_address(request,
                                                                  hall.trusted_proxies))
    return result


@router.get("/api/appointments/{code}")
async def get_booking(
    code: Code, request: Request, _: Annotated[Principal, allow("appointment.manage")],
    __: Annotated[None, rate_limit("lookup")],
) -> dict[str, Any]:
    hall = _hall(request)
    return _links(hall, await hall.db(book_of(request).get, code))


@router.post("/api/appointments/{code}/cancel")
async def cancel_booking(
    code: Code, request: Request, principal: Annotated[Principal, allow("appointment.manage")],
    _: Annotated[None, rate_limit("cancel")],
    body: CancelRequest | None = None,
) -> dict[str, Any]:
    """Give the place back: the code and the last four digits of the phone (staff: the code)."""
    hall = _hall(request)
    last4 = body.phone_last4 if body else None
    return _links(hall, await hall.db(book_of(request).cancel, code, last4,
                                      actor=principal.actor, staff=principal.kind == "user"))


@router.post("/api/appointments/{code}/reschedule")
async def reschedule_booking(
    code: Code, body: RescheduleRequest, request: Request,
    principal: Annotated[Principal, allow("appointment.manage")],
    _: Annotated[None, rate_limit("cancel")],
) -> dict[str, Any]:
    """Move the booking: the code and the last four digits of the phone (staff: the code)."""
    hall = _hall(request)
    return _links(hall, await hall.db(book_of(request).reschedule, code, body.day, body.slot,
                                      body.phone_last4, actor=principal.actor,
                                      staff=principal.kind == "user"))


@router.post("/api/kiosks/{kiosk}/check-in", status_code=status.HTTP_201_CREATED)
async def check_in(
    kiosk: KioskId, body: CheckInRequest, request: Request,
    principal: Annotated[Principal, allow("appointment.checkin")],
) -> dict[str, Any]:
    """预约签到: the booking becomes an appointment ticket, printed like a kiosk ticket."""
    hall = _hall(request)
    find_kiosk(hall, kiosk, principal)
    printing = body.print and kiosk in hall.kiosks.printers
    result: dict[str, Any] = await hall.db(book_of(request).check_in, body.code, kiosk, printing,
                                           actor=principal.actor)
    ticket: dict[str, Any] = with_ticket_links(hall, result["ticket"])
    if ticket.get("replayed") or not body.print:
        ticket["print"] = {"state": ticket["print_state"], "message": "", "message_en": ""}
    else:
        ticket["print"] = hall.kiosks.print_ticket(kiosk, ticket, ticket["status_url"])
    ticket["appointment"] = _links(hall, result["appointment"])
    return ticket


@router.get("/a/{code}/qr.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}}})
async def booking_qr(
    code: Code, request: Request, _: Annotated[Principal, allow("appointment.manage")]
) -> Response:
    """The QR code on the confirmation: a phone scans it to reach the booking's page."""
    hall = _hall(request)
    booking = await hall.db(book_of(request).get, code)  # 404 for unknown codes
    image = qrcode.make(f"{hall.base_url}/a/{booking['code']}",
                        image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return Response(buffer.getvalue(), media_type="image/svg+xml",
                    headers={"Cache-Control": "private, no-store"})  # the code is the key
