"""Proving a phone number before a booking counts: a code sent by SMS (防号贩子).

When `[appointments] verify_phone` is on, a resident asks for a code (`send`), gets it by SMS,
and books with it; the code is six digits, kept only as a digest, valid for ten minutes, good
for one booking, and tried at most five times. One phone can ask at most once a minute and
`DAILY_SENDS` times a day, so the hall's SMS account cannot be run up either.

The sender is pluggable (`SmsSender`): the sample hall's `console` sender writes the message to
the server's log (for trials and tests), `none` sends nothing (verification must then be off).
A real gateway (the province's SMS platform, a cloud SMS service) is one more class with `send`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from onestop.queue.actors import Actor
from onestop.queue.appointment_rules import mask_phone, normalise_phone
from onestop.queue.errors import HallClosed, InvalidTransition, Rejected
from onestop.queue.tables import phone_checks

if TYPE_CHECKING:
    from onestop.queue.engine import QueueEngine

log = logging.getLogger(__name__)

VALID = timedelta(minutes=10)
RESEND_AFTER = timedelta(seconds=60)
DAILY_SENDS = 5
MAX_TRIES = 5


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Deliver `text` to `phone`; raise to say it could not be sent."""
        ...


class ConsoleSender:
    """For trials: the message goes to the server's log instead of a phone."""

    def send(self, phone: str, text: str) -> None:
        log.warning("SMS to %s: %s", mask_phone(phone), text)


class NoSender:
    def send(self, phone: str, text: str) -> None:
        raise HallClosed("本厅未开通短信验证，请到咨询台预约",
                         "this hall sends no SMS; please book at the desk")


def sender_named(name: str) -> SmsSender:
    return ConsoleSender() if name == "console" else NoSender()


def _digest(check_id: int, code: str) -> str:
    return hashlib.sha256(f"{check_id}:{code}".encode()).hexdigest()


class PhoneChecks:
    def __init__(self, engine: QueueEngine, sender: SmsSender) -> None:
        self.engine = engine
        self.sender = sender

    def send(self, phone: str, *, actor: Actor, address: str = "") -> dict[str, object]:
        """Send a fresh code to this phone; returns the check's id (the page sends it back with
        the code) and when it expires."""
        number = normalise_phone(phone)
        code = f"{secrets.randbelow(1_000_000):06d}"
        with self.engine.unit(actor) as work:
            c = phone_checks.c
            recent = work.conn.execute(sa.select(c.created_at).where(
                c.phone == number, c.created_at > work.now - timedelta(days=1))
                .order_by(c.created_at.desc())).all()
            if recent and work.now - recent[0].created_at < RESEND_AFTER:
                wait = int((RESEND_AFTER - (work.now - recent[0].created_at)).total_seconds()) + 1
                raise InvalidTransition(f"验证码已发送，请 {wait} 秒后再试",
                                        f"a code was just sent; try again in {wait} s",
                                        seconds_left=wait)
            if len(recent) >= DAILY_SENDS:
                raise InvalidTransition("该手机号今日获取验证码次数过多，请明天再试或到咨询台预约",
                                        "too many codes for this phone today; try tomorrow")
            check_id = int(work.conn.execute(sa.insert(phone_checks).values(
                phone=number, code_hash="", created_at=work.now, expires_at=work.now + VALID,
                attempts=0, address=address[:64] or None).returning(c.id)).scalar_one())
            work.conn.execute(sa.update(phone_checks).where(c.id == check_id)
                              .values(code_hash=_digest(check_id, code)))
            work.event("phone.check_sent", {"check": check_id},
                       staff={"phone_masked": mask_phone(number)})
            expires = work.now + VALID
        # After the commit: a failed send leaves an unused check, never an unknown one.
        self.sender.send(number, f"【{self.engine.config.hall.name}】您的预约验证码是 {code}，"
                                 "10分钟内有效。如非本人操作请忽略。")
        return {"check": check_id, "phone_masked": mask_phone(number),
                "expires_at": self.engine.time.iso(expires)}

    def use(self, conn: Connection, now: datetime, phone: str, check_id: int | None,
            code: str | None) -> None:
        """Inside a booking's transaction: the check must be this phone's, fresh, unused, and
        its code right; it is then used up. Wrong codes count against the check."""
        given = (code or "").strip()
        if check_id is None or not given:
            raise Rejected("请先获取并填写短信验证码", "get the SMS code first and enter it",
                           reason="verification_needed")
        c = phone_checks.c
        row = conn.execute(sa.select(phone_checks).where(c.id == check_id)
                           .with_for_update()).first()
        if row is None or row.phone != phone:
            raise Rejected("验证码与手机号不符，请重新获取", "this code was not sent to this phone")
        if row.used_at is not None or row.expires_at <= now or row.attempts >= MAX_TRIES:
            raise Rejected("验证码已失效，请重新获取", "the code has expired; get a new one")
        if not hmac.compare_digest(row.code_hash, _digest(row.id, given)):
            raise WrongCode(row.id)
        conn.execute(sa.update(phone_checks).where(c.id == row.id).values(used_at=now))

    def count_wrong(self, check_id: int) -> None:
        """A wrong code counts against its check, after the booking's transaction rolled back
        (in a transaction of its own: SQLite has one writer at a time)."""
        c = phone_checks.c
        with self.engine.store.write() as conn:
            conn.execute(sa.update(phone_checks).where(c.id == check_id)
                         .values(attempts=c.attempts + 1))


class WrongCode(Rejected):
    def __init__(self, check_id: int) -> None:
        super().__init__("验证码不正确，请核对", "the code is not right", reason="wrong_code")
        self.check_id = check_id
