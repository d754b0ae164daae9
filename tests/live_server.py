"""A real `onestop serve` process for tests that need one: restarts, SIGKILL, websockets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
READY_TIMEOUT = 60.0
# Test servers begin on an ordinary Wednesday morning, whenever the tests run, so the hall is
# open (hours, cut-off, lunch) the same way in CI at midnight as at noon.
CLOCK_START = "2026-11-25T09:30:00+08:00"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """Runs the server as a child process; `start()` returns once uvicorn says it listens."""

    def __init__(
        self,
        db_url: str,
        data_dir: Path,
        port: int | None = None,
        config_dir: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.db_url = db_url
        self.data_dir = data_dir
        self.port = port or free_port()
        self.config_dir = config_dir or CONFIG_DIR
        self.env = dict(env or {})
        self.proc: subprocess.Popen[str] | None = None
        self.output: list[str] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/events"

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "ONESTOP_CLOCK_START": CLOCK_START,
               **self.env}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "onestop.cli",
                "serve",
                "--config",
                str(self.config_dir),
                "--data",
                str(self.data_dir),
                "--db",
                self.db_url,
                "--port",
                str(self.port),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        ready = threading.Event()
        threading.Thread(target=self._pump, args=(self.proc, ready), daemon=True).start()
        if not ready.wait(READY_TIMEOUT) or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.output[-40:]))

    def _pump(self, proc: subprocess.Popen[str], ready: threading.Event) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.output.append(line)
            if "Uvicorn running on" in line:
                ready.set()
        ready.set()  # process ended: wake the waiter, which then sees poll() != None

    def kill(self) -> None:
        """Stop hard, as a power cut or OOM kill would: no shutdown hooks run."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
