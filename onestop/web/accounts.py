"""Staff accounts and device tokens, stored in the hall's database.

Passwords are hashed with argon2 (argon2-cffi); device tokens are random and stored only as
their SHA-256, so a stolen database reveals neither. Both are shown in clear exactly once, by the
command that creates them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from onestop.queue.clock import Clock
from onestop.queue.errors import Rejected
from onestop.queue.store import Store
from onestop.queue.tables import devices, users

USER_ROLES = ("admin", "supervisor", "clerk", "desk")
DEVICE_ROLES = ("kiosk", "screen")

_hasher = PasswordHasher()
# Verifying an unknown user still costs one hash, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("onestop-no-such-user")


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    role: str
    counters: tuple[int, ...]


@dataclass(frozen=True)
class Device:
    id: int
    name: str
    role: str
    kiosk: str | None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _account(row: Any) -> Account:
    return Account(id=row.id, username=row.username, display_name=row.display_name,
                   role=row.role, counters=tuple(int(c) for c in row.counters or ()))


class Accounts:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def add_user(self, username: str, display_name: str, role: str, password: str,
                 counters: list[int] | None = None) -> Account:
        if role not in USER_ROLES:
            raise Rejected(f"未知角色：{role}", f"unknown role {role!r}; one of {USER_ROLES}")
        if len(password) < 8:
            raise Rejected("密码至少 8 位", "the password needs at least 8 characters")
        with self.store.write() as conn:
            exists = conn.execute(sa.select(users.c.id).where(users.c.username == username))
            if exists.first() is not None:
                raise Rejected(f"用户名已存在：{username}", f"user {username!r} already exists")
            row = conn.execute(
                sa.insert(users).values(
                    username=username, display_name=display_name, role=role,
                    password_hash=_hasher.hash(password), counters=sorted(set(counters or [])),
                    active=True, created_at=self.clock.now(),
                ).returning(users)
            ).one()
        return _account(row)

    def verify(self, username: str, password: str) -> Account | None:
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(users).where(users.c.username == username, users.c.active.is_(True))
            ).first()
        try:
            _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        return _account(row) if row else None

    def user(self, user_id: int) -> Account | None:
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(users).where(users.c.id == user_id, users.c.active.is_(True))
            ).first()
        return _account(row) if row else None

    def list_users(self) -> list[Account]:
        with self.store.read() as conn:
            return [_account(r) for r in conn.execute(sa.select(users).order_by(users.c.username))]

    def add_device(self, name: str, role: str, kiosk: str | None = None) -> tuple[Device, str]:
        """Create a device; returns it with its token (shown once, stored only as a digest)."""
        if role not in DEVICE_ROLES:
            raise Rejected(f"未知设备角色：{role}", f"unknown device role {role!r}")
        token = secrets.token_urlsafe(32)
        with self.store.write() as conn:
            exists = conn.execute(sa.select(devices.c.id).where(devices.c.name == name))
            if exists.first() is not None:
                raise Rejected(f"设备名已存在：{name}", f"device {name!r} already exists")
            row = conn.execute(
                sa.insert(devices).values(
                    name=name, role=role, kiosk=kiosk, token_hash=token_digest(token),
                    active=True, created_at=self.clock.now(),
                ).returning(devices)
            ).one()
        return Device(row.id, row.name, row.role, row.kiosk), token

    def device_by_token(self, token: str) -> Device | None:
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(devices).where(devices.c.token_hash == token_digest(token),
                                         devices.c.active.is_(True))
            ).first()
        return Device(row.id, row.name, row.role, row.kiosk) if row else None

    def list_devices(self) -> list[Device]:
        with self.store.read() as conn:
            return [Device(r.id, r.name, r.role, r.kiosk)
                    for r in conn.execute(sa.select(devices).order_by(devices.c.name))]

    def counts(self) -> tuple[int, int]:
        with self.store.read() as conn:
            n_users = conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()
            n_devices = conn.execute(sa.select(sa.func.count()).select_from(devices)).scalar_one()
        return int(n_users), int(n_devices)
