"""Domain errors carry a message a clerk can act on, in zh-CN and English.

The web layer maps `status` straight to the HTTP status; nothing here knows about HTTP beyond
choosing the number that best describes the failure.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 409
    code = "conflict"

    def __init__(self, message: str, message_en: str, **details: object) -> None:
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en
        self.details = details

    def as_dict(self) -> dict[str, object]:
        return {
            "error": self.code,
            "message": self.message,
            "message_en": self.message_en,
            **({"details": self.details} if self.details else {}),
        }


class NotFound(DomainError):
    status = 404
    code = "not_found"


class InvalidTransition(DomainError):
    """The ticket or window is not in a state that allows the operation."""

    status = 409
    code = "invalid_transition"


class Rejected(DomainError):
    """The request is well-formed but refers to something that does not fit (e.g. wrong queue)."""

    status = 422
    code = "rejected"


class HallClosed(DomainError):
    """The hall is not issuing this ticket now: a closed day, before opening, after the cut-off."""

    status = 409
    code = "issuing_closed"


class NotStaffed(DomainError):
    """Nobody is signed in at the window: it cannot call, and residents cannot be sent there."""

    status = 409
    code = "not_staffed"


class NotAtWindow(DomainError):
    """The clerk is no longer the one signed in at this window (they moved, or were replaced
    after their terminal went silent): their terminal must choose a window again."""

    status = 409
    code = "not_at_window"
