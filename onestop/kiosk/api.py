"""JSON routes for kiosks and the first-inquiry desk, and the QR code of a ticket's page."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Annotated, Any

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from onestop.queue.states import Priority
from onestop.web.access import Principal, allow
from onestop.web.deps import hall_of
from onestop.web.kiosk_tickets import KioskId, find_kiosk, with_ticket_links

if TYPE_CHECKING:
    from onestop.hall import Hall

Token = Annotated[str, Path(min_length=1, max_length=64)]

router = APIRouter(tags=["kiosk"])


class KioskIssue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str = Field(min_length=1, max_length=64)
    request_id: str | None = Field(
        None, min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
        description="Idempotency key made by the kiosk per tap: a repeat returns the same ticket",
    )


class DeskIssue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=200, description="e.g. 老年人、残疾人、孕妇")
    print_at: str | None = Field(None, max_length=64, description="Kiosk whose printer prints it")
    request_id: str | None = Field(None, min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


def _hall(request: Request) -> Hall:
    return hall_of(request)


@router.get("/api/kiosks")
async def list_kiosks(
    request: Request, _: Annotated[Principal, allow("kiosk.read")]
) -> list[dict[str, Any]]:
    hall = _hall(request)
    result: list[dict[str, Any]] = hall.kiosks.all_health()
    return result


@router.get("/api/kiosks/{kiosk}")
async def kiosk_status(
    kiosk: KioskId, request: Request, principal: Annotated[Principal, allow("kiosk.read")]
) -> dict[str, Any]:
    """The kiosk page asks before offering "take a number": is my printer ready?"""
    hall = _hall(request)
    find_kiosk(hall, kiosk, principal)
    result: dict[str, Any] = hall.kiosks.health(kiosk)
    return result


@router.post("/api/kiosks/{kiosk}/tickets", status_code=status.HTTP_201_CREATED)
async def kiosk_issue(
    kiosk: KioskId, body: KioskIssue, request: Request,
    principal: Annotated[Principal, allow("kiosk.issue")],
) -> dict[str, Any]:
    hall = _hall(request)
    find_kiosk(hall, kiosk, principal)
    key = f"{kiosk}:{body.request_id}" if body.request_id else None
    printing = kiosk in hall.kiosks.printers
    ticket: dict[str, Any] = await hall.db(
        hall.engine.tickets.issue, body.service, Priority.NORMAL, None, "kiosk", kiosk, key,
        printing, actor=principal.actor,
    )
    with_ticket_links(hall, ticket)
    if ticket.get("replayed"):
        ticket["print"] = {"state": ticket["print_state"], "message": "", "message_en": ""}
    else:
        ticket["print"] = hall.kiosks.print_ticket(kiosk, ticket, ticket["status_url"])
    return ticket


@router.post("/api/desk/tickets", status_code=status.HTTP_201_CREATED)
async def desk_issue(
    body: DeskIssue, request: Request, principal: Annotated[Principal, allow("desk.issue")]
) -> dict[str, Any]:
    """首问责任岗: a green-channel ticket issued for a resident, with the reason recorded."""
    hall = _hall(request)
    if body.print_at is not None:
        find_kiosk(hall, body.print_at)
    key = f"desk:{body.request_id}" if body.request_id else None
    printing = body.print_at is not None and body.print_at in hall.kiosks.printers
    ticket: dict[str, Any] = await hall.db(
        hall.engine.tickets.issue, body.service, Priority.GREEN, body.reason, "desk",
        body.print_at, key, printing, actor=principal.actor,
    )
    with_ticket_links(hall, ticket)
    if body.print_at and not ticket.get("replayed"):
        ticket["print"] = hall.kiosks.print_ticket(body.print_at, ticket, ticket["status_url"])
    return ticket


@router.get("/api/health")
async def health(
    request: Request, _: Annotated[Principal, allow("health.read")]
) -> dict[str, Any]:
    """For staff and monitoring: every device's health and the event stream's position."""
    hall = _hall(request)
    printers = hall.kiosks.all_health()
    led = hall.led.health()
    return {
        "ok": all(p["can_print"] or p["state"] == "disabled" for p in printers)
        and all(bus["ok"] for bus in led),
        "seq": hall.hub.last_seq,
        "websocket_clients": hall.hub.connected,
        "printers": printers,
        "led": led,
    }


@router.get("/t/{token}/qr.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}}})
async def ticket_qr(
    token: Token, request: Request, _: Annotated[Principal, allow("ticket.read")]
) -> Response:
    """The same QR code the ticket carries, for the screen when the paper does not come."""
    hall = _hall(request)
    await hall.db(hall.engine.reads.ticket_status, token)  # 404 for unknown tokens
    image = qrcode.make(f"{hall.base_url}/t/{token}", image_factory=qrcode.image.svg.SvgPathImage,
                        box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return Response(buffer.getvalue(), media_type="image/svg+xml",
                    headers={"Cache-Control": "private, no-store"})  # the token is the key
