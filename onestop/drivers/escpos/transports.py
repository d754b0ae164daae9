"""ESC/POS transports: the shared byte pipes, plus USB through python-escpos."""

from __future__ import annotations

from typing import Any

from onestop.drivers.transports import (
    FileTransport,
    SerialTransport,
    TcpTransport,
    Transport,
    TransportError,
)

__all__ = ["FileTransport", "SerialTransport", "TcpTransport", "Transport", "TransportError",
           "UsbTransport"]


class UsbTransport:
    """A USB printer through python-escpos's Usb class (needs pyusb and access to the device)."""

    can_read = True

    def __init__(self, vendor_id: int, product_id: int, timeout: float = 2.0) -> None:
        self.vendor_id, self.product_id, self.timeout = vendor_id, product_id, timeout
        self.name = f"usb:{vendor_id:04x}:{product_id:04x}"
        self._printer: Any = None

    def open(self) -> None:
        if self._printer is not None:
            return
        try:
            from escpos.printer import Usb

            printer = Usb(self.vendor_id, self.product_id, timeout=int(self.timeout * 1000))
            printer.open()
        except Exception as exc:  # pyusb missing, no permission, not plugged in
            raise TransportError(f"cannot open {self.name}: {exc}") from exc
        self._printer = printer

    def write(self, data: bytes) -> None:
        if self._printer is None:
            raise TransportError(f"{self.name} is not open")
        try:
            self._printer._raw(data)
        except Exception as exc:
            raise TransportError(f"write to {self.name} failed: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        if self._printer is None:
            raise TransportError(f"{self.name} is not open")
        try:
            return bytes(self._printer._read())[:size]
        except Exception:
            return b""

    def close(self) -> None:
        if self._printer is not None:
            try:
                self._printer.close()
            finally:
                self._printer = None
