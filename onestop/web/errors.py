"""Every failure becomes a JSON answer a clerk can read: 4xx for bad requests, never a trace.

Shape: {"error": code, "message": zh-CN text, "message_en": English text, "details": ...}.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from onestop.queue.errors import DomainError

log = logging.getLogger(__name__)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.as_dict(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"field": _field(tuple(e["loc"])), "problem": e["msg"]} for e in exc.errors()]
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return JSONResponse(
            {
                "error": "invalid_request",
                "message": f"请求内容有误：{summary}",
                "message_en": f"invalid request: {summary}",
                "details": problems,
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        texts = {
            404: ("找不到该地址", "not found"),
            405: ("不支持此操作方式", "method not allowed"),
        }
        zh, en = texts.get(exc.status_code, (str(exc.detail), str(exc.detail)))
        return JSONResponse(
            {"error": "http_error", "message": zh, "message_en": en},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(OperationalError)
    async def database_unavailable(_: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", exc)
        return JSONResponse(
            {
                "error": "database_unavailable",
                "message": "系统繁忙，请稍后重试",
                "message_en": "the database is busy or unreachable; please try again",
            },
            status_code=503,
        )
