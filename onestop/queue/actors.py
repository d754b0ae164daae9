"""Who caused a change: a person, a device or the hall's own scheduler.

Every ledger event stores its actor, so a ticket's history can say who called, finished or
corrected it. The actor stays in the ledger for staff: the public stream shows the window and,
where the hall shows it, the clerk's display name, never an account name or device id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ActorKind = Literal["user", "device", "system", "public"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str  # user name, device name, or the system part ("scheduler")
    name: str  # what a person reads in a history: 王丽, 大厅1号取号机, 系统排班
    role: str = ""  # admin / supervisor / clerk / desk for users; kiosk / screen for devices

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "name": self.name, "role": self.role}

    @staticmethod
    def from_json(data: Any) -> Actor:
        """The stored form back; an event written before actors existed reads as `LEGACY`."""
        if not isinstance(data, dict) or data.get("kind") not in ("user", "device", "system",
                                                                   "public"):
            return LEGACY
        return Actor(kind=data["kind"], id=str(data.get("id") or ""),
                     name=str(data.get("name") or ""), role=str(data.get("role") or ""))

    @property
    def label(self) -> str:
        """`system:scheduler`, `user:wang-li`, `device:kiosk-1`: one string for logs and tests."""
        return f"{self.kind}:{self.id}"

    @property
    def is_clerk(self) -> bool:
        return self.kind == "user" and self.role == "clerk"

    @property
    def is_supervisor(self) -> bool:
        return self.kind == "user" and self.role in ("admin", "supervisor")


SCHEDULER = Actor("system", "scheduler", "系统排班", "system")
DEVICE_WATCH = Actor("system", "devices", "设备监测", "system")
LEGACY = Actor("system", "legacy", "升级前记录", "system")
# A resident acting for themselves (their ticket by its token, their booking by its code).
RESIDENT = Actor("public", "resident", "群众本人", "public")


def user(username: str, display_name: str, role: str) -> Actor:
    return Actor("user", username, display_name or username, role)


def device(name: str, role: str) -> Actor:
    return Actor("device", name, name, role)
