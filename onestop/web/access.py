"""Who may do what: one role matrix decides every route.

A request is made by exactly one principal: a device (Authorization: Bearer <token>, for kiosks
and hall screens), a signed-in staff member (signed session cookie), or the public. Every route
declares the action it performs with `allow("action")`; MATRIX below lists, per action, the
roles that may perform it. Browser requests that change state must also carry the session's
CSRF token (header X-CSRF-Token or form field csrf_token); bearer-token requests carry no
ambient credentials and need none.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
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
    "ticket.cancel": EVERYONE,  # by token, or staff on the resident's behalf
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
    "appointment.book": EVERYONE,  # residents book on their own phones
    "appointment.manage": EVERYONE,  # by code: holding the code is the permission
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
    return conn.query_params.get("token") if conn.scope["type"] == "websocket" else None


async def resolve(conn: HTTPConnection) -> Principal:
    """The principal behind a request or websocket; PUBLIC when there is no credential."""
    hall = hall_of(conn)
    token = _bearer(conn)
    if token:
        device = await hall.db(hall.accounts.device_by_token, token)
        if device is None:
            raise Unauthorized("设备令牌无效或已停用", "invalid or revoked device token")
        return Principal(kind="device", role=device.role, id=device.id, name=device.name,
                         kiosk=device.kiosk)
    session = conn.scope.get("session") or {}
    uid = session.get("uid")
    if uid is not None:
        account = await hall.db(hall.accounts.user, int(uid))
        if account is not None:
            window = session.get("window")
            return Principal(kind="user", role=account.role, id=account.id,
                             name=account.display_name, username=account.username,
                             counters=account.counters,
                             window=int(window) if window is not None else None)
    return PUBLIC


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


@dataclass
class LoginThrottle:
    """At most `limit` failed sign-ins per user name and per address in `window` seconds."""

    limit: int = 5
    window: float = 300.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def check(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            if any(len(self._recent(k, now)) >= self.limit for k in keys):
                raise TooManyAttempts("登录失败次数过多，请 5 分钟后再试",
                                      "too many failed sign-ins; try again in 5 minutes")

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
