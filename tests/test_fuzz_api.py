"""The whole OpenAPI fuzzed as every kind of caller, on both databases: no input, however odd,
makes the server answer 5xx.

Schemathesis generates requests for every operation in /openapi.json (its coverage phase:
boundaries, type mismatches, missing fields, methods a path does not take; then MAX_EXAMPLES
generated cases, valid and schema-breaking) and sends them over HTTP to the real application
(uvicorn in this process, real sign-in, real database). The only check is
`not_a_server_error`: a refusal is a 4xx with a message, never a 500. Every operation is fuzzed
as every identity: anonymous (a browser that has a CSRF token but has not signed in), kiosk and
screen (device tokens, `Authorization: Bearer`), clerk (sitting at window 5), desk, supervisor
and admin (session cookie and `X-CSRF-Token`). Credentials are in the session's headers and
cookies, never in the fuzzed parameters (the OpenAPI declares no security parameters).

Bounded and reproducible: derandomized, MAX_EXAMPLES generated cases per operation after the
coverage cases. A request that stops at the door (a role the matrix refuses: 401/403 from
`allow()`; a method the path does not take: 405) is sent for its first REFUSED_CASES cases
only: more would test the same door again. The hall is seeded (staffed windows, waiting
tickets with known tokens, Saturday bookings with known codes) and schemathesis mixes those
values, and the catalogue's services, queues, windows, kiosks and clerks, into half of the
generated values of the fields that name them (DICTIONARIES), so cases get past "not found" to
the code behind it.

Excluded: nothing in the OpenAPI. The /ws websocket routes are not in it (test_events_ws.py
and test_public_stream.py cover them). What can end the fuzzing identity's session or move it
(POST /auth/logout, /auth/login, /auth/password, /auth/window, DELETE /api/admin/sessions/{id})
is fuzzed too, and the identity is restored after each such case (signed in, seated again).
Each identity is an account or device of its own, made for this run, so an admin's fuzzing
(disable, reset, revoke, rotate) never hits another identity's credentials. Here the hall's
rate limits are off, its sign-in throttle has no delays or locks and argon2 is cheap, so every
case reaches the route's code instead of a 429 or a wait (test_abuse.py and test_access.py test
those).

Not stateful: FastAPI's OpenAPI has no links and the routes answer untyped objects, so
schemathesis' stateful phase finds nothing to chain; the seeded hall and the dictionaries
stand in for it.

Schemathesis' `pytest.from_fixture` does not work with pytest 9.2 (it sets `Node._nodeid`),
so the schema is loaded at import from an app that is never started, and the calls go over
HTTP: its in-process ASGI client ends every app's lifespan after each test item.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
import schemathesis
import sqlalchemy as sa
import uvicorn
from argon2 import PasswordHasher
from auth_support import PASSWORD, SAMPLE_CONFIG_DIR, sample_hall_without_printers, sign_in
from conftest import fresh_db_url, hall_time
from engine_support import KIOSK, clerk_at
from fastapi.routing import APIRoute
from schemathesis.checks import not_a_server_error

from onestop.app import create_app
from onestop.queue.actors import RESIDENT
from onestop.queue.clock import ManualClock
from onestop.queue.errors import NotAtWindow, NotFound
from onestop.queue.states import Priority
from onestop.queue.tables import appointments, tickets
from onestop.settings import RuntimeSettings, load_hall_config
from onestop.web.access import MATRIX, LoginThrottle
from onestop.web.openapi_errors import ACTIONS, ErrorBody
from onestop.web.passwords import PasswordWorkers

SAMPLE = SAMPLE_CONFIG_DIR
IDENTITIES = {"anonymous": "public", "kiosk": "kiosk", "screen": "screen", "clerk": "clerk",
              "desk": "desk", "supervisor": "supervisor", "admin": "admin"}
CLERK_WINDOWS = [5, 6]  # the fuzzing clerk's; nobody else sits there
MAX_EXAMPLES = 20
REFUSED_CASES = 5
# Operations after which the identity may have lost its session or its window.
RESTORE_AFTER = {("POST", "/auth/logout"), ("POST", "/auth/login"), ("POST", "/auth/password"),
                 ("POST", "/auth/window"), ("DELETE", "/api/admin/sessions/{session_id}")}
SAMPLE_CONFIG = load_hall_config(SAMPLE)
TOKENS: list[str | int] = [f"fuzzticket{n:06d}" for n in range(1, 7)]  # seeded tickets' tokens
CODES: list[str | int] = ["FUZZ2345", "FUZZ6789"]  # seeded bookings' codes
# Values that exist in the seeded hall, mixed into half the generated values of these fields
# (schemathesis dictionaries), so cases get past "unknown service" to the code behind it.
DICTIONARIES: dict[str, list[str | int]] = {
    "services": [s.id for s in SAMPLE_CONFIG.services],
    "queues": [q.id for q in SAMPLE_CONFIG.queues],
    "windows": [c.number for c in SAMPLE_CONFIG.counters],
    "kiosks": ["k1", "k2"],
    "clerks": [c.id for c in SAMPLE_CONFIG.clerks],
    "numbers": [f"{q.prefix}{n:03d}" for q in SAMPLE_CONFIG.queues for n in (1, 2)],
    "ids": [1, 2, 3, 4, 5, 6, 7, 8],
    "days": ["2026-11-25", "2026-11-26", "2026-11-28", "2026-12-05"],  # today, a Saturday …
    "slots": ["09:00", "09:30", "11:30"],
    "phones": ["13800138000", "13912345678"],
    "tokens": TOKENS, "codes": CODES,
}
BINDINGS = {
    "services": ["body.service", "query.service"], "queues": ["body.queue"],
    "windows": ["path.counter", "body.counter", "body.counters[*]"], "kiosks": ["path.kiosk"],
    "clerks": ["path.clerk", "body.a", "body.b"], "numbers": ["path.number"],
    "ids": ["path.ticket_id", "path.notice_id", "path.user_id", "path.device_id",
            "path.session_id", "body.ticket", "body.ids[*]"],
    "days": ["query.day", "query.date", "body.day", "body.promised_date"],
    "slots": ["body.slot"], "phones": ["body.phone", "query.phone"],
    "tokens": ["path.token"], "codes": ["path.code", "body.code"],
}
FUZZ_CONFIG: dict[str, Any] = {
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
    "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    "dictionaries": {name: {"values": values} for name, values in DICTIONARIES.items()},
    "parameters": {key: {"dictionary": name, "probability": 0.5}
                   for name, keys in BINDINGS.items() for key in keys},
}


def _hall_config(config_dir: Path) -> Any:
    """The sample hall with printer-less kiosks and no rate limits (see the docstring)."""
    sample_hall_without_printers(config_dir)
    config = load_hall_config(config_dir)
    return config.model_copy(update={
        "rate_limits": config.rate_limits.model_copy(update={"enabled": False})})


def _actions(app: Any) -> dict[tuple[str, str], str | None]:
    """(method, path) → the role-matrix action the route declares (None: open to all)."""
    found: dict[tuple[str, str], str | None] = {}
    routes = list(app.routes)
    while routes:
        route = routes.pop()
        inner = getattr(route, "original_router", None)
        if inner is not None:
            routes.extend(inner.routes)
        elif isinstance(route, APIRoute):
            stack, action = [route.dependant], None
            while stack:
                dependant = stack.pop()
                action = ACTIONS.get(getattr(dependant.call, "__name__", ""), action)
                stack.extend(dependant.dependencies)
            for method in route.methods or ():
                found[(method, route.path_format)] = action
    return found


# The OpenAPI every hall serves (building the app touches no database); fuzzed below.
_APP = create_app(RuntimeSettings(db="sqlite://", secret_key="openapi-only"), SAMPLE_CONFIG)
ACTION_OF = _actions(_APP)
schema = schemathesis.openapi.from_dict(_APP.openapi(),
                                        config=schemathesis.Config.from_dict(FUZZ_CONFIG))


class HallSession(requests.Session):
    """A requests session against one server: paths are relative to its base URL."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
                ) -> requests.Response:
        method = method.decode() if isinstance(method, bytes) else method
        url = url.decode() if isinstance(url, bytes) else url
        return super().request(method, urljoin(self.base_url, url), *args, **kwargs)


def _seed(hall: Any) -> None:
    """Windows staffed (but the fuzzing clerk's), tickets waiting and Saturday bookings, with
    the tokens and codes of the TOKENS and CODES dictionaries."""
    engine = hall.engine
    for n in [c.number for c in engine.config.counters if c.number not in CLERK_WINDOWS]:
        engine.windows.sign_in(n, actor=clerk_at(n))
    issued = [engine.tickets.issue(service, Priority.NORMAL, None, "kiosk", "k1", None, False,
                                   actor=KIOSK)["id"] for service in DICTIONARIES["services"][:6]]
    booked = [hall.appointments.book("elderly-card", date(2026, 11, 28), time(9, 0), phone,
                                     actor=RESIDENT)["code"] for phone in DICTIONARIES["phones"]]
    with hall.store.write() as conn:
        for ticket_id, token in zip(issued, TOKENS, strict=True):
            conn.execute(sa.update(tickets).where(tickets.c.id == ticket_id).values(token=token))
        for code, known in zip(booked, CODES, strict=True):
            conn.execute(sa.update(appointments).where(appointments.c.code == code)
                         .values(code=known))


@dataclass
class Hall:
    app: Any
    base_url: str


@contextlib.contextmanager
def _serve(kind: str, tmp_path: Path) -> Iterator[Hall]:
    """A hall on a fresh database of this kind, served by uvicorn in this process."""
    (tmp_path / "config").mkdir()
    config = _hall_config(tmp_path / "config")
    with contextlib.contextmanager(fresh_db_url)(kind, tmp_path) as db_url:
        settings = RuntimeSettings(db=db_url, data_dir=tmp_path / "data", printer_poll_seconds=60)
        app = create_app(settings, config, ManualClock(hall_time(2026, 11, 25, 9, 30)))
        # Listening before uvicorn runs: the first request waits in the backlog until the
        # hall has started (uvicorn accepts only after the app's lifespan startup).
        sock = socket.create_server(("127.0.0.1", 0))
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                  name="fuzz-server", daemon=True)
        thread.start()
        try:
            assert requests.get(f"{base_url}/healthz", timeout=60).status_code == 200
            hall = app.state.hall
            hall.login_throttle = LoginThrottle(pair_limit=10**9, address_limit=10**9,
                                                base_delay=0.0, max_delay=0.0)
            slow, hall.passwords = hall.passwords, PasswordWorkers(
                workers=1, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
            slow.close()
            _seed(hall)
            yield Hall(app, base_url)
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            sock.close()


class Halls:
    """One hall per database for the whole module, started when first asked for; starting one
    stops the other, so one runs at a time."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.kind: str | None = None
        self.hall: Hall | None = None
        self.running = contextlib.ExitStack()

    def get(self, kind: str) -> Hall:
        if self.kind != kind or self.hall is None:
            self.close()
            self.hall = self.running.enter_context(
                _serve(kind, self.tmp_path_factory.mktemp(f"fuzz-{kind}")))
            self.kind = kind
        return self.hall

    def close(self) -> None:
        self.running.close()
        self.kind, self.hall = None, None


@pytest.fixture(scope="module")
def halls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Halls]:
    running = Halls(tmp_path_factory)
    try:
        yield running
    finally:
        running.close()


@dataclass
class Caller:
    """One identity: an HTTP session with its credentials in headers and cookies."""

    identity: str
    session: HallSession
    username: str | None = None
    sent: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def role(self) -> str:
        return IDENTITIES[self.identity]

    def passes_door(self, method: str, path: str) -> bool:
        """False when the request stops before the route's code: a method the path does not
        take (405), or a role the matrix refuses (401/403)."""
        if (method, path) not in ACTION_OF:
            return False
        action = ACTION_OF[(method, path)]
        return action is None or self.role in MATRIX[action]

    def restore(self) -> None:
        """Signed in again (and at window 5) if a fuzzed case ended the session or moved."""
        if self.username is None:
            return
        me = self.session.get("/auth/me").json()
        if not me["authenticated"]:
            me = sign_in(self.session, self.username)
        if self.role == "clerk" and me["window"] != CLERK_WINDOWS[0]:
            seated = self.session.post("/auth/window", json={"counter": CLERK_WINDOWS[0]})
            assert seated.status_code == 200, seated.text


# (database, identity): one parameter, so pytest runs each pair's items together and both
# databases' items apart (two parametrized module fixtures would interleave them).
CALLERS = [pytest.param((kind, identity), id=f"{kind}-{identity}",
                        marks=[pytest.mark.postgres] if kind == "postgres" else [])
           for kind in ("sqlite", "postgres") for identity in IDENTITIES]


@pytest.fixture(scope="module", params=CALLERS)
def caller(request: pytest.FixtureRequest, halls: Halls) -> Iterator[Caller]:
    """A fresh account or device of this identity's role, made for this run, at the hall on
    this database."""
    kind, identity = request.param
    role = IDENTITIES[identity]
    fuzz_hall = halls.get(kind)
    accounts = fuzz_hall.app.state.hall.accounts
    name = f"fuzz-{identity}"
    with HallSession(fuzz_hall.base_url) as session:
        if role == "public":
            # A browser that opened a page: it has a CSRF token, so forms get past that check.
            session.headers["X-CSRF-Token"] = session.get("/auth/me").json()["csrf_token"]
            yield Caller(identity, session)
        elif role in ("kiosk", "screen"):
            token = accounts.add_device(name, role, "k1" if role == "kiosk" else None)[1]
            session.headers["Authorization"] = f"Bearer {token}"
            yield Caller(identity, session)
        else:
            hasher = fuzz_hall.app.state.hall.passwords.hasher
            accounts.add_user(name, name, role, counters=CLERK_WINDOWS if role == "clerk" else [],
                              password_hash=hasher.hash(PASSWORD))
            sign_in(session, name, window=CLERK_WINDOWS[0] if role == "clerk" else None)
            yield Caller(identity, session, name)


@schema.parametrize()
def test_no_server_errors(case: Any, caller: Caller) -> None:
    operation = (case.method.upper(), case.path)
    caller.sent[operation] += 1
    if not caller.passes_door(*operation) and caller.sent[operation] > REFUSED_CASES:
        return
    response = case.call(base_url=caller.session.base_url, session=caller.session)
    case.validate_response(response, checks=[not_a_server_error])
    if operation in RESTORE_AFTER:
        caller.restore()


def test_the_openapi_declares_each_routes_refusals_in_the_error_shape() -> None:
    """openapi_errors: every route lists the 401/403/404/409/413/422/429 it can give, each
    with ErrorBody, the shape onestop.web.errors answers with."""
    spec = _APP.openapi()
    operations = {(method.upper(), path): op for path, item in spec["paths"].items()
                  for method, op in item.items()}
    assert len(operations) >= 60

    def codes(method: str, path: str) -> set[str]:
        return set(operations[(method, path)]["responses"])

    assert {"401", "403", "404", "409", "422"} <= codes("POST", "/api/counters/{counter}/call-next")
    assert {"401", "403", "409", "413", "422"} <= codes("POST", "/api/tickets")
    assert {"404", "409", "413", "422", "429"} <= codes("POST", "/api/appointments/{code}/cancel")
    assert {"401", "403", "413", "422", "429"} <= codes("POST", "/auth/login")  # declared by hand
    assert codes("GET", "/api/services") == {"200", "401"}  # open to all: no 403, no params
    assert codes("GET", "/healthz") == {"200"}
    for (method, path), op in operations.items():
        action = ACTION_OF[(method, path)]
        listed = set(op["responses"])
        if action is not None:
            assert "401" in listed, (method, path)
        if "{" in path:
            assert {"404", "422"} <= listed, (method, path)
        if "requestBody" in op:
            assert {"413", "422"} <= listed, (method, path)
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            assert "409" in listed, (method, path)
        for code, response in op["responses"].items():
            if code.startswith("4"):
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorBody"}, (method, path, code)
    text = json.dumps(spec)
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', text))
    assert refs <= set(spec["components"]["schemas"]), "dangling $ref"
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_error_body_is_what_the_app_answers() -> None:
    with_details = NotFound("没有该票", "no such ticket", ticket="A001").as_dict()
    validation = {"error": "invalid_request", "message": "请求内容有误：x", "message_en": "invalid",
                  "details": [{"field": "counter", "problem": "not an integer"}]}
    for body in (NotAtWindow("换窗", "moved").as_dict(), with_details, validation):
        assert ErrorBody.model_validate(body).model_dump(exclude_none=True) == body
