"""What every route that issues a ticket at a kiosk needs, whichever room it lives in (the
kiosk's own issue route, appointment check-in): the kiosk id in the path, the kiosk looked up
and checked against the caller's device token, and the links a ticket answer carries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Path

from onestop.queue.errors import NotFound
from onestop.web.access import Forbidden, Principal

if TYPE_CHECKING:
    from onestop.hall import Hall

KioskId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


def find_kiosk(hall: Hall, kiosk_id: str, principal: Principal | None = None) -> Any:
    """The configured kiosk (404 if none); with a principal, 403 unless it may act as it."""
    kiosk = hall.config.kiosk(kiosk_id)
    if kiosk is None:
        raise NotFound(f"没有这台取号机：{kiosk_id}", f"unknown kiosk {kiosk_id!r}")
    if principal is not None and not principal.may_use_kiosk(kiosk_id):
        raise Forbidden("本机的令牌属于另一台取号机", "this device token belongs to another kiosk")
    return kiosk


def with_ticket_links(hall: Hall, ticket: dict[str, Any]) -> dict[str, Any]:
    """Add the ticket's status page (the QR code's target) and its QR image to the answer."""
    ticket["status_url"] = f"{hall.base_url}/t/{ticket['token']}"
    ticket["qr_url"] = f"/t/{ticket['token']}/qr.svg"
    return ticket
