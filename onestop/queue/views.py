"""Plain-dict views of rows, shared by events, API answers and the terminal status.

Public views never carry the ticket's status token: events reach hall screens that anyone can
watch, and the token is the resident's key to their own ticket page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Row

from onestop.queue.catalogue import HallConfig
from onestop.queue.clock import HallTime


def _iso(time: HallTime, value: Any) -> str | None:
    return time.iso(value) if value is not None else None


def ticket_view(row: Row[Any], config: HallConfig, time: HallTime) -> dict[str, Any]:
    service = config.service(row.service_id)
    queue = config.queue(row.queue_id)
    counter = config.counter(row.counter) if row.counter is not None else None
    return {
        "id": row.id,
        "number": row.number,
        "service": row.service_id,
        "service_name": service.name if service else row.service_id,
        "service_name_en": service.name_en if service else row.service_id,
        "queue": row.queue_id,
        "queue_name": queue.name if queue else row.queue_id,
        "priority": row.priority,
        "state": row.state,
        "counter": row.counter,
        "counter_name": counter.name if counter else None,
        "target_counter": row.target_counter,
        "recall_count": row.recall_count,
        "transfer_count": row.transfer_count,
        "outcome": row.outcome,
        "promised_date": row.promised_date.isoformat() if row.promised_date else None,
        "service_day": row.service_day.isoformat(),
        "issued_at": _iso(time, row.issued_at),
        "called_at": _iso(time, row.called_at),
        "started_at": _iso(time, row.started_at),
        "finished_at": _iso(time, row.finished_at),
        "kiosk": row.kiosk,
        "print_state": row.print_state,
        "requeue_count": row.requeue_count,
    }


def counter_view(row: Row[Any], config: HallConfig) -> dict[str, Any]:
    """A window as every audience may see it: its state and, while staffed, the clerk's display
    name (halls show it at the window); never the clerk's account name."""
    definition = config.counter(row.number)
    return {
        "number": row.number,
        "name": definition.name if definition else str(row.number),
        "name_en": definition.name_en if definition else str(row.number),
        "state": row.state,
        "staffed": row.state != "unstaffed",
        "clerk_name": row.clerk_name if row.state != "unstaffed" else None,
        "pause_reason": row.pause_reason,
        "pause_origin": row.pause_origin,
        "current_ticket_id": row.current_ticket_id,
        "services": config.counter_services(row.number),
        "pending_pause": row.pending_pause,
        "pause_until": row.pause_until.isoformat() if row.pause_until else None,
    }
