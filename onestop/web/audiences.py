"""Who may see what of an event: one definition, used for live events and replays alike.

Three audiences:
- **public** (anyone on the hall network, hall screens, residents' phones following a ticket):
  the event's public data only. Commands write it public by construction (onestop.queue.views,
  onestop.queue.rows), and `scrub` removes, once more, every key that can carry a secret or a
  person's data, whatever an event type may come to hold;
- **kiosk** (an enrolled kiosk): what the public sees; a kiosk shows residents nothing else;
- **staff** (a signed-in account): the public data plus the event's actor (who did it) and its
  staff part (reasons, notes, booking codes, masked phones), never on the other two.

Nothing here reads the database: the hub serialises each event once per audience.
"""

from __future__ import annotations

import json
from datetime import tzinfo
from enum import StrEnum
from typing import Any

from onestop.queue.ledger import Event
from onestop.web.access import Principal

# Keys that never reach the public or a kiosk, at any depth of an event's data: the resident's
# ticket token, a booking code, phones (even masked), names, notes and reasons typed by staff,
# account names, request keys.
SECRET_KEYS = frozenset({
    "token", "code", "phone", "phone_masked", "name_full", "applicant", "note", "notes",
    "reason", "closed_reason", "request_key", "clerk_id", "username", "actor", "staff",
    "password", "token_hash",
})


class Audience(StrEnum):
    PUBLIC = "public"
    KIOSK = "kiosk"
    STAFF = "staff"


def audience_of(principal: Principal) -> Audience:
    if principal.kind == "user":
        return Audience.STAFF
    if principal.kind == "device" and principal.role == "kiosk":
        return Audience.KIOSK
    return Audience.PUBLIC


def scrub(value: Any) -> Any:
    """The value without any SECRET_KEYS, at every depth (lists and dicts are copied)."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if k not in SECRET_KEYS}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def message(event: Event, tz: tzinfo, audience: Audience) -> dict[str, Any]:
    """The one wire shape ({"seq", "type", "at", "data"}), as this audience may see it; staff
    messages also carry "actor" and, when there is one, "staff"."""
    wire = event.wire(tz)
    if audience is Audience.STAFF:
        wire["actor"] = event.actor.to_json()
        if event.staff:
            wire["staff"] = event.staff
        return wire
    wire["data"] = scrub(wire["data"])
    return wire


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))
