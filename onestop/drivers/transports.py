"""Byte pipes to a device: TCP (printers on 9100, LED controllers), serial (any pyserial URL:
/dev/ttyUSB0, a pty, `loop://`, `socket://`), file.

Each opens only when asked and closes explicitly: no port is opened behind the caller's back
(unlike python-escpos's lazy `device` property). `read` returns b"" on timeout, never blocks
forever. Drivers of every kind share them; USB printers live in onestop.drivers.escpos.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, BinaryIO, Protocol


class TransportError(OSError):
    """The device cannot be reached through this transport."""


class Transport(Protocol):
    name: str
    can_read: bool

    def open(self) -> None: ...
    def write(self, data: bytes) -> None: ...
    def read(self, size: int, timeout: float) -> bytes: ...
    def close(self) -> None: ...


class TcpTransport:
    can_read = True

    def __init__(self, host: str, port: int, timeout: float = 2.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.name = f"tcp://{host}:{port}"
        self._sock: socket.socket | None = None

    def open(self) -> None:
        if self._sock is None:
            try:
                self._sock = socket.create_connection((self.host, self.port), self.timeout)
            except OSError as exc:
                raise TransportError(f"cannot connect to {self.name}: {exc}") from exc
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def write(self, data: bytes) -> None:
        if self._sock is None:
            raise TransportError(f"{self.name} is not open")
        self._sock.settimeout(self.timeout)
        self._sock.sendall(data)

    def read(self, size: int, timeout: float) -> bytes:
        if self._sock is None:
            raise TransportError(f"{self.name} is not open")
        self._sock.settimeout(timeout)
        try:
            data = self._sock.recv(size)
        except TimeoutError:
            return b""
        if not data:
            raise TransportError(f"{self.name} closed the connection")
        return data

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None


class SerialTransport:
    can_read = True

    def __init__(self, url: str, baudrate: int = 9600, timeout: float = 2.0) -> None:
        self.url, self.baudrate, self.timeout = url, baudrate, timeout
        self.name = f"serial:{url}@{baudrate}"
        self._port: Any = None

    def open(self) -> None:
        if self._port is not None:
            return
        import serial

        try:
            self._port = serial.serial_for_url(
                self.url, baudrate=self.baudrate, timeout=self.timeout,
                write_timeout=self.timeout,
            )
        except (serial.SerialException, ValueError) as exc:
            raise TransportError(f"cannot open {self.name}: {exc}") from exc

    def write(self, data: bytes) -> None:
        if self._port is None:
            raise TransportError(f"{self.name} is not open")
        try:
            self._port.write(data)
            self._port.flush()
        except Exception as exc:
            raise TransportError(f"write to {self.name} failed: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        if self._port is None:
            raise TransportError(f"{self.name} is not open")
        self._port.timeout = timeout
        try:
            return bytes(self._port.read(size))
        except Exception as exc:
            raise TransportError(f"read from {self.name} failed: {exc}") from exc

    def close(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            finally:
                self._port = None


class FileTransport:
    """Appends bytes to a file or device node (e.g. /dev/usb/lp0); it cannot hear the printer."""

    can_read = False

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.name = f"file:{path}"
        self._file: BinaryIO | None = None

    def open(self) -> None:
        if self._file is None:
            try:
                self._file = self.path.open("ab")
            except OSError as exc:
                raise TransportError(f"cannot open {self.path}: {exc}") from exc

    def write(self, data: bytes) -> None:
        if self._file is None:
            raise TransportError(f"{self.name} is not open")
        self._file.write(data)
        self._file.flush()

    def read(self, size: int, timeout: float) -> bytes:
        return b""

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            finally:
                self._file = None
