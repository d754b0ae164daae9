"""The websocket transport the server runs with: uvicorn's, plus a way to drop a connection.

A client that stops reading fills its socket buffers; every later send then waits for ever,
and closing politely waits for buffered bytes that will never leave. The hub stops queueing to
such a client (onestop.web.hub) and its stream gives up after a bounded send time
(onestop.web.events_ws); the connection itself must then be aborted, which ASGI cannot express.
`HallWebSocketProtocol` puts the transport's `abort` into the connection's scope and keeps the
buffers small, so what one silent client costs is bounded (64 KB in the process, a small kernel
send buffer) and its socket is gone within seconds. Under servers other than ours (the test
client) the abort is simply not there and the connection closes the usual way.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from asyncio import BaseTransport, Transport
from collections.abc import Callable
from typing import Any, cast

from starlette.websockets import WebSocket

log = logging.getLogger(__name__)

ABORT_KEY = "onestop.abort"
WRITE_BUFFER_BYTES = 64 * 1024
SOCKET_SEND_BUFFER_BYTES = 64 * 1024

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import (
        WebSocketsSansIOProtocol as _Base,
    )
except ImportError:  # pragma: no cover - uvicorn without the websockets package
    _Base = None  # type: ignore[assignment,misc]


def abort_connection(websocket: WebSocket) -> None:
    abort = cast(Callable[[], None] | None, websocket.scope.get(ABORT_KEY))
    if abort is not None:
        log.info("dropped a websocket client that stopped reading (%s)", websocket.client)
        abort()


if _Base is not None:
    class HallWebSocketProtocol(_Base):
        def connection_made(self, transport: BaseTransport) -> None:
            super().connection_made(transport)
            real = cast(Transport, transport)
            with contextlib.suppress(Exception):
                real.set_write_buffer_limits(high=WRITE_BUFFER_BYTES)
            sock = real.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_SEND_BUFFER_BYTES)

        def handle_connect(self, event: Any) -> None:
            super().handle_connect(event)
            scope = getattr(self, "scope", None)
            if isinstance(scope, dict):  # the ASGI task is created but has not run yet
                scope[ABORT_KEY] = self.transport.abort

    WS_PROTOCOL: Any = HallWebSocketProtocol
else:  # pragma: no cover
    WS_PROTOCOL = "auto"
