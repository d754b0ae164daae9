"""Public notices (政务信息公开) for the hall screen's marquee, and their JSON API.

A notice shows while it is active and its window [starts_at, ends_at) holds (an open end on
either side when null), in `position` order. Every change is one unit of work by its actor
(QueueEngine.unit) with one `notice.changed` ledger event that carries the change alone, and the
ids showing afterwards (onestop.signage.notice_changes), so every screen in the hall redraws its
marquee from the event and the list it had:

    {"change": {"action": "created", "id": 7}, "notice": <public notice or null>,
     "showing": [7, 3, 5]}

A hall keeps at most MAX_NOTICES notices (a 409 says so beyond).

Times are the engine's injectable clock (never datetime.now()); they reach clients as ISO 8601 in
the hall's time zone. A request time without an offset (what <input type="datetime-local">
sends) is read as hall-local time.

Routes: GET /api/notices (everyone; `?all=1` for notices.write roles lists every notice with its
status), POST /api/notices, PUT /api/notices/{id} (replaces every editable field; omitted
optional fields return to their defaults), DELETE /api/notices/{id},
POST /api/notices/order {"ids": [...]} (the given ids first, in that order, then the rest as
they were).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy.engine import Connection, Row

from onestop.queue.actors import Actor
from onestop.queue.engine import QueueEngine
from onestop.queue.errors import DomainError, NotFound, Rejected
from onestop.queue.tables import notices
from onestop.signage.notice_changes import event_data
from onestop.web.access import MATRIX, Forbidden, Principal, Unauthorized, allow
from onestop.web.deps import hall_of

EVENT_TYPE = "notice.changed"
MAX_NOTICES = 200  # a marquee of more would take hours to go round; the table stays small
MAX_ID = 2**63 - 1  # BIGINT on PostgreSQL: a larger id is "not found", not a driver error
EARLIEST_YEAR, LATEST_YEAR = 2000, 2199  # keeps every time-zone conversion in range

NoticeId = Annotated[int, Path(ge=1, le=MAX_ID, description="Notice id")]


# -- request bodies ---------------------------------------------------------------------------


def _clean(value: str | None, multiline: bool) -> str:
    """Refuse what a database or a screen cannot hold: control characters (except line breaks
    and tabs in bodies) and lone surrogates. PostgreSQL rejects NUL outright."""
    if value is None:
        return ""
    allowed = "\n\r\t" if multiline else ""
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cs" or (category == "Cc" and ch not in allowed):
            raise ValueError(f"contains a control character (U+{ord(ch):04X})")
    return value


Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalTitle = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None
OptionalBody = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None
When = Annotated[datetime | None, Field(description="ISO 8601; without an offset, hall time")]


class NoticeIn(BaseModel):
    """A notice as a supervisor writes it (POST creates, PUT replaces)."""

    model_config = ConfigDict(extra="forbid")

    title: Title = Field(description="Shown on the screen (zh-CN), 1–200 characters")
    title_en: OptionalTitle = None
    body: OptionalBody = Field(None, description="Up to 2000 characters")
    body_en: OptionalBody = None
    starts_at: When = None
    ends_at: When = None
    active: bool = True

    @field_validator("title", "title_en")
    @classmethod
    def _one_line(cls, value: str | None) -> str:
        return _clean(value, multiline=False)

    @field_validator("body", "body_en")
    @classmethod
    def _text(cls, value: str | None) -> str:
        return _clean(value, multiline=True)

    @field_validator("starts_at", "ends_at", mode="before")
    @classmethod
    def _iso_text(cls, value: Any) -> Any:
        """ISO 8601 text only: no Unix timestamps, no other date formats."""
        if value is None or isinstance(value, datetime):
            return value
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 date and time, e.g. 2026-11-25T09:00:00+08:00")
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                "must be an ISO 8601 date and time, e.g. 2026-11-25T09:00:00+08:00") from None

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _in_range(cls, value: datetime | None) -> datetime | None:
        if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise ValueError(f"must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
        return value


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        min_length=1, max_length=1000, description="Notice ids in the wanted order"
    )

    @field_validator("ids")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("each id may appear only once")
        return value


# -- the notice board -------------------------------------------------------------------------


def _aware(value: datetime | None, tz: tzinfo) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=tz)


def notice_status(row: Row[Any], now: datetime) -> str:
    """showing / scheduled / expired / inactive, at `now`."""
    if not row.active:
        return "inactive"
    if row.starts_at is not None and row.starts_at > now:
        return "scheduled"
    if row.ends_at is not None and row.ends_at <= now:
        return "expired"
    return "showing"


class NoticeBoard:
    """The notices table behind the engine's clock and ledger; every method is blocking (run it
    with hall.db)."""

    def __init__(self, engine: QueueEngine) -> None:
        self.engine = engine

    # views

    def _iso(self, value: datetime | None) -> str | None:
        return self.engine.time.iso(value) if value is not None else None

    def public_view(self, row: Row[Any]) -> dict[str, Any]:
        return {
            "id": row.id,
            "title": row.title,
            "title_en": row.title_en,
            "body": row.body,
            "body_en": row.body_en,
            "position": row.position,
            "starts_at": self._iso(row.starts_at),
            "ends_at": self._iso(row.ends_at),
        }

    def admin_view(self, row: Row[Any], now: datetime) -> dict[str, Any]:
        return {
            **self.public_view(row),
            "active": bool(row.active),
            "status": notice_status(row, now),
            "updated_at": self._iso(row.updated_at),
            "updated_by": row.updated_by,
        }

    # reads

    @staticmethod
    def _ordered() -> sa.Select[Any]:
        return sa.select(notices).order_by(notices.c.position, notices.c.id)

    def _showing(self, conn: Connection, now: datetime) -> list[dict[str, Any]]:
        query = self._ordered().where(
            notices.c.active.is_(True),
            sa.or_(notices.c.starts_at.is_(None), notices.c.starts_at <= now),
            sa.or_(notices.c.ends_at.is_(None), notices.c.ends_at > now),
        )
        return [self.public_view(r) for r in conn.execute(query)]

    def showing(self) -> list[dict[str, Any]]:
        """The notices on the screens now, in order."""
        with self.engine.store.read() as conn:
            return self._showing(conn, self.engine.time.now())

    def everything(self) -> list[dict[str, Any]]:
        """Every notice, inactive and scheduled ones too, with its status (for editors)."""
        now = self.engine.time.now()
        with self.engine.store.read() as conn:
            return [self.admin_view(r, now) for r in conn.execute(self._ordered())]

    # writes

    def _values(self, notice: NoticeIn) -> dict[str, Any]:
        tz = self.engine.time.tz
        starts, ends = _aware(notice.starts_at, tz), _aware(notice.ends_at, tz)
        if starts is not None and ends is not None and ends <= starts:
            raise Rejected(
                "结束时间必须晚于开始时间",
                "ends_at must be later than starts_at",
                starts_at=self._iso(starts), ends_at=self._iso(ends),
            )
        return {
            "title": notice.title,
            "title_en": notice.title_en or "",
            "body": notice.body or "",
            "body_en": notice.body_en or "",
            "starts_at": starts,
            "ends_at": ends,
            "active": notice.active,
        }

    def _record(self, action: str, write: Callable[[Connection, datetime], Row[Any] | int],
                actor: Actor) -> dict[str, Any] | None:
        """Run `write` and log one notice.changed event with the change and the ids showing.
        Returns the changed notice's editor view (None when it was deleted)."""
        result: dict[str, Any] = {}

        def change(conn: Connection, now: datetime) -> dict[str, Any]:
            written = write(conn, now)
            if isinstance(written, int):
                notice_id = written
            else:
                notice_id = written.id
                result["view"] = self.admin_view(written, now)
            showing = self._showing(conn, now)
            shown = next((n for n in showing if n["id"] == notice_id), None)
            return event_data(action, notice_id, shown, [n["id"] for n in showing])

        with self.engine.unit(actor) as work:
            work.event(EVENT_TYPE, change(work.conn, work.now))
        return result.get("view")

    def create(self, notice: NoticeIn, actor: Actor) -> dict[str, Any]:
        values = self._values(notice)
        by = actor.id

        def write(conn: Connection, now: datetime) -> Row[Any]:
            held = conn.execute(sa.select(sa.func.count()).select_from(notices)).scalar_one()
            if held >= MAX_NOTICES:
                raise DomainError(f"公告已达{MAX_NOTICES}条上限，请先删除不再需要的公告",
                                  f"the hall already holds {MAX_NOTICES} notices; "
                                  "delete old ones first", limit=MAX_NOTICES)
            last = conn.execute(sa.select(sa.func.max(notices.c.position))).scalar()
            return conn.execute(
                sa.insert(notices)
                .values(**values, position=(last + 1) if last is not None else 0,
                        updated_at=now, updated_by=by)
                .returning(notices)
            ).one()

        view = self._record("created", write, actor)
        assert view is not None
        return view

    def update(self, notice_id: int, notice: NoticeIn, actor: Actor) -> dict[str, Any]:
        by = actor.id
        values = self._values(notice)

        def write(conn: Connection, now: datetime) -> Row[Any]:
            row = conn.execute(
                sa.update(notices).where(notices.c.id == notice_id)
                .values(**values, updated_at=now, updated_by=by)
                .returning(notices)
            ).first()
            if row is None:
                raise _unknown(notice_id)
            return row

        view = self._record("updated", write, actor)
        assert view is not None
        return view

    def delete(self, notice_id: int, actor: Actor) -> None:
        def write(conn: Connection, now: datetime) -> int:
            gone = conn.execute(sa.delete(notices).where(notices.c.id == notice_id)).rowcount
            if not gone:
                raise _unknown(notice_id)
            return notice_id

        self._record("deleted", write, actor)

    def reorder(self, ids: list[int], actor: Actor) -> list[dict[str, Any]]:
        by = actor.id
        """The given notices first, in the given order; the others after them as they were."""

        def write(conn: Connection, now: datetime) -> int:
            current = [r.id for r in conn.execute(self._ordered().with_for_update())]
            known = set(current)
            missing = [i for i in ids if i not in known]
            if missing:
                raise NotFound(
                    f"没有这些公告：{', '.join(map(str, missing))}",
                    f"unknown notice ids: {missing}",
                    ids=missing,
                )
            wanted = set(ids)
            order = ids + [i for i in current if i not in wanted]
            for position, notice_id in enumerate(order):
                conn.execute(
                    sa.update(notices)
                    .where(notices.c.id == notice_id, notices.c.position != position)
                    .values(position=position, updated_at=now, updated_by=by)
                )
            return ids[0]

        self._record("reordered", write, actor)
        return self.everything()


def _unknown(notice_id: int) -> NotFound:
    return NotFound(f"没有这条公告（编号 {notice_id}）", f"unknown notice id {notice_id}")


# -- routes -----------------------------------------------------------------------------------

router = APIRouter(prefix="/api/notices", tags=["notices"])


def _board(request: Request) -> tuple[Any, NoticeBoard]:
    hall = hall_of(request)
    return hall, NoticeBoard(hall.engine)


@router.get("")
async def list_notices(
    request: Request,
    principal: Annotated[Principal, allow("notices.read")],
    show_all: Annotated[bool, Query(alias="all", description="every notice (editors only)")] = False,
) -> list[dict[str, Any]]:
    """The notices showing now, in order; `?all=1` lists every notice with its status."""
    hall, board = _board(request)
    if not show_all:
        shown: list[dict[str, Any]] = await hall.db(board.showing)
        return shown
    if principal.role not in MATRIX["notices.write"]:
        if principal.kind == "public":
            raise Unauthorized("请先登录", "sign in first")
        raise Forbidden("您的账号无权管理公告", "your account may not manage notices")
    listed: list[dict[str, Any]] = await hall.db(board.everything)
    return listed


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_notice(
    body: NoticeIn, request: Request, principal: Annotated[Principal, allow("notices.write")]
) -> dict[str, Any]:
    hall, board = _board(request)
    created: dict[str, Any] = await hall.db(board.create, body, principal.actor)
    return created


@router.post("/order")
async def reorder_notices(
    body: OrderIn, request: Request, principal: Annotated[Principal, allow("notices.write")]
) -> list[dict[str, Any]]:
    hall, board = _board(request)
    ordered: list[dict[str, Any]] = await hall.db(board.reorder, body.ids, principal.actor)
    return ordered


@router.put("/{notice_id}")
async def update_notice(
    notice_id: NoticeId, body: NoticeIn, request: Request,
    principal: Annotated[Principal, allow("notices.write")],
) -> dict[str, Any]:
    hall, board = _board(request)
    updated: dict[str, Any] = await hall.db(board.update, notice_id, body, principal.actor)
    return updated


@router.delete("/{notice_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_notice(
    notice_id: NoticeId, request: Request,
    principal: Annotated[Principal, allow("notices.write")],
) -> Response:
    hall, board = _board(request)
    await hall.db(board.delete, notice_id, principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
