"""Staff accounts and device tokens, stored in the hall's database, with their lifecycle.

Passwords are hashed with argon2 (argon2-cffi); device tokens are random and stored only as
their SHA-256, so a stolen database reveals neither. Both are shown in clear exactly once, by the
command that creates (or resets, or rotates) them.

Every change (an account added, disabled, enabled, its password reset or changed; a device
added, revoked, its token rotated) is one ledger event, written in the same transaction as the
change by a unit of work with its actor. The event's public part says only what kind of change
it was (`{"change": "disabled"}`); who and what are in its staff part. Deactivating a user or
changing their password ends their sessions in that same transaction; the caller then leaves
the windows those sessions sat at (`onestop.web.sessions.leave_windows`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from onestop.queue.actors import Actor
from onestop.queue.bus import EventBus
from onestop.queue.clock import Clock, HallTime
from onestop.queue.errors import InvalidTransition, NotFound, Rejected
from onestop.queue.store import Store
from onestop.queue.tables import devices, events, sessions, users
from onestop.queue.unit import Work, unit
from onestop.web import passwords

USER_ROLES = ("admin", "supervisor", "clerk", "desk")
DEVICE_ROLES = ("kiosk", "screen")
# Who made a change outside any request: the first start, test set-up, the command line.
SETUP = Actor("system", "setup", "系统初始化", "system")
CLI = Actor("system", "cli", "命令行", "system")
# The ledger events of account and device changes (GET /api/admin/audit lists them).
AUDIT_TYPES = (
    "account.added", "account.disabled", "account.enabled", "account.password_reset",
    "account.password_changed", "account.session_ended",
    "device.added", "device.revoked", "device.rotated",
)

UnitFactory = Callable[[Actor], AbstractContextManager[Work]]


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    role: str
    counters: tuple[int, ...]
    active: bool = True
    created_at: datetime | None = None
    disabled_at: datetime | None = None
    password_changed_at: datetime | None = None


@dataclass(frozen=True)
class Device:
    id: int
    name: str
    role: str
    kiosk: str | None
    active: bool = True
    created_at: datetime | None = None
    revoked_at: datetime | None = None
    rotated_at: datetime | None = None


@dataclass(frozen=True)
class Ended:
    """A session a change ended, and the window it sat at (to be left)."""

    session_id: int
    username: str
    counter: int | None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def account_of(row: Any) -> Account:
    return Account(id=row.id, username=row.username, display_name=row.display_name,
                   role=row.role, counters=tuple(int(c) for c in row.counters or ()),
                   active=bool(row.active), created_at=row.created_at,
                   disabled_at=row.disabled_at, password_changed_at=row.password_changed_at)


def _device(row: Any) -> Device:
    return Device(id=row.id, name=row.name, role=row.role, kiosk=row.kiosk,
                  active=bool(row.active), created_at=row.created_at,
                  revoked_at=row.revoked_at, rotated_at=row.rotated_at)


def end_sessions(conn: Connection, now: datetime, reason: str, *where: Any) -> list[Ended]:
    """Revoke the live sessions matching `where`; returns them with their windows."""
    rows = conn.execute(
        sa.update(sessions)
        .where(sessions.c.revoked_at.is_(None), sessions.c.expires_at > now, *where)
        .values(revoked_at=now, revoked_reason=reason)
        .returning(sessions.c.id, sessions.c.user_id, sessions.c.counter)
    ).all()
    if not rows:
        return []
    names = {u.id: u.username for u in conn.execute(
        sa.select(users.c.id, users.c.username).where(users.c.id.in_({r.user_id for r in rows})))}
    return [Ended(r.id, names.get(r.user_id, ""), r.counter) for r in sorted(rows)]


def _who(account: Any) -> dict[str, Any]:
    return {"user_id": account.id, "user": account.username, "name": account.display_name,
            "role": account.role}


def _what(device: Any) -> dict[str, Any]:
    return {"device_id": device.id, "device": device.name, "role": device.role,
            "kiosk": device.kiosk}


class Accounts:
    """Users and devices. `unit` opens a unit of work by an actor (the hall passes its engine's,
    so events reach the live stream at once); without one, events are written to the ledger
    and a running server picks them up from there."""

    def __init__(self, store: Store, clock: Clock, unit_of_work: UnitFactory | None = None
                 ) -> None:
        self.store = store
        self.clock = clock
        if unit_of_work is None:
            time = HallTime(clock, "UTC")
            bus = EventBus()

            def unit_of_work(actor: Actor) -> AbstractContextManager[Work]:
                return unit(store, time, bus, actor)

        self.unit: UnitFactory = unit_of_work

    # -- users --------------------------------------------------------------------------------

    def add_user(self, username: str, display_name: str, role: str, password: str | None = None,
                 counters: list[int] | None = None, *, password_hash: str | None = None,
                 actor: Actor = SETUP) -> Account:
        """Add an account. Give `password` (checked against the policy, hashed here) or a
        `password_hash` the caller made after checking the policy itself (off this thread)."""
        if role not in USER_ROLES:
            raise Rejected(f"未知角色：{role}", f"unknown role {role!r}; one of {USER_ROLES}")
        if password_hash is None:
            if password is None:
                raise Rejected("请设置密码", "a password is needed")
            passwords.check(password, username)
            password_hash = passwords.hash_now(password)
        with self.unit(actor) as work:
            exists = work.conn.execute(sa.select(users.c.id).where(users.c.username == username))
            if exists.first() is not None:
                raise Rejected(f"用户名已存在：{username}", f"user {username!r} already exists")
            row = work.conn.execute(
                sa.insert(users).values(
                    username=username, display_name=display_name, role=role,
                    password_hash=password_hash, counters=sorted(set(counters or [])),
                    active=True, created_at=work.now, password_changed_at=work.now,
                ).returning(users)
            ).one()
            work.event("account.added", {"change": "added"}, staff=_who(row))
        return account_of(row)

    def password_record(self, username: str) -> tuple[Account, str] | None:
        """The account (active or not) and its password hash, for signing in."""
        with self.store.read() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        return (account_of(row), row.password_hash) if row else None

    def password_hash(self, user_id: int) -> str | None:
        with self.store.read() as conn:
            return conn.execute(sa.select(users.c.password_hash)
                                .where(users.c.id == user_id)).scalar()

    def user(self, user_id: int) -> Account | None:
        """The account if it exists and is active."""
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(users).where(users.c.id == user_id, users.c.active.is_(True))
            ).first()
        return account_of(row) if row else None

    def account(self, user_id: int) -> Account:
        """The account, active or not; NotFound otherwise."""
        with self.store.read() as conn:
            row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise NotFound(f"没有这个账号（编号 {user_id}）", f"no account with id {user_id}")
        return account_of(row)

    def user_by_name(self, username: str) -> Account:
        """The account, active or not; NotFound naming it otherwise."""
        with self.store.read() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        if row is None:
            raise NotFound(f"没有账号 {username}", f"no account {username!r}")
        return account_of(row)

    def list_users(self) -> list[Account]:
        with self.store.read() as conn:
            return [account_of(r) for r in conn.execute(sa.select(users).order_by(users.c.username))]

    def _lock_user(self, work: Work, user_id: int) -> Any:
        row = work.conn.execute(
            sa.select(users).where(users.c.id == user_id).with_for_update()).first()
        if row is None:
            raise NotFound(f"没有这个账号（编号 {user_id}）", f"no account with id {user_id}")
        return row

    def set_active(self, user_id: int, active: bool, *, actor: Actor
                   ) -> tuple[Account, list[Ended]]:
        """Disable (ending every session of the account at once) or enable an account. The
        last active admin cannot be disabled: nobody could manage accounts any more."""
        with self.unit(actor) as work:
            row = self._lock_user(work, user_id)
            if bool(row.active) == active:
                return account_of(row), []
            if not active and row.role == "admin":
                others = work.conn.execute(
                    sa.select(sa.func.count()).select_from(users).where(
                        users.c.role == "admin", users.c.active.is_(True),
                        users.c.id != user_id)).scalar_one()
                if not others:
                    raise InvalidTransition("不能停用最后一个管理员账号",
                                            "the last active admin account cannot be disabled")
            changed = work.conn.execute(
                sa.update(users).where(users.c.id == user_id)
                .values(active=active, disabled_at=None if active else work.now)
                .returning(users)).one()
            ended = [] if active else end_sessions(work.conn, work.now, "disabled",
                                                   sessions.c.user_id == user_id)
            change = "enabled" if active else "disabled"
            work.event(f"account.{change}", {"change": change},
                       staff={**_who(row), "sessions_ended": [e.session_id for e in ended]})
        return account_of(changed), ended

    def set_password(self, user_id: int, password_hash: str, *, actor: Actor, reset: bool,
                     keep_session: int | None = None) -> tuple[Account, list[Ended]]:
        """Store a new password hash (the policy was checked by the caller) and end every
        session of the account but `keep_session` (the one that changed its own password)."""
        change = "password_reset" if reset else "password_changed"
        with self.unit(actor) as work:
            row = self._lock_user(work, user_id)
            changed = work.conn.execute(
                sa.update(users).where(users.c.id == user_id)
                .values(password_hash=password_hash, password_changed_at=work.now)
                .returning(users)).one()
            where = [sessions.c.user_id == user_id]
            if keep_session is not None:
                where.append(sessions.c.id != keep_session)
            ended = end_sessions(work.conn, work.now, change, *where)
            work.event(f"account.{change}", {"change": change},
                       staff={**_who(row), "sessions_ended": [e.session_id for e in ended]})
        return account_of(changed), ended

    # -- devices ------------------------------------------------------------------------------

    def add_device(self, name: str, role: str, kiosk: str | None = None, *,
                   actor: Actor = SETUP) -> tuple[Device, str]:
        """Create a device; returns it with its token (shown once, stored only as a digest)."""
        if role not in DEVICE_ROLES:
            raise Rejected(f"未知设备角色：{role}", f"unknown device role {role!r}")
        token = secrets.token_urlsafe(32)
        with self.unit(actor) as work:
            exists = work.conn.execute(sa.select(devices.c.id).where(devices.c.name == name))
            if exists.first() is not None:
                raise Rejected(f"设备名已存在：{name}", f"device {name!r} already exists")
            row = work.conn.execute(
                sa.insert(devices).values(
                    name=name, role=role, kiosk=kiosk, token_hash=token_digest(token),
                    active=True, created_at=work.now,
                ).returning(devices)
            ).one()
            work.event("device.added", {"change": "added"}, staff=_what(row))
        return _device(row), token

    def device_by_token(self, token: str) -> Device | None:
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(devices).where(devices.c.token_hash == token_digest(token),
                                         devices.c.active.is_(True))
            ).first()
        return _device(row) if row else None

    def device_by_name(self, name: str) -> Device:
        with self.store.read() as conn:
            row = conn.execute(sa.select(devices).where(devices.c.name == name)).first()
        if row is None:
            raise NotFound(f"没有设备 {name}", f"no device {name!r}")
        return _device(row)

    def list_devices(self) -> list[Device]:
        with self.store.read() as conn:
            return [_device(r) for r in conn.execute(sa.select(devices).order_by(devices.c.name))]

    def _lock_device(self, work: Work, device_id: int) -> Any:
        row = work.conn.execute(
            sa.select(devices).where(devices.c.id == device_id).with_for_update()).first()
        if row is None:
            raise NotFound(f"没有这个设备（编号 {device_id}）", f"no device with id {device_id}")
        return row

    def revoke_device(self, device_id: int, *, actor: Actor) -> Device:
        """The token stops working at once (the device's next request is a 401). The
        `device.revoked` event tells the live stream to close the device's connections."""
        with self.unit(actor) as work:
            row = self._lock_device(work, device_id)
            if not row.active:
                return _device(row)
            changed = work.conn.execute(
                sa.update(devices).where(devices.c.id == device_id)
                .values(active=False, revoked_at=work.now).returning(devices)).one()
            work.event("device.revoked", {"change": "revoked"}, staff=_what(row))
        return _device(changed)

    def rotate_device(self, device_id: int, *, actor: Actor) -> tuple[Device, str]:
        """A new token (returned once); the old one is dead at once. A revoked device is
        enabled again with the new token (re-enrolling a kiosk after its token was revoked)."""
        token = secrets.token_urlsafe(32)
        with self.unit(actor) as work:
            row = self._lock_device(work, device_id)
            changed = work.conn.execute(
                sa.update(devices).where(devices.c.id == device_id)
                .values(token_hash=token_digest(token), active=True, revoked_at=None,
                        rotated_at=work.now).returning(devices)).one()
            work.event("device.rotated", {"change": "rotated"}, staff=_what(row))
        return _device(changed), token

    # -- the record ---------------------------------------------------------------------------

    def audit(self, before: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Account and device changes, newest first (ledger events of AUDIT_TYPES)."""
        query = sa.select(events).where(events.c.type.in_(AUDIT_TYPES))
        if before is not None:
            query = query.where(events.c.seq < before)
        with self.store.read() as conn:
            rows = conn.execute(query.order_by(events.c.seq.desc()).limit(limit)).all()
        return [{"seq": r.seq, "type": r.type, "at": r.at, "data": r.data,
                 "actor": Actor.from_json(r.actor).to_json(), "staff": r.staff or {}}
                for r in rows]

    def counts(self) -> tuple[int, int]:
        with self.store.read() as conn:
            n_users = conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()
            n_devices = conn.execute(sa.select(sa.func.count()).select_from(devices)).scalar_one()
        return int(n_users), int(n_devices)
