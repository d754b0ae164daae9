"""Admin JSON routes: staff accounts and their sessions, devices, the record of account changes,
and the configured hall as the pages show it.

Every account or device change is a ledger event by the admin (onestop.web.accounts); ending a
session, by deactivation, a password reset or an admin, leaves the window it sat at. Passwords
are hashed in the argon2 pool, never on the database thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from onestop.queue.errors import InvalidTransition, Rejected
from onestop.web import passwords
from onestop.web.access import Principal, allow
from onestop.web.accounts import Account, Device
from onestop.web.deps import hall_of
from onestop.web.sessions import leave_windows

if TYPE_CHECKING:
    from onestop.hall import Hall

router = APIRouter(prefix="/api/admin", tags=["admin"])
Id = Annotated[int, Path(ge=1, le=2**53)]


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    name: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "supervisor", "clerk", "desk"]
    counters: list[int] = Field(default_factory=list, max_length=50)
    password: str | None = Field(None, min_length=1, max_length=200)


class NewDevice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    role: Literal["kiosk", "screen"]
    kiosk: str | None = Field(None, max_length=64)


def _hall(request: Request) -> Hall:
    return hall_of(request)


def _iso(hall: Hall, instant: datetime | None) -> str | None:
    return hall.engine.time.iso(instant) if instant is not None else None


def _user(hall: Hall, a: Account, sessions: int = 0) -> dict[str, Any]:
    return {"id": a.id, "username": a.username, "name": a.display_name, "role": a.role,
            "counters": list(a.counters), "active": a.active, "sessions": sessions,
            "created_at": _iso(hall, a.created_at), "disabled_at": _iso(hall, a.disabled_at),
            "password_changed_at": _iso(hall, a.password_changed_at)}


def _device(hall: Hall, d: Device) -> dict[str, Any]:
    return {"id": d.id, "name": d.name, "role": d.role, "kiosk": d.kiosk, "active": d.active,
            "created_at": _iso(hall, d.created_at), "revoked_at": _iso(hall, d.revoked_at),
            "rotated_at": _iso(hall, d.rotated_at)}


def _enrol_url(hall: Hall, device: Device, token: str) -> str:
    page = f"/kiosk?k={device.kiosk}" if device.role == "kiosk" else "/screen"
    return f"{hall.base_url}{page}#token={token}"


def _not_self(principal: Principal, user_id: int, zh: str, en: str) -> None:
    if principal.id == user_id:
        raise InvalidTransition(zh, en)


@router.get("/users")
async def list_users(
    request: Request, _: Annotated[Principal, allow("accounts.manage")]
) -> list[dict[str, Any]]:
    hall = _hall(request)
    live = await hall.db(hall.sessions.active)
    counts: dict[int, int] = {}
    for session in live:
        counts[session["user_id"]] = counts.get(session["user_id"], 0) + 1
    return [_user(hall, a, counts.get(a.id, 0)) for a in await hall.db(hall.accounts.list_users)]


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def add_user(
    body: NewUser, request: Request, principal: Annotated[Principal, allow("accounts.manage")]
) -> dict[str, Any]:
    """The generated password is shown once in the answer; only its hash is kept."""
    hall = _hall(request)
    unknown = [n for n in body.counters if hall.config.counter(n) is None]
    if unknown:
        raise Rejected(f"没有这些窗口：{unknown}", f"unknown windows {unknown}")
    password = body.password or passwords.generate(body.username)
    passwords.check(password, body.username)
    password_hash = await hall.passwords.hash(password)
    account = await hall.db(hall.accounts.add_user, body.username, body.name, body.role,
                            counters=body.counters, password_hash=password_hash,
                            actor=principal.actor)
    return {**_user(hall, account), "password": None if body.password else password}


async def _set_active(request: Request, principal: Principal, user_id: int, active: bool
                      ) -> dict[str, Any]:
    hall = _hall(request)
    if not active:
        _not_self(principal, user_id, "不能停用自己的账号", "you cannot disable your own account")
    account, ended = await hall.db(hall.accounts.set_active, user_id, active,
                                   actor=principal.actor)
    await hall.db(leave_windows, hall.engine.windows, ended, principal.actor)
    return {**_user(hall, account), "sessions_ended": len(ended)}


@router.post("/users/{user_id}/disable")
async def disable_user(
    user_id: Id, request: Request, principal: Annotated[Principal, allow("accounts.manage")]
) -> dict[str, Any]:
    """The account can no longer sign in, and every session it has ends at once (a clerk at a
    window leaves it)."""
    return await _set_active(request, principal, user_id, False)


@router.post("/users/{user_id}/enable")
async def enable_user(
    user_id: Id, request: Request, principal: Annotated[Principal, allow("accounts.manage")]
) -> dict[str, Any]:
    return await _set_active(request, principal, user_id, True)


@router.post("/users/{user_id}/password")
async def reset_password(
    user_id: Id, request: Request, principal: Annotated[Principal, allow("accounts.manage")]
) -> dict[str, Any]:
    """A new generated password, shown once in the answer; every session of the account ends."""
    hall = _hall(request)
    _not_self(principal, user_id, "请用“修改密码”修改自己的密码", "change your own password at /password")
    account = await hall.db(hall.accounts.account, user_id)
    password = passwords.generate(account.username)
    password_hash = await hall.passwords.hash(password)
    account, ended = await hall.db(hall.accounts.set_password, user_id, password_hash,
                                   actor=principal.actor, reset=True)
    await hall.db(leave_windows, hall.engine.windows, ended, principal.actor)
    return {**_user(hall, account), "password": password, "sessions_ended": len(ended)}


@router.get("/sessions")
async def list_sessions(
    request: Request, principal: Annotated[Principal, allow("accounts.manage")]
) -> list[dict[str, Any]]:
    """Every signed-in session now: who, since when, last request, from where, at which window."""
    hall = _hall(request)
    return [{**s, "created_at": _iso(hall, s["created_at"]),
             "last_seen_at": _iso(hall, s["last_seen_at"]),
             "expires_at": _iso(hall, s["expires_at"]),
             "current": s["id"] == principal.session_id}
            for s in await hall.db(hall.sessions.active)]


@router.delete("/sessions/{session_id}")
async def end_session(
    session_id: Id, request: Request, principal: Annotated[Principal, allow("accounts.manage")]
) -> dict[str, Any]:
    """End someone's session at once (a lost or shared terminal); its window is left."""
    hall = _hall(request)
    if session_id == principal.session_id:
        raise InvalidTransition("这是您当前的登录，请用“退出”结束", "this is your own session; sign out")
    ended = await hall.db(hall.sessions.end, session_id, actor=principal.actor)
    await hall.db(leave_windows, hall.engine.windows, [ended], principal.actor)
    return {"ended": session_id, "counter": ended.counter}


@router.get("/audit")
async def audit(
    request: Request, _: Annotated[Principal, allow("audit.read")],
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Account and device changes, newest first: who did what to whom (`before` pages on)."""
    hall = _hall(request)
    rows = await hall.db(hall.accounts.audit, before, limit)
    return {"events": [{**r, "at": _iso(hall, r["at"])} for r in rows],
            "next_before": rows[-1]["seq"] if len(rows) == limit else None}


@router.get("/devices")
async def list_devices(
    request: Request, _: Annotated[Principal, allow("accounts.manage")]
) -> list[dict[str, Any]]:
    hall = _hall(request)
    return [_device(hall, d) for d in await hall.db(hall.accounts.list_devices)]


@router.post("/devices", status_code=status.HTTP_201_CREATED)
async def add_device(
    body: NewDevice, request: Request, principal: Annotated[Principal, allow("accounts.manage")]
) -> dict[str, Any]:
    """The token is shown once, with the address to open once on the device."""
    hall = _hall(request)
    if body.role == "kiosk" and (not body.kiosk or hall.config.kiosk(body.kiosk) is None):
        known = [k.id for k in hall.config.kiosks]
        raise Rejected(f"取号机设备须对应已配置的取号机：{known}",
                       f"a kiosk device needs one of the configured kiosks: {known}")
    device, token = await hall.db(hall.accounts.add_device, body.name, body.role,
                                  body.kiosk if body.role == "kiosk" else None,
                                  actor=principal.actor)
    return {**_device(hall, device), "token": token, "enrol_url": _enrol_url(hall, device, token)}


@router.post("/devices/{device_id}/revoke")
async def revoke_device(
    device_id: Id, request: Request, principal: Annotated[Principal, allow("accounts.manage")]
) -> dict[str, Any]:
    """The device's token stops working at once: its next request is a 401."""
    hall = _hall(request)
    return _device(hall, await hall.db(hall.accounts.revoke_device, device_id, actor=principal.actor))


@router.post("/devices/{device_id}/rotate")
async def rotate_device(
    device_id: Id, request: Request, principal: Annotated[Principal, allow("accounts.manage")]
) -> dict[str, Any]:
    """A new token, shown once with the address to open on the device; the old one is dead."""
    hall = _hall(request)
    device, token = await hall.db(hall.accounts.rotate_device, device_id, actor=principal.actor)
    return {**_device(hall, device), "token": token, "enrol_url": _enrol_url(hall, device, token)}


@router.get("/config")
async def hall_config(
    request: Request, _: Annotated[Principal, allow("config.read")]
) -> dict[str, Any]:
    """The hall as configured (config/*.toml is the source; edit the files to change it)."""
    config = _hall(request).config
    return {
        "hall": config.hall.model_dump(),
        "queues": [q.model_dump() for q in config.queues],
        "services": [s.model_dump() for s in config.services],
        "counters": [{**c.model_dump(), "serves": config.counter_services(c.number)}
                     for c in config.counters],
        "clerks": [c.model_dump() for c in config.clerks],
        "kiosks": [k.model_dump() for k in config.kiosks],
        "policy": config.policy.model_dump(),
    }
