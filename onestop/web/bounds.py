"""Input the database cannot hold is refused at the door, the same way for every route.

PostgreSQL refuses a NUL byte in text and SQLite an integer beyond 64 bits; both used to surface
as 500s deep inside a route. One middleware checks the path, the query and the body (JSON or a
form) before any route runs: control characters (line breaks and tabs are allowed in body text,
where notes and notices span lines) and integers outside 64 bits get a 422 that names the
field, and a body above the hall's limit gets a 413 before it is read, so an anonymous client
cannot make the server hold megabytes. What still slips through to the database (a value only
the driver rejects) is answered 422 by `install_handlers`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, StatementError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

INT64_MAX = 2**63 - 1
WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Control characters: C0 and DEL everywhere; in body text \t \n \r are allowed.
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INTEGER = re.compile(r"-?\d+")


class Refused(Exception):
    def __init__(self, status: int, code: str, zh: str, en: str, field: str = "") -> None:
        super().__init__(en)
        self.status, self.code, self.zh, self.en, self.field = status, code, zh, en, field

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"error": self.code, "message": self.zh, "message_en": self.en}
        if self.field:
            body["details"] = [{"field": self.field, "problem": self.en}]
        return JSONResponse(body, status_code=self.status)


def _control(field: str) -> Refused:
    where = field or "请求"
    return Refused(422, "invalid_characters", f"{where}含有不可见的控制字符，请删除后重试",
                   f"{field or 'the request'} contains control characters", field)


def _too_big(field: str) -> Refused:
    return Refused(422, "number_out_of_range", f"{field}的数值超出范围",
                   f"{field}: number out of range", field)


def check_text(field: str, text: str, *, body: bool = False) -> None:
    if (_BODY_CONTROL if body else _ANY_CONTROL).search(text):
        raise _control(field)


def check_number_text(field: str, text: str) -> None:
    """A path segment or query value that is an integer must fit 64 bits."""
    if _INTEGER.fullmatch(text) and abs(int(text)) > INT64_MAX:
        raise _too_big(field)


def _walk(value: Any, field: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(key, f"{field}.{key}" if field else "key")
            yield from _walk(item, f"{field}.{key}" if field else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{field}[{i}]")
    else:
        yield field, value


# What a JSON body needs to hold a control character (escaped as \\uXXXX, \\b or \\f, or a raw DEL, which JSON
# allows) or an integer beyond 64 bits (19 digits or more). Bodies without one (nearly all:
# every ticket issued) are not parsed here a second time.
_JSON_SUSPECT = re.compile(rb"\\u00[01][0-9a-fA-F]|\\u007[fF]|\\[bf]|\x7f|\d{19,}")


def check_json(raw: bytes) -> None:
    """Leave syntax errors to the route's own validation (it words them better)."""
    if not _JSON_SUSPECT.search(raw):
        return
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return
    for field, value in _walk(document, ""):
        name = field or "body"
        if isinstance(value, str):
            check_text(name, value, body=True)
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT64_MAX:
            raise _too_big(name)


def check_form(raw: bytes) -> None:
    try:
        pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    except ValueError:
        return
    for key, value in pairs:
        check_text(key or "body", key + value, body=True)


def check_address(scope: Scope) -> None:
    path: str = scope.get("path", "")
    check_text("path", path)
    for segment in path.split("/"):
        check_number_text("path", segment)
    query = scope.get("query_string", b"").decode("latin-1")
    for key, value in parse_qsl(query, keep_blank_values=True):
        check_text(key or "query", key + value)
        check_number_text(key, value)


class InputBounds:
    """ASGI middleware: the checks above, and the body limit, before any route reads."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = 64 * 1024) -> None:
        self.app = app
        self.max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                try:
                    check_address(scope)
                except Refused:
                    await send({"type": "websocket.close", "code": 1008})
                    return
            await self.app(scope, receive, send)
            return
        try:
            check_address(scope)
            if scope.get("method") in WITH_BODY:
                raw = await self._read_body(scope, receive)
                kind = _content_type(scope)
                if kind == "application/json" or kind.endswith("+json"):
                    check_json(raw)
                elif kind == "application/x-www-form-urlencoded":
                    check_form(raw)
                receive = _replay(raw)
        except Refused as refused:
            if refused.status == 413:
                log.warning("refused a request body over %d bytes for %s",
                            self.max_body, scope.get("path"))
            await refused.response()(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                if int(declared) > self.max_body:
                    raise self._body_too_large()
            except ValueError:
                raise Refused(400, "bad_request", "请求头有误", "bad Content-Length") from None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise self._body_too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _body_too_large(self) -> Refused:
        kb = self.max_body // 1024
        return Refused(413, "body_too_large", f"提交的内容过大（上限{kb} KB）",
                       f"request body too large (limit {kb} KB)")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _content_type(scope: Scope) -> str:
    return (_header(scope, b"content-type") or "").split(";")[0].strip().lower()


def _replay(raw: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def install_handlers(app: FastAPI) -> None:
    """A value only the database driver refuses (a number too large for its column, text it
    cannot store) is the client's mistake: 422, never a 500."""

    def refused(exc: Exception) -> JSONResponse:
        log.info("database refused a value: %s", exc)
        return Refused(422, "invalid_value", "提交的数值或文字无法保存，请检查后重试",
                       "a value in the request cannot be stored").response()

    @app.exception_handler(DataError)
    async def data_error(_: Request, exc: DataError) -> JSONResponse:
        return refused(exc)

    @app.exception_handler(OverflowError)
    async def overflow(_: Request, exc: OverflowError) -> JSONResponse:
        return refused(exc)

    @app.exception_handler(StatementError)
    async def statement_error(request: Request, exc: StatementError) -> JSONResponse:
        if isinstance(exc.orig, (OverflowError, ValueError, TypeError)):
            return refused(exc)
        raise exc
