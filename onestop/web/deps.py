"""The typed way from a request to the hall it serves.

`request.app.state.hall` is untyped to Starlette; `hall_of(request)` gives it back as the Hall,
so `await hall.db(hall.engine.tickets.issue, ...)` can be followed from a route into the engine
by a reader, an IDE and mypy. (The Hall is imported for type checking only: it wires the rooms,
which import this module.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from onestop.hall import Hall


def hall_of(conn: HTTPConnection) -> Hall:
    return cast("Hall", conn.app.state.hall)
