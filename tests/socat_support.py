"""A socat pty pair standing in for an RS-485 line: the bus writes one end, screens read the other.

The screens' end is created first with `wait-slave`, so socat creates the bus's end only after
an emulator has opened the screens' end: pyserial clears the input buffer when it opens a port,
so a screen that opened late would lose the first frames. Killing socat makes both ends vanish,
as unplugging a USB–RS-485 adapter does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_socat() -> str:
    """socat's path; a missing socat fails under CI=true and skips locally."""
    found = shutil.which("socat")
    if found is None:
        message = "socat not found (apt-get install socat)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


def wait_path(path: Path, timeout: float = 10.0) -> bool:
    """True once `path` exists; polls (a file has no event to wait on) with a bounded deadline."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


class SocatPair:
    """`bus_link` and `screens_link` joined by socat, restartable under the same names."""

    def __init__(self, directory: Path, socat: str = "socat") -> None:
        self.socat = socat
        self.bus_link = directory / "bus-pty"
        self.screens_link = directory / "screens-pty"
        self.log = directory / "socat.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start socat; the screens' end appears now, the bus's end once a screen opened it."""
        for link in (self.bus_link, self.screens_link):
            link.unlink(missing_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.socat, "-d", "-d",
                 f"pty,raw,echo=0,wait-slave,link={self.screens_link}",
                 f"pty,raw,echo=0,link={self.bus_link}"],
                stdout=subprocess.DEVNULL, stderr=log)
        if not wait_path(self.screens_link):
            raise RuntimeError(f"socat made no pty: {self.log.read_text()}")

    def wait_bus_end(self, timeout: float = 10.0) -> None:
        """Wait until socat has made the bus's end (after a screen opened its end)."""
        if not wait_path(self.bus_link, timeout):
            raise RuntimeError(f"socat made no bus pty: {self.log.read_text()}")

    def kill(self) -> None:
        """Make both ends vanish, as an unplugged adapter does."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
        for link in (self.bus_link, self.screens_link):
            link.unlink(missing_ok=True)
