"""Security headers on every HTML page, from one middleware installed once in create_app.

Scripts and styles come from our own static files only (no inline script or style anywhere),
data never becomes markup, and pages are not framed by other sites. A response that already
carries one of these headers keeps its own. The OpenAPI pages (/docs, /redoc), which load
FastAPI's Swagger UI from a CDN with inline scripts, are exempt.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class SecurityHeaders:
    """Pure ASGI middleware: adds SECURITY_HEADERS to responses whose type is text/html."""

    def __init__(self, app: ASGIApp, exempt: Iterable[str | None] = ()) -> None:
        self.app = app
        self.exempt = frozenset(path for path in exempt if path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    for name, value in SECURITY_HEADERS.items():
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
