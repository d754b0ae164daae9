"""The error answers every route can give, declared in the OpenAPI from the route itself.

FastAPI documents a route's success and, for routes with parameters, a 422 in its own shape,
which is not the shape this app answers with (onestop.web.errors). A client generator, a
reader of /docs and the API fuzzing test all need to know which refusals to expect, and a
hand-kept list per route would drift. So `declare_error_responses`, called once after the
routers are included, derives them from what each route is:

- 401 when it declares an action of the role matrix (`allow(...)`, onestop.web.access), and
  403 too unless every role may perform it (or it writes: a session's CSRF token is checked);
- 404 when it has path parameters (an unknown ticket, window, code, id);
- 409 when it writes (POST, PUT, PATCH, DELETE): the hall's state may not allow it;
- 413 when it takes a body (the hall's body limit), 422 when it takes parameters or a body;
- 429 when it is rate limited (`rate_limit(...)`, onestop.web.rate_limits).

Every such answer, and any 4xx a route lists itself (`responses=answers(401, 429)` for what the
rules cannot see, e.g. sign-in), is documented with one model, `ErrorBody`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.routing import BaseRoute

from onestop.web.access import EVERYONE, MATRIX

ACTIONS = {f"allow_{action.replace('.', '_')}": action for action in MATRIX}
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DESCRIPTIONS: dict[int, str] = {
    401: "Not signed in, or the device token is invalid or revoked (`unauthorized`).",
    403: "Not allowed for this role, window or kiosk, or the CSRF token is missing "
         "(`forbidden`).",
    404: "No such ticket, window, kiosk, code or record (`not_found`).",
    409: "The hall's current state does not allow this (`conflict`, `invalid_transition`, "
         "`not_staffed`, `not_at_window`, `issuing_closed`, …).",
    413: "The request body is larger than the hall allows (`[security] max_body_kb`).",
    422: "A malformed, out-of-range or unfitting request (`invalid_request`, `rejected`, …); "
         "`details` names the fields.",
    429: "Too many requests from this address or for this account (`too_many_attempts`); "
         "try again later.",
}
ERROR_REF = "#/components/schemas/ErrorBody"


class ErrorBody(BaseModel):
    """What every refusal looks like (onestop.web.errors, onestop.queue.errors)."""

    error: str = Field(description="A stable code, e.g. `not_found`, `invalid_transition`.")
    message: str = Field(description="What went wrong, in zh-CN, for the person at the screen.")
    message_en: str = Field(description="The same in English.")
    details: dict[str, Any] | list[dict[str, Any]] | None = Field(
        None, description="The fields at fault (422), or facts about the refusal.")


def answers(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route's refusals the rules below cannot see (it checks by hand)."""
    return {code: {"description": DESCRIPTIONS[code]} for code in codes}


def _api_routes(routes: list[BaseRoute]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI wraps those)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _api_routes(inner.routes)
        elif isinstance(route, APIRoute):
            yield route


def error_codes(route: APIRoute, method: str) -> set[int]:
    """The error statuses `method` on `route` can answer with, derived from its dependencies,
    parameters and body (see the module's docstring)."""
    codes: set[int] = set()
    if route.body_field is not None or "requestBody" in (route.openapi_extra or {}):
        codes |= {413, 422}
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        name = getattr(dependant.call, "__name__", "")
        if name in ACTIONS:
            codes.add(401)
            if method in WRITES or MATRIX[ACTIONS[name]] != EVERYONE:
                codes.add(403)
        elif name.startswith("rate_limit_"):
            codes.add(429)
        if dependant.path_params:
            codes |= {404, 422}
        if dependant.query_params or dependant.header_params or dependant.cookie_params:
            codes.add(422)
        stack.extend(dependant.dependencies)
    if method in WRITES:
        codes.add(409)
    return codes


def _declare(schema: dict[str, Any], routes: list[BaseRoute]) -> None:
    content = {"application/json": {"schema": {"$ref": ERROR_REF}}}
    for route in _api_routes(routes):
        item = schema.get("paths", {}).get(route.path_format)
        for method in route.methods or ():
            operation = (item or {}).get(method.lower())
            if operation is None:  # not in the schema (include_in_schema=False)
                continue
            responses = operation.setdefault("responses", {})
            for code in error_codes(route, method):
                responses.setdefault(str(code), {"description": DESCRIPTIONS[code]})
            for code, response in responses.items():
                if code == "422" and response.get("description") == "Validation Error":
                    response.update(description=DESCRIPTIONS[422], content=content)  # FastAPI's
                elif code.startswith("4") and "content" not in response:
                    response["content"] = content
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorBody"] = ErrorBody.model_json_schema()
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 models, replaced
        if f'"#/components/schemas/{name}"' not in json.dumps(schema["paths"]):
            components.pop(name, None)


def declare_error_responses(app: FastAPI) -> None:
    """Add the error answers to the app's OpenAPI (call after every router is included)."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    declared: list[dict[str, Any]] = []  # the schema last declared into

    def openapi() -> dict[str, Any]:
        schema = generate()
        if not declared or declared[0] is not schema:  # FastAPI rebuilds it when routes change
            _declare(schema, app.routes)
            declared[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
