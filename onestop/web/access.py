"""Who may do what: one role matrix decides every route.

A request is made by exactly one principal: a device (Authorization: Bearer <token>, for kiosks
and hall screens), a signed-in staff member (a session cookie naming a live server-side session,
onestop.web.sessions), or the public. Every route
declares the action it performs with `allow("action")`; MATRIX below lists, per action, the
roles that may perform it. Browser requests that change state must also carry the session's
CSRF token (header X-CSRF-Token or form field csrf_token); bearer-token requests carry no
ambient credentials and need none.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from onestop.queue import actors
from onestop.queue.actors import Actor
from onestop.queue.errors import DomainError
from onestop.web.deps import hall_of

ROLES = ("admin", "supervisor", "clerk", "desk", "kiosk", "screen", "public")
STAFF = {"admin", "supervisor", "clerk", "desk"}
EVERYONE = set(ROLES)

MATRIX: dict[str, set[str]] = {
    "catalogue.read": EVERYONE,  # items, queues and waiting counts are public information
    "ticket.read": EVERYONE,  # by token: holding the token is the permission
    # by token (the resident), or staff on the resident's behalf; a screen only reads, and a
    # kiosk cancels nothing
    "ticket.cancel": EVERYONE - {"screen", "kiosk"},
    "counters.read": STAFF | {"screen"},
    "ticket.issue": {"admin", "supervisor", "desk", "kiosk"},
    "kiosk.issue": {"admin", "supervisor", "kiosk"},
    "kiosk.read": {"admin", "supervisor", "desk", "kiosk"},
    "desk.issue": {"admin", "supervisor", "desk"},
    "window.act": {"admin", "supervisor", "clerk"},
    "window.sign_in": {"admin", "supervisor", "clerk"},
    "health.read": {"admin", "supervisor", "desk"},
    "notices.read": EVERYONE,
    "notices.write": {"admin", "supervisor"},
    "overview.read": {"admin", "supervisor"},
    "accounts.manage": {"admin"},
    "config.read": {"admin", "supervisor"},
    "session.read": STAFF,
    "session.own": STAFF,  # change one's own password
    "audit.read": {"admin"},  # the record of account and device changes
    "appointment.book": EVERYONE - {"screen", "kiosk"},  # residents book on their own phones
    "appointment.manage": EVERYONE - {"screen", "kiosk"},  # by code (and phone): the permission
    "appointment.checkin": {"admin", "supervisor", "desk", "kiosk"},
    "day.read": EVERYONE,  # hours and the phase of the day are public information
    "lunch.read": STAFF,
    "lunch.edit": {"admin", "supervisor"},
    "reports.read": {"admin", "supervisor"},
    "presence.read": STAFF,  # who sits at which window, who is absent today
    "presence.manage": {"admin", "supervisor"},  # mark a clerk absent or present for today
    "ticket.history": STAFF,  # a ticket's steps and who did each
    "ticket.correct": {"admin", "supervisor", "desk"},  # 过号顺延, cancel or re-route by number
    "day.close_leftovers": {"admin", "supervisor"},  # close the day's leftover tickets in bulk
    "privacy.export": {"admin"},  # what is held about one phone number
}

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

# What a caller without credentials is told, where "sign in first" would puzzle them.
PUBLIC_REFUSALS: dict[str, tuple[str, str]] = {
    "kiosk.issue": ("本机尚未启用，请到咨询台取号",
                    "This kiosk is not set up yet: please ask at the front desk for a number"),
    "kiosk.read": ("本机尚未启用，请到咨询台取号",
                   "This kiosk is not set up yet: please ask at the front desk for a number"),
    "appointment.checkin": ("本机尚未启用，请到咨询台签到",
                            "This kiosk is not set up yet: please check in at the front desk"),
}


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" | "device" | "public"
    role: str
    id: int | None = None
    name: str = ""  # display name (users), device name (devices)
    username: str = ""  # the account's sign-in name (users only)
    counters: tuple[int, ...] = ()
    window: int | None = None  # the window a clerk is signed in to
    kiosk: str | None = None  # the kiosk a kiosk device is
    session_id: int | None = None  # the staff session behind the request (users only)

    def may_act_at(self, counter: int) -> bool:
        if self.role in ("admin", "supervisor"):
            return True
        return self.role == "clerk" and self.window == counter

    def may_use_kiosk(self, kiosk: str) -> bool:
        return self.role != "kiosk" or self.kiosk == kiosk

    @property
    def actor(self) -> Actor:
        """Who the ledger records for what this principal does."""
        if self.kind == "user":
            return actors.user(self.username, self.name, self.role)
        if self.kind == "device":
            return actors.device(self.name, self.role)
        return actors.RESIDENT


PUBLIC = Principal(kind="public", role="public", name="public")


def _bearer(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    if conn.scope["type"] == "websocket":  # a browser cannot set headers: see events_ws
        return conn.scope.get("onestop.bearer") or conn.query_params.get("token")
    return None


async def resolve(conn: HTTPConnection) -> Principal:
    """The principal behind a request or websocket; PUBLIC when there is no credential.

    A staff cookie counts only while its server-side session lives (not signed out, ended,
    expired or idle, its user active); a dead one is dropped from the cookie and the caller is
    the public, so staff routes answer 401."""
    hall = hall_of(conn)
    token = _bearer(conn)
    if token:
        device = await hall.db(hall.accounts.device_by_token, token)
        if device is None:
            raise Unauthorized("设备令牌无效或已停用", "invalid or revoked device token")
        return Principal(kind="device", role=device.role, id=device.id, name=device.name,
                         kiosk=device.kiosk)
    session = conn.scope.get("session") or {}
    sid = session.get("sid")
    if not sid:
        return PUBLIC
    live = await hall.db(hall.sessions.check, str(sid))
    if live is None:
        for key in ("sid", "uid", "window"):
            session.pop(key, None)
        return PUBLIC
    account = live.account
    return Principal(kind="user", role=account.role, id=account.id, name=account.display_name,
                     username=account.username, counters=account.counters, window=live.counter,
                     session_id=live.id)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(conn: HTTPConnection, proxies: Sequence[Network] = ()) -> str:
    """The caller's address: the peer's, or, when the peer is a trusted proxy, the nearest
    address in X-Forwarded-For that is not itself a trusted proxy. Nobody else's header is
    believed, so a client cannot choose the address that sign-in throttling counts."""
    address = conn.client.host if conn.client else "?"
    if not proxies or not _trusted(address, proxies):
        return address
    hops = [h.strip() for h in conn.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            break  # a garbled hop: trust nothing further along
        if not _trusted(address, proxies):
            break
    return address


def csrf_token(conn: HTTPConnection) -> str:
    """The session's CSRF token, created on first use."""
    session = conn.scope.setdefault("session", {})
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return str(token)


async def check_csrf(request: Request) -> None:
    expected = (request.scope.get("session") or {}).get("csrf")
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        given = str((await request.form()).get("csrf_token") or "")
    if not expected or not given or not hmac.compare_digest(str(expected), given):
        raise Forbidden("页面已过期，请刷新后重试（CSRF 校验失败）",
                        "the page has expired; reload and try again (CSRF check failed)")


def allow(action: str) -> Any:
    """Dependency: the caller's principal if its role may perform `action`, else 401/403."""
    roles = MATRIX[action]

    async def dependency(request: Request) -> Principal:
        principal = await resolve(request)
        if principal.role not in roles:
            if principal.kind == "public":
                raise Unauthorized(*PUBLIC_REFUSALS.get(action, ("请先登录", "sign in first")))
            raise Forbidden("您的账号无权执行此操作", "your account may not do this")
        if principal.kind == "user" and request.method not in SAFE_METHODS:
            await check_csrf(request)
        return principal

    dependency.__name__ = f"allow_{action.replace('.', '_')}"
    return Depends(dependency)


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt, counted before its password is checked."""

    user: str
    address: str
    at: float
    delay: float  # seconds to wait before checking: grows with the user's recent failures


@dataclass
class LoginThrottle:
    """Sign-in throttling that guessing cannot turn against staff.

    - per (user name, address): after `pair_limit` failures in `window` seconds that address
      may not try that name any more until the window has passed (429);
    - per user name, from anywhere: no lock (it would let anyone lock `admin` out from every
      terminal), but a delay before the answer, `base_delay` × 2^(n-1) after n recent failures,
      at most `max_delay`;
    - per address, any name: locked after `address_limit` failures.

    `begin` counts an attempt as failed before its password is checked, atomically, so a burst
    of parallel guesses from one address cannot get more than `pair_limit` checks; `succeeded`
    takes it back (and clears the pair), `cancel` takes it back when it was never checked.
    """

    pair_limit: int = 5
    address_limit: int = 20
    window: float = 300.0
    base_delay: float = 0.25
    max_delay: float = 8.0
    _pairs: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _users: dict[str, deque[float]] = field(default_factory=dict)
    _addresses: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _begun: int = 0

    def _recent(self, table: dict[Any, deque[float]], key: Any, now: float) -> deque[float]:
        q = table.get(key)
        if q is None:
            q = table[key] = deque(maxlen=64)
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def _refuse(self, q: deque[float], now: float, zh: str, en: str) -> TooManyAttempts:
        minutes = max(1, math.ceil((q[0] + self.window - now) / 60))
        return TooManyAttempts(f"{zh}，请 {minutes} 分钟后再试",
                               f"{en}; try again in {minutes} min", retry_after=minutes * 60)

    def begin(self, user: str, address: str) -> Attempt:
        """Count an attempt (TooManyAttempts when a lock holds); returns it with its delay."""
        user = user.strip().lower()
        now = time.monotonic()
        with self._lock:
            pair = self._recent(self._pairs, (user, address), now)
            if len(pair) >= self.pair_limit:
                raise self._refuse(pair, now, "该账号在本机登录失败次数过多",
                                   "too many failed sign-ins for this account from this address")
            by_address = self._recent(self._addresses, address, now)
            if len(by_address) >= self.address_limit:
                raise self._refuse(by_address, now, "本机登录失败次数过多",
                                   "too many failed sign-ins from this address")
            by_user = self._recent(self._users, user, now)
            failures = len(by_user)
            for q in (pair, by_address, by_user):
                q.append(now)
            self._begun += 1
            if self._begun % 256 == 0:
                self._prune(now)
        delay = 0.0 if failures == 0 else min(self.max_delay,
                                               self.base_delay * 2 ** (failures - 1))
        return Attempt(user, address, now, delay)

    def _take_back(self, attempt: Attempt, tables: list[tuple[dict[Any, deque[float]], Any]]
                   ) -> None:
        for table, key in tables:
            q = table.get(key)
            if q is not None:
                with contextlib.suppress(ValueError):  # already aged out
                    q.remove(attempt.at)

    def succeeded(self, attempt: Attempt) -> None:
        """The right password: this attempt was no failure, and the pair starts afresh."""
        with self._lock:
            self._pairs.pop((attempt.user, attempt.address), None)
            self._take_back(attempt, [(self._users, attempt.user),
                                      (self._addresses, attempt.address)])

    def cancel(self, attempt: Attempt) -> None:
        """The attempt was never checked (the password workers were busy)."""
        with self._lock:
            self._take_back(attempt, [(self._pairs, (attempt.user, attempt.address)),
                                      (self._users, attempt.user),
                                      (self._addresses, attempt.address)])

    def _prune(self, now: float) -> None:
        """Forget keys whose failures have all aged out (bounded memory under a flood)."""
        tables: tuple[dict[Any, deque[float]], ...] = (self._pairs, self._users, self._addresses)
        for table in tables:
            stale = [k for k, q in table.items() if not q or now - q[-1] > self.window]
            for key in stale:
                del table[key]
