"""Admin JSON routes: staff accounts, devices, and the configured hall as the pages show it."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from onestop.queue.errors import Rejected
from onestop.web.access import Principal, allow
from onestop.web.deps import hall_of

if TYPE_CHECKING:
    from onestop.hall import Hall

router = APIRouter(prefix="/api/admin", tags=["admin"])


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    name: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "supervisor", "clerk", "desk"]
    counters: list[int] = Field(default_factory=list, max_length=50)
    password: str | None = Field(None, min_length=8, max_length=200)


class NewDevice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    role: Literal["kiosk", "screen"]
    kiosk: str | None = Field(None, max_length=64)


def _hall(request: Request) -> Hall:
    return hall_of(request)


@router.get("/users")
async def list_users(
    request: Request, _: Annotated[Principal, allow("accounts.manage")]
) -> list[dict[str, Any]]:
    hall = _hall(request)
    return [
        {"id": a.id, "username": a.username, "name": a.display_name, "role": a.role,
         "counters": list(a.counters)}
        for a in await hall.db(hall.accounts.list_users)
    ]


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def add_user(
    body: NewUser, request: Request, _: Annotated[Principal, allow("accounts.manage")]
) -> dict[str, Any]:
    """The generated password is shown once in the answer; only its hash is kept."""
    hall = _hall(request)
    unknown = [n for n in body.counters if hall.config.counter(n) is None]
    if unknown:
        raise Rejected(f"没有这些窗口：{unknown}", f"unknown windows {unknown}")
    password = body.password or secrets.token_urlsafe(9)
    account = await hall.db(hall.accounts.add_user, body.username, body.name, body.role,
                            password, body.counters)
    return {"id": account.id, "username": account.username, "name": account.display_name,
            "role": account.role, "counters": list(account.counters),
            "password": None if body.password else password}


@router.get("/devices")
async def list_devices(
    request: Request, _: Annotated[Principal, allow("accounts.manage")]
) -> list[dict[str, Any]]:
    hall = _hall(request)
    return [{"id": d.id, "name": d.name, "role": d.role, "kiosk": d.kiosk}
            for d in await hall.db(hall.accounts.list_devices)]


@router.post("/devices", status_code=status.HTTP_201_CREATED)
async def add_device(
    body: NewDevice, request: Request, _: Annotated[Principal, allow("accounts.manage")]
) -> dict[str, Any]:
    """The token is shown once, with the address to open once on the device."""
    hall = _hall(request)
    if body.role == "kiosk" and (not body.kiosk or hall.config.kiosk(body.kiosk) is None):
        known = [k.id for k in hall.config.kiosks]
        raise Rejected(f"取号机设备须对应已配置的取号机：{known}",
                       f"a kiosk device needs one of the configured kiosks: {known}")
    device, token = await hall.db(hall.accounts.add_device, body.name, body.role,
                                  body.kiosk if body.role == "kiosk" else None)
    page = f"/kiosk?k={device.kiosk}" if device.role == "kiosk" else "/screen"
    return {"id": device.id, "name": device.name, "role": device.role, "kiosk": device.kiosk,
            "token": token, "enrol_url": f"{hall.base_url}{page}#token={token}"}


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
