"""Server-side staff sessions: the cookie carries a random id, the database decides.

Signing in creates a row (its id stored only as a SHA-256 digest, with the address and browser
it came from); every request checks that the row exists, is not revoked, has not passed its
absolute expiry ([security] session_max_hours after sign-in) and has not been idle longer than
[security] session_idle_minutes, and that its user is still active. `last_seen_at` is written
at most once a minute, so a busy terminal costs one small write a minute, not one per request.

Ending a session (signing out, an admin ending it, the user deactivated or their password
changed) revokes the row: the old cookie and its CSRF token are worth nothing from then on. A
session that sat at a window leaves it (`leave_windows`); one that merely expires is left by the
presence sweep when its terminal falls silent.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from onestop.queue.actors import Actor
from onestop.queue.catalogue import SecurityDef
from onestop.queue.clock import Clock
from onestop.queue.errors import DomainError, NotFound
from onestop.queue.store import Store
from onestop.queue.tables import sessions, users
from onestop.web.accounts import Account, Ended, UnitFactory, account_of, end_sessions, token_digest

if TYPE_CHECKING:
    from onestop.queue.window_commands import WindowCommands

log = logging.getLogger(__name__)
SEEN_EVERY = timedelta(minutes=1)
KEEP_ENDED = timedelta(days=90)  # ended sessions stay this long: who signed in, from where


@dataclass(frozen=True)
class LiveSession:
    id: int
    account: Account
    counter: int | None


_USER_COLUMNS = [users.c.id, users.c.username, users.c.display_name, users.c.role,
                 users.c.counters, users.c.active, users.c.created_at, users.c.disabled_at,
                 users.c.password_changed_at]


class Sessions:
    def __init__(self, store: Store, clock: Clock, security: SecurityDef,
                 unit_of_work: UnitFactory) -> None:
        self.store = store
        self.clock = clock
        self.idle = timedelta(minutes=security.session_idle_minutes)
        self.lifetime = timedelta(hours=security.session_max_hours)
        self.unit = unit_of_work

    def _live(self, now: datetime) -> list[Any]:
        """Conditions of a session that still works at `now`."""
        return [sessions.c.revoked_at.is_(None), sessions.c.expires_at > now,
                sessions.c.last_seen_at > now - self.idle]

    def create(self, user_id: int, address: str, user_agent: str,
               replaces: int | None = None) -> tuple[str, int]:
        """A new session for `user_id`; returns its token (for the cookie) and id. The session
        this browser had before (`replaces`) ends in the same transaction."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.store.write() as conn:
            if replaces is not None:
                end_sessions(conn, now, "replaced", sessions.c.id == replaces)
            conn.execute(sa.delete(sessions).where(sessions.c.expires_at < now - KEEP_ENDED))
            session_id = conn.execute(
                sa.insert(sessions).values(
                    token_hash=token_digest(token), user_id=user_id, created_at=now,
                    last_seen_at=now, expires_at=now + self.lifetime, address=address[:64],
                    user_agent=user_agent[:300],
                ).returning(sessions.c.id)
            ).scalar_one()
        return token, int(session_id)

    def check(self, token: str) -> LiveSession | None:
        """The live session behind a cookie's token, or None (unknown, ended, expired, idle,
        or its user disabled). Touches `last_seen_at` at most once a minute."""
        now = self.clock.now()
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(sessions.c.id.label("session_id"), sessions.c.counter,
                          sessions.c.last_seen_at, *_USER_COLUMNS)
                .join(users, users.c.id == sessions.c.user_id)
                .where(sessions.c.token_hash == token_digest(token), *self._live(now),
                       users.c.active.is_(True))
            ).first()
        if row is None:
            return None
        if now - row.last_seen_at >= SEEN_EVERY:
            with self.store.write() as conn:
                conn.execute(sa.update(sessions)
                             .where(sessions.c.id == row.session_id,
                                    sessions.c.revoked_at.is_(None))
                             .values(last_seen_at=now))
        return LiveSession(id=row.session_id, account=account_of(row), counter=row.counter)

    def set_counter(self, session_id: int, counter: int | None) -> None:
        """The window this session's clerk now sits at (None: none)."""
        with self.store.write() as conn:
            conn.execute(sa.update(sessions).where(sessions.c.id == session_id)
                         .values(counter=counter))

    def sign_out(self, session_id: int) -> Ended | None:
        """The user signs out: the session ends (recorded in its row, not as an event)."""
        with self.store.write() as conn:
            ended = end_sessions(conn, self.clock.now(), "logout", sessions.c.id == session_id)
        return ended[0] if ended else None

    def end(self, session_id: int, *, actor: Actor) -> Ended:
        """An admin ends someone's session: an `account.session_ended` event."""
        with self.unit(actor) as work:
            row = work.conn.execute(
                sa.select(sessions.c.address, *_USER_COLUMNS[:4])
                .join(users, users.c.id == sessions.c.user_id)
                .where(sessions.c.id == session_id, *self._live(work.now))).first()
            if row is None:
                raise NotFound(f"会话 {session_id} 不存在或已结束",
                               f"session {session_id} does not exist or has ended")
            (ended,) = end_sessions(work.conn, work.now, "ended", sessions.c.id == session_id)
            work.event("account.session_ended", {"change": "session_ended"},
                       staff={"user_id": row.id, "user": row.username,
                              "name": row.display_name, "role": row.role,
                              "session_id": session_id, "address": row.address})
        return ended

    def active(self) -> list[dict[str, Any]]:
        """Every live session with its user, newest first (for admins)."""
        now = self.clock.now()
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(sessions, users.c.username, users.c.display_name, users.c.role)
                .join(users, users.c.id == sessions.c.user_id)
                .where(*self._live(now), users.c.active.is_(True))
                .order_by(sessions.c.created_at.desc(), sessions.c.id.desc())).all()
        return [{"id": r.id, "user_id": r.user_id, "username": r.username,
                 "name": r.display_name, "role": r.role, "created_at": r.created_at,
                 "last_seen_at": r.last_seen_at, "expires_at": min(
                     r.expires_at, r.last_seen_at + self.idle),
                 "address": r.address, "user_agent": r.user_agent, "counter": r.counter}
                for r in rows]


def leave_windows(windows: WindowCommands, ended: Iterable[Ended], actor: Actor) -> None:
    """Each ended session's clerk leaves the window the session sat at, if still there."""
    for session in ended:
        if session.counter is None:
            continue
        with contextlib.suppress(DomainError):  # a window no longer configured: nothing to do
            windows.sign_out(session.counter, actor=actor, reason="signed_out", force=True,
                             clerk=session.username)
