#!/usr/bin/env python3
"""Benchmark a real `onestop serve` over HTTP and websockets (a benchmark, not a test).

    .venv/bin/python bench/bench_server.py [--db sqlite|postgres] [--quick]

Starts the server as a subprocess on a free 127.0.0.1 port, with a fresh temporary data dir
(SQLite) or a fresh throwaway PostgreSQL database, once per part, and measures:

1. ticket issues/s: sequential (one keep-alive connection) and 16 concurrent connections;
2. call-next latency (only the call-next request is timed; start + finish are not);
3. call -> websocket delivery latency with 1, 100 and 500 connected clients, the clients living
   in separate worker processes so that the driver's clock is not stuck behind their parsing.

HTTP goes through a lean hand-written HTTP/1.1 keep-alive client on asyncio streams (request
bytes prepared once, status line + Content-Length parsed) rather than httpx: on a 2-core machine
the client shares the CPU with the server and a heavy client would measure itself.

When this version has access control (`onestop user` exists), each server's database first gets
a supervisor account and kiosk and screen devices through the CLI, and requests carry their
credentials. A full run waits (up to 15 min) for the machine to be idle, and reports how much CPU
other processes took during the run and whether the server's code changed meanwhile.

The full run replaces this database's section of BENCHMARKS.md; --quick is a smoke check (one
server for all parts, small counts, some seconds) and writes nothing. Exit status: 0 when all
went as expected; 1 when something misbehaved (a non-2xx answer, a missing delivery, an error in
the server log, a busy machine, code edited during the run); 2 when the run had to stop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import multiprocessing as mp
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import tomllib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
ONESTOP = ROOT / ".venv" / "bin" / "onestop"
CONFIG_DIR = ROOT / "config"
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
HOST = "127.0.0.1"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
        "-q", "-c"]

TARGET_ISSUES_PER_S = 1000
TARGET_DELIVERY_P99_MS = 10.0
TARGET_CLIENTS = 500

WINDOW = 1  # windows 1 and 2 serve every service in the sample hall
READY_TIMEOUT_S = 60.0
PHASE_TIMEOUT_S = 600.0
IDLE_WAIT_S = 900.0  # before a full run, wait this long at most for other work to finish
WARM_CALLS = 5  # untimed call-next cycles before timing
CONNECT_CONCURRENCY = 50  # websocket handshakes in flight per worker process
CALLED_MARK = '"type":"ticket.called"'  # the hub serialises with separators=(",", ":")

T = TypeVar("T")
ServerFactory = Callable[[str], AbstractAsyncContextManager["Server"]]

# Filled in by bench(): {"on": bool, "described": str}
ACCESS: dict[str, Any] = {}


@dataclass(frozen=True)
class Sizes:
    warmup: int
    seq_issues: int
    conc_connections: int
    conc_issues: int
    call_backlog: int
    call_samples: int
    ws_clients: tuple[int, ...]
    ws_calls: int
    ws_workers: int
    pause_s: float
    ws_compression: str | None = "deflate"  # what browsers offer; the websockets default


FULL = Sizes(warmup=50, seq_issues=3000, conc_connections=16, conc_issues=6000,
             call_backlog=1000, call_samples=500, ws_clients=(1, 100, 500), ws_calls=100,
             ws_workers=2, pause_s=0.02)
QUICK = Sizes(warmup=10, seq_issues=100, conc_connections=16, conc_issues=160,
              call_backlog=30, call_samples=20, ws_clients=(1, 20), ws_calls=10,
              ws_workers=2, pause_s=0.02)


class BenchError(RuntimeError):
    """The server or the benchmark could not go on; the message says what was seen."""


def run_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when installed (it comes with uvicorn[standard]): less client overhead."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


# -- a lean HTTP/1.1 keep-alive client ------------------------------------------------------------


class HttpClient:
    """One keep-alive connection; requests are prepared bytes, responses need Content-Length."""

    def __init__(self, port: int, headers: str = "") -> None:
        self.port = port
        self.headers = headers  # extra header lines, each ending in \r\n (credentials)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reconnects = 0

    async def connect(self) -> HttpClient:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        return self

    def prepare(self, method: str, path: str, body: dict[str, Any] | None = None) -> bytes:
        payload = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n{self.headers}"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        if body is not None or method in ("POST", "PUT", "PATCH"):
            head += f"Content-Length: {len(payload)}\r\n"
        return head.encode() + b"\r\n" + payload

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send prepared bytes, return (status, body). Small writes need no drain().

        uvicorn closes keep-alive connections idle for 5 s; such a connection (EOF already
        seen) is reopened before sending, and counted in `reconnects`."""
        assert self.reader is not None and self.writer is not None
        if self.reader.at_eof():
            self.reconnects += 1
            await self.close()
            await self.connect()
            assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise BenchError(f"unexpected Transfer-Encoding in response: {head!r}")
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    async def exchange(self, method: str, path: str, body: dict[str, Any] | None = None
                       ) -> tuple[int, list[tuple[str, str]], bytes]:
        """The slow path, for setup: also returns the response headers (e.g. Set-Cookie)."""
        assert self.reader is not None and self.writer is not None
        self.writer.write(self.prepare(method, path, body))
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = [(n.strip().lower(), v.strip())
                   for n, _, v in (line.partition(":") for line in lines[1:] if line)]
        length = int(dict(headers).get("content-length", "0"))
        body_bytes = await self.reader.readexactly(length) if length else b""
        return int(lines[0].split()[1]), headers, body_bytes

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None
                      ) -> tuple[int, bytes]:
        return await self.send(self.prepare(method, path, body))

    async def json(self, path: str) -> Any:
        status, body = await self.request("GET", path)
        if status != 200:
            raise BenchError(f"GET {path} -> {status} {body[:300]!r}")
        return json.loads(body)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()


# -- the server under test ------------------------------------------------------------------------


@dataclass
class Server:
    port: int
    db: str
    log_path: Path
    proc: subprocess.Popen[bytes]
    issue_headers: str = ""  # credentials for POST /api/tickets
    window_headers: str = ""  # credentials for the window actions
    ws_query: str = ""  # credentials for /ws/events


@dataclass
class Credentials:
    """Accounts made with the CLI before the server starts, when this version has access control."""

    username: str
    password: str
    kiosk_token: str | None  # a kiosk device issues tickets, as in the hall
    screen_token: str

    def describe(self) -> str:
        issuer = ("a kiosk device's bearer token" if self.kiosk_token
                  else "the supervisor session (no kiosk in devices.toml)")
        return (f"access control on: tickets issued with {issuer}; window actions by a signed-in "
                "supervisor (session cookie + X-CSRF-Token); websocket clients with a screen "
                "device's token")


def access_control() -> bool:
    """Whether this version has accounts (`onestop user`), hence needs credentials."""
    done = subprocess.run([str(ONESTOP), "user", "--help"], capture_output=True, timeout=60,
                          check=False)
    return done.returncode == 0


def first_kiosk() -> str | None:
    for path in sorted(CONFIG_DIR.glob("*.toml")):
        with path.open("rb") as f:
            kiosks = tomllib.load(f).get("kiosks") or []
        if kiosks:
            return str(kiosks[0]["id"])
    return None


def cli(args: list[str], common: list[str], stdin: str | None = None) -> str:
    done = subprocess.run([str(ONESTOP), *args, *common], input=stdin, capture_output=True,
                          text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise BenchError(f"onestop {' '.join(args)} failed ({done.returncode}): "
                         f"{done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def make_accounts(common: list[str]) -> Credentials:
    def token(output: str) -> str:
        found = [line.split(":", 1)[1].strip() for line in output.splitlines()
                 if line.startswith("token:")]
        if not found:
            raise BenchError(f"no token in `onestop device add` output: {output!r}")
        return found[0]

    # "Bench-…-9": the password policy wants 3 of lower, upper, digit, symbol whatever comes out.
    username, password = "bench-supervisor", f"Bench-{secrets.token_urlsafe(12)}-9"
    cli(["user", "add", username, "--role", "supervisor", "--password-stdin"], common,
        stdin=password + "\n")
    kiosk = first_kiosk()
    kiosk_token = None
    if kiosk is not None:
        kiosk_token = token(cli(["device", "add", "bench-kiosk", "--role", "kiosk",
                                 "--kiosk", kiosk], common))
    screen_token = token(cli(["device", "add", "bench-screen", "--role", "screen"], common))
    return Credentials(username, password, kiosk_token, screen_token)


async def sign_in(port: int, creds: Credentials) -> str:
    """Sign the supervisor in; return the header lines (cookie + CSRF) its requests carry."""
    def cookie(headers: list[tuple[str, str]], current: str) -> str:
        for name, value in headers:
            if name == "set-cookie" and value.startswith("onestop_session="):
                return value.split(";", 1)[0]
        return current

    client = await HttpClient(port).connect()
    try:
        status, headers, body = await client.exchange("GET", "/auth/me")
        if status != 200:
            raise BenchError(f"GET /auth/me -> {status} {body[:300]!r}")
        jar = cookie(headers, "")
        client.headers = f"Cookie: {jar}\r\nX-CSRF-Token: {json.loads(body)['csrf_token']}\r\n"
        status, headers, body = await client.exchange(
            "POST", "/auth/login", {"username": creds.username, "password": creds.password})
        if status != 200:
            raise BenchError(f"POST /auth/login -> {status} {body[:300]!r}")
        jar = cookie(headers, jar)
        return f"Cookie: {jar}\r\nX-CSRF-Token: {json.loads(body)['csrf_token']}\r\n"
    finally:
        await client.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def psql(sql: str) -> None:
    done = subprocess.run([*PSQL, sql], capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise BenchError(f"psql {sql!r} failed: {done.stderr.strip()}")


def launch(cmd: list[str], log_path: Path, cwd: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=cwd)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def log_problems(path: Path) -> list[str]:
    """Lines of the server log that are not the usual startup banner and INFO lines."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    bad = ("ERROR", "CRITICAL", "WARNING", "Traceback", "Exception")
    return [line for line in text.splitlines() if any(b in line for b in bad)]


async def wait_ready(proc: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server exited with {proc.returncode} before it was ready:\n"
                             f"{log_tail(log_path)}")
        client = HttpClient(port)
        try:
            await client.connect()
            status, _ = await client.request("GET", "/healthz")
            if status == 200:
                return
        except OSError:
            pass
        finally:
            await client.close()
        await asyncio.sleep(0.1)
    raise BenchError(f"server not ready after {READY_TIMEOUT_S:.0f} s:\n{log_tail(log_path)}")


@contextlib.asynccontextmanager
async def running_server(db: str, part: str, workdir: Path, problems: list[str]
                         ) -> AsyncIterator[Server]:
    """A fresh server and database for one part; killed (and the database dropped) on exit."""
    data_dir = workdir / part
    data_dir.mkdir()
    log_path = workdir / f"{part}.log"
    port = free_port()
    cmd = [str(ONESTOP), "serve", "--config", str(CONFIG_DIR), "--data", str(data_dir),
           "--host", HOST, "--port", str(port)]
    common = ["--config", str(CONFIG_DIR), "--data", str(data_dir)]
    db_name = None
    if db == "postgres":
        db_name = f"bench_{os.getpid()}_{part}"
        psql(f"create database {db_name}")
        cmd += ["--db", f"{PG_SERVER}/{db_name}"]
        common += ["--db", f"{PG_SERVER}/{db_name}"]
    proc: subprocess.Popen[bytes] | None = None
    try:
        creds = make_accounts(common) if ACCESS.get("on") else None
        proc = launch(cmd, log_path, workdir)
        await wait_ready(proc, port, log_path)
        server = Server(port=port, db=db, log_path=log_path, proc=proc)
        if creds is not None:
            server.window_headers = await sign_in(port, creds)
            server.issue_headers = (f"Authorization: Bearer {creds.kiosk_token}\r\n"
                                    if creds.kiosk_token else server.window_headers)
            server.ws_query = f"?token={creds.screen_token}"
            ACCESS["described"] = creds.describe()
        yield server
    finally:
        if proc is not None:
            early_exit = proc.poll()
            stop(proc)
            if early_exit is not None:
                problems.append(f"[{part}] server exited by itself with {early_exit}")
            problems.extend(f"[{part}] server log: {line}" for line in log_problems(log_path))
        if db_name is not None:
            psql(f"drop database if exists {db_name} with (force)")


# -- statistics -----------------------------------------------------------------------------------


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


# -- part 1: ticket issues/s ----------------------------------------------------------------------


@dataclass
class IssueResult:
    label: str
    connections: int
    requests: int
    seconds: float
    statuses: Counter[int]
    latencies: list[float]
    bad: list[str]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


async def issue_tickets(server: Server, services: Sequence[str], connections: int, total: int,
                        label: str) -> IssueResult:
    """`total` POST /api/tickets over `connections` keep-alive connections, services in turn."""
    clients = [await HttpClient(server.port, server.issue_headers).connect()
               for _ in range(connections)]
    requests = [clients[0].prepare("POST", "/api/tickets", {"service": s}) for s in services]
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    bad: list[str] = []

    async def run(client: HttpClient, count: int, offset: int) -> None:
        clock = time.perf_counter
        for i in range(count):
            request = requests[(offset + i) % len(requests)]
            t0 = clock()
            status, body = await client.send(request)
            latencies.append(clock() - t0)
            statuses[status] += 1
            if status != 201 and len(bad) < 5:
                bad.append(f"POST /api/tickets -> {status} {body[:300]!r}")

    try:
        started = time.perf_counter()
        await asyncio.gather(*(run(c, n, k) for k, (c, n)
                               in enumerate(zip(clients, split(total, connections), strict=True))))
        elapsed = time.perf_counter() - started
    finally:
        for client in clients:
            await client.close()
    return IssueResult(label, connections, total, elapsed, statuses, latencies, bad)


async def part_issue(servers: ServerFactory, sizes: Sizes, problems: list[str]
                     ) -> list[IssueResult]:
    results = []
    runs = (("issue_seq", "sequential", 1, sizes.seq_issues),
            ("issue_conc", "concurrent", sizes.conc_connections, sizes.conc_issues))
    for part, label, connections, total in runs:
        async with servers(part) as server:
            http = await HttpClient(server.port, server.window_headers).connect()
            try:
                services = [s["id"] for s in await http.json("/api/services")]
            finally:
                await http.close()
            warm = await issue_tickets(server, services, 1, sizes.warmup, "warm-up")
            check_issues(warm, problems, part, setup=True)
            result = await issue_tickets(server, services, connections, total, label)
            check_issues(result, problems, part)
            results.append(result)
    return results


def check_issues(result: IssueResult, problems: list[str], part: str, setup: bool = False
                 ) -> None:
    """Record non-201 answers; in a setup step (warm-up, backlog) they end the benchmark."""
    wrong = result.requests - result.statuses.get(201, 0)
    if wrong:
        message = (f"[{part}] {wrong} of {result.requests} POST /api/tickets ({result.label}) "
                   f"were not 201: statuses {dict(result.statuses)}; first: {result.bad[:2]}")
        if setup:
            raise BenchError(message)
        problems.append(message)


# -- part 2: call-next latency --------------------------------------------------------------------


@dataclass
class CallResult:
    backlog: int
    latencies: list[float]


async def serve_one(http: HttpClient, start: bytes, finish: bytes, problems: list[str],
                    part: str) -> bool:
    """Start and finish the window's current ticket; False (and a problem) if either fails."""
    for request, what in ((start, "start"), (finish, "finish")):
        status, body = await http.send(request)
        if status != 200:
            problems.append(f"[{part}] POST /api/counters/{WINDOW}/{what} -> {status} "
                            f"{body[:300]!r}")
            return False
    return True


async def warm_calls(http: HttpClient, problems: list[str], part: str) -> None:
    """A few untimed call-next + start + finish cycles, so no timed call is the first one."""
    call, start, finish = window_requests(http)
    for _ in range(WARM_CALLS):
        status, body = await http.send(call)
        if status != 200:
            raise BenchError(f"[{part}] warm-up POST /api/counters/{WINDOW}/call-next -> "
                             f"{status} {body[:300]!r}")
        if not await serve_one(http, start, finish, problems, part):
            raise BenchError(f"[{part}] warm-up start/finish failed: {problems[-1]}")


def window_requests(http: HttpClient) -> tuple[bytes, bytes, bytes]:
    base = f"/api/counters/{WINDOW}"
    return (http.prepare("POST", f"{base}/call-next"), http.prepare("POST", f"{base}/start"),
            http.prepare("POST", f"{base}/finish", {"outcome": "on_the_spot"}))


async def part_call_next(servers: ServerFactory, sizes: Sizes, problems: list[str]
                         ) -> CallResult:
    part = "call_next"
    async with servers(part) as server:
        http = await HttpClient(server.port, server.window_headers).connect()
        try:
            services = [s["id"] for s in await http.json("/api/services")]
            backlog = await issue_tickets(server, services, 1,
                                          sizes.call_backlog + WARM_CALLS, "backlog")
            check_issues(backlog, problems, part, setup=True)
            await warm_calls(http, problems, part)
            call, start, finish = window_requests(http)
            latencies: list[float] = []
            for _ in range(sizes.call_samples):
                t0 = time.perf_counter()
                status, body = await http.send(call)
                elapsed = time.perf_counter() - t0
                if status != 200:
                    problems.append(f"[{part}] POST /api/counters/{WINDOW}/call-next after "
                                    f"{len(latencies)} calls -> {status} {body[:300]!r}")
                    break
                latencies.append(elapsed)
                if not await serve_one(http, start, finish, problems, part):
                    break
        finally:
            await http.close()
    return CallResult(backlog=sizes.call_backlog, latencies=latencies)


# -- part 3: call -> websocket delivery -----------------------------------------------------------


async def pipe_recv(conn: Connection, limit_s: float) -> Any:
    """Receive from a multiprocessing pipe without blocking the event loop (bounded)."""
    if not await asyncio.to_thread(conn.poll, limit_s):
        raise BenchError(f"no message from the other process within {limit_s:.0f} s")
    return conn.recv()


def ws_worker(port: int, query: str, clients: int, compression: str | None, conn: Connection
              ) -> None:
    """Worker process: hold `clients` websocket connections, timestamp ticket.called events."""
    try:
        run_loop(_ws_worker(port, query, clients, compression, conn))
    except Exception as exc:  # report, then let the driver decide
        with contextlib.suppress(Exception):
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


async def _ws_worker(port: int, query: str, clients: int, compression: str | None,
                     conn: Connection) -> None:
    from websockets.asyncio.client import ClientConnection, connect
    from websockets.exceptions import ConnectionClosed

    url = f"ws://{HOST}:{port}/ws/events{query}"
    inbox: list[list[tuple[float, str]]] = [[] for _ in range(clients)]
    closed: list[str] = []
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def open_one() -> ClientConnection:
        async with gate:
            ws = await connect(url, proxy=None, ping_interval=None, max_size=None,
                               open_timeout=60, compression=compression)
            first = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if first.get("type") != "snapshot":
                await ws.close()
                raise BenchError(f"first message is {first.get('type')!r}, not a snapshot")
            return ws

    async def read(index: int, ws: ClientConnection) -> None:
        sink = inbox[index]
        clock = time.time
        try:
            async for message in ws:
                received = clock()
                if isinstance(message, str) and CALLED_MARK in message:
                    sink.append((received, message))
        except ConnectionClosed:
            pass
        closed.append(f"client {index} closed by server: code {ws.close_code} "
                      f"{ws.close_reason!r}")

    opened = await asyncio.gather(*(open_one() for _ in range(clients)), return_exceptions=True)
    sockets = [ws for ws in opened if isinstance(ws, ClientConnection)]
    errors = [f"{type(e).__name__}: {e}" for e in opened if isinstance(e, BaseException)]
    extensions = sockets[0].response.headers.get("Sec-WebSocket-Extensions", "") if sockets else ""
    readers = [asyncio.create_task(read(i, ws)) for i, ws in enumerate(sockets)]
    try:
        conn.send(("ready", {"connected": len(sockets), "errors": errors[:5],
                             "extensions": extensions}))
        command, numbers, wait_s = await pipe_recv(conn, PHASE_TIMEOUT_S)
        assert command == "collect"
        wanted = len(numbers)
        for _ in range(int(wait_s / 0.01)):  # until every client has every call, or wait_s
            if all(len(box) >= wanted for box in inbox[:len(sockets)]):
                break
            await asyncio.sleep(0.01)
        expected = set(numbers)
        per_client: list[dict[str, float]] = []
        duplicates = unexpected = 0
        for box in inbox[:len(sockets)]:
            seen: dict[str, float] = {}
            for received, message in box:
                event = json.loads(message)
                if event.get("type") != "ticket.called":
                    continue
                number = event["data"]["ticket"]["number"]
                if number not in expected:
                    unexpected += 1
                elif number in seen:
                    duplicates += 1
                else:
                    seen[number] = received
            per_client.append(seen)
        conn.send(("result", {"clients": per_client, "duplicates": duplicates,
                              "unexpected": unexpected, "closed": closed[:5],
                              "closed_count": len(closed)}))
    finally:
        await asyncio.wait_for(
            asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True), 30)
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)


@dataclass
class WsResult:
    clients: int
    calls: int
    latencies: list[float]
    answer_times: list[float]  # call-next response time during the round, per call
    spreads: list[float]  # per call: last client's receipt - first client's receipt
    expected: int
    received: int
    extensions: str


async def wait_ws_clients(http: HttpClient, count: int, limit_s: float) -> int:
    """Poll /healthz until the server counts `count` websocket clients; return the last count."""
    seen = -1
    for _ in range(int(limit_s / 0.05)):
        seen = int((await http.json("/healthz"))["websocket_clients"])
        if seen == count:
            break
        await asyncio.sleep(0.05)
    return seen


async def ws_round(server: Server, http: HttpClient, clients: int, sizes: Sizes,
                   problems: list[str]) -> WsResult:
    part = f"ws_{clients}"
    ctx = mp.get_context("spawn")
    shares = [n for n in split(clients, min(sizes.ws_workers, clients)) if n]
    procs: list[Any] = []
    pipes: list[Connection] = []
    try:
        for share in shares:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=ws_worker, daemon=True,
                               args=(server.port, server.ws_query, share, sizes.ws_compression,
                                     child))
            proc.start()
            child.close()
            procs.append(proc)
            pipes.append(parent)
        connected = 0
        extensions = ""
        for pipe in pipes:
            kind, info = await pipe_recv(pipe, 120 + clients * 0.2)
            if kind != "ready":
                raise BenchError(f"[{part}] websocket worker failed: {info}")
            connected += info["connected"]
            extensions = extensions or info["extensions"]
            if info["errors"]:
                problems.append(f"[{part}] websocket connect errors: {info['errors']}")
        if connected != clients:
            raise BenchError(f"[{part}] only {connected} of {clients} websocket clients connected "
                             "and got their snapshot")
        on_server = await wait_ws_clients(http, clients, 10)
        if on_server != clients:
            problems.append(f"[{part}] /healthz counts {on_server} websocket clients, "
                            f"expected {clients}")

        call, start, finish = window_requests(http)
        sent: dict[str, float] = {}
        answer_times: list[float] = []
        for _ in range(sizes.ws_calls):
            t_send = time.time()
            status, body = await http.send(call)
            t_answer = time.time()
            if status != 200:
                problems.append(f"[{part}] POST /api/counters/{WINDOW}/call-next after "
                                f"{len(sent)} calls -> {status} {body[:300]!r}")
                break
            number = json.loads(body)["ticket"]["number"]
            if number in sent:
                problems.append(f"[{part}] ticket number {number} called twice")
            sent[number] = t_send
            answer_times.append(t_answer - t_send)
            await asyncio.sleep(sizes.pause_s)
            if not await serve_one(http, start, finish, problems, part):
                break
            await asyncio.sleep(sizes.pause_s)

        for pipe in pipes:
            pipe.send(("collect", list(sent), 10.0))
        latencies: list[float] = []
        first: dict[str, float] = {}
        last: dict[str, float] = {}
        received = 0
        for pipe in pipes:
            kind, info = await pipe_recv(pipe, 120)
            if kind != "result":
                raise BenchError(f"[{part}] websocket worker failed: {info}")
            for seen in info["clients"]:
                for number, t_send in sent.items():
                    if number in seen:
                        latencies.append(seen[number] - t_send)
                        first[number] = min(first.get(number, math.inf), seen[number])
                        last[number] = max(last.get(number, -math.inf), seen[number])
                        received += 1
            if info["duplicates"] or info["unexpected"]:
                problems.append(f"[{part}] {info['duplicates']} duplicate and "
                                f"{info['unexpected']} unexpected ticket.called deliveries")
            if info["closed_count"]:
                problems.append(f"[{part}] {info['closed_count']} websocket clients were closed "
                                f"by the server during the round: {info['closed']}")
        expected = clients * len(sent)
        if received != expected:
            problems.append(f"[{part}] websocket deliveries: expected {expected} "
                            f"({clients} clients x {len(sent)} calls), received {received}")
        spreads = [last[n] - first[n] for n in first]
        return WsResult(clients, len(sent), latencies, answer_times, spreads, expected, received,
                        extensions)
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=10)
        for pipe in pipes:
            pipe.close()


async def part_ws(servers: ServerFactory, sizes: Sizes, problems: list[str]
                  ) -> list[WsResult]:
    part = "ws"
    results = []
    async with servers(part) as server:
        http = await HttpClient(server.port, server.window_headers).connect()
        try:
            services = [s["id"] for s in await http.json("/api/services")]
            needed = sizes.ws_calls * len(sizes.ws_clients) + WARM_CALLS + 20
            backlog = await issue_tickets(server, services, 1, needed, "backlog")
            check_issues(backlog, problems, part, setup=True)
            await warm_calls(http, problems, part)
            for clients in sizes.ws_clients:
                left = await wait_ws_clients(http, 0, 30)
                if left != 0:
                    problems.append(f"[{part}] {left} websocket clients still counted before "
                                    f"the {clients}-client round")
                results.append(await ws_round(server, http, clients, sizes, problems))
        finally:
            await http.close()
    return results


# -- report ---------------------------------------------------------------------------------------


@dataclass
class Results:
    db: str
    quick: bool
    issues: list[IssueResult]
    call: CallResult
    ws: list[WsResult]
    problems: list[str]
    started: datetime
    seconds: float
    load: str  # how busy the machine was apart from this benchmark


def machine() -> str:
    try:
        cpus = subprocess.run(["nproc"], capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        cpus = str(os.cpu_count())
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (f"nproc {cpus}, {model}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def source_stamp() -> dict[str, int]:
    """Modification times of the server's code and config, to notice edits during a run."""
    stamp = {}
    for top in (ROOT / "onestop", CONFIG_DIR):
        for path in top.rglob("*"):
            if (path.is_file() and "__pycache__" not in path.parts
                    and (top == CONFIG_DIR or path.suffix == ".py")):
                with contextlib.suppress(OSError):
                    stamp[str(path.relative_to(ROOT))] = path.stat().st_mtime_ns
    return stamp


def changed_sources(before: dict[str, int]) -> list[str]:
    after = source_stamp()
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def code_version() -> str:
    """The checked-out commit, read from .git without running git (the tree may be modified)."""
    git = ROOT / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return f"commit {head[:12]} (detached; working tree may differ)"
        ref = head[5:]
        ref_file = git / ref
        if ref_file.exists():
            commit = ref_file.read_text().strip()
        else:
            packed = (git / "packed-refs").read_text().splitlines()
            commit = next(line.split()[0] for line in packed if line.endswith(" " + ref))
        return f"{ref.removeprefix('refs/heads/')} at commit {commit[:12]} " \
               "(plus any uncommitted changes in the working tree)"
    except (OSError, StopIteration):
        return "unknown (no readable .git)"


def command_line(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python", "bench/bench_server.py", "--db", args.db]
    if args.quick:
        parts.append("--quick")
    if args.ws_compression != "deflate":
        parts += ["--ws-compression", args.ws_compression]
    return " ".join(parts)


def table(results: Results) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for r in results.issues:
        what = ("1 keep-alive connection" if r.connections == 1
                else f"{r.connections} concurrent keep-alive connections")
        tenth = max(1, len(r.latencies) // 10)
        rows.append((f"ticket issue, {r.label} ({what}, {r.requests} requests)",
                     f"**{r.rate:,.0f} issues/s** (per request p50 {ms(pct(r.latencies, 50))} ms, "
                     f"p99 {ms(pct(r.latencies, 99))} ms; p50 of the first tenth "
                     f"{ms(pct(r.latencies[:tenth], 50))} ms, of the last tenth "
                     f"{ms(pct(r.latencies[-tenth:], 50))} ms)"
                     + ("" if r.statuses.get(201, 0) == r.requests else
                        f" — INVALID: {r.requests - r.statuses.get(201, 0)} responses not 201")))
    lat = results.call.latencies
    if lat:
        rows.append((f"call-next latency, window {WINDOW} ({len(lat)} samples, "
                     f"{results.call.backlog} tickets waiting at the start)",
                     f"p50 **{ms(pct(lat, 50))} ms**, p99 **{ms(pct(lat, 99))} ms**, "
                     f"max {ms(max(lat))} ms"))
    else:
        rows.append(("call-next latency", "no samples"))
    for w in results.ws:
        label = f"call → websocket delivery, {w.clients} client{'s' if w.clients > 1 else ''}"
        if w.latencies:
            value = (f"p50 **{ms(pct(w.latencies, 50))} ms**, p99 **{ms(pct(w.latencies, 99))} "
                     f"ms**, max {ms(max(w.latencies))} ms; deliveries {w.received:,} of "
                     f"{w.expected:,} expected ({w.calls} calls); first→last client spread per "
                     f"call p50 {ms(pct(w.spreads, 50))} ms; call-next response meanwhile p50 "
                     f"{ms(pct(w.answer_times, 50))} ms, p99 {ms(pct(w.answer_times, 99))} ms")
        else:
            value = f"no deliveries ({w.received} of {w.expected} expected)"
        rows.append((label, value))
    return rows


def verdicts(results: Results) -> list[str]:
    lines = []
    invalid = [r for r in results.issues if r.statuses.get(201, 0) != r.requests]
    if invalid:
        lines.append(f"≥ {TARGET_ISSUES_PER_S:,} ticket issues/s: **not established** — "
                     + "; ".join(f"{r.label}: {r.requests - r.statuses.get(201, 0)} of "
                                 f"{r.requests} responses were not 201" for r in invalid))
    rates = {r.label: r.rate for r in results.issues if r not in invalid}
    met = [label for label, rate in rates.items() if rate >= TARGET_ISSUES_PER_S]
    figures = ", ".join(f"{label} {rate:,.0f}/s" for label, rate in rates.items())
    if not rates:
        pass
    elif results.db == "sqlite":
        if len(met) == len(rates):
            verdict = "**met**"
        elif met:
            verdict = f"**met only {', '.join(met)}**"
        else:
            verdict = "**not met**"
        lines.append(f"≥ {TARGET_ISSUES_PER_S:,} ticket issues/s on SQLite: {verdict} ({figures})")
    else:
        if len(met) == len(rates):
            state = "would be met"
        elif met:
            state = f"would be met only by {', '.join(met)}"
        else:
            state = "would not be met"
        lines.append(f"≥ {TARGET_ISSUES_PER_S:,} ticket issues/s (the target is stated for SQLite; "
                     f"on PostgreSQL it {state}: {figures})")
    at_target = [w for w in results.ws if w.clients == TARGET_CLIENTS]
    if at_target and at_target[0].latencies:
        w = at_target[0]
        p99 = pct(w.latencies, 99) * 1000
        complete = w.received == w.expected
        ok = p99 < TARGET_DELIVERY_P99_MS and complete
        verdict = "**met**" if ok else "**not met**"
        lines.append(f"delivery p99 < {TARGET_DELIVERY_P99_MS:g} ms with {TARGET_CLIENTS} clients: "
                     f"{verdict} (p99 {p99:.2f} ms"
                     + ("" if complete else f"; only {w.received} of {w.expected} delivered")
                     + ")")
    else:
        lines.append(f"delivery p99 < {TARGET_DELIVERY_P99_MS:g} ms with {TARGET_CLIENTS} clients: "
                     "not measured in this run")
    return lines


def print_results(results: Results, args: argparse.Namespace) -> None:
    rows = table(results)
    width = max(len(label) for label, _ in rows)
    print()
    print(f"onestop server benchmark — {results.db}{' (quick)' if results.quick else ''}")
    print(f"command: {command_line(args)}   ({results.seconds:.0f} s)")
    print(f"machine: {machine()}")
    print(f"code: {code_version()}")
    print(f"load: {results.load}")
    print(f"auth: {ACCESS.get('described', '?')}")
    print(f"HTTP client: lean asyncio-streams HTTP/1.1 keep-alive client on {loop_name()} "
          "(hand-written requests, status line + Content-Length), not httpx")
    if results.ws:
        print(f"websocket clients: websockets library in up to {args_workers(results)} worker "
              f"processes; extensions negotiated: {results.ws[0].extensions or 'none'}")
    print("-" * (width + 60))
    for label, value in rows:
        print(f"{label:<{width}}  {value.replace('**', '')}")
    print("-" * (width + 60))
    for line in verdicts(results):
        print("target: " + line.replace("**", ""))
    if results.problems:
        print(f"\nPROBLEMS ({len(results.problems)}):")
        for problem in results.problems:
            print("  " + problem)
    else:
        print("\nno problems: every response as expected, every delivery received, "
              "server logs clean")


def args_workers(results: Results) -> int:
    return max((min(FULL.ws_workers, w.clients) for w in results.ws), default=0)


def markdown_section(results: Results, args: argparse.Namespace) -> str:
    title = "## Server: SQLite" if results.db == "sqlite" else "## Server: PostgreSQL"
    where = ("SQLite in a fresh temporary data dir" if results.db == "sqlite"
             else "a fresh throwaway PostgreSQL 15 database on 127.0.0.1")
    calls = results.ws[0].calls if results.ws else 0
    extensions = (results.ws[0].extensions if results.ws else "") or "none"
    pause = f"{FULL.pause_s * 1000:.0f} ms"
    how = [
        f"Real `onestop serve` subprocess on 127.0.0.1 with {where}; a fresh server and "
        "database for each part (sequential issues, concurrent issues, call-next, websockets). "
        "HTTP through a lean hand-written HTTP/1.1 keep-alive client on asyncio streams "
        f"({loop_name()}), not httpx, because client and server share the machine's cores. "
        "Every issue response is checked for 201, every call-next/start/finish for 200; "
        f"{ACCESS.get('described', '?')}. Issue "
        "requests cycle through all service items; \"first/last tenth\" compare the per-request "
        "latency at the start and at the end of the run (the day's ticket count grows).",
        f"Call-next: {WARM_CALLS} untimed warm-up cycles, then only the call-next request is "
        "timed; start + finish follow untimed. The backlog counts the tickets waiting when "
        "timing starts.",
        f"Websocket delivery: the `websockets` client library in {args_workers(results)} worker "
        "processes (half the connections each; extensions negotiated: "
        f"`{extensions}`, as a browser would); all clients connected and had their snapshot "
        "(and /healthz counted them) before the first call. The driver records `time.time()` "
        "just before sending each call-next, each client at receipt of the `ticket.called` "
        "event; latency = receipt − send for every (client, call) pair, so it includes the "
        "call-next transaction itself and the clients' own processing, on the same cores as "
        "the server. \"Spread\" is, per call, the last client's receipt minus the first's; "
        "\"call-next response meanwhile\" is how long the clerk's call-next request itself took "
        f"during that round. {calls} calls per client count, spaced: call, {pause} pause, "
        f"start + finish, {pause} pause.",
    ]
    lines = [
        title,
        "",
        f"Command (from the project root): `{command_line(args)}`  ",
        f"Date: {results.started:%Y-%m-%d %H:%M} UTC (run took {results.seconds:.0f} s)  ",
        f"Machine: {machine()}  ",
        f"Load: {results.load}  ",
        f"Code: {code_version()}",
        "",
    ]
    for paragraph in how:
        lines += [textwrap.fill(paragraph, 100, break_on_hyphens=False), ""]
    lines += [
        "| measure | result |",
        "|---|---|",
        *(f"| {label} | {value} |" for label, value in table(results)),
        "",
        "Targets from the issue:",
        "",
        *(f"- {line}" for line in verdicts(results)),
        "",
    ]
    if results.problems:
        lines += ["Problems seen during the run:", ""]
        lines += [f"- {problem}" for problem in results.problems]
    else:
        lines.append("No problems: every response as expected, every delivery received, "
                     "server logs free of warnings and errors.")
    lines.append("")
    return "\n".join(lines)


INTRO = """# Benchmarks

Figures are produced by the commands shown; not tests. They depend on the machine and on what
else it was doing; rerun the command to compare.
"""


def write_section(section: str) -> None:
    """Replace this section (from its heading to the next `## ` heading) or append it."""
    heading = section.splitlines()[0]
    source = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else INTRO
    lines = source.splitlines()
    new = section.rstrip("\n").splitlines()
    if heading in lines:
        start = lines.index(heading)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        tail = lines[end:]
        lines = [*lines[:start], *new, *([""] if tail else []), *tail]
    else:
        while lines and not lines[-1].strip():
            lines.pop()
        lines += ["", *new]
    BENCHMARKS_MD.write_text("\n".join(lines).rstrip("\n") + "\n")


# -- main -----------------------------------------------------------------------------------------


def print_log_tails(workdir: Path) -> None:
    for log in sorted(workdir.glob("*.log")):
        print(f"--- {log.name} (tail) ---\n{log_tail(log)}", file=sys.stderr)


def cpu_counters() -> tuple[float, float]:
    """(busy, total) CPU-seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle + iowait; guest time is already inside user
    return (sum(fields) - idle) / hz, sum(fields) / hz


def proc_table() -> dict[int, tuple[int, str, int, int]]:
    """pid -> (ppid, name, start time, CPU ticks used) for every process, from /proc/PID/stat."""
    table: dict[int, tuple[int, str, int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_bytes()
        except OSError:
            continue
        name = raw[raw.find(b"(") + 1:raw.rfind(b")")].decode(errors="replace")
        rest = raw[raw.rfind(b")") + 2:].split()  # rest[i] is field i + 3 of proc(5)
        table[int(entry.name)] = (int(rest[1]), name, int(rest[19]), int(rest[11]) + int(rest[12]))
    return table


def cpu_sampler(root: int, conn: Connection) -> None:
    """Process: every second, charge each process's new CPU time to "mine" (descendants of
    `root`), "postgres" or "other", until told to stop (at most 2 h); send the CPU-seconds."""
    hz = os.sysconf("SC_CLK_TCK")
    since_boot = float(Path("/proc/uptime").read_text().split()[0]) * hz
    last: dict[tuple[int, int], int] = {}
    totals = {"mine": 0, "postgres": 0, "other": 0}
    for _ in range(7200):
        table = proc_table()
        for pid, (_, name, started, ticks) in table.items():
            base = last.get((pid, started))
            if base is None:  # first sight: count all of it if it started after us
                base = 0 if started >= since_boot else ticks
            last[(pid, started)] = ticks
            if ticks > base:
                totals[_owner(pid, name, root, table)] += ticks - base
        if conn.poll(1.0):
            break
    conn.send({k: v / hz for k, v in totals.items()})
    conn.close()


def _owner(pid: int, name: str, root: int, table: dict[int, tuple[int, str, int, int]]) -> str:
    for _ in range(64):
        if pid == root:
            return "mine"
        if pid not in table or pid <= 1:
            break
        pid = table[pid][0]
    return "postgres" if name.startswith("postgres") else "other"


async def wait_for_idle(limit_s: float, sample_s: float = 5.0) -> float:
    """Wait (bounded) until the machine is < 10 % busy over sample_s; return the last share."""
    busy = 1.0
    for _ in range(max(1, int(limit_s / sample_s))):
        b0, t0 = cpu_counters()
        await asyncio.sleep(sample_s)
        b1, t1 = cpu_counters()
        busy = (b1 - b0) / max(t1 - t0, 1e-9)
        if busy < 0.10:
            break
        print(f"machine {busy:.0%} busy before the run; waiting for it to settle "
              f"(up to {limit_s:.0f} s)", flush=True)
    return busy


async def bench(args: argparse.Namespace) -> Results:
    sizes = QUICK if args.quick else FULL
    if args.ws_compression == "none":
        sizes = dataclasses.replace(sizes, ws_compression=None)
    problems: list[str] = []
    ACCESS["on"] = await asyncio.to_thread(access_control)
    ACCESS["described"] = ("access control on" if ACCESS["on"]
                           else "no access control in this version (anonymous requests)")
    idle_before = await (wait_for_idle(1, 1) if args.quick else wait_for_idle(IDLE_WAIT_S))
    started = datetime.now(UTC)
    t0 = time.monotonic()
    stamp = source_stamp()
    sampler_pipe, child = mp.get_context("spawn").Pipe()
    sampler = mp.get_context("spawn").Process(target=cpu_sampler, args=(os.getpid(), child),
                                              daemon=True)
    sampler.start()
    child.close()
    with tempfile.TemporaryDirectory(prefix="onestop-bench-") as tmp:
        workdir = Path(tmp)
        try:
            async with contextlib.AsyncExitStack() as stack:
                def fresh(part: str) -> AbstractAsyncContextManager[Server]:
                    return running_server(args.db, part, workdir, problems)

                servers: ServerFactory = fresh
                if args.quick:  # a smoke check: one server for every part, to be quick
                    shared = await stack.enter_async_context(fresh("quick"))

                    def reuse(part: str) -> AbstractAsyncContextManager[Server]:
                        return contextlib.nullcontext(shared)

                    servers = reuse
                async with asyncio.timeout(PHASE_TIMEOUT_S):
                    issues = await part_issue(servers, sizes, problems)
                print(f"issues done ({time.monotonic() - t0:.0f} s)", flush=True)
                async with asyncio.timeout(PHASE_TIMEOUT_S):
                    call = await part_call_next(servers, sizes, problems)
                print(f"call-next done ({time.monotonic() - t0:.0f} s)", flush=True)
                async with asyncio.timeout(PHASE_TIMEOUT_S):
                    ws = await part_ws(servers, sizes, problems)
                print(f"websockets done ({time.monotonic() - t0:.0f} s)", flush=True)
        except BaseException:
            for problem in problems:
                print("problem: " + problem, file=sys.stderr)
            print_log_tails(workdir)
            raise
    elapsed = time.monotonic() - t0
    sampler_pipe.send("stop")
    used = await pipe_recv(sampler_pipe, 30)
    sampler.join(timeout=10)
    capacity = elapsed * (len(os.sched_getaffinity(0)) or 1)
    share = used["other"] / capacity
    load = (f"{idle_before:.0%} busy just before the run; during it, unrelated processes used "
            f"at least {used['other']:.0f} CPU-s ({share:.0%} of the machine), PostgreSQL "
            f"{used['postgres']:.0f} CPU-s, this benchmark with its servers and clients "
            f"{used['mine']:.0f} CPU-s")
    if share > 0.10:
        problems.append(f"the machine was shared during the run ({load}); the figures are "
                        "lower than on an idle machine")
    changed = changed_sources(stamp)
    if changed:
        problems.append(f"{len(changed)} server source/config files changed during the run, so "
                        f"the parts may have run different code: {', '.join(changed[:10])}")
    return Results(args.db, args.quick, issues, call, ws, problems, started, elapsed, load)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--quick", action="store_true",
                        help="a much smaller run (a few seconds) that writes nothing")
    parser.add_argument("--ws-compression", choices=("deflate", "none"), default="deflate",
                        help="offer permessage-deflate like browsers do (default), or not; "
                             "a run with 'none' is a diagnostic and writes nothing")
    args = parser.parse_args(argv)
    try:
        results = run_loop(bench(args))
    except BenchError as exc:
        print(f"\nbenchmark aborted, nothing written: {exc}", file=sys.stderr)
        return 2
    print_results(results, args)
    if args.quick or args.ws_compression != "deflate":
        print(f"\nnot the standard run: {BENCHMARKS_MD.name} left unchanged")
    else:
        write_section(markdown_section(results, args))
        print(f"\nwrote the {results.db} section of {BENCHMARKS_MD}")
    return 1 if results.problems else 0


if __name__ == "__main__":
    sys.exit(main())
