"""Security headers on every response, from one middleware installed once in create_app.

- Pages: scripts and styles come from our own static files only (no inline script or style
  anywhere), data never becomes markup, and no other site may frame them.
- Everything else (JSON, SVG, errors): `default-src 'none'`, never framed; a JSON answer can
  never run as a page.
- The API documentation page (/docs) loads Swagger UI from the installed swagger-ui-py package
  (no CDN: the hall's network may have no Internet, and no third-party script runs on a staff
  site); Swagger UI sets inline styles, so that one page's policy allows them.
- `Cache-Control: no-store` on every answer that does not say otherwise, static files aside:
  a ticket's token, a booking's code or a staff list never rests in a shared cache.

A response that already carries one of these headers keeps its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)
DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"

COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Kept for the pages' own tests and for anyone who reads the page set.
SECURITY_HEADERS = {"Content-Security-Policy": PAGE_POLICY, **COMMON_HEADERS}

STATIC_PREFIX = "/static/"


class SecurityHeaders:
    """Pure ASGI middleware: the headers above, by kind of response."""

    def __init__(self, app: ASGIApp, docs: Iterable[str | None] = ()) -> None:
        self.app = app
        self.docs = frozenset(path for path in docs if path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                html = headers.get("content-type", "").startswith("text/html")
                if path in self.docs:
                    policy, frame = DOCS_POLICY, "DENY"
                elif html:
                    policy, frame = PAGE_POLICY, "SAMEORIGIN"
                else:
                    policy, frame = DATA_POLICY, "DENY"
                headers.setdefault("Content-Security-Policy", policy)
                headers.setdefault("X-Frame-Options", frame)
                for name, value in COMMON_HEADERS.items():
                    headers.setdefault(name, value)
                if not path.startswith(STATIC_PREFIX):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
