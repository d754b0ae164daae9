"""个人信息保护法: residents' phone numbers and names are kept only as long as they are needed.

A booking's phone and name are kept for `[appointments] keep_personal_days` after its day; the
day's scheduler then masks the phone (138****1234) and drops the name. An administrator can
export what is held about one phone number, for the person it belongs to. Both are ledger
events by their actor, with no personal data in their public part.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from onestop.queue.actors import SCHEDULER, Actor
from onestop.queue.appointment_rules import mask_phone, normalise_phone
from onestop.queue.appointments import AppointmentBook
from onestop.queue.tables import appointments


class PersonalData:
    """Erasing what has been kept long enough, and showing what is kept."""

    def __init__(self, book: AppointmentBook) -> None:
        self.book = book
        self.engine = book.engine

    def erase_expired(self, now: datetime, actor: Actor = SCHEDULER) -> int:
        """Mask the phone and drop the name of every booking past its keeping time."""
        keep = timedelta(days=self.book.defs.keep_personal_days)
        last = self.engine.time.service_day(now) - keep
        a = appointments.c
        expired = sa.and_(a.service_day < last, ~a.phone.contains("*"))
        with self.engine.store.read() as conn:
            if conn.execute(sa.select(a.id).where(expired).limit(1)).first() is None:
                return 0
        with self.engine.unit(actor) as work:
            rows = work.conn.execute(sa.select(a.id, a.phone).where(expired)).all()
            for row in rows:
                work.conn.execute(sa.update(appointments).where(a.id == row.id).values(
                    phone=mask_phone(row.phone), name=None, updated_at=work.now))
            work.event("privacy.erased", {"bookings": len(rows), "before": last.isoformat()})
        return len(rows)

    def export(self, phone: str, *, actor: Actor) -> dict[str, Any]:
        """Everything held about one phone number (for the person it belongs to)."""
        number = normalise_phone(phone)
        a = appointments.c
        with self.engine.unit(actor) as work:
            rows = work.conn.execute(sa.select(appointments).where(a.phone == number)
                                     .order_by(a.created_at)).all()
            work.event("privacy.exported", {"bookings": len(rows)},
                       staff={"phone_masked": mask_phone(number)})
        tz = self.book.tz
        return {
            "phone": number,
            "kept_days": self.book.defs.keep_personal_days,
            "bookings": [{
                "code": r.code, "service": r.service_id, "day": r.service_day.isoformat(),
                "slot_start": r.slot_start.astimezone(tz).isoformat(), "state": r.state,
                "name": r.name, "phone": r.phone,
                "created_at": r.created_at.astimezone(tz).isoformat(),
            } for r in rows],
        }
