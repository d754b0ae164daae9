"""What a `notice.changed` event does to the notices a screen already shows.

The event carries the change alone (the notice as it now shows, or null when it was deleted or
stopped showing) and the ids showing afterwards, in order: a few hundred bytes however many
notices the hall has, where it used to carry every notice in full. A screen that started from
GET /api/notices keeps the list up to date from the events alone; events written before this
format (with the whole list under "notices") are still understood, so replay keeps working.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def event_data(action: str, notice_id: int, notice: dict[str, Any] | None,
               showing: list[int]) -> dict[str, Any]:
    return {"change": {"action": action, "id": notice_id}, "notice": notice, "showing": showing}


def apply_change(current: list[dict[str, Any]], data: Mapping[str, Any]
                 ) -> tuple[list[dict[str, Any]], bool]:
    """The notices showing after the event, and whether some were unknown here (the screen
    should fetch the list again: it missed a notice that has started showing since)."""
    if isinstance(data.get("notices"), list):  # the older format: the whole list
        return [dict(n) for n in data["notices"] if isinstance(n, Mapping)], False
    showing = data.get("showing")
    change = data.get("change")
    if not isinstance(showing, list) or not isinstance(change, Mapping):
        return current, True
    by_id = {n.get("id"): n for n in current if isinstance(n, Mapping)}
    notice = data.get("notice")
    if isinstance(notice, Mapping):
        by_id[notice.get("id")] = dict(notice)
    else:
        by_id.pop(change.get("id"), None)
    result = [by_id[i] for i in showing if i in by_id]
    return result, len(result) != len(showing)
