"""A transport with an LED emulator at the far end, for a hall with no screens attached.

The bytes go through the protocol's own decoder (written from the protocol's documents), so what
the emulator shows is what a real screen would have understood, not what we meant to send.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from onestop.drivers.led.content import DecodedScreen, LedDecoder
from onestop.drivers.transports import TransportError

log = logging.getLogger(__name__)


class DecodingTransport:
    """Transport protocol: write() decodes; the emulated screens never answer (read → b"")."""

    can_read = False

    def __init__(self, name: str, decoder: LedDecoder,
                 on_screen: Callable[[DecodedScreen], None]) -> None:
        self.name = f"emulator:{name}"
        self._decoder = decoder
        self._on_screen = on_screen
        self._open = False
        self._lock = threading.Lock()

    def open(self) -> None:
        self._open = True

    def write(self, data: bytes) -> None:
        if not self._open:
            raise TransportError(f"{self.name} is not open")
        with self._lock:
            screens = self._decoder.feed(data)
            errors = self._decoder.errors
            for problem in errors:
                log.warning("%s: %s", self.name, problem)
            errors.clear()  # reported; a long day must not pile them up
        for screen in screens:
            self._on_screen(screen)

    def read(self, size: int, timeout: float) -> bytes:
        return b""

    def close(self) -> None:
        self._open = False
